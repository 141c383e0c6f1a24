//! Parsing of `application/x-www-form-urlencoded` webhook bodies into [`FormParams`] without a
//! string per field.
//!
//! The body is parsed once, by the signature layer; handlers take the same `FormParams`. Its
//! text is checked and copied once; names and values that need no decoding are read there in
//! place, decoded ones are appended after it, so a body costs two allocations however many
//! fields it has. Decoding follows the WHATWG rules that Twilio's libraries and the
//! `form_urlencoded` crate use: `+` is a space, `%XX` is a byte, and a malformed escape
//! (`%zz`, a trailing `%`) is kept literally rather than rejected.

use std::fmt;

use bytes::Bytes;

/// The decoded name/value pairs of a form body, in arrival order.
///
/// `'static` and `Send`, so it can travel as a request extension; the handler takes it out of
/// the extensions rather than cloning it.
#[derive(Clone, Default)]
pub struct FormParams {
    /// The body's text, then every name and value that needed decoding.
    text: String,
    /// `text[start..end]` of each name and value.
    pairs: Vec<(Span, Span)>,
}

type Span = (usize, usize);

/// Which half of a `name=value` field was bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldPart {
    /// The text before the first `=`.
    Name,
    /// The text after the first `=`.
    Value,
}

impl fmt::Display for FieldPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldPart::Name => "name",
            FieldPart::Value => "value",
        })
    }
}

/// Why a form body was refused; the message is safe to send back in a 400.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// `field` counts non-empty `&`-separated fields from 1.
    #[error("form field {field} {part} is not valid UTF-8 after percent-decoding")]
    InvalidUtf8 { field: usize, part: FieldPart },
    /// Twilio never sends one, and PostgreSQL cannot store one in text.
    #[error("form field {field} {part} contains a NUL character (%00)")]
    Nul { field: usize, part: FieldPart },
}

/// Why a name or value cannot be text.
enum Unfit {
    Utf8,
    Nul,
}

impl FormParams {
    /// Parses a whole form body. An empty body gives no pairs.
    pub fn parse(body: Bytes) -> Result<FormParams, FormError> {
        if body.is_empty() {
            return Ok(FormParams::empty());
        }
        // One check of the whole body instead of one per name and value; only a body that fails
        // it has its raw pieces checked, to name the bad field. Twilio escapes everything that
        // is not ASCII, so the ASCII test is the one that decides in practice.
        let raw_is_text =
            !body.contains(&0) && (body.is_ascii() || std::str::from_utf8(&body).is_ok());
        let mut pairs = Vec::with_capacity(memchr::memchr_iter(b'&', &body).count() + 1);
        // Decoding never lengthens text, so twice the body holds it and everything decoded.
        let mut text = Vec::with_capacity(2 * body.len());
        // A body that is not UTF-8 may still decode to good pieces (`%C3\xB1` is `ñ`), but its
        // bad bytes must stay out of `text`; its pieces are then copied there one by one.
        if raw_is_text {
            text.extend_from_slice(&body);
        }
        let mut field = Field::new(0);
        let mut number = 0;
        // One pass over the bytes: a call per byte of interest rather than a search per piece,
        // since a webhook's pieces are a few bytes each.
        for (i, &b) in body.iter().enumerate() {
            let kind = BYTE_KIND[usize::from(b)];
            // Tested apart from the match, which would otherwise jump through a table per byte.
            if matches!(kind, Kind::Plain) {
                continue;
            }
            match kind {
                Kind::Plain => {}
                Kind::Amp => {
                    field.close(i, &body, raw_is_text, &mut number, &mut text, &mut pairs)?;
                    field = Field::new(i + 1);
                }
                Kind::Eq => {
                    if field.eq.is_none() {
                        field.eq = Some(i);
                    }
                }
                Kind::Escape => field.escaped[usize::from(field.eq.is_some())] = true,
            }
        }
        field.close(
            body.len(),
            &body,
            raw_is_text,
            &mut number,
            &mut text,
            &mut pairs,
        )?;
        // Every piece was checked above, so this cannot fail; the error keeps it panic-free.
        let text = String::from_utf8(text).map_err(|_| FormError::InvalidUtf8 {
            field: number,
            part: FieldPart::Value,
        })?;
        Ok(FormParams { text, pairs })
    }

