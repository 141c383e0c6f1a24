//! Signature properties: no input panics; the signed string is the URL then each pair's name and
//! value, sorted by name then value, with nothing between; a computed signature verifies, for the
//! port-toggled URL too, and no other does; `port_variant` only adds or removes the port.

use std::collections::BTreeSet;

use arbitrary::{Result, Unstructured};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use switchboard::form::FormParams;
use switchboard::signature::{self, Algorithm, SignatureSettings};

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct Case {
    url: String,
    params: Vec<(String, String)>,
    key: Vec<u8>,
    alg: Algorithm,
    /// Anything a client might send as a signature, settings header or body hash.
    header: String,
    body: Vec<u8>,
    /// Which character of a good signature to change.
    flip: usize,
}

pub fn check(data: &[u8]) {
    let Ok(case) = draw(&mut Unstructured::new(data)) else {
        return;
    };
    never_panics(&case);
    let signed = signs_sorted_pairs(&case);
    verifies(&case, &signed);
    port_variant_toggles_only_the_port(&case.url);
    body_hash(&case);
    settings_header(&case);
}

fn draw(u: &mut Unstructured<'_>) -> Result<Case> {
    // Half the URLs are shaped like real ones so that the authority parsing is reached often.
    let url = if u.arbitrary()? {
        let scheme = *u.choose(&["http", "https", "HTTPS", "wss", "h+t-p.1", "1x", "", "a b"])?;
        let userinfo = *u.choose(&["", "user@", "u:p@", "a@b@", "@"])?;
        let host = *u.choose(&["example.com", "a", "", "[::1]", "[::1", "[]", "h]"])?;
        let port = *u.choose(&["", ":", ":443", ":80", ":3000", ":8x", "::1", ":+1"])?;
        let sep = *u.choose(&["://", ":/", ":", "//"])?;
        let rest = super::text(u, 24)?;
        format!("{scheme}{sep}{userinfo}{host}{port}{rest}")
    } else {
        super::text(u, 48)?
    };
    Ok(Case {
        url,
        params: super::pairs(u, 6)?,
        key: u.arbitrary()?,
        alg: *u.choose(&[Algorithm::HmacSha1, Algorithm::HmacSha256])?,
        header: super::text(u, 64)?,
        body: u.arbitrary()?,
        flip: u.arbitrary()?,
    })
}

fn never_panics(c: &Case) {
    let params = borrowed(&c.params);
    for alg in [Algorithm::HmacSha1, Algorithm::HmacSha256] {
        let _ = signature::matches(alg, &c.key, &c.url, &params, &c.header);
        let _ = signature::verify_url(alg, &c.key, &c.url, &params, &c.header);
    }
    let _ = signature::port_variant(&c.header);
    let _ = signature::body_sha256_param(&c.header);
    let _ = signature::parse_settings_header(&c.header);
}

/// Checks the pairs and string that are signed, against a model of Twilio's rule; returns the
/// pairs as signed.
fn signs_sorted_pairs(c: &Case) -> Vec<(String, String)> {
    // The pairs reach the signer through the form parser, as in a real request.
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&c.params)
        .finish();
    let form = FormParams::parse(Bytes::from(body)).expect("a serialized form parses");
    let signing = form.signing_pairs();
    let model: BTreeSet<(&str, &str)> = borrowed(&c.params).into_iter().collect();
    assert!(
        signing.iter().eq(model.iter()),
        "signing pairs {signing:?} are not the distinct pairs sorted: {model:?}"
    );

    let mut canonical = b"already here".to_vec();
    signature::canonical_into(&mut canonical, &c.url, &signing);
    let mut want = b"already here".to_vec();
    want.extend_from_slice(c.url.as_bytes());
    for (name, value) in &model {
        want.extend_from_slice(name.as_bytes());
        want.extend_from_slice(value.as_bytes());
    }
    assert_eq!(canonical, want, "canonical string appended wrongly");

    // With no separators, signing the whole canonical string as a URL signs the same bytes.
    let canonical =
        std::str::from_utf8(&want["already here".len()..]).expect("UTF-8 in, UTF-8 out");
    assert_eq!(
        signature::compute(c.alg, &c.key, &c.url, &signing),
        signature::compute(c.alg, &c.key, canonical, &[]),
        "the signature covers more or less than the canonical string"
    );
    model
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn verifies(c: &Case, signed: &[(String, String)]) {
    let params = borrowed(signed);
    let (key, url) = (&c.key[..], c.url.as_str());
    let sig = signature::compute(c.alg, key, url, &params);
    let len = match c.alg {
        Algorithm::HmacSha1 => 28,
        Algorithm::HmacSha256 => 44,
    };
    assert_eq!(sig.len(), len, "{sig:?}");
    assert!(signature::matches(c.alg, key, url, &params, &sig));
    assert!(signature::verify_url(c.alg, key, url, &params, &sig));
    let other = match c.alg {
        Algorithm::HmacSha1 => Algorithm::HmacSha256,
        Algorithm::HmacSha256 => Algorithm::HmacSha1,
    };
    assert!(!signature::verify_url(other, key, url, &params, &sig));

    // Base64 decoding is canonical, so any other character decodes to other bytes or fails.
    let mut bad = sig.clone().into_bytes();
    let i = c.flip % bad.len();
    let at = BASE64.iter().position(|&b| b == bad[i]);
    bad[i] = at.map_or(b'A', |p| BASE64[(p + 1) % BASE64.len()]);
    let bad = String::from_utf8(bad).expect("base64 is ASCII");
    assert!(
        !signature::verify_url(c.alg, key, url, &params, &bad),
        "{bad:?} verified in place of {sig:?}"
    );

    if let Some(variant) = signature::port_variant(url) {
        let sig = signature::compute(c.alg, key, &variant, &params);
        assert!(
            signature::verify_url(c.alg, key, url, &params, &sig),
            "signed for {variant:?}, refused for {url:?}"
        );
        assert!(!signature::matches(c.alg, key, url, &params, &sig));
    }
}

