//! Twilio webhook signatures: the `X-Twilio-Signature` HMAC over URL + sorted params, the
//! port-toggled URL variant, the `bodySHA256` check for non-form bodies, and the
//! `X-Twilio-Webhooks-Signature-Settings` header. Pure functions; no HTTP types.
//!
//! The rules and vectors are in `shared/reference/signature.md`. The URL is signed exactly as
//! given (never decoded, re-encoded or re-ordered); only the port is toggled, by editing the
//! authority text, because Twilio's back end signs sometimes with and sometimes without it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::digest::{KeyInit, OutputSizeUser};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub mod layer;

#[cfg(test)]
mod vectors;

/// The MAC Twilio signs with: SHA-1 for Auth Token signing, either for SharedKey signing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `HMAC_SHA1`: 28-character signatures.
    #[default]
    HmacSha1,
    /// `HMAC_SHA256`: 44-character signatures.
    HmacSha256,
}

impl Algorithm {
    /// Reads Twilio's name (`HMAC_SHA1`, `HMAC_SHA256`), ignoring ASCII case as twilio-python does.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        if name.eq_ignore_ascii_case("HMAC_SHA1") {
            Some(Algorithm::HmacSha1)
        } else if name.eq_ignore_ascii_case("HMAC_SHA256") {
            Some(Algorithm::HmacSha256)
        } else {
            None
        }
    }

    /// Twilio's name for the algorithm.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "HMAC_SHA1",
            Algorithm::HmacSha256 => "HMAC_SHA256",
        }
    }
}

/// Appends the signed string: `url`, then `name` and `value` of each pair in the given order
/// (pass [`crate::form::FormParams::signing_pairs`]). For diagnostics; signing streams instead.
pub fn canonical_into(buf: &mut Vec<u8>, url: &str, params: &[(&str, &str)]) {
    buf.extend_from_slice(url.as_bytes());
    for (name, value) in params {
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(value.as_bytes());
    }
}

/// The signature Twilio would send for `url` and `params`: standard base64 with padding.
pub fn compute(alg: Algorithm, key: &[u8], url: &str, params: &[(&str, &str)]) -> String {
    match alg {
        Algorithm::HmacSha1 => compute_with::<Hmac<Sha1>>(key, url, params),
        Algorithm::HmacSha256 => compute_with::<Hmac<Sha256>>(key, url, params),
    }
}

/// True if `header_value` is the signature of exactly `url` and `params`. Constant time in the
/// MAC comparison; any malformed header is simply `false`.
#[must_use]
pub fn matches(
    alg: Algorithm,
    key: &[u8],
    url: &str,
    params: &[(&str, &str)],
    header_value: &str,
) -> bool {
    verify(alg, key, url, params, header_value, false)
}

/// True if `header_value` signs `url` or its [`port_variant`]; the variant is only built when
/// the URL as given fails.
#[must_use]
pub fn verify_url(
    alg: Algorithm,
    key: &[u8],
    url: &str,
    params: &[(&str, &str)],
    header_value: &str,
) -> bool {
    verify(alg, key, url, params, header_value, true)
}

fn verify(
    alg: Algorithm,
    key: &[u8],
    url: &str,
    params: &[(&str, &str)],
    header_value: &str,
    try_port_variant: bool,
) -> bool {
    let (h, p) = (header_value, try_port_variant);
    match alg {
        Algorithm::HmacSha1 => verify_with::<Hmac<Sha1>>(key, url, params, h, p),
        Algorithm::HmacSha256 => verify_with::<Hmac<Sha256>>(key, url, params, h, p),
    }
}

fn feed<M: Mac>(mac: &mut M, url: &str, params: &[(&str, &str)]) {
    mac.update(url.as_bytes());
    for (name, value) in params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
}

