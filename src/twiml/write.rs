//! The TwiML emitter: Twilio-compatible escaping, the quick-xml sink every element writes
//! through, and the macros that declare elements, attribute enums and verb unions.

use std::borrow::Cow;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// twilio-python writes exactly this declaration, with no `standalone` and no newline after it.
const DECLARATION: &str = r#"xml version="1.0" encoding="UTF-8""#;
const RESPONSE: &str = "Response";
/// Enough for a `<Gather>` start tag with a few attributes, so the scratch rarely regrows.
const TAG_CAPACITY: usize = 128;

/// A value that can stand in an attribute; it appends itself to the start tag, escaped.
pub(crate) trait AttrValue {
    fn push_escaped(&self, out: &mut String);
}

impl AttrValue for Cow<'static, str> {
    fn push_escaped(&self, out: &mut String) {
        escape_into(out, self, Context::Attr);
    }
}

impl AttrValue for u32 {
    fn push_escaped(&self, out: &mut String) {
        use std::fmt::Write as _;
        // fmt::Write for String cannot fail.
        let _ = write!(out, "{self}");
    }
}

impl AttrValue for bool {
    fn push_escaped(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

#[derive(Clone, Copy)]
enum Context {
    Text,
    Attr,
}

/// Characters XML 1.0 does not allow at all; Twilio would reject the document (error 12100).
pub(crate) fn is_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// What `c` becomes in the output, or `None` when it is copied as is. An empty string drops it.
fn replacement(c: char, ctx: Context) -> Option<&'static str> {
    match (c, ctx) {
        ('&', _) => Some("&amp;"),
        ('<', _) => Some("&lt;"),
        ('>', _) => Some("&gt;"),
        // Attribute values are normalised by parsers, so whitespace must be a character reference
        // to survive; these are the exact forms ElementTree (hence twilio-python) writes.
        ('"', Context::Attr) => Some("&quot;"),
        ('\n', Context::Attr) => Some("&#10;"),
        ('\t', Context::Attr) => Some("&#09;"),
        ('\r', Context::Attr) => Some("&#13;"),
        (c, _) if is_forbidden(c) => Some(""),
        _ => None,
    }
}

fn escape_into(out: &mut String, raw: &str, ctx: Context) {
    let mut copied = 0;
    for (i, c) in raw.char_indices() {
        if let Some(rep) = replacement(c, ctx) {
            out.push_str(&raw[copied..i]);
            out.push_str(rep);
            copied = i + c.len_utf8();
        }
    }
    out.push_str(&raw[copied..]);
}

/// Escapes element text, borrowing `raw` when nothing changes (the common case on the hot path).
fn escape_text<'s>(scratch: &'s mut String, raw: &'s str) -> &'s str {
    if !raw.chars().any(|c| replacement(c, Context::Text).is_some()) {
        return raw;
    }
    scratch.clear();
    escape_into(scratch, raw, Context::Text);
    scratch
}

/// Writes one element at a time into the response buffer. The start tag is assembled in a
/// reused scratch string so that attributes can be escaped the way Twilio does, which quick-xml's
/// own attribute escaping does not match (it escapes `'` and leaves newlines raw).
pub(crate) struct Sink<'w> {
    writer: Writer<&'w mut Vec<u8>>,
    tag: String,
    name: &'static str,
    text: String,
    /// Twilio sorts attributes by name; elements list theirs in that order and this checks it.
    last_attr: &'static str,
}

impl Sink<'_> {
    /// Begins the start tag of `name`; attributes follow with [`Sink::attr`].
    pub(crate) fn start(&mut self, name: &'static str) {
        self.tag.clear();
        self.tag.push_str(name);
        self.name = name;
        self.last_attr = "";
    }

    /// Adds `name="value"` when the attribute is set.
    pub(crate) fn attr<V: AttrValue>(&mut self, name: &'static str, value: Option<&V>) {
        debug_assert!(
            self.last_attr < name,
            "`{name}` must be declared after `{}`: Twilio sorts attributes by name",
            self.last_attr
        );
        self.last_attr = name;
        if let Some(value) = value {
            self.tag.push(' ');
            self.tag.push_str(name);
            self.tag.push_str("=\"");
            value.push_escaped(&mut self.tag);
            self.tag.push('"');
        }
    }

    /// Ends the element begun by [`Sink::start`] with `text` as its only content.
    pub(crate) fn leaf(&mut self, text: &str) -> io::Result<()> {
        self.parent(text, &[] as &[()], |_, _| Ok(()))
    }

    /// Ends the element begun by [`Sink::start`] with `text` followed by `children`. With neither,
    /// it is written `<Name />`, as twilio-python does.
    pub(crate) fn parent<C>(
        &mut self,
        text: &str,
        children: &[C],
        mut write_child: impl FnMut(&C, &mut Self) -> io::Result<()>,
    ) -> io::Result<()> {
        let name = self.name;
        let start = BytesStart::from_content(self.tag.as_str(), name.len());
        let text = escape_text(&mut self.text, text);
        if text.is_empty() && children.is_empty() {
            return self.writer.write_event(Event::Empty(start));
        }
        self.writer.write_event(Event::Start(start))?;
        if !text.is_empty() {
            self.writer
                .write_event(Event::Text(BytesText::from_escaped(text)))?;
        }
        for child in children {
            write_child(child, self)?;
        }
        self.writer.write_event(Event::End(BytesEnd::new(name)))
    }
}

