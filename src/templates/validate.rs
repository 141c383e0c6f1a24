//! Turns the raw TOML into checked templates, collecting every problem with its line.

mod voice;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::raw::{RawLanguage, RawSms, RawVoice};
use super::{
    Action, Flow, KeywordReply, Language, MAX_SMS_CHARS, NumberCheck, Problem, SmsTemplates,
};
use crate::keywords;
use voice::VoiceCx;

/// Looks up an environment variable for `${VAR}` substitution.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(super) struct Ctx<'a> {
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

    pub(super) fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
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
                let mut message = e.message().trim().to_owned();
                if message == "duplicate key" {
                    message.push_str(
                        ": this key or table is already defined above (two options for one key?)",
                    );
                }
                self.problem(span, message);
                None
            }
        }
    }
}

pub fn voice(
    path: &Path,
    src: &str,
    env: Env<'_>,
    numbers: NumberCheck,
    problems: &mut Vec<Problem>,
) -> Option<Flow> {
    let mut cx = Ctx {
        path,
        src,
        problems,
    };
    let raw: RawVoice = cx.parse()?;
    let default_lang = raw.default_language.get_ref().clone();
    let languages = languages(&mut cx, raw.languages);
    if !languages.is_empty() && !languages.contains_key(&default_lang) {
        cx.problem(
            raw.default_language.span(),
            format!("default_language '{default_lang}' has no [languages.{default_lang}] table"),
        );
    }
    let mut v = VoiceCx {
        cx,
        env,
        numbers,
        default_lang,
        languages: &languages,
        menu_names: raw.menus.keys().map(|k| k.get_ref().clone()).collect(),
        targets: Vec::new(),
    };

    let mut menus = BTreeMap::new();
    for (name, menu) in raw.menus {
        let menu = v.menu(name.get_ref(), menu);
        menus.insert(name.into_inner(), menu);
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
    let voicemail = v.voicemail(raw.voicemail);
    let hours = raw.hours.and_then(|h| v.hours(h));
    let mut entries = vec![&final_action];
    entries.extend(hours.as_ref().map(|h| &h.closed));
    v.check_targets(&menus, start.get_ref(), &entries);
    let VoiceCx { default_lang, .. } = v;
    Some(Flow {
        start: start.into_inner(),
        max_attempts,
        final_action,
        default_language: default_lang,
        languages,
        menus,
        voicemail,
        hours,
    })
}

/// Say's languages as Twilio lists them; anything else is refused or spoken wrongly on the call.
const SAY_LANGUAGES: &[&str] = &[
    "af-ZA",
    "am-ET",
    "ar-AE",
    "ar-XA",
    "arb",
    "bg-BG",
    "bn-IN",
    "ca-ES",
    "cmn-CN",
    "cmn-TW",
    "cs-CZ",
    "cy-GB",
    "da-DK",
    "de-AT",
    "de-CH",
    "de-DE",
    "el-GR",
    "en-AU",
    "en-CA",
    "en-GB",
    "en-GB-WLS",
    "en-IE",
    "en-IN",
    "en-NZ",
    "en-US",
    "en-ZA",
    "es-ES",
    "es-MX",
    "es-US",
    "et-EE",
    "eu-ES",
    "fi-FI",
    "fil-PH",
    "fr-BE",
    "fr-CA",
    "fr-FR",
    "gl-ES",
    "gu-IN",
    "he-IL",
    "hi-IN",
    "hu-HU",
    "id-ID",
    "is-IS",
    "it-IT",
    "ja-JP",
    "kn-IN",
    "ko-KR",
    "lt-LT",
    "lv-LV",
    "ml-IN",
    "mr-IN",
    "ms-MY",
    "nb-NO",
    "nl-BE",
    "nl-NL",
    "pa-IN",
    "pl-PL",
    "pt-BR",
    "pt-PT",
    "ro-RO",
    "ru-RU",
    "sk-SK",
    "sr-RS",
    "sv-SE",
    "ta-IN",
    "te-IN",
    "th-TH",
    "tr-TR",
    "uk-UA",
    "vi-VN",
    "yue-HK",
    "zh-CN",
    "zh-HK",
    "zh-TW",
];

fn languages(
    cx: &mut Ctx<'_>,
    raw: BTreeMap<String, Spanned<RawLanguage>>,
) -> BTreeMap<String, Language> {
    let mut out = BTreeMap::new();
    for (code, lang) in raw {
        let span = lang.span();
        let lang = lang.into_inner();
        if !crate::call_state::is_name(&code, 16) {
            cx.problem(
                span.clone(),
                format!("language code '{code}' may hold only letters, digits, - and _"),
            );
        }
        let say = lang.say_language;
        if !SAY_LANGUAGES.contains(&say.get_ref().as_str()) {
            cx.problem(
                say.span(),
                format!(
                    "[languages.{code}] say_language '{}' is not a language Twilio's Say speaks (e.g. en-US, zh-CN)",
                    say.get_ref()
                ),
            );
        }
        let speech_language = lang
            .speech_language
            .map_or_else(|| say.get_ref().clone(), Spanned::into_inner);
        out.insert(
            code,
            Language {
                say_language: say.into_inner(),
                voice: lang.voice,
                speech_language,
            },
        );
    }
    out
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