fn compute_with<M: Mac + KeyInit>(key: &[u8], url: &str, params: &[(&str, &str)]) -> String {
    // HMAC accepts keys of any length, so the error arm never runs; an empty string can never
    // equal a real signature, which keeps this panic-free without pretending otherwise.
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    feed(&mut mac, url, params);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn verify_with<M: Mac + KeyInit + Clone>(
    key: &[u8],
    url: &str,
    params: &[(&str, &str)],
    header_value: &str,
    try_port_variant: bool,
) -> bool {
    let mac_len = <M as OutputSizeUser>::output_size();
    // The expected length is public (every Twilio library bails on it first), so this early
    // exit leaks nothing. Decoding the header once lets both URL variants reuse it.
    if header_value.len() != mac_len.div_ceil(3) * 4 {
        return false;
    }
    let mut buf = [0u8; 48];
    let expected = match STANDARD.decode_slice(header_value, &mut buf) {
        Ok(n) if n == mac_len => &buf[..n],
        _ => return false,
    };
    let Ok(keyed) = <M as KeyInit>::new_from_slice(key) else {
        return false;
    };
    let check = |mut mac: M, url: &str| {
        feed(&mut mac, url, params);
        // verify_slice compares in constant time (subtle).
        mac.verify_slice(expected).is_ok()
    };
    if !try_port_variant {
        return check(keyed, url);
    }
    // Cloning the keyed state spares the second key schedule.
    check(keyed.clone(), url) || port_variant(url).is_some_and(|variant| check(keyed, &variant))
}

/// The URL with its port toggled: an explicit port (any number) is removed; a missing one is
/// added as `:443` for `https` and `:80` otherwise (scheme compared ignoring case). Only the
/// authority changes; userinfo and `[IPv6]` hosts are kept. `None` without `scheme://host`.
pub fn port_variant(url: &str) -> Option<String> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok || !url[colon..].starts_with("://") {
        return None;
    }
    let auth_start = colon + 3;
    let auth_end = url[auth_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| auth_start + i);
    let authority = &url[auth_start..auth_end];
    // RFC 3986 forbids `@` in the host, so the last one ends the userinfo.
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_start..];
    let host_len = if host_port.starts_with('[') {
        host_port.find(']')? + 1
    } else {
        host_port.find(':').unwrap_or(host_port.len())
    };
    if host_len == 0 {
        return None;
    }
    let host_end = auth_start + host_start + host_len;
    let port = &host_port[host_len..];
    let mut out = String::with_capacity(url.len() + 4);
    out.push_str(&url[..host_end]);
    if port.is_empty() {
        out.push_str(if scheme.eq_ignore_ascii_case("https") {
            ":443"
        } else {
            ":80"
        });
        out.push_str(&url[host_end..]);
    } else {
        let digits = port.strip_prefix(':')?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push_str(&url[auth_end..]);
    }
    Some(out)
}

/// The raw (still percent-encoded) value of the first `bodySHA256` query parameter.
pub fn body_sha256_param(url: &str) -> Option<&str> {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == "bodySHA256").then_some(value)
    })
}

/// True if `expected_hex` is the lowercase hex SHA-256 of `body` (constant time, case-sensitive).
#[must_use]
pub fn body_hash_matches(expected_hex: &str, body: &[u8]) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(body);
    let mut hex = [0u8; 64];
    for (out, byte) in hex.chunks_exact_mut(2).zip(digest.iter()) {
        out[0] = HEX[usize::from(byte >> 4)];
        out[1] = HEX[usize::from(byte & 0x0f)];
    }
    expected_hex.as_bytes().ct_eq(&hex).into()
}

/// What `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=<alg>` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureSettings {
    /// The SharedKey id; empty when the header names none.
    pub key_id: String,
    /// `None` when the header names no algorithm, which means [`Algorithm::HmacSha1`].
    pub algorithm: Option<Algorithm>,
}

impl SignatureSettings {
    /// The algorithm to verify with.
    pub fn effective_algorithm(&self) -> Algorithm {
        self.algorithm.unwrap_or_default()
    }
}

/// Why the signature-settings header cannot be honoured.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Twilio named an algorithm this build does not know; the request must be refused.
    #[error("unknown webhook signature algorithm {0:?} (supported: HMAC_SHA1, HMAC_SHA256)")]
    UnknownAlgorithm(String),
}

