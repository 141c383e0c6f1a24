//! templates/: the voice menus and SMS replies as data, loaded and checked with file and line.

mod raw;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use validate::Env;

/// Twilio's Say limit (about 4,000 characters); longer prompts are cut off on the call.
pub const MAX_SAY_CHARS: usize = 4000;
/// Twilio's message body limit.
pub const MAX_SMS_CHARS: usize = 1600;

/// The validated voice flow and SMS replies. Read-only once loaded.
#[derive(Debug, Clone)]
pub struct Templates {
    pub voice: Flow,
    pub sms: SmsTemplates,
}

/// Text in one or more languages; `get` falls back to the flow's default language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text {
    by_lang: BTreeMap<String, String>,
    default_lang: String,
}

impl Text {
    pub fn get(&self, lang: &str) -> &str {
        self.by_lang
            .get(lang)
            .or_else(|| self.by_lang.get(&self.default_lang))
            .or_else(|| self.by_lang.values().next())
            .map_or("", String::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub start: String,
    pub max_attempts: u32,
    pub final_action: Action,
    pub default_language: String,
    pub languages: BTreeMap<String, Language>,
    pub menus: BTreeMap<String, Menu>,
    pub voicemail: Voicemail,
    /// Opening hours checked when a call arrives; always open when absent.
    pub hours: Option<BusinessHours>,
}

#[derive(Debug, Clone)]
pub struct BusinessHours {
    pub hours: crate::hours::Hours,
    /// What a call arriving outside the hours gets.
    pub closed: Action,
}

impl Flow {
    pub fn language(&self, lang: &str) -> Option<&Language> {
        self.languages
            .get(lang)
            .or_else(|| self.languages.get(&self.default_language))
    }
}

/// How Say speaks one of the flow's languages.
#[derive(Debug, Clone)]
pub struct Language {
    pub say_language: String,
    pub voice: Option<String>,
    /// Gather's `language` for speech recognition.
    pub speech_language: String,
}

#[derive(Debug, Clone)]
pub struct Menu {
    pub prompt: Text,
    pub invalid: Text,
    pub timeout: u32,
    /// Keyed by the key pressed: `0`-`9`, `*` or `#`.
    pub options: BTreeMap<char, Action>,
    /// Gather's `input`: `dtmf`, `speech` or `dtmf speech`.
    pub input: &'static str,
    /// Gather's `hints` for speech.
    pub hints: Option<String>,
    /// Spoken keywords (lower-cased) and the key of the option each chooses.
    pub keywords: Vec<(String, char)>,
}

impl Menu {
    pub fn takes_speech(&self) -> bool {
        self.input != "dtmf"
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Dial(Box<DialAction>),
    Voicemail {
        say: Option<Text>,
    },
    Menu {
        menu: String,
        say: Option<Text>,
    },
    Hangup {
        say: Option<Text>,
    },
    Redirect {
        url: String,
    },
    /// Texts the caller (an address, a link), confirms with `say`, and hangs up.
    Sms {
        body: Text,
        say: Option<Text>,
    },
    /// Switches the call to `language` and presents `menu` (the current one when `None`).
    Language {
        language: String,
        menu: Option<String>,
        say: Option<Text>,
    },
}

impl Action {
    /// The menus this action can lead to, for reachability and the flow graph.
    pub fn menus(&self) -> impl Iterator<Item = &str> {
        let (own, fallback) = match self {
            Action::Menu { menu, .. } => (Some(menu.as_str()), None),
            Action::Language { menu, .. } => (menu.as_deref(), None),
            Action::Dial(d) => (None, Some(&d.fallback)),
            _ => (None, None),
        };
        // A fallback is never a dial, so one level of nesting is all there is.
        let nested = fallback.and_then(|f| match f {
            Action::Menu { menu, .. } => Some(menu.as_str()),
            Action::Language { menu, .. } => menu.as_deref(),
            _ => None,
        });
        own.into_iter().chain(nested)
    }
}

/// Who a dial rings and what happens when nobody answers.
#[derive(Debug, Clone, PartialEq)]
pub struct DialAction {
    pub say: Option<Text>,
    /// E.164 numbers: a hunt list tried in turn, or all at once when `simultaneous`.
    pub numbers: Vec<String>,
    pub simultaneous: bool,
    pub caller_id: Option<String>,
    /// Seconds each number rings.
    pub timeout: Option<u32>,
    pub time_limit: Option<u32>,
    pub record: bool,
    /// Never a dial (a longer hunt list does that), so fallbacks cannot chain.
    pub fallback: Action,
}

#[derive(Debug, Clone)]
pub struct Voicemail {
    pub prompt: Text,
    pub max_length: u32,
    pub finish_on_key: String,
    pub thanks: Text,
    pub no_message: Text,
    pub transcribe: bool,
    /// An E.164 staff number texted about each new voicemail.
    pub notify: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SmsTemplates {
    /// `None` sends no reply to messages that match nothing.
    pub default_reply: Option<String>,
    pub help_reply: String,
    /// Reply to STOP/START ourselves; off by default because Twilio already confirms them.
    pub confirm_opt_changes: bool,
    pub opt_out_reply: Option<String>,
    pub opt_in_reply: Option<String>,
    pub keywords: Vec<KeywordReply>,
}

/// A reply sent when the whole message, trimmed and case-folded, is one of `words`.
#[derive(Debug, Clone)]
pub struct KeywordReply {
    /// Upper-cased.
    pub words: Vec<String>,
    pub reply: String,
}

/// One problem in a template file, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Every problem found in templates/, so a user fixes them in one pass.
#[derive(Debug, Clone, thiserror::Error)]
pub struct TemplateErrors(pub Vec<Problem>);

impl fmt::Display for TemplateErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in templates",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// How template phone numbers are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberCheck {
    /// E.164 form and a known country code: instant, so the server starts fast.
    Form,
    /// Also against the country's numbering plan (`phonenumber`'s metadata): `switchboard check`.
    NumberingPlan,
}

pub const VOICE_FILE: &str = "voice.toml";
pub const SMS_FILE: &str = "sms.toml";

impl Templates {
    /// Loads `voice.toml` and `sms.toml` from `dir`, resolving `${VAR}` from the process environment.
    pub fn load(dir: &Path) -> Result<Templates, TemplateErrors> {
        Templates::load_with_env(dir, &|name| std::env::var(name).ok())
    }

    /// Loads with phone numbers checked for E.164 form only: what the server does at start.
    pub fn load_with_env(dir: &Path, env: Env<'_>) -> Result<Templates, TemplateErrors> {
        Templates::load_checking(dir, env, NumberCheck::Form)
    }

    pub fn load_checking(
        dir: &Path,
        env: Env<'_>,
        numbers: NumberCheck,
    ) -> Result<Templates, TemplateErrors> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| Problem {
                message: format!("cannot read: {e}"),
                file: path.clone(),
                line: 0,
            })
        };
        match (read(VOICE_FILE), read(SMS_FILE)) {
            (Ok(voice), Ok(sms)) => Templates::from_sources(
                (&dir.join(VOICE_FILE), &voice),
                (&dir.join(SMS_FILE), &sms),
                env,
                numbers,
            ),
            (v, s) => Err(TemplateErrors(
                [v.err(), s.err()].into_iter().flatten().collect(),
            )),
        }
    }

