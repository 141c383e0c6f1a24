//! TwiML responses: the `<Response>` documents answering voice and messaging webhooks, written
//! byte-for-byte as twilio-python 9.13.0 writes them, and their HTTP form (`text/xml`).

mod messaging;
mod voice;
mod write;

use std::borrow::Cow;

use axum::http::header;
use axum::response::{IntoResponse, Response};

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
        /// `GET`
        Get = "GET",
        /// `POST`
        Post = "POST",
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