/// Parses the signature-settings header; an empty value means Auth Token signing with SHA-1.
///
/// Mirrors twilio-python 9.13.0: comma-separated `name=value` entries, whitespace trimmed,
/// entries without `=` or with an empty value ignored, the first of each name wins.
pub fn parse_settings_header(v: &str) -> Result<SignatureSettings, SettingsError> {
    let mut key_id = None;
    let mut algorithm = None;
    for entry in v.split(',') {
        let Some((name, value)) = entry.split_once('=') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name.trim() {
            "key" if key_id.is_none() => key_id = Some(value),
            "algorithm" if algorithm.is_none() => algorithm = Some(value),
            _ => {}
        }
    }
    let algorithm = match algorithm {
        None => None,
        Some(name) => Some(
            Algorithm::from_name(name)
                .ok_or_else(|| SettingsError::UnknownAlgorithm(name.to_owned()))?,
        ),
    };
    Ok(SignatureSettings {
        key_id: key_id.unwrap_or_default().to_owned(),
        algorithm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn settings_header() {
        use Algorithm::{HmacSha1, HmacSha256};
        let cases = [
            (
                "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
                "webhooks_sharedkey_1",
                Some(HmacSha256),
            ),
            ("", "", None),
            (" algorithm = hmac_sha1 , key = k ", "k", Some(HmacSha1)),
            ("key=k,algorithm=", "k", None),
            (
                "junk,key=,algorithm=HMAC_SHA256,algorithm=X,key=k",
                "k",
                Some(HmacSha256),
            ),
        ];
        for (header, key_id, algorithm) in cases {
            let want = SignatureSettings {
                key_id: key_id.into(),
                algorithm,
            };
            assert_eq!(parse_settings_header(header), Ok(want), "{header}");
        }
        assert_eq!(SignatureSettings::default().effective_algorithm(), HmacSha1);
        let err = parse_settings_header("key=k,algorithm=HMAC_SHA512").unwrap_err();
        assert_eq!(err, SettingsError::UnknownAlgorithm("HMAC_SHA512".into()));
        assert!(err.to_string().contains("\"HMAC_SHA512\""));
        assert_eq!(Algorithm::from_name(HmacSha256.name()), Some(HmacSha256));
    }

    #[test]
    fn signature_lengths_and_malformed_headers() {
        let (url, params): (&str, &[(&str, &str)]) = ("https://a/x", &[("A", "1")]);
        let sig1 = compute(Algorithm::HmacSha1, b"k", url, params);
        let sig256 = compute(Algorithm::HmacSha256, b"k", url, params);
        assert_eq!((sig1.len(), sig256.len()), (28, 44));
        let m = |alg, sig: &str| matches(alg, b"k", url, params, sig);
        assert!(m(Algorithm::HmacSha1, &sig1) && m(Algorithm::HmacSha256, &sig256));
        let url_safe = sig1.replace('+', "-").replace('/', "_");
        for bad in [
            &sig256,
            "",
            &sig1[..27],
            &format!("{sig1} "),
            &sig1.replace('=', "A"),
        ] {
            assert!(!m(Algorithm::HmacSha1, bad), "{bad}");
        }
        assert!(url_safe == sig1 || !m(Algorithm::HmacSha1, &url_safe));
        assert!(!m(Algorithm::HmacSha256, &sig1));
        assert!(!verify_url(Algorithm::HmacSha1, b"k", url, &[], &sig1));
    }

    fn url_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "(https?|HTTP)://(u:p@)?([a-z]{1,8}|\\[::1\\])(:[0-9]{0,5})?(/[ -~]{0,12})?",
            ".{0,30}",
        ]
    }

    fn params_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(("[ -~]{0,8}", "[ -~]{1,8}"), 0..6)
    }

    fn borrowed(params: &[(String, String)]) -> Vec<(&str, &str)> {
        params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(url in url_strategy(), header in ".{0,50}", key in ".{0,40}", params in proptest::collection::vec((".{0,6}", ".{0,6}"), 0..4)) {
            let params = borrowed(&params);
            for alg in [Algorithm::HmacSha1, Algorithm::HmacSha256] {
                let _ = matches(alg, key.as_bytes(), &url, &params, &header);
                let _ = verify_url(alg, key.as_bytes(), &url, &params, &header);
            }
            let _ = port_variant(&url);
            let _ = body_sha256_param(&url);
            let _ = body_hash_matches(&header, url.as_bytes());
            let _ = parse_settings_header(&header);
        }

        #[test]
        fn compute_round_trips_and_one_changed_byte_breaks_it(
            url in url_strategy(), params in params_strategy(), key in "[0-9a-f]{32}",
            flip in any::<prop::sample::Index>(), sha256 in any::<bool>(),
        ) {
            let alg = if sha256 { Algorithm::HmacSha256 } else { Algorithm::HmacSha1 };
            let borrowed_params = borrowed(&params);
            let sig = compute(alg, key.as_bytes(), &url, &borrowed_params);
            prop_assert!(verify_url(alg, key.as_bytes(), &url, &borrowed_params, &sig));
            prop_assert!(matches(alg, key.as_bytes(), &url, &borrowed_params, &sig));

            let mut bad_sig = sig.clone().into_bytes();
            let i = flip.index(bad_sig.len());
            bad_sig[i] ^= 0x01;
            let bad_sig = String::from_utf8_lossy(&bad_sig);
            prop_assert!(!verify_url(alg, key.as_bytes(), &url, &borrowed_params, &bad_sig));

            if !params.is_empty() {
                let mut changed = params.clone();
                let which = flip.index(changed.len());
                let value = &mut changed[which].1;
                let pos = flip.index(value.len());
                let old = value.as_bytes()[pos];
                let new = if old == b'~' { ' ' } else { char::from(old + 1) };
                value.replace_range(pos..=pos, new.encode_utf8(&mut [0; 4]));
                prop_assert!(!verify_url(alg, key.as_bytes(), &url, &borrowed(&changed), &sig));
            }
        }
    }
}
