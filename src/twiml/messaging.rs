//! Messaging TwiML: `<Message>` replies with their `<Body>` and `<Media>` nouns, and
//! `<Redirect>` (the voice type, which messaging shares).

use std::io;

use super::write::{Sink, element, one_of};
use super::{Method, Text};

pub use super::voice::Redirect;

one_of! {
    /// A verb of a [`MessagingResponse`](super::MessagingResponse).
    pub enum MessagingVerb { Message, Redirect }
}

one_of! {
    /// What `<Message>` may hold besides plain text.
    pub enum MessageNoun { Body, Media }
}

element! {
    /// `<Message>`: sends a message, by default as a reply to the inbound one.
    pub struct Message = "Message" { text: Text, nouns: Vec<MessageNoun> }
    attrs {
        /// URL requested once the message is sent.
        action: Text = "action",
        /// A number of the account or an alphanumeric sender ID; defaults to the number written to.
        from: Text = "from",
        method: Method = "method",
        status_callback: Text = "statusCallback",
        /// Defaults to the sender of the inbound message.
        to: Text = "to",
    }
}

element! {
    /// `<Body>`: the text of a `<Message>` that also carries media.
    pub struct Body = "Body" (text)
    attrs {}
}

element! {
    /// `<Media>`: the URL of an image or other file to attach (up to 10 per message).
    pub struct Media = "Media" (url)
    attrs {}
}

impl Message {
    /// A message whose whole body is `text`.
    pub fn new(text: impl Into<Text>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// A message with no body yet, for [`Message::body`] and [`Message::media`].
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds a `<Body>` with `text`.
    pub fn body(mut self, text: impl Into<Text>) -> Self {
        self.nouns.push(Body::new(text).into());
        self
    }

    /// Adds a `<Media>` pointing at `url`.
    pub fn media(mut self, url: impl Into<Text>) -> Self {
        self.nouns.push(Media::new(url).into());
        self
    }

    pub(crate) fn write(&self, sink: &mut Sink<'_>) -> io::Result<()> {
        self.open(sink);
        sink.parent(&self.text, &self.nouns, MessageNoun::write)
    }
}

#[cfg(test)]
mod tests {
    use super::super::MessagingResponse;
    use super::*;

    /// The verb's XML alone, without the declaration and `<Response>` around it.
    fn xml(verb: impl Into<MessagingVerb>) -> String {
        let doc = MessagingResponse::new().with(verb).to_xml();
        let prefix = r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#;
        doc.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("</Response>"))
            .unwrap()
            .to_owned()
    }

    #[test]
    fn plain_text_message() {
        assert_eq!(xml(Message::new("a & b")), "<Message>a &amp; b</Message>");
        assert_eq!(xml(Message::new("")), "<Message />");
    }

    #[test]
    fn body_and_media_nouns_keep_their_order() {
        let message = Message::empty()
            .media("https://x/1.jpg?a=1&b=2")
            .body("<hi>")
            .media("https://x/2.png");
        assert_eq!(
            xml(message),
            concat!(
                "<Message><Media>https://x/1.jpg?a=1&amp;b=2</Media><Body>&lt;hi&gt;</Body>",
                "<Media>https://x/2.png</Media></Message>",
            )
        );
    }

    #[test]
    fn attributes_are_sorted_whatever_the_call_order() {
        let message = Message::new("hi")
            .to("+1")
            .status_callback("/s?x=1&y=2")
            .method(Method::Get)
            .from("Shop")
            .action("/a");
        assert_eq!(
            xml(message),
            r#"<Message action="/a" from="Shop" method="GET" statusCallback="/s?x=1&amp;y=2" to="+1">hi</Message>"#
        );
    }

    #[test]
    fn redirect_is_shared_with_voice() {
        assert_eq!(
            xml(Redirect::new("/sms/next").method(Method::Post)),
            r#"<Redirect method="POST">/sms/next</Redirect>"#
        );
        assert_eq!(xml(Redirect::new("/x")), "<Redirect>/x</Redirect>");
    }

    #[test]
    fn forbidden_characters_are_dropped_from_body_and_attributes() {
        let message = Message::empty().to("+1\u{0}").body("a\u{b}b\u{fffe}");
        assert_eq!(
            xml(message),
            r#"<Message to="+1"><Body>ab</Body></Message>"#
        );
    }
}