fn port_variant_toggles_only_the_port(url: &str) {
    let Some(variant) = signature::port_variant(url) else {
        return;
    };
    let back = signature::port_variant(&variant).expect("a variant has a variant");
    assert_eq!(
        signature::port_variant(&back).as_deref(),
        Some(variant.as_str()),
        "toggling {url:?} twice more did not return to {variant:?}"
    );
    let (long, short) = if variant.len() > url.len() {
        (variant.as_str(), url)
    } else {
        (url, variant.as_str())
    };
    // The port is inserted where the host ends, which is followed by `/`, `?`, `#` or the end,
    // never by `:`; so the first difference is where it starts.
    let at = long
        .bytes()
        .zip(short.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(short.len());
    let port = long
        .get(at..at + long.len() - short.len())
        .unwrap_or_else(|| panic!("{url:?} -> {variant:?} changed more than a port"));
    assert!(
        port.starts_with(':') && port[1..].bytes().all(|b| b.is_ascii_digit()),
        "{url:?} -> {variant:?} changed {port:?}, not a port"
    );
    assert_eq!(
        &long[at + port.len()..],
        &short[at..],
        "{url:?} -> {variant:?}"
    );
    if long == variant {
        let https = url
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("https:"));
        assert_eq!(port, if https { ":443" } else { ":80" }, "{url:?}");
    }
}

fn body_hash(c: &Case) {
    let hex: String = Sha256::digest(&c.body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(signature::body_hash_matches(&hex, &c.body));
    assert_eq!(
        signature::body_hash_matches(&c.header, &c.body),
        c.header == hex
    );
    let upper = hex.to_ascii_uppercase();
    assert!(upper == hex || !signature::body_hash_matches(&upper, &c.body));

    // The first `bodySHA256` of the query counts; one in the fragment does not.
    let base = c.url.split(['?', '#']).next().unwrap_or_default();
    let others: Vec<_> = c.params.iter().filter(|(n, _)| n != "bodySHA256").collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(others)
        .finish();
    let url = format!("{base}?{query}&bodySHA256={hex}&bodySHA256=x#bodySHA256=y");
    assert_eq!(
        signature::body_sha256_param(&url),
        Some(hex.as_str()),
        "{url:?}"
    );
    assert_eq!(signature::body_sha256_param(base), None);
}

fn settings_header(c: &Case) {
    let key: String = c
        .header
        .chars()
        .filter(|&ch| ch != ',' && ch != '=')
        .collect();
    let name = c.alg.name().to_ascii_lowercase();
    let header = format!(" algorithm = {name} ,key={key},key=second,algorithm=HMAC_SHA512");
    // An entry whose value trims to nothing is skipped, so the second `key` then counts.
    let key_id = Some(key.trim())
        .filter(|k| !k.is_empty())
        .unwrap_or("second");
    let want = SignatureSettings {
        key_id: key_id.to_owned(),
        algorithm: Some(c.alg),
    };
    assert_eq!(
        signature::parse_settings_header(&header),
        Ok(want),
        "{header:?}"
    );
}

fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}
