//! Call state carried in the URL of Twilio's next request (menu, attempt, lang), never in memory.
//!
//! Twilio's signature covers the URL, so a caller cannot tamper with this state; decoding still
//! refuses anything malformed, since a signed URL can be replayed with a hand-made query.

use std::fmt::Write as _;

/// Where a call is in the flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallState {
    pub menu: String,
    /// 1-based count of tries at the current menu.
    pub attempt: u32,
    pub lang: String,
}

/// A malformed state parameter; answered with 400 naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad call state in URL: {0}")]
pub struct StateError(pub String);

pub const MAX_ATTEMPT: u32 = 99;

impl CallState {
    pub fn new(menu: impl Into<String>, attempt: u32, lang: impl Into<String>) -> CallState {
        CallState {
            menu: menu.into(),
            attempt,
            lang: lang.into(),
        }
    }

    /// Reads `menu`, `attempt` and `lang` from a raw query string; an absent one takes its default.
    /// Other parameters are ignored (with GET webhooks Twilio adds its own to the query).
    pub fn from_query(
        query: Option<&str>,
        default_menu: &str,
        default_lang: &str,
    ) -> Result<CallState, StateError> {
        let (mut menu, mut attempt, mut lang) = (None, None, None);
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "menu" => &mut menu,
                "attempt" => &mut attempt,
                "lang" => &mut lang,
                _ => continue,
            };
            if slot.is_some() {
                return Err(StateError(format!("'{key}' appears more than once")));
            }
            *slot = Some(value.into_owned());
        }
        let menu = match menu {
            Some(m) if is_name(&m, 64) => m,
            Some(m) => return Err(StateError(format!("menu '{m}' is not a menu name"))),
            None => default_menu.to_owned(),
        };
        let attempt = match attempt {
            Some(a) => match a.parse::<u32>() {
                Ok(n) if (1..=MAX_ATTEMPT).contains(&n) && !a.starts_with('+') => n,
                _ => return Err(StateError(format!("attempt '{a}' is not 1-{MAX_ATTEMPT}"))),
            },
            None => 1,
        };
        let lang = match lang {
            Some(l) if is_name(&l, 16) => l,
            Some(l) => return Err(StateError(format!("lang '{l}' is not a language code"))),
            None => default_lang.to_owned(),
        };
        Ok(CallState {
            menu,
            attempt,
            lang,
        })
    }

    /// Appends `menu=..&attempt=..&lang=..` to `url` (which ends in a path).
    pub fn write_query(&self, url: &mut String) {
        // Names are restricted to URL-safe characters, so no percent-encoding is needed.
        let _ = write!(
            url,
            "?menu={}&attempt={}&lang={}",
            self.menu, self.attempt, self.lang
        );
    }

    pub fn next_attempt(&self) -> CallState {
        CallState {
            attempt: self.attempt.saturating_add(1),
            ..self.clone()
        }
    }
}

/// Which action a `<Dial>`'s action request reports on, and which number of its hunt list rang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialState {
    pub via: Via,
    /// 0-based index into the dial's numbers.
    pub hunt: u32,
}

/// Where the dialing action stands in the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The option of this key in the state's menu.
    Option(char),
    /// The flow's final action (attempts used up).
    Final,
    /// The business-hours closed action.
    Closed,
}

/// Twilio dials at most ten numbers, so a hunt index past that is not ours.
const MAX_HUNT: u32 = 9;