/// Writes a whole document: the declaration, then `<Response>` holding `verbs`.
pub(crate) fn write_response<V>(
    out: &mut Vec<u8>,
    verbs: &[V],
    write_verb: impl FnMut(&V, &mut Sink<'_>) -> io::Result<()>,
) {
    let mut writer = Writer::new(out);
    writer.config_mut().add_space_before_slash_in_empty_elements = true;
    let mut sink = Sink {
        writer,
        tag: String::with_capacity(TAG_CAPACITY),
        name: RESPONSE,
        text: String::new(),
        last_attr: "",
    };
    let declaration = BytesDecl::from_start(BytesStart::from_content(DECLARATION, 3));
    let result = sink
        .writer
        .write_event(Event::Decl(declaration))
        .and_then(|()| {
            sink.start(RESPONSE);
            sink.parent("", verbs, write_verb)
        });
    // Vec<u8>'s io::Write never fails (running out of memory aborts instead), so there is no
    // error to hand back.
    debug_assert!(result.is_ok(), "writing into a Vec failed: {result:?}");
}

/// Declares a TwiML element: a struct with its content fields and one optional field per
/// attribute, a setter per attribute, and `open`, which writes the start tag. Attributes must be
/// listed sorted by XML name (checked by [`Sink::attr`] in debug builds). With `(field)` or `()`
/// instead of `{ fields }`, the content is one text or nothing, and `new` and `write` come too.
macro_rules! element {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $tag:literal ($text:ident)
        attrs { $($attrs:tt)* }
    ) => {
        $crate::twiml::write::element! {
            $(#[$meta])*
            pub struct $name = $tag { $text: $crate::twiml::Text }
            attrs { $($attrs)* }
        }

        impl $name {
            #[doc = concat!("A `<", $tag, ">` of `", stringify!($text), "`.")]
            pub fn new($text: impl Into<$crate::twiml::Text>) -> Self {
                let mut element = Self::default();
                element.$text = $text.into();
                element
            }

            pub(crate) fn write(
                &self,
                sink: &mut $crate::twiml::write::Sink<'_>,
            ) -> ::std::io::Result<()> {
                self.open(sink);
                sink.leaf(&self.$text)
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $tag:literal ()
        attrs { $($attrs:tt)* }
    ) => {
        $crate::twiml::write::element! {
            $(#[$meta])*
            pub struct $name = $tag {}
            attrs { $($attrs)* }
        }

        impl $name {
            #[doc = concat!("A `<", $tag, ">` with Twilio's defaults.")]
            pub fn new() -> Self {
                Self::default()
            }

            pub(crate) fn write(
                &self,
                sink: &mut $crate::twiml::write::Sink<'_>,
            ) -> ::std::io::Result<()> {
                self.open(sink);
                sink.leaf("")
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $tag:literal {
            $( $(#[$hmeta:meta])* $head:ident : $hty:ty ),* $(,)?
        }
        attrs {
            $( $(#[$ameta:meta])* $field:ident : $fty:tt = $attr:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[must_use]
        pub struct $name {
            $( $(#[$hmeta])* $head: $hty, )*
            $( $field: Option<$fty>, )*
        }

        impl $name {
            $( $crate::twiml::write::setter!($(#[$ameta])* $field: $fty = $attr); )*

            fn open(&self, sink: &mut $crate::twiml::write::Sink<'_>) {
                sink.start($tag);
                $( sink.attr($attr, self.$field.as_ref()); )*
            }
        }
    };
}

/// One builder setter; text attributes take anything that converts into an owned or static string.
macro_rules! setter {
    ($(#[$doc:meta])* $field:ident: Text = $attr:literal) => {
        #[doc = concat!("Sets `", $attr, "`.")]
        $(#[$doc])*
        pub fn $field(mut self, value: impl Into<$crate::twiml::Text>) -> Self {
            self.$field = Some(value.into());
            self
        }
    };
    ($(#[$doc:meta])* $field:ident: $fty:ty = $attr:literal) => {
        #[doc = concat!("Sets `", $attr, "`.")]
        $(#[$doc])*
        pub fn $field(mut self, value: $fty) -> Self {
            self.$field = Some(value);
            self
        }
    };
}

/// Declares a closed set of attribute values as a Rust enum.
macro_rules! attr_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $value:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( #[doc = concat!("`", $value, "`")] $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The value as written in TwiML.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $value, )+
                }
            }
        }

        impl $crate::twiml::write::AttrValue for $name {
            fn push_escaped(&self, out: &mut String) {
                out.push_str(self.as_str());
            }
        }
    };
}

/// Declares an enum over element types (variant named after its type), with `From` for each and
/// a `write` that dispatches; this is how nesting rules are enforced by type.
macro_rules! one_of {
    ($(#[$meta:meta])* pub enum $name:ident { $( $variant:ident ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $( #[doc = concat!("`<", stringify!($variant), ">`")] $variant($variant), )+
        }

        $(
            impl From<$variant> for $name {
                fn from(value: $variant) -> Self {
                    Self::$variant(value)
                }
            }
        )+

        impl $name {
            pub(crate) fn write(
                &self,
                sink: &mut $crate::twiml::write::Sink<'_>,
            ) -> ::std::io::Result<()> {
                match self {
                    $( Self::$variant(inner) => inner.write(sink), )+
                }
            }
        }
    };
}

pub(crate) use {attr_enum, element, one_of, setter};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(raw: &str) -> String {
        let mut scratch = String::new();
        escape_text(&mut scratch, raw).to_owned()
    }

    fn attr(raw: &str) -> String {
        let mut out = String::new();
        Cow::<'static, str>::Owned(raw.to_owned()).push_escaped(&mut out);
        out
    }

    #[test]
    fn text_escapes_markup_only() {
        assert_eq!(
            text("a < b && c > d \"q\" 's'"),
            "a &lt; b &amp;&amp; c &gt; d \"q\" 's'"
        );
        assert_eq!(text("line\nnext\r\tx ]]>"), "line\nnext\r\tx ]]&gt;");
    }

    #[test]
    fn attributes_escape_quotes_and_whitespace_but_not_apostrophes() {
        assert_eq!(
            attr("v\"1'\n\t\r&<>"),
            "v&quot;1'&#10;&#09;&#13;&amp;&lt;&gt;"
        );
    }

    #[test]
    fn non_ascii_is_copied_as_utf8() {
        assert_eq!(text("您好 😀"), "您好 😀");
        assert_eq!(attr("é&ü"), "é&amp;ü");
    }

    #[test]
    fn forbidden_characters_are_dropped_from_text_and_attributes() {
        let raw = "a\u{0}b\u{b}c\u{c}d\u{1f}e\u{fffe}f\u{ffff}g\u{7f}";
        assert_eq!(text(raw), "abcdefg\u{7f}");
        assert_eq!(attr(raw), "abcdefg\u{7f}");
        assert_eq!(text("\u{0}"), "");
    }

    #[test]
    fn unchanged_text_is_borrowed() {
        let mut scratch = String::new();
        let raw = "plain text";
        assert!(std::ptr::eq(escape_text(&mut scratch, raw), raw));
    }

    #[test]
    fn numbers_and_booleans_are_written_plainly() {
        let mut out = String::new();
        0u32.push_escaped(&mut out);
        u32::MAX.push_escaped(&mut out);
        true.push_escaped(&mut out);
        false.push_escaped(&mut out);
        assert_eq!(out, "04294967295truefalse");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "Twilio sorts attributes by name")]
    fn attributes_declared_out_of_order_are_caught() {
        write_response(&mut Vec::new(), &[()], |(), sink| {
            sink.start("X");
            sink.attr::<bool>("b", None);
            sink.attr::<bool>("a", None);
            sink.leaf("")
        });
    }

    #[test]
    fn declaration_then_root_with_no_whitespace() {
        let mut out = Vec::new();
        write_response(&mut out, &[] as &[()], |(), _| Ok(()));
        assert_eq!(
            out,
            br#"<?xml version="1.0" encoding="UTF-8"?><Response />"#
        );
    }

    proptest! {
        #[test]
        fn text_escaping_matches_quick_xml_partial_escape(raw in any::<String>()) {
            prop_assume!(!raw.chars().any(is_forbidden));
            prop_assert_eq!(text(&raw), quick_xml::escape::partial_escape(raw.as_str()));
        }
    }
}
