//! Tests of the layer's URL rebuilding, body rules, shared keys and mismatch diagnostics.

use axum::http::Request;
use secrecy::SecretString;

use super::*;
use crate::signature::compute;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const FORM: &str = "application/x-www-form-urlencoded";

fn verifier(public_url: Option<&str>, trust: bool) -> Verifier {
    Verifier {
        auth_token: SecretString::from(TOKEN),
        shared_key: Some(SharedKey {
            id: "KS1".into(),
            secret: SecretString::from("shared-secret"),
        }),
        public_url: public_url.map(str::to_owned),
        trust_forwarded: trust,
    }
}

fn sign(url: &str, pairs: &[(&str, &str)]) -> String {
    compute(Algorithm::HmacSha1, TOKEN.as_bytes(), url, pairs)
}

/// A request as it reaches us over plain http from ngrok, on 127.0.0.1.
fn request(path: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = Request::builder().method("POST").uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

const BODY: &str = "CallSid=CA1&From=%2B14155550100&Digits=1";
const PAIRS: [(&str, &str); 3] = [
    ("CallSid", "CA1"),
    ("Digits", "1"),
    ("From", "+14155550100"),
];

fn check(v: &Verifier, parts: &Parts, body: &str) -> Result<FormParams, Rejection> {
    v.check(parts, bytes::Bytes::copy_from_slice(body.as_bytes()))
}

#[test]
fn host_header_url_validates_and_params_reach_the_handler() {
    let sig = sign("http://127.0.0.1:3000/voice/incoming?menu=main", &PAIRS);
    let parts = request(
        "/voice/incoming?menu=main",
        &[
            ("host", "127.0.0.1:3000"),
            ("content-type", FORM),
            ("x-twilio-signature", &sig),
        ],
    );
    let params = check(&verifier(None, false), &parts, BODY).unwrap();
    assert_eq!(params.get("From"), Some("+14155550100"));
}

#[test]
fn ngrok_forwarded_request_needs_trust_or_public_url() {
    let sig = sign("https://abc.ngrok.app/voice/incoming", &PAIRS);
    let headers = [
        ("host", "127.0.0.1:3000"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "abc.ngrok.app"),
        ("content-type", FORM),
        ("x-twilio-signature", sig.as_str()),
    ];
    let parts = request("/voice/incoming", &headers);
    assert!(check(&verifier(None, true), &parts, BODY).is_ok());
    assert!(
        check(
            &verifier(Some("https://abc.ngrok.app"), false),
            &parts,
            BODY
        )
        .is_ok()
    );
    let v = verifier(None, false);
    assert_eq!(
        check(&v, &parts, BODY).unwrap_err(),
        Rejection::BadSignature
    );
    let cause = v.diagnose(&parts, Algorithm::HmacSha1, TOKEN.as_bytes(), &PAIRS, &sig);
    assert!(
        cause.contains("would match with scheme https and Host abc.ngrok.app"),
        "{cause}"
    );
    assert!(cause.contains("TRUST_FORWARDED_HEADERS"), "{cause}");
    assert!(!cause.contains(TOKEN) && !cause.contains(&sig), "{cause}");
}

#[test]
fn scheme_only_mismatch_is_diagnosed() {
    // ngrok keeps the public Host but the hop to us is plain http.
    let sig = sign("https://abc.ngrok.app/sms", &PAIRS);
    let parts = request(
        "/sms",
        &[
            ("host", "abc.ngrok.app"),
            ("content-type", FORM),
            ("x-twilio-signature", &sig),
        ],
    );
    let v = verifier(None, false);
    assert!(check(&v, &parts, BODY).is_err());
    let cause = v.diagnose(&parts, Algorithm::HmacSha1, TOKEN.as_bytes(), &PAIRS, &sig);
    assert_eq!(
        cause,
        "would match with scheme https: set PUBLIC_URL=https://abc.ngrok.app"
    );
}

#[test]
fn wrong_public_url_is_diagnosed() {
    let sig = sign("https://new.ngrok.app/sms", &PAIRS);
    let parts = request(
        "/sms",
        &[
            ("host", "new.ngrok.app"),
            ("x-forwarded-proto", "https"),
            ("content-type", FORM),
            ("x-twilio-signature", &sig),
        ],
    );
    let v = verifier(Some("https://old.ngrok.app"), false);
    assert!(check(&v, &parts, BODY).is_err());
    let cause = v.diagnose(&parts, Algorithm::HmacSha1, TOKEN.as_bytes(), &PAIRS, &sig);
    assert!(
        cause.contains("PUBLIC_URL=https://old.ngrok.app is not the URL Twilio calls"),
        "{cause}"
    );
}

#[test]
fn missing_empty_and_wrong_signatures() {
    let parts = request("/sms", &[("host", "h"), ("content-type", FORM)]);
    assert_eq!(
        check(&verifier(None, false), &parts, BODY).unwrap_err(),
        Rejection::MissingSignature
    );
    let parts = request(
        "/sms",
        &[
            ("host", "h"),
            ("content-type", FORM),
            ("x-twilio-signature", ""),
        ],
    );
    assert_eq!(
        check(&verifier(None, false), &parts, BODY).unwrap_err(),
        Rejection::BadSignature
    );
    let sig = sign("http://h/sms", &PAIRS);
    let parts = request(
        "/sms",
        &[
            ("host", "h"),
            ("content-type", FORM),
            ("x-twilio-signature", &sig),
        ],
    );
    // One changed parameter breaks it.
    let tampered = BODY.replace("Digits=1", "Digits=2");
    assert_eq!(
        check(&verifier(None, false), &parts, &tampered).unwrap_err(),
        Rejection::BadSignature
    );
}

#[test]
fn json_body_uses_body_sha256() {
    let body = r#"{"EventType":"onMessageAdded"}"#;
    let hash = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(body.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let path = format!("/conversations?bodySHA256={hash}");
    let sig = sign(&format!("http://h{path}"), &[]);
    let headers = [
        ("host", "h"),
        ("content-type", "application/json"),
        ("x-twilio-signature", sig.as_str()),
    ];
    let parts = request(&path, &headers);
    assert!(
        check(&verifier(None, false), &parts, body)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        check(&verifier(None, false), &parts, "{}").unwrap_err(),
        Rejection::BadSignature
    );
    // A non-form body with no hash cannot be verified.
    let sig = sign("http://h/conversations", &[]);
    let parts = request(
        "/conversations",
        &[
            ("host", "h"),
            ("content-type", "application/json"),
            ("x-twilio-signature", &sig),
        ],
    );
    assert_eq!(
        check(&verifier(None, false), &parts, body).unwrap_err(),
        Rejection::BadSignature
    );
}

#[test]
fn shared_key_hmac_sha256() {
    let url = "http://h/sms";
    let sig = compute(Algorithm::HmacSha256, b"shared-secret", url, &PAIRS);
    let settings = "key=KS1,algorithm=HMAC_SHA256";
    let parts = request(
        "/sms",
        &[
            ("host", "h"),
            ("content-type", FORM),
            ("x-twilio-signature", &sig),
            ("x-twilio-webhooks-signature-settings", settings),
        ],
    );
    assert!(check(&verifier(None, false), &parts, BODY).is_ok());
    let unknown = "key=KS2,algorithm=HMAC_SHA256";
    let parts = request(
        "/sms",
        &[
            ("host", "h"),
            ("content-type", FORM),
            ("x-twilio-signature", &sig),
            ("x-twilio-webhooks-signature-settings", unknown),
        ],
    );
    assert_eq!(
        check(&verifier(None, false), &parts, BODY).unwrap_err(),
        Rejection::BadSignature
    );
}

#[test]
fn malformed_form_is_400() {
    let parts = request(
        "/sms",
        &[
            ("host", "h"),
            ("content-type", FORM),
            ("x-twilio-signature", "AAAA"),
        ],
    );
    let err = v_check_bytes(&parts, b"Body=%FF%FE");
    assert!(matches!(err, Err(Rejection::BadBody(_))), "{err:?}");
}

fn v_check_bytes(parts: &Parts, body: &'static [u8]) -> Result<FormParams, Rejection> {
    verifier(None, false).check(parts, bytes::Bytes::from_static(body))
}

#[test]
fn refusal_logs_the_likely_cause_at_warn_without_secrets() {
    let sig = sign("https://abc.ngrok.app/voice/incoming", &PAIRS);
    let parts = request(
        "/voice/incoming",
        &[
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "abc.ngrok.app"),
            ("content-type", FORM),
            ("x-twilio-signature", &sig),
        ],
    );
    let logged = crate::telemetry::warnings_logged_by(|| {
        assert!(check(&verifier(None, false), &parts, BODY).is_err());
    });
    assert!(logged.contains("WARN"), "{logged}");
    assert!(
        logged.contains(
            "would match with scheme https and Host abc.ngrok.app: set TRUST_FORWARDED_HEADERS"
        ),
        "{logged}"
    );
    assert!(
        !logged.contains(TOKEN) && !logged.contains(&sig),
        "{logged}"
    );
}

proptest::proptest! {
    #[test]
    fn random_bodies_and_headers_never_panic(
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        sig in ".{0,64}",
        ct in proptest::sample::select(vec![FORM, "application/json", "text/plain", ""]),
        query in "[a-zA-Z0-9=&%+]{0,40}",
    ) {
        let path = format!("/sms?{query}");
        let mut headers = vec![("host", "h")];
        if !ct.is_empty() {
            headers.push(("content-type", ct));
        }
        if let Ok(v) = axum::http::HeaderValue::from_str(&sig) {
            let mut parts = request(&path, &headers);
            parts.headers.insert("x-twilio-signature", v);
            let _ = verifier(None, false).check(&parts, bytes::Bytes::from(body));
        }
    }
}
