//! Tests of template loading: the shipped set, and each kind of broken template named by line.

use std::path::Path;

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

/// Writes the shipped sms.toml and the given voice.toml into a temp dir and loads it.
fn load_voice(voice: &str) -> Result<Templates, TemplateErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(VOICE_FILE), voice).unwrap();
    std::fs::copy(shipped().join(SMS_FILE), dir.path().join(SMS_FILE)).unwrap();
    Templates::load_with_env(dir.path(), &no_env)
}

fn load_sms(sms: &str) -> Result<Templates, TemplateErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(shipped().join(VOICE_FILE), dir.path().join(VOICE_FILE)).unwrap();
    std::fs::write(dir.path().join(SMS_FILE), sms).unwrap();
    Templates::load_with_env(dir.path(), &no_env)
}

const MINIMAL: &str = r#"start = "main"
[menus.main]
prompt = "Press 1."
[menus.main.options.1]
action = "hangup"
[voicemail]
prompt = "Leave a message."
thanks = "Thanks."
no_message = "Bye."
"#;

/// Asserts exactly one problem, on `line`, whose message contains `needle`.
fn assert_problem(result: Result<Templates, TemplateErrors>, line: usize, needle: &str) {
    let errs = result.expect_err("expected a template problem").0;
    assert!(
        errs.iter()
            .any(|p| p.line == line && p.message.contains(needle)),
        "wanted line {line} containing {needle:?}, got {errs:#?}"
    );
}

#[test]
fn shipped_templates_load_with_defaults() {
    let t = Templates::load_with_env(&shipped(), &no_env).unwrap();
    assert_eq!(t.voice.start, "main");
    assert_eq!(t.voice.max_attempts, 3);
    let main = &t.voice.menus["main"];
    let Action::Dial(sales) = &main.options[&'1'] else {
        panic!("option 1 dials");
    };
    assert_eq!(sales.numbers, ["+14155550100", "+14155550110"]);
    assert!(!sales.simultaneous);
    assert_eq!(sales.timeout, Some(20));
    assert_eq!(
        sales.say.as_ref().map(|s| s.get("en")),
        Some("Connecting you to sales.")
    );
    assert!(matches!(sales.fallback, Action::Voicemail { say: Some(_) }));
    assert!(matches!(&main.options[&'2'], Action::Dial(d) if d.simultaneous));
    assert!(matches!(main.options[&'3'], Action::Voicemail { .. }));
    assert!(matches!(main.options[&'4'], Action::Sms { .. }));
    assert!(
        matches!(&main.options[&'9'], Action::Language { language, .. } if language == "zh-CN")
    );
    assert!(main.takes_speech());
    assert!(main.keywords.contains(&("support".into(), '2')));
    assert_eq!(t.voice.languages["zh-CN"].speech_language, "cmn-Hans-CN");
    assert_eq!(t.voice.languages["en"].speech_language, "en-US");
    assert!(t.voice.voicemail.transcribe);
    assert_eq!(t.voice.voicemail.notify, None);
    assert!(t.voice.hours.is_some());
    assert_eq!(
        t.sms.default_reply.as_deref(),
        Some("Thank you for your response! We are confirming your message.")
    );
    assert_eq!(t.sms.keywords[0].words, ["HOURS", "OPEN"]);
}

#[test]
fn env_numbers_are_substituted_and_normalised() {
    let env = |k: &str| match k {
        "SALES_PHONE" => Some("+1 (212) 555-0123".to_owned()),
        "STAFF_PHONE" => Some("+1 415 555 0199".to_owned()),
        _ => None,
    };
    let t = Templates::load_with_env(&shipped(), &env).unwrap();
    assert!(
        matches!(&t.voice.menus["main"].options[&'1'], Action::Dial(d) if d.numbers[0] == "+12125550123")
    );
    assert_eq!(t.voice.voicemail.notify.as_deref(), Some("+14155550199"));
}

#[test]
fn minimal_loads() {
    load_voice(MINIMAL).unwrap();
}

#[test]
fn toml_syntax_error_names_the_line() {
    let src = MINIMAL.replace("prompt = \"Press 1.\"", "prompt = \"Press 1.");
    assert_problem(load_voice(&src), 3, "");
}

#[test]
fn duplicate_digit_is_reported() {
    let src = format!("{MINIMAL}[menus.main.options.1]\naction = \"voicemail\"\n");
    // The TOML parser refuses the repeated table, pointing at the second one.
    let errs = load_voice(&src).unwrap_err().0;
    assert_eq!(errs[0].line, 10, "{errs:#?}");
}

