//! SMS opt-out, opt-in and help keywords, matched the way Twilio matches them.

/// What an inbound message body means for the sender's subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
    Other,
}

/// Twilio's default opt-out keywords (long codes and toll-free).
pub const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
pub const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];
pub const HELP: [&str; 2] = ["HELP", "INFO"];

/// Exact single-word match, case-insensitive, surrounding whitespace ignored: "stop please" is
/// not an opt-out, as with Twilio.
pub fn classify(body: &str) -> Keyword {
    let word = body.trim();
    let is = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
    if is(&OPT_OUT) {
        Keyword::OptOut
    } else if is(&OPT_IN) {
        Keyword::OptIn
    } else if is(&HELP) {
        Keyword::Help
    } else {
        Keyword::Other
    }
}

/// Twilio's `OptOutType` parameter (Advanced Opt-Out), which wins over our own matching because
/// the Messaging Service may use custom keywords.
pub fn from_opt_out_type(value: &str) -> Option<Keyword> {
    match value.trim().to_ascii_uppercase().as_str() {
        "STOP" => Some(Keyword::OptOut),
        "START" => Some(Keyword::OptIn),
        "HELP" => Some(Keyword::Help),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_keyword_in_any_case_with_whitespace() {
        for k in OPT_OUT {
            assert_eq!(classify(k), Keyword::OptOut);
            assert_eq!(
                classify(&format!("  {}\n", k.to_lowercase())),
                Keyword::OptOut
            );
        }
        for k in OPT_IN {
            assert_eq!(classify(&format!("\t{k} ")), Keyword::OptIn);
        }
        assert_eq!(classify("help"), Keyword::Help);
        assert_eq!(classify("Info"), Keyword::Help);
    }

    #[test]
    fn only_exact_single_words_match() {
        for body in [
            "stop please",
            "STOP!",
            "S TOP",
            "",
            "stopp",
            "yes yes",
            "unsubscribe me",
        ] {
            assert_eq!(classify(body), Keyword::Other, "{body:?}");
        }
    }

    #[test]
    fn opt_out_type() {
        assert_eq!(from_opt_out_type("STOP"), Some(Keyword::OptOut));
        assert_eq!(from_opt_out_type("start"), Some(Keyword::OptIn));
        assert_eq!(from_opt_out_type("HELP"), Some(Keyword::Help));
        assert_eq!(from_opt_out_type(""), None);
    }
}