    /// No pairs; what a GET or a JSON webhook carries as form parameters.
    pub fn empty() -> FormParams {
        FormParams::default()
    }

    /// The first value sent for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Every value sent for `name`, in arrival order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.iter().filter(move |(n, _)| *n == name).map(|(_, v)| v)
    }

    /// All pairs in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|&(n, v)| (self.text(n), self.text(v)))
    }

    /// Number of pairs, repeats included.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when the body carried no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs as Twilio signs them: sorted by (name, value) bytewise, exact repeats dropped.
    pub fn signing_pairs(&self) -> Vec<(&str, &str)> {
        let mut pairs: Vec<_> = self.iter().collect();
        // Twilio sends each name once, sorted: one pass over the names then shows there is
        // nothing to sort or drop.
        if pairs.windows(2).all(|w| w[0].0 < w[1].0) {
            return pairs;
        }
        // Sorting the values of a repeated name and dropping exact repeats is what twilio-python
        // and twilio-node do (python#613/#617, node#722); `str` order is byte order.
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    fn text(&self, (a, b): Span) -> &str {
        // Spans come from `parse` and lie on char boundaries; the fallback keeps this panic-free.
        self.text.get(a..b).unwrap_or_default()
    }
}

/// What a body byte means to the scan, looked up rather than compared: matching the bytes
/// themselves compiled to an indirect jump for every digit.
#[derive(Clone, Copy)]
enum Kind {
    Plain,
    Amp,
    Eq,
    Escape,
}

static BYTE_KIND: [Kind; 256] = {
    let mut kinds = [Kind::Plain; 256];
    kinds[b'&' as usize] = Kind::Amp;
    kinds[b'=' as usize] = Kind::Eq;
    kinds[b'%' as usize] = Kind::Escape;
    kinds[b'+' as usize] = Kind::Escape;
    kinds
};

/// One `&`-separated field as the scan meets it: where it starts, its first `=`, and whether its
/// name and its value hold a `%` or `+` to decode.
struct Field {
    start: usize,
    eq: Option<usize>,
    escaped: [bool; 2],
}

impl Field {
    fn new(start: usize) -> Field {
        Field {
            start,
            eq: None,
            escaped: [false; 2],
        }
    }

    /// Ends the field at `end`: an empty one is skipped, else its name and value are located and
    /// pushed, numbered from 1 for the error that names a bad one.
    fn close(
        self,
        end: usize,
        body: &[u8],
        raw_is_text: bool,
        number: &mut usize,
        text: &mut Vec<u8>,
        pairs: &mut Vec<(Span, Span)>,
    ) -> Result<(), FormError> {
        if end == self.start {
            return Ok(());
        }
        *number += 1;
        let field = *number;
        let (name, value) = match self.eq {
            Some(eq) => ((self.start, eq), (eq + 1, end)),
            None => ((self.start, end), (end, end)),
        };
        let [name_escaped, value_escaped] = self.escaped;
        if raw_is_text && !name_escaped && !value_escaped {
            // The common case: both halves are read in place.
            pairs.push((name, value));
            return Ok(());
        }
        let bad = |part| {
            move |unfit| match unfit {
                Unfit::Utf8 => FormError::InvalidUtf8 { field, part },
                Unfit::Nul => FormError::Nul { field, part },
            }
        };
        let name =
            locate(body, name, name_escaped, raw_is_text, text).map_err(bad(FieldPart::Name))?;
        let value =
            locate(body, value, value_escaped, raw_is_text, text).map_err(bad(FieldPart::Value))?;
        pairs.push((name, value));
        Ok(())
    }
}

