//! TwiML writer properties: any voice or messaging document, holding any strings as text and
//! attribute values, is well-formed XML, and a conforming XML 1.0 parser reads back each
//! element, attribute (in Twilio's sorted order) and text as given, minus the characters XML
//! forbids, which the writer documents that it drops.

mod draw;

use arbitrary::Unstructured;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// An element as a parser reports it: attributes in document order, and all the character data
/// directly inside it (the writer puts it before any child).
#[derive(Debug, Default, PartialEq, Eq)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

/// twilio-python's declaration, which the writer copies exactly.
const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

pub fn check(data: &[u8]) {
    let Ok((written, want)) = draw::document(&mut Unstructured::new(data)) else {
        return;
    };
    let xml = written.xml;
    assert_eq!(
        written.appended.strip_prefix(b"prefix"),
        Some(xml.as_bytes()),
        "write_to and to_xml differ"
    );
    assert!(xml.starts_with(DECLARATION), "{xml:?}");
    if let Some(c) = xml.chars().find(|&c| forbidden(c)) {
        panic!("{c:?}, which XML forbids, written in {xml:?}");
    }
    let got = parse(&xml).unwrap_or_else(|e| panic!("not well-formed, {e}: {xml:?}"));
    assert_eq!(got, want, "read back differently from {xml:?}");
}

/// Characters outside XML 1.0's `Char` production. Written out from the specification rather
/// than taken from the writer, so that the two are checked against each other.
fn forbidden(c: char) -> bool {
    let allowed = matches!(c, '\t' | '\n' | '\r' | ' '..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}';
    !allowed
}

/// What a parser reads for an attribute value given as `raw`.
fn attr_value(raw: &str) -> String {
    raw.chars().filter(|&c| !forbidden(c)).collect()
}

/// What a parser reads for element text given as `raw`: XML 1.0 turns every line end (`\r\n`,
/// lone `\r`) into `\n` before the application sees it, and the writer, like twilio-python,
/// writes text line ends as they are.
fn text_value(raw: &str) -> String {
    attr_value(raw).replace("\r\n", "\n").replace('\r', "\n")
}

/// Reads a whole document as a conforming parser does: line ends normalised in text, attribute
/// values normalised, references resolved. Anything not well-formed is an error.
fn parse(xml: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut open = vec![Node::default()];
    let mut events = 0;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        events += 1;
        let parent = open.last_mut().ok_or("more end tags than start tags")?;
        match event {
            Event::Decl(_) if events == 1 => {}
            Event::Start(e) => open.push(element(&e)?),
            Event::Empty(e) => parent.children.push(element(&e)?),
            Event::End(_) => {
                let done = open.pop().ok_or("end tag without a start tag")?;
                open.last_mut()
                    .ok_or("end tag of the document node")?
                    .children
                    .push(done);
            }
            Event::Text(t) => parent.text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref().map_err(|e| e.to_string())? {
                Some(c) => parent.text.push(c),
                None => parent
                    .text
                    .push_str(resolve_predefined_entity(&r).ok_or("unknown entity")?),
            },
            Event::Eof => break,
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    let mut document = match <[Node; 1]>::try_from(open) {
        Ok([document]) => document,
        Err(open) => return Err(format!("{} elements left open", open.len() - 1)),
    };
    if !document.text.is_empty() || document.children.len() != 1 {
        return Err("not exactly one root element and nothing else".into());
    }
    document
        .children
        .pop()
        .ok_or_else(|| "no root element".into())
}

fn element(start: &BytesStart<'_>) -> Result<Node, String> {
    let name = start.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let key = attr.key.as_ref();
        let value = attr
            .normalized_value(XmlVersion::Explicit1_0)
            .map_err(|e| e.to_string())?;
        attrs.push((key.to_owned(), value.into_owned()));
    }
    Ok(Node {
        name,
        attrs,
        ..Node::default()
    })
}
