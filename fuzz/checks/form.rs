//! Form parser properties: any bytes either parse to exactly the pairs `form_urlencoded` decodes
//! or are refused naming a field that really is not UTF-8 or holds a NUL; the accessors agree with the pairs;
//! any pairs `form_urlencoded` serializes parse back unchanged.

use std::collections::BTreeSet;

use arbitrary::Unstructured;
use bytes::Bytes;
use switchboard::form::{FieldPart, FormError, FormParams};

/// The fields whose `get`/`get_all` are compared; the comparison is quadratic and the first
/// few show any disagreement as well as all would.
const LOOKUPS: usize = 16;

pub fn check(data: &[u8]) {
    parses_like_form_urlencoded(data);
    if let Ok(pairs) = super::pairs(&mut Unstructured::new(data), 12) {
        serialized_pairs_round_trip(&pairs);
    }
}

fn parses_like_form_urlencoded(data: &[u8]) {
    // `form_urlencoded` replaces bad UTF-8 with U+FFFD where the parser refuses it.
    let lossy: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    // The body sits inside a larger buffer, as a slice of a request would, so that spans
    // measured from the buffer's start rather than the body's would show.
    let mut buf = b"Prefix=1&".to_vec();
    buf.extend_from_slice(data);
    let body = Bytes::from(buf).slice(b"Prefix=1&".len()..);
    let form = match FormParams::parse(body) {
        Ok(form) => form,
        Err(e @ (FormError::InvalidUtf8 { field, part } | FormError::Nul { field, part })) => {
            let (name, value) = lossy
                .get(field.wrapping_sub(1))
                .unwrap_or_else(|| panic!("field {field} of {} refused", lossy.len()));
            let refused = match part {
                FieldPart::Name => name,
                FieldPart::Value => value,
            };
            // What the refusal claims must be there: bad UTF-8 (U+FFFD once decoded lossily),
            // or a NUL.
            let culprit = match e {
                FormError::Nul { .. } => '\0',
                _ => char::REPLACEMENT_CHARACTER,
            };
            assert!(
                refused.contains(culprit),
                "field {field} {part} {refused:?} was refused: {e}"
            );
            return;
        }
        Err(other) => panic!("unexpected error {other:?}"),
    };

    let ours: Vec<(&str, &str)> = form.iter().collect();
    let theirs: Vec<(&str, &str)> = lossy
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        ours, theirs,
        "parsed {data:?} differently from form_urlencoded"
    );
    assert_eq!(form.len(), ours.len());
    assert_eq!(form.is_empty(), ours.is_empty());

    for &(name, _) in ours.iter().take(LOOKUPS) {
        let all: Vec<&str> = ours.iter().filter(|p| p.0 == name).map(|p| p.1).collect();
        assert_eq!(form.get(name), all.first().copied(), "get({name:?})");
        assert!(
            form.get_all(name).eq(all.iter().copied()),
            "get_all({name:?})"
        );
    }
    let absent = format!(
        "{}absent",
        ours.iter().map(|p| p.0).max().unwrap_or_default()
    );
    assert_eq!(form.get(&absent), None);

    let signing = form.signing_pairs();
    let model: BTreeSet<(&str, &str)> = ours.iter().copied().collect();
    assert!(signing.iter().eq(model.iter()), "signing pairs {signing:?}");

    let copy = form.clone();
    assert!(copy.iter().eq(form.iter()));
    assert_eq!(format!("{copy:?}"), format!("{form:?}"));
}

fn serialized_pairs_round_trip(pairs: &[(String, String)]) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let form = FormParams::parse(Bytes::from(body.clone()))
        .unwrap_or_else(|e| panic!("{body:?} was serialized by form_urlencoded but refused: {e}"));
    // An empty name with an empty value serializes to `=`, a field like any other.
    let back: Vec<(&str, &str)> = form.iter().collect();
    let want: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(back, want, "{body:?} did not round-trip");
}