/// Where `body[start..end]` will be read from in `text`: in place when it needs no decoding and
/// the body is in `text`, else copied or decoded onto the end.
fn locate(
    body: &[u8],
    (start, end): Span,
    escaped: bool,
    raw_is_text: bool,
    text: &mut Vec<u8>,
) -> Result<Span, Unfit> {
    let piece = body.get(start..end).ok_or(Unfit::Utf8)?;
    let at = text.len();
    if !escaped {
        if raw_is_text {
            return Ok((start, end));
        }
        std::str::from_utf8(piece).map_err(|_| Unfit::Utf8)?;
        if piece.contains(&0) {
            return Err(Unfit::Nul);
        }
        text.extend_from_slice(piece);
        return Ok((at, text.len()));
    }
    if decode_into(piece, text) {
        let decoded = text.get(at..).ok_or(Unfit::Utf8)?;
        std::str::from_utf8(decoded).map_err(|_| Unfit::Utf8)?;
        if decoded.contains(&0) {
            return Err(Unfit::Nul);
        }
    }
    Ok((at, text.len()))
}

/// `+` is a space and `%XX` a byte; anything else, a malformed escape included, is copied as is.
/// A byte at a time, as escaped pieces are a few bytes long. True when a decoded byte is NUL or
/// not ASCII, so that only then is the result checked as UTF-8 without NULs.
fn decode_into(mut rest: &[u8], out: &mut Vec<u8>) -> bool {
    let mut unusual = false;
    loop {
        let (byte, after) = match rest {
            [b'+', after @ ..] => (b' ', after),
            [b'%', hi, lo, after @ ..] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                (hex(*hi) << 4 | hex(*lo), after)
            }
            [byte, after @ ..] => (*byte, after),
            [] => return unusual,
        };
        unusual |= byte == 0 || !byte.is_ascii();
        out.push(byte);
        rest = after;
    }
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

