//! The TOML shapes of templates/voice.toml and templates/sms.toml, with spans for error lines.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A prompt: one string (in the default language) or a table of language code to string.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum RawText {
    One(String),
    PerLanguage(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVoice {
    pub start: Spanned<String>,
    #[serde(default = "default_attempts")]
    pub max_attempts: Spanned<u32>,
    pub final_action: Option<Spanned<RawAction>>,
    #[serde(default = "default_language")]
    pub default_language: Spanned<String>,
    #[serde(default)]
    pub languages: BTreeMap<String, Spanned<RawLanguage>>,
    pub menus: BTreeMap<Spanned<String>, Spanned<RawMenu>>,
    pub voicemail: Spanned<RawVoicemail>,
    pub hours: Option<Spanned<RawHours>>,
}

/// Opening hours: a range list per weekday (`mon` ... `sun`) in `time_zone`, and holidays.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHours {
    pub time_zone: Spanned<String>,
    pub mon: Option<Spanned<String>>,
    pub tue: Option<Spanned<String>>,
    pub wed: Option<Spanned<String>>,
    pub thu: Option<Spanned<String>>,
    pub fri: Option<Spanned<String>>,
    pub sat: Option<Spanned<String>>,
    pub sun: Option<Spanned<String>>,
    #[serde(default)]
    pub holidays: Vec<Spanned<String>>,
    /// What a caller gets outside the hours; a message then voicemail when absent.
    pub closed: Option<Spanned<RawAction>>,
}

fn default_attempts() -> Spanned<u32> {
    Spanned::new(0..0, 3)
}

fn default_language() -> Spanned<String> {
    Spanned::new(0..0, "en".to_owned())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLanguage {
    /// The `language` attribute of Say, e.g. `en-US`.
    pub say_language: Spanned<String>,
    pub voice: Option<String>,
    /// Gather's `language` for speech in this language; `say_language` when absent.
    pub speech_language: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMenu {
    pub prompt: Spanned<RawText>,
    pub invalid: Option<Spanned<RawText>>,
    pub timeout: Option<Spanned<u32>>,
    /// `dtmf` (the default), `speech` or `dtmf speech`.
    pub input: Option<Spanned<String>>,
    /// Gather's `hints`; the options' keywords when absent.
    pub hints: Option<Spanned<String>>,
    #[serde(default)]
    pub options: BTreeMap<Spanned<String>, Spanned<RawAction>>,
}

/// One action, flat so every field keeps its span (serde's tagged enums lose toml spans); which
/// fields an action needs is checked when the templates are validated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// `dial`, `voicemail`, `menu`, `hangup`, `redirect`, `sms` or `language`.
    pub action: Spanned<String>,
    pub say: Option<Spanned<RawText>>,
    /// Spoken words that choose this option in a menu taking speech.
    #[serde(default)]
    pub keywords: Vec<Spanned<String>>,
    pub number: Option<Spanned<String>>,
    /// A hunt list (tried in turn), or rung at once with `ring = "simultaneous"`.
    #[serde(default)]
    pub numbers: Vec<Spanned<String>>,
    pub ring: Option<Spanned<String>>,
    pub caller_id: Option<Spanned<String>>,
    pub timeout: Option<Spanned<u32>>,
    pub time_limit: Option<Spanned<u32>>,
    pub record: Option<bool>,
    /// Where an unanswered dial goes; voicemail when absent.
    pub fallback: Option<Box<Spanned<RawAction>>>,
    pub menu: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    /// The text message of an `sms` action.
    pub body: Option<Spanned<RawText>>,
    /// The language a `language` action switches to.
    pub language: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVoicemail {
    pub prompt: Spanned<RawText>,
    #[serde(default = "default_max_length")]
    pub max_length: Spanned<u32>,
    #[serde(default = "default_finish_key")]
    pub finish_on_key: Spanned<String>,
    pub thanks: Spanned<RawText>,
    pub no_message: Spanned<RawText>,
    #[serde(default)]
    pub transcribe: bool,
    /// A staff number texted about each new voicemail; `${VAR:-}` leaves it off when unset.
    pub notify: Option<Spanned<String>>,
}

fn default_max_length() -> Spanned<u32> {
    Spanned::new(0..0, 120)
}

fn default_finish_key() -> Spanned<String> {
    Spanned::new(0..0, "#".to_owned())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSms {
    pub default_reply: Option<Spanned<String>>,
    pub help_reply: Spanned<String>,
    #[serde(default)]
    pub confirm_opt_changes: bool,
    pub opt_out_reply: Option<Spanned<String>>,
    pub opt_in_reply: Option<Spanned<String>>,
    #[serde(default, rename = "keyword")]
    pub keywords: Vec<Spanned<RawKeyword>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeyword {
    pub words: Vec<Spanned<String>>,
    pub reply: Spanned<String>,
}
