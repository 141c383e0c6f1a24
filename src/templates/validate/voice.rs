//! Checks the parts of voice.toml: menus, actions (dial, text-me, language), voicemail, hours.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use super::super::raw::{RawAction, RawHours, RawMenu, RawText, RawVoicemail};
use super::super::{
    Action, BusinessHours, DialAction, Language, MAX_SAY_CHARS, MAX_SMS_CHARS, Menu, NumberCheck,
    Text, Voicemail,
};
use super::{Ctx, Env, substitute};
use crate::hours;

/// Twilio transcribes only recordings of at most two minutes.
const MAX_TRANSCRIBED_SECONDS: u32 = 120;

pub(super) struct VoiceCx<'a, 'b> {
    pub cx: Ctx<'a>,
    pub env: Env<'b>,
    pub numbers: NumberCheck,
    pub default_lang: String,
    pub languages: &'b BTreeMap<String, Language>,
    pub menu_names: BTreeSet<String>,
    /// Menu references seen, checked once all menus are known.
    pub targets: Vec<Spanned<String>>,
}

impl VoiceCx<'_, '_> {
    fn plain(&self, s: &str) -> Text {
        Text {
            by_lang: BTreeMap::from([(self.default_lang.clone(), s.to_owned())]),
            default_lang: self.default_lang.clone(),
        }
    }

    /// A prompt spoken by Say.
    fn text(&mut self, raw: Spanned<RawText>, what: &str) -> Text {
        self.text_within(raw, what, MAX_SAY_CHARS, "Say's limit")
    }

    fn text_within(&mut self, raw: Spanned<RawText>, what: &str, max: usize, limit: &str) -> Text {
        let (span, raw) = (raw.span(), raw.into_inner());
        let by_lang = match raw {
            RawText::One(s) => BTreeMap::from([(self.default_lang.clone(), s)]),
            RawText::PerLanguage(map) => map,
        };
        for (lang, s) in &by_lang {
            self.known_language(span.clone(), lang, what);
            let n = s.chars().count();
            if n > max {
                self.cx.problem(
                    span.clone(),
                    format!("{what}: {n} characters, over {limit} of {max}"),
                );
            }
        }
        if !by_lang.contains_key(&self.default_lang) {
            self.cx.problem(
                span,
                format!(
                    "{what}: no text for the default language '{}'",
                    self.default_lang
                ),
            );
        }
        Text {
            by_lang,
            default_lang: self.default_lang.clone(),
        }
    }

    fn known_language(&mut self, span: Range<usize>, lang: &str, what: &str) {
        if !self.languages.is_empty() && !self.languages.contains_key(lang) {
            self.cx.problem(
                span,
                format!("{what}: language '{lang}' has no [languages.{lang}] table"),
            );
        }
    }

    pub fn target(&mut self, name: &Spanned<String>) {
        self.targets.push(name.clone());
    }

