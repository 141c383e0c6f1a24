//! Turns the raw TOML into checked templates, collecting every problem with its line.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::raw::{RawAction, RawSms, RawText, RawVoice};
use super::{
    Action, Flow, KeywordReply, Language, MAX_SAY_CHARS, MAX_SMS_CHARS, Menu, Problem,
    SmsTemplates, Text, Voicemail,
};
use crate::keywords;

/// Looks up an environment variable for `${VAR}` substitution.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

struct Ctx<'a> {
    path: &'a Path,
    src: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.src.len());
        self.src.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        let line = self.line(&span);
        self.problems.push(Problem {
            file: self.path.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        match toml::from_str::<T>(self.src) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim().to_owned();
                self.problem(span, message);
                None
            }
        }
    }
}

pub fn voice(path: &Path, src: &str, env: Env<'_>, problems: &mut Vec<Problem>) -> Option<Flow> {
    let mut cx = Ctx {
        path,
        src,
        problems,
    };
    let raw: RawVoice = cx.parse()?;
    let default_lang = raw.default_language.get_ref().clone();
    let mut languages = BTreeMap::new();
    for (code, lang) in raw.languages {
        let lang = lang.into_inner();
        languages.insert(
            code,
            Language {
                say_language: lang.say_language,
                voice: lang.voice,
            },
        );
    }
    if !languages.is_empty() && !languages.contains_key(&default_lang) {
        cx.problem(
            raw.default_language.span(),
            format!("default_language '{default_lang}' has no [languages.{default_lang}] table"),
        );
    }
    let mut v = VoiceCx {
        cx,
        env,
        default_lang,
        languages: &languages,
        menu_names: raw.menus.keys().map(|k| k.get_ref().clone()).collect(),
        targets: Vec::new(),
    };

    let mut menus = BTreeMap::new();
    for (name, menu) in raw.menus {
        let (span, menu) = (menu.span(), menu.into_inner());
        let prompt = v.text(menu.prompt, "prompt");
        let invalid = match menu.invalid {
            Some(t) => v.text(t, "invalid"),
            None => v.plain("Sorry, that is not an option."),
        };
        let timeout = menu.timeout.map_or(5, |t| {
            let (s, t) = (t.span(), t.into_inner());
            if !(1..=60).contains(&t) {
                v.cx.problem(
                    s,
                    format!("menu '{}': timeout {t} is not 1-60 seconds", name.get_ref()),
                );
            }
            t
        });
        let mut options = BTreeMap::new();
        for (key, action) in menu.options {
            let digit = match key.get_ref().as_str() {
                k if k.len() == 1
                    && k.chars()
                        .all(|c| c.is_ascii_digit() || c == '*' || c == '#') =>
                {
                    k.chars().next()
                }
                k => {
                    v.cx.problem(
                        key.span(),
                        format!(
                            "menu '{}': option '{k}' is not one key (0-9, * or #)",
                            name.get_ref()
                        ),
                    );
                    None
                }
            };
            if let (Some(d), Some(a)) = (digit, v.action(action)) {
                options.insert(d, a);
            }
        }
        if options.is_empty() {
            v.cx.problem(span, format!("menu '{}' has no options", name.get_ref()));
        }
        menus.insert(
            name.into_inner(),
            Menu {
                prompt,
                invalid,
                timeout,
                options,
            },
        );
    }

    let start = raw.start;
    v.target(&start);
    let final_action = match raw.final_action {
        Some(a) => v.action(a).unwrap_or(Action::Voicemail { say: None }),
        None => Action::Voicemail { say: None },
    };
    let max_attempts = *raw.max_attempts.get_ref();
    if !(1..=10).contains(&max_attempts) {
        v.cx.problem(
            raw.max_attempts.span(),
            format!("max_attempts {max_attempts} is not 1-10"),
        );
    }
    let vm = raw.voicemail.into_inner();
    let finish_on_key = vm.finish_on_key.get_ref().clone();
    if !finish_on_key
        .chars()
        .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        v.cx.problem(
            vm.finish_on_key.span(),
            format!("voicemail finish_on_key '{finish_on_key}' may hold only 0-9, * and #"),
        );
    }
    let max_length = *vm.max_length.get_ref();
    if !(2..=14400).contains(&max_length) {
        v.cx.problem(
            vm.max_length.span(),
            format!("voicemail max_length {max_length} is not 2-14400 seconds"),
        );
    }
    let voicemail = Voicemail {
        prompt: v.text(vm.prompt, "voicemail prompt"),
        max_length,
        finish_on_key,
        thanks: v.text(vm.thanks, "voicemail thanks"),
        no_message: v.text(vm.no_message, "voicemail no_message"),
    };
    v.check_targets(&menus, start.get_ref(), &final_action);
    let VoiceCx { default_lang, .. } = v;
    Some(Flow {
        start: start.into_inner(),
        max_attempts,
        final_action,
        default_language: default_lang,
        languages,
        menus,
        voicemail,
    })
}

struct VoiceCx<'a, 'b> {
    cx: Ctx<'a>,
    env: Env<'b>,
    default_lang: String,
    languages: &'b BTreeMap<String, Language>,
    menu_names: BTreeSet<String>,
    /// Menu references seen, checked once all menus are known.
    targets: Vec<Spanned<String>>,
}

impl VoiceCx<'_, '_> {
    fn plain(&self, s: &str) -> Text {
        Text {
            by_lang: BTreeMap::from([(self.default_lang.clone(), s.to_owned())]),
            default_lang: self.default_lang.clone(),
        }
    }

