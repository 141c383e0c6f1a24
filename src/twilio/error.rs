//! Errors from the Twilio REST client: classification (retryable or not) and one-line advice
//! per Twilio error code.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Deserialize;

/// Anything that can go wrong calling Twilio. No variant ever carries the auth token.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// Twilio (or whatever sits at the base URL) answered with a non-2xx status.
    #[error("{}", describe_api(*status, *code, message))]
    Api {
        /// HTTP status of the response.
        status: u16,
        /// Twilio's error code from the JSON body (`code`), when there was one.
        code: Option<i64>,
        /// Twilio's `message`, or a short excerpt of a non-JSON body.
        message: String,
        /// Twilio's `more_info` link to the error's documentation page.
        more_info: Option<String>,
        /// The `Retry-After` header, when the response carried one.
        retry_after: Option<Duration>,
    },
    /// The connect or total timeout elapsed.
    #[error("Twilio request timed out")]
    Timeout,
    /// Connection refused, DNS failure, TLS failure or a connection dropped mid-response.
    #[error("could not reach Twilio: {0}")]
    Connect(String),
    /// A 2xx response whose body was not the JSON we expected.
    #[error("could not parse Twilio's response: {0}")]
    Decode(String),
    /// The client was given unusable settings or arguments; nothing was sent.
    #[error("Twilio client configuration: {0}")]
    Config(String),
}

impl TwilioError {
    /// Twilio's error code, for `Api` errors whose body carried one.
    pub fn code(&self) -> Option<i64> {
        match self {
            TwilioError::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// The HTTP status, for `Api` errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            TwilioError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// 429 (incl. 20429), any 5xx, timeouts and connection errors; never another 4xx.
    /// Decided by the HTTP status, which Twilio always sets to 429 alongside 20429.
    ///
    /// Exception: Verify's 60202 (max check attempts) and 60203 (max send attempts) come back
    /// as 429 but only clear when the verification expires (10 min) or is cancelled, and
    /// retrying 60203 would text the user yet another code, so they are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            TwilioError::Api { status, code, .. } => {
                if matches!(code, Some(60202 | 60203)) {
                    return false;
                }
                *status == 429 || (500..=599).contains(status)
            }
            TwilioError::Timeout | TwilioError::Connect(_) => true,
            // A 2xx we could not parse may mean the message was sent: retrying could duplicate it.
            TwilioError::Decode(_) | TwilioError::Config(_) => false,
        }
    }

    /// The server's `Retry-After` (seconds or HTTP date), if Twilio sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TwilioError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// `explain` for this error's code, if it has a known one.
    pub fn explanation(&self) -> Option<&'static str> {
        self.code().and_then(explain)
    }
}

fn describe_api(status: u16, code: Option<i64>, message: &str) -> String {
    let mut out = match code {
        Some(code) => format!("Twilio error {code} (HTTP {status}): {message}"),
        None => format!("Twilio HTTP {status}: {message}"),
    };
    if let Some(hint) = code.and_then(explain) {
        let _ = write!(out, " — {hint}");
    }
    out
}

/// A one-line explanation a user can act on, for the Twilio error codes this server meets.
/// `None` for codes we have no advice for.
pub fn explain(code: i64) -> Option<&'static str> {
    let text = match code {
        20003 => "authentication failed: check TWILIO_ACCOUNT_SID and the auth token",
        20404 => {
            "not found: check the SID; on a Verify check it means the verification expired \
             (10 min) or was already approved or cancelled, so start a new one"
        }
        20429 => "too many concurrent requests to Twilio's API: back off and retry",
        21211 => "invalid 'To' number: use E.164 (+14155550100)",
        21408 => {
            "SMS to this country is not enabled: turn it on in Console > Messaging > \
             Settings > Geo permissions"
        }
        21602 => "message has no body: send Body, MediaUrl or ContentSid",
        21604 => "'To' number is missing",
        21606 => {
            "'From' is not an SMS-capable Twilio number on this account for this destination: \
             use one of your SMS-enabled numbers or a Messaging Service"
        }
        21608 => {
            "trial accounts can only send to verified numbers: verify the recipient in the \
             Console or upgrade the account"
        }
        21610 => "the recipient replied STOP: do not send again until they text START",
        21611 => {
            "this 'From' number's queue is full (over 10 h of messages): slow down or spread \
             traffic over a Messaging Service with more senders"
        }
        21612 => "the 'To' number cannot be reached by SMS from this sender",
        21614 => "'To' is not a mobile number that can receive SMS (landline?): use another number",
        21617 => "message body exceeds 1,600 characters: shorten it or split it",
        30001 => "the sender's queue overflowed: send more slowly",
        30003 => "handset unreachable (off or no signal): one later retry may work; cap attempts",
        30004 => "message blocked by the recipient or their carrier: do not retry",
        30005 => "unknown destination handset: the number may not exist; check it, do not retry",
        30006 => "landline or unreachable carrier: this number cannot receive SMS",
        30007 => {
            "carrier filtered the message: for US long codes register an A2P 10DLC brand and \
             campaign and send through the Messaging Service linked to that campaign; \
             otherwise review the content"
        }
        30008 => "unknown delivery error: retry a limited number of times with backoff",
        30034 => {
            "US A2P 10DLC: this US long code is not registered; register a brand and campaign \
             and send through a Messaging Service holding the number and the campaign"
        }
        30036 => "the message expired in Twilio's queue (validity period) before it was sent",
        60200 => "Verify rejected a parameter: check 'To' (E.164), 'Channel' and 'Locale'",
        60202 => {
            "too many wrong codes for this verification: wait for it to expire (10 min) or \
             cancel it, then start a new one"
        }
        60203 => {
            "too many codes sent to this number without a check: check the last code or wait \
             for the verification to expire (10 min)"
        }
        60212 => "too many concurrent Verify requests for this number: wait briefly and retry",
        63016 => {
            "outside WhatsApp's 24-hour session window: send an approved template (ContentSid) \
             instead of free-form text"
        }
        _ => return None,
    };
    Some(text)
}