    pub fn menu(&mut self, name: &str, menu: Spanned<RawMenu>) -> Menu {
        let (span, menu) = (menu.span(), menu.into_inner());
        let prompt = self.text(menu.prompt, "prompt");
        let invalid = match menu.invalid {
            Some(t) => self.text(t, "invalid"),
            None => self.plain("Sorry, that is not an option."),
        };
        let timeout = menu.timeout.map_or(5, |t| {
            let (s, t) = (t.span(), t.into_inner());
            if !(1..=60).contains(&t) {
                self.cx
                    .problem(s, format!("menu '{name}': timeout {t} is not 1-60 seconds"));
            }
            t
        });
        let input = match menu.input.as_ref().map(|i| i.get_ref().as_str()) {
            None | Some("dtmf") => "dtmf",
            Some("speech") => "speech",
            Some("dtmf speech" | "speech dtmf") => "dtmf speech",
            Some(other) => {
                let at = menu.input.as_ref().map_or(span.clone(), Spanned::span);
                self.cx.problem(
                    at,
                    format!(
                        "menu '{name}': input '{other}' is not dtmf, speech or \"dtmf speech\""
                    ),
                );
                "dtmf"
            }
        };
        let mut options = BTreeMap::new();
        let mut keywords: Vec<(String, char)> = Vec::new();
        // An option whose action is broken is reported already; "no options" would only echo it.
        let none_given = menu.options.is_empty();
        for (key, action) in menu.options {
            let digit = match key.get_ref().as_str() {
                k if k.len() == 1 && k.chars().all(is_key) => k.chars().next(),
                k => {
                    self.cx.problem(
                        key.span(),
                        format!("menu '{name}': option '{k}' is not one key (0-9, * or #)"),
                    );
                    None
                }
            };
            for word in &action.get_ref().keywords {
                let lower = word.get_ref().trim().to_lowercase();
                if input == "dtmf" {
                    self.cx.problem(
                        word.span(),
                        format!("menu '{name}': keyword '{lower}' needs input = \"dtmf speech\""),
                    );
                } else if lower.is_empty() {
                    self.cx
                        .problem(word.span(), format!("menu '{name}': empty keyword"));
                } else if let Some((_, k)) = keywords.iter().find(|(w, _)| *w == lower) {
                    self.cx.problem(
                        word.span(),
                        format!("menu '{name}': keyword '{lower}' is already option {k}'s"),
                    );
                } else if let Some(d) = digit {
                    keywords.push((lower, d));
                }
            }
            if let (Some(d), Some(a)) = (digit, self.action(action)) {
                options.insert(d, a);
            }
        }
        if none_given {
            self.cx
                .problem(span, format!("menu '{name}' has no options"));
        }
        let hints = match menu.hints {
            Some(h) => Some(h.into_inner()),
            None if !keywords.is_empty() => Some(
                keywords
                    .iter()
                    .map(|(w, _)| w.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            None => None,
        };
        Menu {
            prompt,
            invalid,
            timeout,
            options,
            input,
            hints,
            keywords,
        }
    }

    pub fn action(&mut self, raw: Spanned<RawAction>) -> Option<Action> {
        let (span, mut raw) = (raw.span(), raw.into_inner());
        let kind = raw.action.get_ref().clone();
        self.unused_fields(&span, &kind, &raw);
        let say = raw.say.take().map(|t| self.text(t, "say"));
        let require = |field: Option<Spanned<String>>, name: &str, cx: &mut Ctx<'_>| {
            if field.is_none() {
                cx.problem(span.clone(), format!("action '{kind}' needs `{name}`"));
            }
            field
        };
        let action = match kind.as_str() {
            "dial" => self.dial(span.clone(), raw, say)?,
            "voicemail" => Action::Voicemail { say },
            "hangup" => Action::Hangup { say },
            "menu" => {
                let menu = require(raw.menu, "menu", &mut self.cx)?;
                self.target(&menu);
                Action::Menu {
                    menu: menu.into_inner(),
                    say,
                }
            }
            "redirect" => {
                let url = require(raw.url, "url", &mut self.cx)?;
                let u = url.get_ref();
                if !(u.starts_with('/') || u.starts_with("https://") || u.starts_with("http://")) {
                    self.cx.problem(
                        url.span(),
                        format!("redirect url '{u}' must start with /, http:// or https://"),
                    );
                }
                Action::Redirect {
                    url: url.into_inner(),
                }
            }
            "sms" => {
                let Some(body) = raw.body else {
                    self.cx
                        .problem(span, "action 'sms' needs `body`".to_owned());
                    return None;
                };
                let body = self.text_within(body, "sms body", MAX_SMS_CHARS, "a message's limit");
                Action::Sms { body, say }
            }
            "language" => {
                let language = require(raw.language, "language", &mut self.cx)?;
                if !self.languages.contains_key(language.get_ref()) {
                    self.cx.problem(
                        language.span(),
                        format!(
                            "language '{}' has no [languages.{}] table",
                            language.get_ref(),
                            language.get_ref()
                        ),
                    );
                }
                if let Some(m) = &raw.menu {
                    self.target(m);
                }
                Action::Language {
                    language: language.into_inner(),
                    menu: raw.menu.map(Spanned::into_inner),
                    say,
                }
            }
            other => {
                self.cx.problem(
                    raw.action.span(),
                    format!("unknown action '{other}' (expected dial, voicemail, menu, hangup, redirect, sms or language)"),
                );
                return None;
            }
        };
        Some(action)
    }

    /// A field the action's kind does not use is a mistake (a typo'd kind, a misplaced line).
    fn unused_fields(&mut self, span: &Range<usize>, kind: &str, raw: &RawAction) {
        let present = [
            ("number", raw.number.is_some()),
            ("numbers", !raw.numbers.is_empty()),
            ("ring", raw.ring.is_some()),
            ("caller_id", raw.caller_id.is_some()),
            ("timeout", raw.timeout.is_some()),
            ("time_limit", raw.time_limit.is_some()),
            ("record", raw.record.is_some()),
            ("fallback", raw.fallback.is_some()),
            ("menu", raw.menu.is_some()),
            ("url", raw.url.is_some()),
            ("body", raw.body.is_some()),
            ("language", raw.language.is_some()),
        ];
        let allowed: &[&str] = match kind {
            "dial" => &[
                "number",
                "numbers",
                "ring",
                "caller_id",
                "timeout",
                "time_limit",
                "record",
                "fallback",
            ],
            "menu" => &["menu"],
            "redirect" => &["url"],
            "sms" => &["body"],
            "language" => &["language", "menu"],
            "voicemail" | "hangup" => &[],
            _ => return,
        };
        for (name, _) in present.iter().filter(|(n, p)| *p && !allowed.contains(n)) {
            self.cx.problem(
                span.clone(),
                format!("action '{kind}' does not take `{name}`"),
            );
        }
    }

    fn dial(&mut self, span: Range<usize>, raw: RawAction, say: Option<Text>) -> Option<Action> {
        let mut numbers = Vec::new();
        let given: Vec<Spanned<String>> = raw.number.into_iter().chain(raw.numbers).collect();
        if given.is_empty() {
            self.cx.problem(
                span.clone(),
                "action 'dial' needs `number` or `numbers`".to_owned(),
            );
            return None;
        }
        if given.len() > 10 {
            self.cx.problem(
                span.clone(),
                format!("dial: {} numbers, Twilio rings at most 10", given.len()),
            );
        }
        for n in given {
            numbers.push(self.number(n)?);
        }
        let simultaneous = match raw.ring.as_ref().map(|r| r.get_ref().as_str()) {
            None | Some("hunt") => false,
            Some("simultaneous") => true,
            Some(other) => {
                let at = raw.ring.as_ref().map_or(span.clone(), Spanned::span);
                self.cx.problem(
                    at,
                    format!("dial: ring '{other}' is not hunt or simultaneous"),
                );
                false
            }
        };
        let caller_id = match raw.caller_id {
            Some(c) => Some(self.number(c)?),
            None => None,
        };
        let timeout = raw.timeout.map(|t| {
            if !(5..=600).contains(t.get_ref()) {
                self.cx.problem(
                    t.span(),
                    format!("dial: timeout {} is not 5-600 seconds", t.get_ref()),
                );
            }
            t.into_inner()
        });
        let time_limit = raw.time_limit.map(|t| {
            if !(1..=14400).contains(t.get_ref()) {
                self.cx.problem(
                    t.span(),
                    format!("dial: time_limit {} is not 1-14400 seconds", t.get_ref()),
                );
            }
            t.into_inner()
        });
        let fallback = match raw.fallback {
            Some(f) if f.get_ref().action.get_ref() == "dial" => {
                self.cx.problem(
                    f.span(),
                    "dial: a fallback cannot dial; list the numbers in `numbers` to try them in turn",
                );
                return None;
            }
            Some(f) => self.action(*f)?,
            None => Action::Voicemail { say: None },
        };
        Some(Action::Dial(Box::new(DialAction {
            say,
            numbers,
            simultaneous,
            caller_id,
            timeout,
            time_limit,
            record: raw.record.unwrap_or(false),
            fallback,
        })))
    }

    /// Substitutes `${VAR}` / `${VAR:-default}` and normalises the result to E.164.
    fn number(&mut self, raw: Spanned<String>) -> Option<String> {
        let span = raw.span();
        let value = match substitute(raw.get_ref(), self.env) {
            Ok(v) => v,
            Err(e) => {
                self.cx.problem(span, e);
                return None;
            }
        };
        let checked = match self.numbers {
            NumberCheck::Form => crate::phone::check_e164_form(&value),
            // The plan check is the form check and more: `parse_e164` alone would also take
            // formatted or lettered numbers (`+1 800 FLOWERS`) that the server refuses.
            NumberCheck::NumberingPlan => {
                crate::phone::check_e164_form(&value).and_then(|_| crate::phone::parse_e164(&value))
            }
        };
        match checked {
            Ok(n) => Some(n),
            Err(e) => {
                self.cx.problem(span, e.to_string());
                None
            }
        }
    }

    pub fn voicemail(&mut self, raw: Spanned<RawVoicemail>) -> Voicemail {
        let vm = raw.into_inner();
        let finish_on_key = vm.finish_on_key.get_ref().clone();
        if !finish_on_key.chars().all(is_key) {
            self.cx.problem(
                vm.finish_on_key.span(),
                format!("voicemail finish_on_key '{finish_on_key}' may hold only 0-9, * and #"),
            );
        }
        let max_length = *vm.max_length.get_ref();
        if !(2..=14400).contains(&max_length) {
            self.cx.problem(
                vm.max_length.span(),
                format!("voicemail max_length {max_length} is not 2-14400 seconds"),
            );
        }
        if vm.transcribe && max_length > MAX_TRANSCRIBED_SECONDS {
            self.cx.problem(
                vm.max_length.span(),
                format!("voicemail max_length {max_length}: Twilio transcribes recordings of at most {MAX_TRANSCRIBED_SECONDS} seconds"),
            );
        }
        // `${STAFF_PHONE:-}` resolving to nothing turns notification off.
        let notify = vm
            .notify
            .and_then(|n| match substitute(n.get_ref(), self.env) {
                Ok(v) if v.trim().is_empty() => None,
                Ok(_) => self.number(n),
                Err(e) => {
                    self.cx.problem(n.span(), e);
                    None
                }
            });
        Voicemail {
            prompt: self.text(vm.prompt, "voicemail prompt"),
            max_length,
            finish_on_key,
            thanks: self.text(vm.thanks, "voicemail thanks"),
            no_message: self.text(vm.no_message, "voicemail no_message"),
            transcribe: vm.transcribe,
            notify,
        }
    }

    pub fn hours(&mut self, raw: Spanned<RawHours>) -> Option<BusinessHours> {
        let raw = raw.into_inner();
        let tz = hours::parse_time_zone(raw.time_zone.get_ref())
            .map_err(|e| self.cx.problem(raw.time_zone.span(), format!("hours: {e}")))
            .ok();
        let days = [
            raw.mon, raw.tue, raw.wed, raw.thu, raw.fri, raw.sat, raw.sun,
        ];
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (slot, day) in week.iter_mut().zip(days) {
            if let Some(d) = day {
                match hours::parse_day(d.get_ref()) {
                    Ok(ranges) => *slot = ranges,
                    Err(e) => self.cx.problem(d.span(), format!("hours: {e}")),
                }
            }
        }
        let mut holidays = BTreeSet::new();
        for h in raw.holidays {
            match hours::parse_holiday(h.get_ref()) {
                Ok(d) => {
                    holidays.insert(d);
                }
                Err(e) => self.cx.problem(h.span(), format!("hours: {e}")),
            }
        }
        let closed = match raw.closed {
            Some(a) => self.action(a)?,
            None => Action::Voicemail {
                say: Some(self.plain("We are closed now.")),
            },
        };
        Some(BusinessHours {
            hours: hours::Hours::new(tz?, week, holidays),
            closed,
        })
    }

    /// Every menu named exists, and every menu is reached from the start or an entry action.
    pub fn check_targets(
        &mut self,
        menus: &BTreeMap<String, Menu>,
        start: &str,
        entries: &[&Action],
    ) {
        for t in std::mem::take(&mut self.targets) {
            if !self.menu_names.contains(t.get_ref()) {
                self.cx
                    .problem(t.span(), format!("menu '{}' does not exist", t.get_ref()));
            }
        }
        let mut reached = BTreeSet::new();
        let mut todo = vec![start.to_owned()];
        for a in entries {
            todo.extend(a.menus().map(str::to_owned));
        }
        while let Some(name) = todo.pop() {
            if !reached.insert(name.clone()) {
                continue;
            }
            if let Some(menu) = menus.get(&name) {
                for a in menu.options.values() {
                    todo.extend(a.menus().map(str::to_owned));
                }
            }
        }
        for name in self.menu_names.clone() {
            if !reached.contains(&name) {
                let at = self.cx.src.find(&format!("[menus.{name}]")).unwrap_or(0);
                self.cx.problem(
                    at..at,
                    format!("menu '{name}' is not reached from start menu '{start}'"),
                );
            }
        }
    }
}

fn is_key(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}