    fn text(&mut self, raw: Spanned<RawText>, what: &str) -> Text {
        let (span, raw) = (raw.span(), raw.into_inner());
        let by_lang = match raw {
            RawText::One(s) => BTreeMap::from([(self.default_lang.clone(), s)]),
            RawText::PerLanguage(map) => map,
        };
        for (lang, s) in &by_lang {
            if !self.languages.is_empty() && !self.languages.contains_key(lang) {
                self.cx.problem(
                    span.clone(),
                    format!("{what}: language '{lang}' has no [languages.{lang}] table"),
                );
            }
            let n = s.chars().count();
            if n > MAX_SAY_CHARS {
                self.cx.problem(
                    span.clone(),
                    format!("{what}: {n} characters, over Say's limit of {MAX_SAY_CHARS}"),
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

    fn target(&mut self, name: &Spanned<String>) {
        self.targets.push(name.clone());
    }

    fn action(&mut self, raw: Spanned<RawAction>) -> Option<Action> {
        let (span, raw) = (raw.span(), raw.into_inner());
        let kind = raw.action.get_ref().as_str();
        let say = raw.say.map(|t| self.text(t, "say"));
        let require = |field: Option<Spanned<String>>, name: &str, cx: &mut Ctx<'_>| {
            if field.is_none() {
                cx.problem(span.clone(), format!("action '{kind}' needs `{name}`"));
            }
            field
        };
        let action = match kind {
            "dial" => {
                let number = require(raw.number, "number", &mut self.cx)?;
                let number = self.number(number)?;
                Action::Dial { number, say }
            }
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
            other => {
                self.cx.problem(raw.action.span(), format!("unknown action '{other}' (expected dial, voicemail, menu, hangup or redirect)"));
                return None;
            }
        };
        Some(action)
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
        match crate::phone::parse_e164(&value) {
            Ok(n) => Some(n),
            Err(e) => {
                self.cx.problem(span, e.to_string());
                None
            }
        }
    }

    fn check_targets(
        &mut self,
        menus: &BTreeMap<String, Menu>,
        start: &str,
        final_action: &Action,
    ) {
        for t in std::mem::take(&mut self.targets) {
            if !self.menu_names.contains(t.get_ref()) {
                self.cx
                    .problem(t.span(), format!("menu '{}' does not exist", t.get_ref()));
            }
        }
        let mut reached = BTreeSet::new();
        let mut todo = vec![start.to_owned()];
        if let Action::Menu { menu, .. } = final_action {
            todo.push(menu.clone());
        }
        while let Some(name) = todo.pop() {
            if !reached.insert(name.clone()) {
                continue;
            }
            if let Some(menu) = menus.get(&name) {
                for a in menu.options.values() {
                    if let Action::Menu { menu, .. } = a {
                        todo.push(menu.clone());
                    }
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

/// Replaces each `${VAR}` or `${VAR:-default}` with the variable's value.
pub fn substitute(s: &str, env: Env<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('}') else {
            return Err(format!("'{s}': unclosed ${{"));
        };
        let inner = &rest[i + 2..i + end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "'{s}': '{name}' is not an environment variable name"
            ));
        }
        match (env(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => {
                tracing::warn!(
                    variable = name,
                    "{name} is unset; using the template's default"
                );
                out.push_str(d);
            }
            (None, None) => return Err(format!("environment variable {name} is not set")),
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn sms(path: &Path, src: &str, problems: &mut Vec<Problem>) -> Option<SmsTemplates> {
    let mut cx = Ctx {
        path,
        src,
        problems,
    };
    let raw: RawSms = cx.parse()?;
    let check_len = |s: Option<Spanned<String>>, what: &str, cx: &mut Ctx<'_>| {
        let s = s?;
        let n = s.get_ref().chars().count();
        if n > MAX_SMS_CHARS || n == 0 {
            cx.problem(
                s.span(),
                format!("{what}: {n} characters; a message holds 1-{MAX_SMS_CHARS}"),
            );
        }
        Some(s.into_inner())
    };
    let default_reply = check_len(raw.default_reply, "default_reply", &mut cx);
    let help_reply = check_len(Some(raw.help_reply), "help_reply", &mut cx).unwrap_or_default();
    let opt_out_reply = check_len(raw.opt_out_reply, "opt_out_reply", &mut cx);
    let opt_in_reply = check_len(raw.opt_in_reply, "opt_in_reply", &mut cx);
    let mut seen = BTreeSet::new();
    let mut keywords = Vec::new();
    for kw in raw.keywords {
        let kw = kw.into_inner();
        let mut words = Vec::new();
        for w in kw.words {
            let upper = w.get_ref().trim().to_uppercase();
            if upper.is_empty() || upper.contains(char::is_whitespace) {
                cx.problem(
                    w.span(),
                    format!("keyword '{}' must be one word", w.get_ref()),
                );
            } else if keywords::classify(&upper) != keywords::Keyword::Other {
                cx.problem(
                    w.span(),
                    format!("keyword '{upper}' is reserved for opt-out, opt-in or help"),
                );
            } else if !seen.insert(upper.clone()) {
                cx.problem(w.span(), format!("keyword '{upper}' appears twice"));
            }
            words.push(upper);
        }
        let reply = check_len(Some(kw.reply), "keyword reply", &mut cx).unwrap_or_default();
        keywords.push(KeywordReply { words, reply });
    }
    Some(SmsTemplates {
        default_reply,
        help_reply,
        confirm_opt_changes: raw.confirm_opt_changes,
        opt_out_reply,
        opt_in_reply,
        keywords,
    })
}