impl fmt::Debug for FormParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(body: &str) -> FormParams {
        FormParams::parse(Bytes::copy_from_slice(body.as_bytes())).unwrap()
    }

    fn pairs(form: &FormParams) -> Vec<(&str, &str)> {
        form.iter().collect()
    }

    #[test]
    fn plus_and_escapes_decode() {
        let form = parse("a=1+2&b=%2B1&c=x%20y&d=%C3%B1%E6%97%A5%F0%9F%91%8B&e+f=g");
        assert_eq!(form.get("a"), Some("1 2"));
        assert_eq!(form.get("b"), Some("+1"));
        assert_eq!(form.get("c"), Some("x y"));
        assert_eq!(form.get("d"), Some("ñ日👋"));
        assert_eq!(form.get("e f"), Some("g"));
    }

    #[test]
    fn repeated_names_keep_arrival_order() {
        let form = parse("M=b&X=1&M=a&M=a");
        assert_eq!(form.get("M"), Some("b"));
        assert_eq!(form.get_all("M").collect::<Vec<_>>(), ["b", "a", "a"]);
        assert_eq!(form.len(), 4);
        assert_eq!(form.signing_pairs(), [("M", "a"), ("M", "b"), ("X", "1")]);
    }

    #[test]
    fn empty_values_missing_equals_and_empty_segments() {
        let form = parse("&a=&&b&c=1=2&&");
        assert_eq!(pairs(&form), [("a", ""), ("b", ""), ("c", "1=2")]);
        assert_eq!(form.get("missing"), None);
        assert!(parse("").is_empty());
        assert!(parse("&&").is_empty());
        assert!(FormParams::empty().is_empty());
    }

    #[test]
    fn malformed_escapes_are_literal() {
        let form = parse("a=%zz&b=100%&c=%4&d=%%41&e%=1");
        assert_eq!(
            pairs(&form),
            [
                ("a", "%zz"),
                ("b", "100%"),
                ("c", "%4"),
                ("d", "%A"),
                ("e%", "1")
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_refused_with_field_number() {
        let err = FormParams::parse(Bytes::from_static(b"a=1&&b=%FF")).unwrap_err();
        assert_eq!(
            err,
            FormError::InvalidUtf8 {
                field: 2,
                part: FieldPart::Value
            }
        );
        assert_eq!(
            err.to_string(),
            "form field 2 value is not valid UTF-8 after percent-decoding"
        );
        let err = FormParams::parse(Bytes::from_static(b"\xC3=1")).unwrap_err();
        assert_eq!(
            err,
            FormError::InvalidUtf8 {
                field: 1,
                part: FieldPart::Name
            }
        );
        // A raw non-ASCII byte sequence that is valid UTF-8 is accepted as is.
        assert_eq!(parse("n=ñ").get("n"), Some("ñ"));
    }

    #[test]
    fn nul_is_refused_with_field_number_raw_or_escaped() {
        for (body, field, part) in [
            (&b"a=1&b=x%00y"[..], 2, FieldPart::Value),
            (b"a=\0", 1, FieldPart::Value),
            (b"%00=1", 1, FieldPart::Name),
            (b"a=1&b=2&c+%00=3", 3, FieldPart::Name),
        ] {
            let err = FormParams::parse(Bytes::copy_from_slice(body)).unwrap_err();
            assert_eq!(err, FormError::Nul { field, part }, "{body:?}");
        }
        assert_eq!(
            FormParams::parse(Bytes::from_static(b"Body=%00"))
                .unwrap_err()
                .to_string(),
            "form field 1 value contains a NUL character (%00)"
        );
    }

    #[test]
    fn spans_borrow_raw_text_and_decode_the_rest() {
        let body = "CallSid=CA1&From=%2B1415&Body=hi+there&Digits=";
        let form = parse(body);
        let n = body.len();
        assert_eq!(form.pairs[0], ((0, 7), (8, 11)));
        assert_eq!(form.pairs[1].1, (n, n + 5));
        assert_eq!(form.pairs[2].1, (n + 5, n + 13));
        assert_eq!(&form.text[n..], "+1415hi there");
        assert_eq!(
            pairs(&form),
            [
                ("CallSid", "CA1"),
                ("From", "+1415"),
                ("Body", "hi there"),
                ("Digits", "")
            ]
        );
        let copy = form.clone();
        assert_eq!(format!("{copy:?}"), format!("{form:?}"));
    }

    #[test]
    fn a_bad_raw_byte_names_its_field_even_when_escapes_surround_it() {
        let err = FormParams::parse(Bytes::from_static(b"a=%41&b=x\xFFy&c=1")).unwrap_err();
        assert_eq!(
            err,
            FormError::InvalidUtf8 {
                field: 2,
                part: FieldPart::Value
            }
        );
        let err = FormParams::parse(Bytes::from_static(b"a=1&b\xFF+c=2")).unwrap_err();
        assert_eq!(
            err,
            FormError::InvalidUtf8 {
                field: 2,
                part: FieldPart::Name
            }
        );
    }

    #[test]
    fn escapes_completing_raw_bytes_decode_in_a_body_that_is_not_utf8() {
        // Found by the form fuzz target (fuzz/regressions/form/): every piece decodes to UTF-8
        // but the raw body is not, and its bad bytes once made the whole parse fail.
        let form = FormParams::parse(Bytes::from_static(b"a=%C3\xB1&b=x&%c8\x8d")).unwrap();
        assert_eq!(pairs(&form), [("a", "ñ"), ("b", "x"), ("ȍ", "")]);
    }

    #[test]
    fn params_can_travel_between_tasks() {
        fn travels<T: Send + Sync + Clone + 'static>() {}
        travels::<FormParams>();
    }

    proptest! {
        #[test]
        fn any_body_parses_like_form_urlencoded_or_is_refused(body in proptest::collection::vec(prop_oneof![any::<u8>(), proptest::sample::select(b"&=%+2Bcf\xC3\xB1\xFF".to_vec())], 0..200)) {
            let ours = FormParams::parse(Bytes::from(body.clone()));
            let lossy: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
            match ours {
                Ok(form) => {
                    let ours: Vec<(String, String)> =
                        form.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
                    prop_assert_eq!(ours, lossy);
                }
                Err(_) => prop_assert!(lossy.iter().any(|(n, v)| [n, v].iter().any(|t| t.contains([char::REPLACEMENT_CHARACTER, '\0'])))),
            }
        }

        #[test]
        fn serialized_pairs_round_trip(input in proptest::collection::vec(("[^\0]{0,8}", "[^\0]{0,8}"), 0..8)) {
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&input).finish();
            let form = FormParams::parse(Bytes::from(body)).unwrap();
            let back: Vec<(String, String)> = form.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
            prop_assert_eq!(back, input);
        }
    }
}
