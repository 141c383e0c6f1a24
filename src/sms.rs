//! The SMS reply as a pure choice: (templates, inbound body, opt-out state) to the reply text.

use crate::keywords::{self, Keyword};
use crate::templates::SmsTemplates;

/// What an inbound message means and what, if anything, we answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<'t> {
    pub keyword: Keyword,
    pub text: Option<&'t str>,
}

/// Chooses the reply. `opt_out_type` is Twilio's `OptOutType` parameter, which wins over our
/// own keyword matching; `opted_out` is the sender's state before this message.
pub fn reply<'t>(
    t: &'t SmsTemplates,
    body: &str,
    opt_out_type: Option<&str>,
    opted_out: bool,
) -> Reply<'t> {
    let keyword = opt_out_type
        .and_then(keywords::from_opt_out_type)
        .unwrap_or_else(|| keywords::classify(body));
    let text = match keyword {
        // Twilio confirms STOP and START itself, and drops a reply to STOP anyway.
        Keyword::OptOut if t.confirm_opt_changes => t.opt_out_reply.as_deref(),
        Keyword::OptIn if t.confirm_opt_changes => t.opt_in_reply.as_deref(),
        Keyword::OptOut | Keyword::OptIn => None,
        Keyword::Help => Some(t.help_reply.as_str()),
        // A reply to an opted-out sender would fail with 21610; say nothing.
        Keyword::Other if opted_out => None,
        Keyword::Other => {
            let word = body.trim();
            t.keywords
                .iter()
                .find(|k| k.words.iter().any(|w| w.eq_ignore_ascii_case(word)))
                .map(|k| k.reply.as_str())
                .or(t.default_reply.as_deref())
        }
    };
    Reply { keyword, text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::KeywordReply;

    fn templates(confirm: bool) -> SmsTemplates {
        SmsTemplates {
            default_reply: Some("default".into()),
            help_reply: "help".into(),
            confirm_opt_changes: confirm,
            opt_out_reply: Some("bye".into()),
            opt_in_reply: Some("welcome back".into()),
            keywords: vec![KeywordReply {
                words: vec!["HOURS".into(), "OPEN".into()],
                reply: "9 to 5".into(),
            }],
        }
    }

    #[test]
    fn keyword_default_and_help() {
        let t = templates(false);
        assert_eq!(reply(&t, " hours ", None, false).text, Some("9 to 5"));
        assert_eq!(
            reply(&t, "when are you open", None, false).text,
            Some("default")
        );
        assert_eq!(reply(&t, "HELP", None, false).text, Some("help"));
        assert_eq!(reply(&t, "info", None, true).text, Some("help"));
    }

    #[test]
    fn stop_and_start_are_silent_unless_confirmations_are_on() {
        let t = templates(false);
        assert_eq!(
            reply(&t, "STOP", None, false),
            Reply {
                keyword: Keyword::OptOut,
                text: None
            }
        );
        assert_eq!(
            reply(&t, "start", None, true),
            Reply {
                keyword: Keyword::OptIn,
                text: None
            }
        );
        let t = templates(true);
        assert_eq!(reply(&t, "STOP", None, false).text, Some("bye"));
        assert_eq!(reply(&t, "unstop", None, true).text, Some("welcome back"));
    }

    #[test]
    fn opt_out_type_wins_and_opted_out_senders_get_nothing() {
        let t = templates(false);
        assert_eq!(
            reply(&t, "arret", Some("STOP"), false).keyword,
            Keyword::OptOut
        );
        assert_eq!(reply(&t, "hours", None, true).text, None);
        let mut t = templates(false);
        t.default_reply = None;
        assert_eq!(reply(&t, "hi", None, false).text, None);
    }
}