impl DialState {
    /// Reads `via` and `hunt`, both required on a dial's action URL.
    pub fn from_query(query: Option<&str>) -> Result<DialState, StateError> {
        let (mut via, mut hunt) = (None, None);
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "via" => &mut via,
                "hunt" => &mut hunt,
                _ => continue,
            };
            if slot.is_some() {
                return Err(StateError(format!("'{key}' appears more than once")));
            }
            *slot = Some(value.into_owned());
        }
        let via = match via.as_deref() {
            Some("final") => Via::Final,
            Some("closed") => Via::Closed,
            Some("star") => Via::Option('*'),
            Some("hash") => Via::Option('#'),
            Some(d) if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() => {
                Via::Option(char::from(d.as_bytes()[0]))
            }
            Some(v) => {
                return Err(StateError(format!(
                    "via '{v}' is not a key, final or closed"
                )));
            }
            None => return Err(StateError("'via' is missing".into())),
        };
        let hunt = match hunt.as_deref() {
            Some(h) => match h.parse::<u32>() {
                Ok(n) if n <= MAX_HUNT && !h.starts_with('+') => n,
                _ => return Err(StateError(format!("hunt '{h}' is not 0-{MAX_HUNT}"))),
            },
            None => return Err(StateError("'hunt' is missing".into())),
        };
        Ok(DialState { via, hunt })
    }

    /// Appends `&via=..&hunt=..` to a URL that already has a query.
    pub fn write_query(&self, url: &mut String) {
        let via = match self.via {
            Via::Final => "final".to_owned(),
            Via::Closed => "closed".to_owned(),
            Via::Option('*') => "star".to_owned(),
            Via::Option('#') => "hash".to_owned(),
            Via::Option(k) => k.to_string(),
        };
        let _ = write!(url, "&via={via}&hunt={}", self.hunt);
    }
}

/// Whether this is a call's first request: later ones carry the state we put in the URL.
pub fn is_first_request(query: Option<&str>) -> bool {
    !form_urlencoded::parse(query.unwrap_or("").as_bytes()).any(|(k, _)| k == "menu")
}

/// Menu names and language codes: letters, digits, `-` and `_`, so they need no escaping in a URL.
pub fn is_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_when_absent() {
        let s = CallState::from_query(None, "main", "en").unwrap();
        assert_eq!(s, CallState::new("main", 1, "en"));
        let s = CallState::from_query(Some("CallSid=CA1&menu=sales"), "main", "en").unwrap();
        assert_eq!(s, CallState::new("sales", 1, "en"));
    }

    #[test]
    fn round_trip() {
        let s = CallState::new("main", 3, "zh-CN");
        let mut url = String::from("/voice/menu-selection");
        s.write_query(&mut url);
        assert_eq!(url, "/voice/menu-selection?menu=main&attempt=3&lang=zh-CN");
        let query = url.split_once('?').unwrap().1;
        assert_eq!(CallState::from_query(Some(query), "x", "y").unwrap(), s);
    }

    #[test]
    fn malformed_is_refused_naming_the_parameter() {
        for (q, needle) in [
            ("attempt=0", "attempt"),
            ("attempt=100", "attempt"),
            ("attempt=two", "attempt"),
            ("attempt=+1", "attempt"),
            ("menu=a%20b", "menu"),
            ("menu=", "menu"),
            ("lang=en%3Cx", "lang"),
            ("menu=a&menu=b", "'menu' appears more than once"),
        ] {
            let e = CallState::from_query(Some(q), "main", "en").unwrap_err();
            assert!(e.to_string().contains(needle), "{q}: {e}");
        }
    }

    #[test]
    fn dial_state_round_trips_every_via() {
        for via in [
            Via::Option('1'),
            Via::Option('*'),
            Via::Option('#'),
            Via::Final,
            Via::Closed,
        ] {
            let d = DialState { via, hunt: 2 };
            let mut url = String::from("/voice/dial-status?menu=main");
            d.write_query(&mut url);
            let query = url.split_once('?').unwrap().1;
            assert_eq!(DialState::from_query(Some(query)).unwrap(), d, "{url}");
        }
    }

    #[test]
    fn dial_state_refuses_malformed() {
        for (q, needle) in [
            ("hunt=0", "'via' is missing"),
            ("via=1", "'hunt' is missing"),
            ("via=12&hunt=0", "via '12'"),
            ("via=1&hunt=10", "hunt '10'"),
            ("via=1&hunt=-1", "hunt '-1'"),
            ("via=1&via=2&hunt=0", "more than once"),
        ] {
            let e = DialState::from_query(Some(q)).unwrap_err();
            assert!(e.to_string().contains(needle), "{q}: {e}");
        }
    }

    #[test]
    fn first_request_has_no_menu_state() {
        assert!(is_first_request(None));
        assert!(is_first_request(Some("CallSid=CA1")));
        assert!(!is_first_request(Some("menu=main&attempt=2&lang=en")));
    }

    proptest! {
        #[test]
        fn any_query_never_panics(q in ".*") {
            let _ = CallState::from_query(Some(&q), "main", "en");
            let _ = DialState::from_query(Some(&q));
        }
    }
}