#[test]
fn missing_target_menu() {
    let src = MINIMAL.replace(
        "action = \"hangup\"",
        "action = \"menu\"\nmenu = \"billing\"",
    );
    assert_problem(load_voice(&src), 6, "menu 'billing' does not exist");
}

#[test]
fn unreachable_menu() {
    let src = format!(
        "{MINIMAL}[menus.orphan]\nprompt = \"x\"\n[menus.orphan.options.1]\naction = \"hangup\"\n"
    );
    assert_problem(load_voice(&src), 10, "menu 'orphan' is not reached");
}

#[test]
fn unset_env_number_and_bad_number() {
    let src = MINIMAL.replace(
        "action = \"hangup\"",
        "action = \"dial\"\nnumber = \"${NOPE_PHONE}\"",
    );
    assert_problem(load_voice(&src), 6, "NOPE_PHONE is not set");
    let src = MINIMAL.replace(
        "action = \"hangup\"",
        "action = \"dial\"\nnumber = \"555-0100\"",
    );
    assert_problem(
        load_voice(&src),
        6,
        "'555-0100' is not a valid phone number",
    );
}

#[test]
fn bad_key_unknown_action_and_missing_field() {
    let src = MINIMAL.replace("options.1]", "options.12]");
    assert_problem(load_voice(&src), 4, "option '12' is not one key");
    let src = MINIMAL.replace("\"hangup\"", "\"transfer\"");
    assert_problem(load_voice(&src), 5, "unknown action 'transfer'");
    let src = MINIMAL.replace("\"hangup\"", "\"dial\"");
    assert_problem(
        load_voice(&src),
        4,
        "action 'dial' needs `number` or `numbers`",
    );
}

#[test]
fn prompt_over_say_limit_and_unknown_language() {
    let long = "a".repeat(MAX_SAY_CHARS + 1);
    let src = MINIMAL.replace("Press 1.", &long);
    assert_problem(load_voice(&src), 3, "over Say's limit");
    let src = format!(
        "[languages.en]\nsay_language = \"en-US\"\n{}",
        MINIMAL.replace(
            "prompt = \"Press 1.\"",
            "prompt = { en = \"Press 1.\", fr = \"Appuyez 1.\" }"
        )
    );
    let src = src.replacen("start = \"main\"\n", "", 1);
    let src = format!("start = \"main\"\n{src}");
    assert_problem(load_voice(&src), 5, "language 'fr' has no [languages.fr]");
}

#[test]
fn unknown_field_is_refused() {
    let src = MINIMAL.replace("start = \"main\"", "start = \"main\"\nretries = 2");
    assert_problem(load_voice(&src), 2, "unknown field `retries`");
}

#[test]
fn sms_reserved_and_duplicate_keywords() {
    let base = "help_reply = \"Help.\"\n";
    let src = format!("{base}[[keyword]]\nwords = [\"stop\"]\nreply = \"x\"\n");
    assert_problem(load_sms(&src), 3, "reserved for opt-out");
    let src = format!("{base}[[keyword]]\nwords = [\"A\", \"a\"]\nreply = \"x\"\n");
    assert_problem(load_sms(&src), 3, "appears twice");
    let src = format!(
        "{base}[[keyword]]\nwords = [\"A\"]\nreply = \"{}\"\n",
        "x".repeat(1601)
    );
    assert_problem(load_sms(&src), 4, "1601 characters");
}

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let errs = Templates::load_with_env(dir.path(), &no_env).unwrap_err();
    let shown = errs.to_string();
    assert!(
        shown.contains("voice.toml") && shown.contains("sms.toml"),
        "{shown}"
    );
}

#[test]
fn text_falls_back_to_default_language() {
    let t = Text {
        by_lang: BTreeMap::from([("en".into(), "Hi".into()), ("zh-CN".into(), "你好".into())]),
        default_lang: "en".into(),
    };
    assert_eq!(t.get("zh-CN"), "你好");
    assert_eq!(t.get("fr"), "Hi");
}

#[test]
fn the_plan_check_refuses_all_the_form_check_refuses() {
    // Found by the templates fuzz target: `phonenumber` reads letters as keypad digits.
    let voice = std::fs::read_to_string(shipped().join("voice.toml")).unwrap();
    let sms = std::fs::read_to_string(shipped().join("sms.toml")).unwrap();
    for bad in ["+14155550N01", "+1 800 FLOWERS"] {
        let voice = voice.replace("+14155550101", bad);
        for numbers in [NumberCheck::Form, NumberCheck::NumberingPlan] {
            let err = Templates::from_sources(
                (Path::new("voice.toml"), &voice),
                (Path::new("sms.toml"), &sms),
                &no_env,
                numbers,
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("only digits may follow the +"),
                "{bad}: {err}"
            );
        }
    }
}
