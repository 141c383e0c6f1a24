//! TwiML responses: the `<Response>` documents answering voice and messaging webhooks, written
//! byte-for-byte as twilio-python 9.13.0 writes them, their HTTP form (`text/xml`), and the
//! closed sets of attribute values (`Method`, `Trim`, ...).

mod messaging;
mod voice;
mod write;

use std::borrow::Cow;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use write::AttrValue;

pub use messaging::*;
pub use voice::*;

/// The `Content-Type` of every TwiML response.
pub const CONTENT_TYPE: &str = "text/xml";

/// Text content and open-ended attribute values: static strings cost nothing, owned ones are kept.
pub(crate) type Text = Cow<'static, str>;

/// Room for a typical IVR answer (Gather + Say + Redirect) without regrowing.
const TYPICAL_LEN: usize = 512;

write::attr_enum! {
    /// The HTTP method Twilio uses to request a URL given in TwiML.
    pub enum Method {
        Get = "GET",
        Post = "POST",
    }
}

write::attr_enum! {
    /// `record` on `<Dial>`.
    pub enum DialRecord {
        DoNotRecord = "do-not-record",
        RecordFromAnswer = "record-from-answer",
        RecordFromRinging = "record-from-ringing",
        RecordFromAnswerDual = "record-from-answer-dual",
        RecordFromRingingDual = "record-from-ringing-dual",
    }
}

write::attr_enum! {
    /// `trim` on `<Dial>`, `<Record>` and `<Conference>`.
    pub enum Trim {
        TrimSilence = "trim-silence",
        DoNotTrim = "do-not-trim",
    }
}

write::attr_enum! {
    /// `recordingTrack` on `<Dial>`.
    pub enum RecordingTrack {
        Both = "both",
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

write::attr_enum! {
    /// `machineDetection` on `<Number>`.
    pub enum MachineDetection {
        Enable = "Enable",
        DetectMessageEnd = "DetectMessageEnd",
    }
}

write::attr_enum! {
    /// `beep` on `<Conference>`.
    pub enum ConferenceBeep {
        Always = "true",
        Never = "false",
        OnEnter = "onEnter",
        OnExit = "onExit",
    }
}

write::attr_enum! {
    /// `record` on `<Conference>`.
    pub enum ConferenceRecord {
        DoNotRecord = "do-not-record",
        RecordFromStart = "record-from-start",
    }
}

write::attr_enum! {
    /// `reason` on `<Reject>`.
    pub enum RejectReason {
        /// The caller hears "not in service".
        Rejected = "rejected",
        /// The caller hears a busy signal.
        Busy = "busy",
    }
}

/// `speechTimeout` on `<Gather>`: seconds of silence, or `auto` to end on a natural pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpeechTimeout {
    /// `auto`
    Auto,
    /// A number of seconds.
    Seconds(u32),
}

impl From<u32> for SpeechTimeout {
    fn from(seconds: u32) -> Self {
        Self::Seconds(seconds)
    }
}

impl AttrValue for SpeechTimeout {
    fn push_escaped(&self, out: &mut String) {
        match self {
            Self::Auto => out.push_str("auto"),
            Self::Seconds(seconds) => seconds.push_escaped(out),
        }
    }
}

/// Declares a `<Response>` document type over one verb union; voice and messaging differ only in that.
macro_rules! response {
    ($(#[$meta:meta])* $name:ident($verb:ident)) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[must_use]
        pub struct $name {
            verbs: Vec<$verb>,
        }

        impl $name {
            /// An empty `<Response />`.
            pub fn new() -> Self {
                Self::default()
            }

            /// Appends a verb; verbs run in the order they were pushed.
            pub fn push(&mut self, verb: impl Into<$verb>) -> &mut Self {
                self.verbs.push(verb.into());
                self
            }

            /// Appends a verb, by value.
            pub fn with(mut self, verb: impl Into<$verb>) -> Self {
                self.verbs.push(verb.into());
                self
            }

            /// The verbs pushed so far.
            #[must_use]
            pub fn verbs(&self) -> &[$verb] {
                &self.verbs
            }

            /// The whole document, declaration included.
            #[must_use]
            pub fn to_xml(&self) -> String {
                let mut out = Vec::with_capacity(TYPICAL_LEN);
                self.write_to(&mut out);
                // Only `str` pieces are ever written, so this never takes the lossy branch.
                String::from_utf8(out)
                    .unwrap_or_else(|bad| String::from_utf8_lossy(bad.as_bytes()).into_owned())
            }

            /// Appends the whole document, declaration included, to `out`.
            pub fn write_to(&self, out: &mut Vec<u8>) {
                write::write_response(out, &self.verbs, $verb::write);
            }
        }

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                let mut body = Vec::with_capacity(TYPICAL_LEN);
                self.write_to(&mut body);
                ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
            }
        }
    };
}