    /// Validates templates already in memory: `voice` and `sms` are each the path problems name
    /// and the TOML text. What [`Templates::load_checking`] does once the files are read.
    pub fn from_sources(
        (voice_path, voice_src): (&Path, &str),
        (sms_path, sms_src): (&Path, &str),
        env: Env<'_>,
        numbers: NumberCheck,
    ) -> Result<Templates, TemplateErrors> {
        let mut problems = Vec::new();
        let voice = validate::voice(voice_path, voice_src, env, numbers, &mut problems);
        let sms = validate::sms(sms_path, sms_src, &mut problems);
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        match (voice, sms) {
            (Some(voice), Some(sms)) if problems.is_empty() => Ok(Templates { voice, sms }),
            _ => Err(TemplateErrors(problems)),
        }
    }
}

/// The templates in use, replaced whole on reload (SIGHUP) while requests keep the set they
/// started with.
pub struct TemplateSet(std::sync::RwLock<std::sync::Arc<Templates>>);

impl TemplateSet {
    pub fn new(t: Templates) -> TemplateSet {
        TemplateSet(std::sync::RwLock::new(std::sync::Arc::new(t)))
    }

    pub fn current(&self) -> std::sync::Arc<Templates> {
        match self.0.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, t: Templates) {
        let t = std::sync::Arc::new(t);
        match self.0.write() {
            Ok(mut slot) => *slot = t,
            Err(poisoned) => *poisoned.into_inner() = t,
        }
    }
}

#[cfg(test)]
mod tests;
