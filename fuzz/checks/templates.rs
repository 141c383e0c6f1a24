//! Template loader properties: any text as `voice.toml` or `sms.toml` loads or is refused with
//! problems, each naming one of the two files and a line inside it, sorted; the numbering-plan
//! check is never laxer than the form check; what loads is a closed flow (every menu named
//! exists and is reached, every language named is defined) that renders as a graph.

use std::collections::BTreeSet;
use std::path::Path;

use switchboard::graph::{self, Format};
use switchboard::templates::{
    Action, Flow, NumberCheck, SMS_FILE, TemplateErrors, Templates, VOICE_FILE,
};

/// The shipped templates, the other half of an input that gives only one file.
const VOICE: &str = include_str!("../../templates/voice.toml");
const SMS: &str = include_str!("../../templates/sms.toml");

/// Input is one file's text, tried as each file beside the shipped other one, or `voice`, a NUL
/// byte, then `sms`. Files are read as UTF-8 text, so other bytes never reach the loader.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match text.split_once('\0') {
        Some((voice, sms)) => load(voice, sms),
        None => {
            load(&text, SMS);
            load(VOICE, &text);
        }
    }
}

/// Some variables set to a number, some to nothing, most unset: every branch of `${VAR}`.
fn env(name: &str) -> Option<String> {
    match name.len() % 3 {
        0 => Some("+14155550100".to_owned()),
        1 => Some(String::new()),
        _ => None,
    }
}

fn load(voice: &str, sms: &str) {
    let from = |numbers| {
        Templates::from_sources(
            (Path::new(VOICE_FILE), voice),
            (Path::new(SMS_FILE), sms),
            &env,
            numbers,
        )
    };
    let form = from(NumberCheck::Form);
    let plan = from(NumberCheck::NumberingPlan);
    for result in [&form, &plan] {
        match result {
            Ok(t) => closed(&t.voice),
            Err(e) => problems_point_into_the_files(e, voice, sms),
        }
    }
    assert!(
        form.is_ok() || plan.is_err(),
        "the numbering plan passed what the form check refused: {form:?}"
    );
}

fn problems_point_into_the_files(errors: &TemplateErrors, voice: &str, sms: &str) {
    let problems = &errors.0;
    assert!(!problems.is_empty(), "refused without a problem");
    for p in problems {
        let src = if p.file == Path::new(VOICE_FILE) {
            voice
        } else if p.file == Path::new(SMS_FILE) {
            sms
        } else {
            panic!("problem in a file never loaded: {p}");
        };
        let lines = src.matches('\n').count() + 1;
        assert!(
            (1..=lines).contains(&p.line),
            "{p} is outside the {lines} lines"
        );
        assert!(!p.message.trim().is_empty(), "{p} says nothing");
    }
    assert!(
        problems.is_sorted_by_key(|p| (p.file.clone(), p.line)),
        "problems out of order: {problems:?}"
    );
    assert!(errors.to_string().lines().count() > problems.len());
}

fn closed(flow: &Flow) {
    let menus: BTreeSet<&str> = flow.menus.keys().map(String::as_str).collect();
    assert!(menus.contains(flow.start.as_str()), "start menu missing");
    assert!((1..=10).contains(&flow.max_attempts));
    assert!(
        flow.languages.is_empty() || flow.languages.contains_key(&flow.default_language),
        "default language {} undefined",
        flow.default_language
    );

    let mut entries = vec![&flow.final_action];
    entries.extend(flow.hours.as_ref().map(|h| &h.closed));
    let options = flow.menus.values().flat_map(|m| m.options.values());
    let mut reached = BTreeSet::from([flow.start.as_str()]);
    for action in entries.iter().copied().chain(options) {
        for menu in action.menus() {
            assert!(menus.contains(menu), "menu {menu:?} is named but missing");
            reached.insert(menu);
        }
        let mut fallback = None;
        if let Action::Dial(dial) = action {
            assert!((1..=10).contains(&dial.numbers.len()), "{dial:?}");
            assert!(
                !matches!(dial.fallback, Action::Dial(_)),
                "a dial's fallback dials"
            );
            fallback = Some(&dial.fallback);
        }
        for a in std::iter::once(action).chain(fallback) {
            if let Action::Language { language, .. } = a {
                assert!(
                    flow.languages.contains_key(language),
                    "{language:?} undefined"
                );
            }
        }
    }
    // Every menu is reached from the start or an entry action; this is a superset of that.
    assert_eq!(reached, menus, "menus no action leads to were loaded");
    for format in [Format::Mermaid, Format::Dot] {
        assert!(!graph::render(flow, format).is_empty());
    }
}
