//! Signing a fuzzed request as Twilio would have: over the URL the server rebuilds (scheme and
//! host from the trusted `X-Forwarded-*` headers, else `Host`) and the form it will parse.

use sha2::{Digest, Sha256};
use switchboard::signature::{Algorithm, compute, parse_settings_header};

use super::wire::RawRequest;

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const SHARED_KEY_SID: &str = "webhooks_sharedkey_1";
pub const SHARED_KEY_SECRET: &str = "fuzz-shared-key-secret-0123456789";

fn first(req: &RawRequest, name: &str) -> Option<String> {
    let value = std::str::from_utf8(req.header(name)?).ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then(|| first.to_owned())
}

/// The URL the signature layer checks, rebuilt as it does with TRUST_FORWARDED_HEADERS.
pub fn signed_url(req: &RawRequest) -> Option<String> {
    let scheme = first(req, "x-forwarded-proto")
        .unwrap_or_else(|| "http".to_owned())
        .to_ascii_lowercase();
    let host = first(req, "x-forwarded-host").or_else(|| first(req, "host"))?;
    let target = std::str::from_utf8(&req.target).ok()?;
    Some(format!("{scheme}://{host}{target}"))
}

fn is_form(req: &RawRequest) -> bool {
    req.header("content-type")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Adds a valid `X-Twilio-Signature` (replacing any), with the shared key when the request
/// names it in its settings header. GETs are signed over the URL alone, as Twilio does.
pub fn sign(req: &mut RawRequest) {
    let Some(url) = signed_url(req) else {
        return;
    };
    let pairs: Vec<(String, String)> = if req.method == b"GET" || !is_form(req) {
        Vec::new()
    } else {
        form_urlencoded::parse(&req.body).into_owned().collect()
    };
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    let (alg, key) = match req.header("x-twilio-webhooks-signature-settings") {
        None => (Algorithm::HmacSha1, TOKEN),
        Some(value) => {
            let Some(settings) = std::str::from_utf8(value)
                .ok()
                .and_then(|v| parse_settings_header(v).ok())
            else {
                return;
            };
            let alg = settings.algorithm.unwrap_or(Algorithm::HmacSha1);
            match settings.key_id.as_str() {
                "" => (alg, TOKEN),
                SHARED_KEY_SID => (alg, SHARED_KEY_SECRET),
                _ => return,
            }
        }
    };
    let sig = compute(alg, key.as_bytes(), &url, &sorted);
    req.headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case("x-twilio-signature"));
    req.headers
        .push(("x-twilio-signature".to_owned(), sig.into_bytes()));
}

/// Appends `bodySHA256=<hex>` of the body to the target, as Twilio does for JSON webhooks.
pub fn add_body_hash(req: &mut RawRequest) {
    let hex: String = Sha256::digest(&req.body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sep = if req.target.contains(&b'?') { '&' } else { '?' };
    req.target
        .extend_from_slice(format!("{sep}bodySHA256={hex}").as_bytes());
}
