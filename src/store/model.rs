//! What the store keeps: webhook writes as data, and the status ranks that stop regressions.

use crate::form::FormParams;

/// One webhook's writes, committed together with its replay key and answer, or not at all.
#[derive(Debug, Clone)]
pub struct WebhookWrite {
    pub replay_key: String,
    /// The answer to give; stored so a replay gets the same one.
    pub response: String,
    /// Given instead of `response` when the sender is opted out at commit time.
    pub response_if_opted_out: Option<OptOutCheck>,
    pub effects: Vec<Effect>,
}

/// Choose the answer by the opt-out state read inside the commit, not before it.
#[derive(Debug, Clone)]
pub struct OptOutCheck {
    pub scope: String,
    pub number: String,
    pub response: String,
}

#[derive(Debug, Clone)]
pub enum Effect {
    InboundMessage(Box<InboundMessage>),
    OptChange(OptChange),
    WhatsAppWindow {
        business: String,
        user: String,
    },
    MessageStatus(StatusEvent),
    Call(CallEvent),
    Voicemail(Box<super::voicemail::VoicemailEvent>),
    /// A new outbox row with its id.
    OutboxInsert(Box<(String, super::outbox::NewOutbound)>),
    OutboxUpdate(super::outbox::OutboxUpdate),
}

/// Whether the webhook did something or was a replay of one already committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Fresh(String),
    Replay(String),
    /// Outbox rows claimed by a worker.
    Claimed(Vec<super::outbox::OutboxRow>),
}

impl Outcome {
    pub fn response(&self) -> &str {
        match self {
            Outcome::Fresh(r) | Outcome::Replay(r) => r,
            Outcome::Claimed(_) => "",
        }
    }

    pub fn into_response_string(self) -> String {
        match self {
            Outcome::Fresh(r) | Outcome::Replay(r) => r,
            Outcome::Claimed(_) => String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundMessage {
    pub message_sid: String,
    pub account_sid: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub from: String,
    pub to: String,
    pub body: String,
    pub num_media: i64,
    pub num_segments: Option<i64>,
    /// (url, content type) for MediaUrl0..N-1.
    pub media: Vec<(String, Option<String>)>,
    /// FromCity, FromState, FromZip, FromCountry, ToCity, ToState, ToZip, ToCountry.
    pub geo: [Option<String>; 8],
    pub received_at: i64,
}

pub const GEO_FIELDS: [&str; 8] = [
    "FromCity",
    "FromState",
    "FromZip",
    "FromCountry",
    "ToCity",
    "ToState",
    "ToZip",
    "ToCountry",
];

/// Twilio sends at most 10 media per message; more would be a forged or broken request.
pub const MAX_MEDIA: i64 = 10;

/// Longest SID, address or status taken from a webhook: they become database keys, and
/// PostgreSQL cannot index one over about 2.7 KB. Twilio's SIDs have 34 characters and its
/// addresses (E.164, `whatsapp:`, `client:`, `sip:`) stay far below this.
pub const MAX_KEY_LEN: usize = 256;

/// `Err` naming the field when `value` is too long to be one of Twilio's identifiers.
pub fn check_key_len(name: &str, value: &str) -> Result<(), String> {
    if value.len() > MAX_KEY_LEN {
        return Err(format!(
            "form field '{name}' is {} bytes long, more than any of Twilio's ({MAX_KEY_LEN})",
            value.len()
        ));
    }
    Ok(())
}

impl InboundMessage {
    /// Reads the fields of an inbound SMS/MMS webhook; `Err` names the field that is wrong.
    pub fn from_params(p: &FormParams, received_at: i64) -> Result<InboundMessage, String> {
        let req = |name: &'static str| {
            let v = p
                .get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("missing form field '{name}'"))?;
            check_key_len(name, v)?;
            Ok::<_, String>(v.to_owned())
        };
        let opt = |name: &str| p.get(name).filter(|v| !v.is_empty()).map(str::to_owned);
        let int = |name: &'static str| -> Result<Option<i64>, String> {
            match opt(name) {
                None => Ok(None),
                Some(v) => v
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| format!("form field '{name}' is not a number: '{v}'")),
            }
        };
        let num_media = int("NumMedia")?.unwrap_or(0);
        if !(0..=MAX_MEDIA).contains(&num_media) {
            return Err(format!(
                "form field 'NumMedia' is {num_media}, not 0-{MAX_MEDIA}"
            ));
        }
        let mut media = Vec::with_capacity(num_media as usize);
        for i in 0..num_media {
            let url = opt(&format!("MediaUrl{i}")).ok_or_else(|| {
                format!("missing form field 'MediaUrl{i}' (NumMedia is {num_media})")
            })?;
            media.push((url, opt(&format!("MediaContentType{i}"))));
        }
        let messaging_service_sid = opt("MessagingServiceSid");
        if let Some(mg) = &messaging_service_sid {
            check_key_len("MessagingServiceSid", mg)?;
        }
        Ok(InboundMessage {
            message_sid: req("MessageSid")?,
            account_sid: opt("AccountSid"),
            messaging_service_sid,
            from: req("From")?,
            to: req("To")?,
            body: p.get("Body").unwrap_or("").to_owned(),
            num_media,
            num_segments: int("NumSegments")?,
            media,
            geo: GEO_FIELDS.map(opt),
            received_at,
        })
    }

    /// Opt-outs are kept per Messaging Service when there is one, else per our number.
    pub fn opt_out_scope(&self) -> &str {
        self.messaging_service_sid.as_deref().unwrap_or(&self.to)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptChange {
    pub scope: String,
    pub number: String,
    pub opted_out: bool,
    /// The keyword sent (STOP, START, ...) or the error code that implied it (21610).
    pub keyword: String,
    /// `keyword`, `opt_out_type` or `error_21610`.
    pub source: &'static str,
    pub message_sid: Option<String>,
    pub at: i64,
}

/// A message status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    pub message_sid: String,
    pub status: String,
    pub error_code: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: i64,
}

