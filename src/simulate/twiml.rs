//! The simulator's TwiML reader: a response body to a tree of elements, refusing what Twilio
//! would fail with "Document parse failure" (12100) or could not run (a root other than `<Response>`).

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// One element: its name, attributes in document order, its own text, and its child elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    /// The element's own character data (entities resolved), without its children's.
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The value of attribute `name` (case-sensitive, as Twilio reads it).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An attribute trimmed, or `None` when absent or blank.
    pub fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The text without surrounding whitespace, as Twilio reads a URL, a number or a phrase.
    pub fn content(&self) -> &str {
        self.text.trim()
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Why a body is not a TwiML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn fail<T>(message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(message.into()))
}

/// Parses a whole response; the root must be `<Response>`.
pub fn parse(body: &str) -> Result<Element, ParseError> {
    let mut reader = Reader::from_str(body);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                return fail(format!(
                    "not well-formed XML at byte {}: {e}",
                    reader.error_position()
                ));
            }
        };
        match event {
            Event::Start(start) => {
                let element = element(&start, root.as_ref(), &open)?;
                open.push(element);
            }
            Event::Empty(start) => {
                let element = element(&start, root.as_ref(), &open)?;
                close(element, &mut open, &mut root);
            }
            Event::End(end) => match open.pop() {
                Some(element) => close(element, &mut open, &mut root),
                None => return fail(format!("</{}> closes nothing", end.name().as_ref())),
            },
            Event::Text(t) => push_text(&mut open, &t.xml10_content())?,
            Event::CData(c) => push_text(&mut open, &c.xml10_content())?,
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => return fail(format!("bad character reference &{};", &*r)),
                    }
                } else {
                    match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => s.to_owned(),
                        None => return fail(format!("unknown entity &{};", &*r)),
                    }
                };
                push_text(&mut open, &resolved)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(unclosed) = open.last() {
        return fail(format!(
            "<{}> is not closed at the end of the document",
            unclosed.name
        ));
    }
    match root {
        None if body.trim().is_empty() => fail("the body is empty"),
        None => fail("the body has no XML element"),
        Some(r) if r.name != "Response" => {
            fail(format!("the root element is <{}>, not <Response>", r.name))
        }
        Some(r) => Ok(r),
    }
}

fn element(
    start: &BytesStart<'_>,
    root: Option<&Element>,
    open: &[Element],
) -> Result<Element, ParseError> {
    let name = start.name().as_ref().to_owned();
    if open.is_empty() && root.is_some() {
        return fail(format!("a second root element <{name}> after the first"));
    }
    let mut attributes = Vec::new();
    for attr in start.attributes() {
        let attr = match attr {
            Ok(a) => a,
            Err(e) => return fail(format!("bad attribute in <{name}>: {e}")),
        };
        let value = match attr.normalized_value(XmlVersion::Implicit1_0) {
            Ok(v) => v.into_owned(),
            Err(e) => return fail(format!("bad value of {name}@{}: {e}", attr.key.as_ref())),
        };
        attributes.push((attr.key.as_ref().to_owned(), value));
    }
    Ok(Element {
        name,
        attributes,
        text: String::new(),
        children: Vec::new(),
    })
}

fn close(element: Element, open: &mut [Element], root: &mut Option<Element>) {
    match open.last_mut() {
        Some(parent) => parent.children.push(element),
        // element() refused a second root before it was opened.
        None => *root = Some(element),
    }
}

fn push_text(open: &mut [Element], text: &str) -> Result<(), ParseError> {
    match open.last_mut() {
        Some(element) => {
            element.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => fail(format!(
            "text outside the root element: '{}'",
            text.trim().chars().take(40).collect::<String>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_response_becomes_a_tree() {
        let doc = parse(concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<Response><Gather action="/next?a=1&amp;b=2" numDigits="1">"#,
            r#"<Say voice="Polly.Joanna">Press 1 &amp; go &#x263A;</Say></Gather>"#,
            "<!-- a comment --><Redirect><![CDATA[/again]]></Redirect><Hangup/></Response>"
        ))
        .unwrap();
        assert_eq!(doc.name, "Response");
        let names: Vec<&str> = doc.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Gather", "Redirect", "Hangup"]);
        let gather = &doc.children[0];
        assert_eq!(gather.attr("action"), Some("/next?a=1&b=2"));
        assert_eq!(gather.attr("numdigits"), None);
        let say = gather.child("Say").unwrap();
        assert_eq!(say.content(), "Press 1 & go \u{263a}");
        assert_eq!(say.attr_value("voice"), Some("Polly.Joanna"));
        assert_eq!(doc.children[1].content(), "/again");
    }

    #[test]
    fn empty_response_has_no_children() {
        let doc = parse("<Response/>\n").unwrap();
        assert!(doc.children.is_empty());
    }

    #[test]
    fn malformed_documents_are_refused_with_the_problem() {
        let cases = [
            ("<Response><Say>hi</Response>", "not well-formed"),
            ("<Response><Say>hi</Say>", "<Response> is not closed"),
            ("<Response></Response><Response/>", "second root"),
            ("oops<Response/>", "text outside the root element: 'oops'"),
            (
                "<Response><Say a='1' a='2'>x</Say></Response>",
                "bad attribute in <Say>",
            ),
            (
                "<Response><Say>&nbsp;</Say></Response>",
                "unknown entity &nbsp;",
            ),
            ("", "the body is empty"),
            ("just text", "text outside the root element"),
        ];
        for (body, expected) in cases {
            let err = parse(body).unwrap_err().to_string();
            assert!(err.contains(expected), "{body:?}: {err}");
        }
    }

    #[test]
    fn a_root_other_than_response_is_named() {
        let err = parse("<Reply><Say>hi</Say></Reply>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the root element is <Reply>, not <Response>"
        );
    }
}