/// Twilio's JSON error body. Everything optional: proxies and mocks send all sorts.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

/// Longest excerpt of a non-JSON error body kept in the message.
const EXCERPT_CHARS: usize = 200;

/// Builds an `Api` error from a failed response's status, `Retry-After` and body.
pub(crate) fn api_error(status: u16, retry_after: Option<Duration>, body: &[u8]) -> TwilioError {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let (code, message, more_info) = match parsed {
        Some(ErrorBody {
            code,
            message: Some(message),
            more_info,
        }) => (code, message, more_info),
        Some(ErrorBody {
            code,
            message: None,
            more_info,
        }) => (code, excerpt(body, status), more_info),
        None => (None, excerpt(body, status), None),
    };
    TwilioError::Api {
        status,
        code,
        message,
        more_info,
        retry_after,
    }
}

/// A short single-line excerpt of a body, or the status's reason phrase when the body is empty.
fn excerpt(body: &[u8], status: u16) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no response body")
            .to_owned();
    }
    if collapsed.chars().count() <= EXCERPT_CHARS {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(EXCERPT_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_becomes_api_error_with_twilio_fields() {
        let body = br#"{"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#;
        let err = api_error(400, None, body);
        assert_eq!(err.code(), Some(21211));
        assert_eq!(err.status(), Some(400));
        assert!(!err.is_retryable());
        assert_eq!(
            err.to_string(),
            "Twilio error 21211 (HTTP 400): The 'To' number +1555 is not a valid phone number. \
             — invalid 'To' number: use E.164 (+14155550100)"
        );
        match err {
            TwilioError::Api { more_info, .. } => {
                assert_eq!(
                    more_info.as_deref(),
                    Some("https://www.twilio.com/docs/errors/21211")
                );
            }
            other => panic!("expected Api, got {other:?}"),
        }
    }

    #[test]
    fn non_json_body_keeps_status_and_a_short_excerpt() {
        let body = format!(
            "<html>\n  <body>Bad gateway {}</body></html>",
            "x".repeat(500)
        );
        let err = api_error(502, None, body.as_bytes());
        assert_eq!(err.status(), Some(502));
        assert_eq!(err.code(), None);
        assert!(err.is_retryable());
        let text = err.to_string();
        assert!(
            text.starts_with("Twilio HTTP 502: <html> <body>Bad gateway"),
            "{text}"
        );
        assert!(text.chars().count() < 260, "{text}");
    }

    #[test]
    fn empty_body_uses_the_reason_phrase() {
        let err = api_error(503, None, b"");
        assert_eq!(err.to_string(), "Twilio HTTP 503: Service Unavailable");
    }

    #[test]
    fn unknown_code_has_no_hint_in_display() {
        let err = api_error(400, None, br#"{"code":99999,"message":"odd"}"#);
        assert_eq!(err.to_string(), "Twilio error 99999 (HTTP 400): odd");
        assert_eq!(explain(99999), None);
    }

    #[test]
    fn retryable_classification() {
        let api = |status, code| TwilioError::Api {
            status,
            code,
            message: String::new(),
            more_info: None,
            retry_after: None,
        };
        assert!(api(429, Some(20429)).is_retryable());
        assert!(api(429, None).is_retryable());
        assert!(api(429, Some(60212)).is_retryable());
        assert!(!api(429, Some(60202)).is_retryable());
        assert!(!api(429, Some(60203)).is_retryable());
        assert!(api(500, None).is_retryable());
        assert!(api(503, Some(20500)).is_retryable());
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(!api(status, None).is_retryable(), "{status}");
        }
        assert!(TwilioError::Timeout.is_retryable());
        assert!(TwilioError::Connect("refused".into()).is_retryable());
        assert!(!TwilioError::Decode("bad".into()).is_retryable());
        assert!(!TwilioError::Config("bad".into()).is_retryable());
    }

    #[test]
    fn required_codes_are_explained() {
        let codes = [
            20429, 21211, 21408, 21606, 21608, 21610, 21611, 21614, 30007, 30034, 63016, 60200,
            60202, 60203, 60212, 20404, 30003, 30005, 30006,
        ];
        for code in codes {
            let text = explain(code).unwrap_or_default();
            assert!(!text.is_empty(), "{code} has no explanation");
            assert!(!text.contains('\n'), "{code} explanation is not one line");
        }
        for code in [30007, 30034] {
            let text = explain(code).unwrap_or_default();
            assert!(text.contains("A2P 10DLC"), "{code}: {text}");
            assert!(
                text.contains("campaign") && text.contains("Messaging Service"),
                "{code}"
            );
        }
    }
}