/// A call seen at /voice/incoming or in a call status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    pub call_sid: String,
    pub account_sid: Option<String>,
    pub from: String,
    pub to: String,
    pub direction: Option<String>,
    pub status: String,
    pub duration: Option<i64>,
    /// Status callbacks are logged as events; the first request of a call is not.
    pub log_event: bool,
    pub at: i64,
}

/// Order of message statuses: a status never replaces one of higher rank, because Twilio's
/// callbacks arrive out of order. Unknown statuses rank lowest so they never hide a known one.
pub fn message_status_rank(status: &str) -> i64 {
    match status {
        "accepted" | "scheduled" => 0,
        "queued" => 1,
        "sending" => 2,
        "sent" => 3,
        "delivered" | "undelivered" | "failed" | "canceled" | "partially_delivered" => 4,
        "read" => 5,
        _ => -1,
    }
}

/// The same rule for calls: queued < ringing < in-progress < a final status.
pub fn call_status_rank(status: &str) -> i64 {
    match status {
        "queued" | "initiated" => 0,
        "ringing" => 1,
        "in-progress" | "answered" => 2,
        "completed" | "busy" | "failed" | "no-answer" | "canceled" => 3,
        _ => -1,
    }
}

/// Twilio's "Attempt to send to unsubscribed recipient".
pub const ERROR_UNSUBSCRIBED: i64 = 21610;

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_the_message_lifecycle() {
        let order = ["accepted", "queued", "sending", "sent", "delivered", "read"];
        for w in order.windows(2) {
            assert!(
                message_status_rank(w[0]) < message_status_rank(w[1]),
                "{w:?}"
            );
        }
        assert_eq!(
            message_status_rank("scheduled"),
            message_status_rank("accepted")
        );
        assert_eq!(
            message_status_rank("failed"),
            message_status_rank("delivered")
        );
        assert!(message_status_rank("bogus") < message_status_rank("accepted"));
        assert!(call_status_rank("ringing") < call_status_rank("in-progress"));
        assert!(call_status_rank("in-progress") < call_status_rank("completed"));
    }

    fn params(body: &str) -> FormParams {
        FormParams::parse(bytes::Bytes::copy_from_slice(body.as_bytes())).unwrap()
    }

    #[test]
    fn inbound_message_fields() {
        let p = params(
            "MessageSid=MM1&From=%2B1415&To=%2B1500&Body=hi&NumMedia=2&MediaUrl0=u0&MediaContentType0=image%2Fjpeg&MediaUrl1=u1&FromCity=OAKLAND&MessagingServiceSid=MG1&NumSegments=1",
        );
        let m = InboundMessage::from_params(&p, 7).unwrap();
        assert_eq!(
            m.media,
            [
                ("u0".into(), Some("image/jpeg".into())),
                ("u1".into(), None)
            ]
        );
        assert_eq!(m.geo[0].as_deref(), Some("OAKLAND"));
        assert_eq!(m.opt_out_scope(), "MG1");
        assert_eq!(m.num_segments, Some(1));
    }

    #[test]
    fn inbound_message_errors_name_the_field() {
        for (body, needle) in [
            ("From=a&To=b", "'MessageSid'"),
            (
                "MessageSid=S&From=a&To=b&NumMedia=x",
                "'NumMedia' is not a number",
            ),
            ("MessageSid=S&From=a&To=b&NumMedia=11", "not 0-10"),
            ("MessageSid=S&From=a&To=b&NumMedia=1", "'MediaUrl0'"),
            (
                format!("MessageSid=S&From={}&To=b", "1".repeat(300)).as_str(),
                "'From' is 300 bytes long",
            ),
            (
                format!(
                    "MessageSid=S&From=a&To=b&MessagingServiceSid={}",
                    "M".repeat(257)
                )
                .as_str(),
                "'MessagingServiceSid' is 257",
            ),
        ] {
            let e = InboundMessage::from_params(&params(body), 0).unwrap_err();
            assert!(e.contains(needle), "{body}: {e}");
        }
    }
}
