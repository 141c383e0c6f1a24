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
    pub say_language: String,
    pub voice: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMenu {
    pub prompt: Spanned<RawText>,
    pub invalid: Option<Spanned<RawText>>,
    pub timeout: Option<Spanned<u32>>,
    #[serde(default)]
    pub options: BTreeMap<Spanned<String>, Spanned<RawAction>>,
}

/// One action, flat so every field keeps its span (serde's tagged enums lose toml spans); which
/// fields an action needs is checked when the templates are validated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// `dial`, `voicemail`, `menu`, `hangup` or `redirect`.
    pub action: Spanned<String>,
    pub say: Option<Spanned<RawText>>,
    pub number: Option<Spanned<String>>,
    pub menu: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
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