response! {
    /// The answer to a voice webhook: `<Response>` holding voice verbs.
    VoiceResponse(VoiceVerb)
}

response! {
    /// The answer to a messaging webhook: `<Response>` holding `<Message>` and `<Redirect>`.
    MessagingResponse(MessagingVerb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use proptest::prelude::*;
    use quick_xml::Reader;
    use quick_xml::escape::unescape;
    use quick_xml::events::Event;

    const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

    /// One voice verb's XML alone, without the declaration and `<Response>` around it.
    fn xml(verb: impl Into<VoiceVerb>) -> String {
        let doc = VoiceResponse::new().with(verb).to_xml();
        doc.strip_prefix(DECL)
            .and_then(|rest| rest.strip_prefix("<Response>"))
            .and_then(|rest| rest.strip_suffix("</Response>"))
            .unwrap()
            .to_owned()
    }

    #[test]
    fn every_element_declares_its_attributes_in_twilio_order() {
        // Sink::attr asserts the order of every declared attribute, set or not, so writing one
        // of each element checks all the declarations.
        let dial = Dial::empty()
            .number(Number::default())
            .client(Client::default())
            .sip(Sip::default())
            .conference(Conference::default())
            .queue(Queue::default());
        let all: [VoiceVerb; 9] = [
            Say::default().into(),
            Play::default().into(),
            Gather::default().into(),
            dial.into(),
            Record::new().into(),
            Redirect::default().into(),
            Pause::new().into(),
            Reject::new().into(),
            Enqueue::default().into(),
        ];
        let r = all
            .into_iter()
            .fold(VoiceResponse::new(), VoiceResponse::with);
        assert!(r.to_xml().ends_with("<Enqueue /></Response>"));
    }

    #[test]
    fn enum_and_numeric_attributes_use_twilio_spellings() {
        let dial = Dial::new("+1")
            .record(DialRecord::RecordFromRingingDual)
            .recording_track(RecordingTrack::Inbound)
            .trim(Trim::DoNotTrim)
            .time_limit(14_400);
        assert_eq!(
            xml(dial),
            concat!(
                r#"<Dial record="record-from-ringing-dual" recordingTrack="inbound" "#,
                r#"timeLimit="14400" trim="do-not-trim">+1</Dial>"#,
            )
        );
        let number = Number::new("+1").machine_detection(MachineDetection::DetectMessageEnd);
        let conference = Conference::new("c")
            .beep(ConferenceBeep::Never)
            .record(ConferenceRecord::RecordFromStart);
        assert_eq!(
            xml(Dial::empty().number(number).conference(conference)),
            concat!(
                r#"<Dial><Number machineDetection="DetectMessageEnd">+1</Number>"#,
                r#"<Conference beep="false" record="record-from-start">c</Conference></Dial>"#,
            )
        );
    }

    #[test]
    fn empty_responses_self_close() {
        assert_eq!(VoiceResponse::new().to_xml(), format!("{DECL}<Response />"));
        assert_eq!(
            MessagingResponse::new().to_xml(),
            format!("{DECL}<Response />")
        );
    }

    #[test]
    fn write_to_appends_and_matches_to_xml() {
        let r = VoiceResponse::new().with(Say::new("hi")).with(Hangup);
        let mut out = b"prefix".to_vec();
        r.write_to(&mut out);
        assert_eq!(out, format!("prefix{}", r.to_xml()).into_bytes());
        assert_eq!(r.verbs().len(), 2);
    }

    #[test]
    fn push_chains() {
        let mut r = VoiceResponse::new();
        r.push(Say::new("a")).push(Pause::new().length(2));
        assert_eq!(
            r.to_xml(),
            format!(r#"{DECL}<Response><Say>a</Say><Pause length="2" /></Response>"#)
        );
    }

    #[tokio::test]
    async fn into_response_is_200_text_xml_with_the_document() {
        let r = MessagingResponse::new().with(Message::new("ok"));
        let expected = r.to_xml();
        let res = r.into_response();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body, expected.as_bytes());
    }

    /// What a conforming parser sees: every event up to Eof, or the first error.
    fn parse(xml: &str) -> Result<Vec<Event<'_>>, quick_xml::Error> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut events = Vec::new();
        loop {
            match reader.read_event()? {
                Event::Eof => return Ok(events),
                event => events.push(event),
            }
        }
    }

    /// The decoded content of the first element named `name` (text and entity references).
    fn content_of(events: &[Event<'_>], name: &str) -> String {
        let mut raw = String::new();
        let mut inside = false;
        for event in events {
            match event {
                Event::Start(e) if e.name().as_ref() == name => inside = true,
                Event::End(e) if e.name().as_ref() == name => break,
                Event::Text(t) if inside => raw.push_str(t),
                Event::GeneralRef(r) if inside => {
                    raw.push('&');
                    raw.push_str(r);
                    raw.push(';');
                }
                _ => {}
            }
        }
        unescape(&raw).unwrap().into_owned()
    }

    /// The decoded value of attribute `attr` on the first element that has it.
    fn attribute_of(events: &[Event<'_>], attr: &str) -> Option<String> {
        events.iter().find_map(|event| match event {
            Event::Start(e) | Event::Empty(e) => e.attributes().find_map(|a| {
                let a = a.unwrap();
                (a.key.as_ref() == attr).then(|| unescape(&a.value).unwrap().into_owned())
            }),
            _ => None,
        })
    }

    /// Arbitrary strings, weighted towards the characters that need escaping or dropping.
    fn nasty_string() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            '&', '<', '>', '"', '\'', '\n', '\r', '\t', ';', '#', ']', '\0', '\u{b}', '\u{1f}',
            '\u{fffe}', '\u{ffff}', '您',
        ]);
        prop::collection::vec(prop_oneof![any::<char>(), special], 0..40)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn any_string_yields_well_formed_xml_that_round_trips(s in nasty_string()) {
            let clean: String = s.chars().filter(|&c| !write::is_forbidden(c)).collect();
            let voice = VoiceResponse::new()
                .with(Say::new(s.clone()).voice(s.clone()))
                .with(Redirect::new("/next"));
            let sms = MessagingResponse::new().with(Message::new(s.clone()).to(s.clone()));
            for xml in [voice.to_xml(), sms.to_xml()] {
                prop_assert!(!xml.chars().any(write::is_forbidden), "forbidden char in {xml:?}");
                let events = parse(&xml).map_err(|e| TestCaseError::fail(format!("{e}: {xml:?}")))?;
                let (element, attr) = if xml.contains("<Say") { ("Say", "voice") } else { ("Message", "to") };
                prop_assert_eq!(content_of(&events, element), clean.as_str());
                // Set even when empty, so the attribute is always there.
                prop_assert_eq!(attribute_of(&events, attr), Some(clean.clone()));
            }
        }
    }
}
