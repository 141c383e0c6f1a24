//! The signature vectors of `shared/reference/signature.md` (sections 4, 5 and 7), run through
//! the path a server takes: form body -> `FormParams` -> `signing_pairs` -> `verify_url`, or
//! for JSON rows `bodySHA256` + body hash + `verify_url` with no params; plus the `bodySHA256`
//! and port-toggling rules of its sections 1.3 and 2.

use super::*;
use crate::form::FormParams;

type Params = &'static [(&'static str, &'static str)];

struct Row {
    id: &'static str,
    url: &'static str,
    params: Params,
    /// A non-form (JSON) body; such rows carry no params.
    json: Option<&'static str>,
    token: &'static str,
    alg: Algorithm,
    sig: &'static str,
    accept: bool,
}

const T: &str = "12345";
const E: &str = "0123456789abcdef0123456789abcdef";
const U: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const P5: Params = &[
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
];
const P7: Params = &[
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("ReasonConferenceEnded", "test"),
    ("Reason", "Participant"),
];
const MULTI: Params = &[
    ("Sid", "CA123"),
    ("SidAccount", "AC123"),
    ("Digits", "5678"),
    ("Digits", "1234"),
    ("Digits", "1234"),
];
const BODY: &str = r#"{"property": "value", "boolean": true}"#;
const E3: Params = &[
    ("From", "+14155550100"),
    ("To", "+14155550199"),
    ("Body", "PORT TEST"),
];
const E1: Params = &[
    ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
    ("CallSid", "CA0123456789abcdef0123456789abcdef"),
    ("Digits", "2"),
    ("FinishedOnKey", ""),
    ("From", "+14155550100"),
    ("To", "+14155550199"),
    ("CallStatus", "in-progress"),
    ("Direction", "inbound"),
    ("ApiVersion", "2010-04-01"),
];

const fn form(
    id: &'static str,
    token: &'static str,
    url: &'static str,
    params: Params,
    sig: &'static str,
    accept: bool,
) -> Row {
    Row {
        id,
        url,
        params,
        json: None,
        token,
        alg: Algorithm::HmacSha1,
        sig,
        accept,
    }
}

const fn json(
    id: &'static str,
    token: &'static str,
    url: &'static str,
    body: &'static str,
    sig: &'static str,
    accept: bool,
) -> Row {
    Row {
        id,
        url,
        params: &[],
        json: Some(body),
        token,
        alg: Algorithm::HmacSha1,
        sig,
        accept,
    }
}

#[rustfmt::skip]
const ROWS: &[Row] = &[
    form("1", T, U, P5, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true),
    form("1.1 duplicate kept", T, U, MULTI, "tM//N+MVWOh7+ol2z8YCNxSY0Eg=", false),
    form("1.1 arrival order", T, U, MULTI, "oNd5IjYjmops86rU2fr7navM88g=", false),
    form("2", T, "https://mycompany.com:1234/myapp.php?foo=1&bar=2", P5, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true),
    form("3", T, "http://mycompany.com:1234/myapp.php?foo=1&bar=2", P5, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true),
    form("4", T, U, P5, "kvajT1Ptam85bY51eRf/AJRuM3w=", true),
    form("5", T, "http://mycompany.com/myapp.php?foo=1&bar=2", P5, "0ZXoZLH/DfblKGATFgpif+LLRf4=", true),
    form("6", T, "https://mycompany.com:1234/myapp.php?foo=1&bar=2", P5, "CYn1h0gLBdNxDGkKJg6hYohgeD8=", true),
    form("7", T, U, MULTI, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", true),
    form("8 order 1325,1415", T, U, &[("MessagingBinding.Address", "+1325xxxxxxx"), ("MessagingBinding.Address", "+1415xxxxxxx")], "83O6e2vORAoJHUNzJjDWN1jz+BA=", true),
    form("8 order 1415,1325", T, U, &[("MessagingBinding.Address", "+1415xxxxxxx"), ("MessagingBinding.Address", "+1325xxxxxxx")], "83O6e2vORAoJHUNzJjDWN1jz+BA=", true),
    json("9", T, "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", BODY, "a9nBmqA0ju/hNViExpshrM61xv4=", true),
    json("10", T, "https://mycompany.com/myapp.php?bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", BODY, "y77kIzt2vzLz71DgmJGsen2scGs=", true),
    json("11", T, "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "{}", "Ldidvp12m26NI7eqEvxnEpkd9Hc=", true),
    form("12", T, "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", P5, "CukzLTc1tT5dXEDIHm/tKBanW10=", true),
    form("13", T, "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", P5, "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=", true),
    form("14", T, "https://user@mycompany.com/myapp.php?foo=1&bar=2", P5, "2YRLlVAflCqxaNicjMpJcSTgzSs=", true),
    form("15", T, "https://user@mycompany.com/myapp.php?foo=1&bar=2", P5, "aZfj4hyX1MLZhSS6QIL18Vn2/RA=", true),
    form("16 raw ' signed raw", T, "https://mycompany.com/myapp.php?foo=1&bar=2&Body=It's+amazing", P5, "dsq4Ehbj6cs+KdTkpF5sSSplOWw=", true),
    form("16 raw ' with node's %27 signature", T, "https://mycompany.com/myapp.php?foo=1&bar=2&Body=It's+amazing", P5, "TfZzewPq8wqrGlMfyAud8+/IvJ0=", false),
    form("16 %27 as received", T, "https://mycompany.com/myapp.php?foo=1&bar=2&Body=It%27s+amazing", P5, "TfZzewPq8wqrGlMfyAud8+/IvJ0=", true),
    form("17", T, U, &[], "zYQTYrRWXE7LtzbG4PfP7/bkkGo=", true),
    form("18", T, "https://mycompany.com/myapp.php", P5, "1xaxFBvyzXYvWplzNOSs28HWO94=", true),
    form("19", T, "https://mycompany.com/myapp.php?foo=1&bar=2&type=thiswontbeusedinthesignaturegeneratorandsoshouldbeignored", P5, "hYkNsTBttoNGkyCS0p+wWmQoRTg=", true),
    form("20", T, "https://mycompany.com/myapp.php?foo=hello%20world&bar=test%2Bvalue", P5, "er2tvAP1Wx+iuTTE2BPgvEaN1cs=", true),
    form("21", T, U, &[("Message", "Hello & goodbye! @#$%^*()"), ("From", "+1 (415) 867-5309"), ("Special", "unicode: ñáéíóú")], "dCPiR4WtQ6QFN6pJh81CtlCcWLQ=", true),
    form("22", T, U, &[("Digits", ""), ("CallSid", "CA1234567890ABCDE"), ("EmptyParam", "")], "9HHp/OqQMEwdrVebHDdA/+tqjX8=", true),
    form("23", T, U, &[("Digits", ""), ("CallSid", "CA1234567890ABCDE"), ("NullParam", "")], "L9lTTwIlxM1xGAtLRwhOSZggRhM=", true),
    form("24", T, U, &[("Zebra", "last"), ("Alpha", "first"), ("Beta", "second"), ("Gamma", "third")], "enveUe73ZTVLAekHxez3Qx6JuuQ=", true),
    form("25", T, "https://mycompany.com/webhook/España?año=2023", P5, "G/Hx6mqqnjUNlPAoi2Sp9bGst0g=", true),
    form("26", T, U, &[("callSid", "lowercase"), ("CallSid", "uppercase"), ("CALLSID", "allcaps")], "jDK7WKT8wiNrwggd4ceTv4e1MJ4=", true),
    form("27", T, "https://mycompany.com:443//myapp.php?foo=1&bar=2", P5, "A9lH3u16NjyiiM/+wylw5rirFUs=", true),
    form("28", T, "https://MyCompany.com/myapp.php?foo=1&bar=2", P5, "g9IN/x4Cft2g517EjYvEvM/W7LU=", true),
    form("28 lowercase-host signature", T, "https://MyCompany.com/myapp.php?foo=1&bar=2", P5, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", false),
    form("29", T, "https://MyCompany.com:1234/myapp.php?foo=1&bar=2", P5, "PCqOZm8cnu/L6+u5i5fuEd+Iac4=", true),
    form("30", T, "http://MyCompany.com/myapp.php?foo=1&bar=2", P5, "XY7AlKOKL6im4yWyX84gldUrtis=", true),
    form("31", T, "http://username:password@MyCompany.com/myapp.php?foo=1&bar=2", P5, "PJ08CxXr7KLPjEQCTc8LkUSMwSM=", true),
    form("32", T, "HTTP://username:password@MyCompany.com/myapp.php?foo=1&bar=2", P5, "hy/l8pca+LFms4cvRdv8uiP6NGc=", true),
    form("33", T, "http://Username:Password@MyCompany.com/myapp.php?foo=1&bar=2", P5, "SkTSKyDJH9kUlhItI0slbgZ1UsI=", true),
    form("34", T, U, P7, "vOEb5UThFn24KEfnOFLQY2AE5FY=", true),
    form("34 port 1234", T, "https://mycompany.com:1234/myapp.php?foo=1&bar=2", P7, "vOEb5UThFn24KEfnOFLQY2AE5FY=", true),
    form("35", T, "http://mycompany.com/myapp.php?foo=1&bar=2", P7, "n2xBNyzSW7rfYStDtOFiFMv7qNo=", true),
    form("35 port 1234", T, "http://mycompany.com:1234/myapp.php?foo=1&bar=2", P7, "n2xBNyzSW7rfYStDtOFiFMv7qNo=", true),
    form("36", T, U, P7, "95+Bu0JVPi0r/SsESZCVf0dWAjw=", false),
    form("37", T, U, &[("property", "value"), ("boolean", "true")], "NBdBDr/T/lgjI+tlgpXjKZQZs/k=", true),
    json("38", "qwerty", "https://example.com/test?bodySHA256=8d90d640c6ba47d595ac56203d7f5c6b511be80fdf44a2055acca75a119b9fd2", r#"{"message": "a post body"}"#, "zR5Oq4f6cijN5oz5bisiVuxYnTU=", true),
    json("39", "qwerty", "https://example.com/test?bodySHA256=79bfb0acaf0045fd30f13d48d4fe296b393d85a3bfbee881a0172b2bd574b11e", r#"{"message": "a post body that does not match the bodySHA256"}"#, "+LYlbGr/VmN84YPJQCuWs+9UA7E=", false),
    form("java#601", "1234567890", "https://someurl.com/somepath?param1=client%3AAnonymous", &[], "PM+bjB+ITJ9a3LIYStKWOTMZMlU=", true),
    form("java#601 :443", "1234567890", "https://someurl.com/somepath?param1=client%3AAnonymous", &[], "cYPM4iPaLHaMlunMRd3a/yngR8Q=", true),
    form("java#601 decoded query", "1234567890", "https://someurl.com/somepath?param1=client%3AAnonymous", &[], "IM6BkgO5Vyy10rjEWUCfHlj6Mmg=", false),
    form("§7 fragment kept", T, "https://mycompany.com/myapp.php?foo=1&bar=2#rc=2", P5, "AV32jARqw/aHQXcdgfp1yL96bow=", true),
    form("§7 fragment dropped", T, U, P5, "AV32jARqw/aHQXcdgfp1yL96bow=", false),
    form("E1", E, "https://ivr.example.com/voice/menu?step=main", E1, "fiHITDWee7wgoO+8X1XQVtV3HX8=", true),
    form("E1 :443", E, "https://ivr.example.com/voice/menu?step=main", E1, "XLZMko8urzNMdrYFOfLTuJUFD1c=", true),
    form("E2", E, "https://sms.example.com/sms", &[("MessageSid", "SM0001"), ("MediaUrl", "https://b.example/2.jpg"), ("MediaUrl", "https://a.example/1.jpg"), ("MediaUrl", "https://a.example/1.jpg"), ("Body", "hi")], "JoJpqL71XtXsuYLhEQ+klMOjzE8=", true),
    form("E3", E, "https://hooks.example.com:8443/sms/inbound", E3, "uOEoN2rFdaIcaHIGdqrYkYlpasU=", true),
    form("E3 without port", E, "https://hooks.example.com/sms/inbound", E3, "uOEoN2rFdaIcaHIGdqrYkYlpasU=", false),
    form("E3 no-port signature", E, "https://hooks.example.com:8443/sms/inbound", E3, "kHjQrJ0xyRyfo8bezWCkCwn0TYw=", true),
    form("E4", E, "https://sms.example.com/sms", &[("From", "+4915112345678"), ("To", "+14155550199"), ("Body", "Olá, añejo — 👋 日本"), ("MessageSid", "SM0002"), ("NumSegments", "1")], "N1sVaDU97Kts+SSszl5nvDWLZp8=", true),
    json("E5", E, "https://hooks.example.com/conversations?bodySHA256=5be1c7fb5a72a7896c73fac6a4087c598b1c5366b21abac90d4896c6eb986f14", r#"{"EventType":"onMessageAdded","Body":"hé","Index":3}"#, "l7LBdiGzYRCgfgNBZZLr0CtDKIo=", true),
    form("E6", E, "https://ivr.example.com/voice/status?AccountSid=ACXX&CallSid=CA01&CallStatus=completed&Caller=%2B14155550100&Body=hello+world", &[], "dWJdTw+KsUh8DtCKp/FsR57X/Uw=", true),
    form("E7", E, "https://ivr.example.com/x?name=John+Doe", &[], "WBYB2Si4Cs3ec/JyD+Y7SLrNsgA=", true),
    form("E7 with E8 signature", E, "https://ivr.example.com/x?name=John+Doe", &[], "AKtoPFEa2TP/yfTUOoJShpf9wRw=", false),
    form("E8", E, "https://ivr.example.com/x?name=John%20Doe", &[], "AKtoPFEa2TP/yfTUOoJShpf9wRw=", true),
    form("E8 with E7 signature", E, "https://ivr.example.com/x?name=John%20Doe", &[], "WBYB2Si4Cs3ec/JyD+Y7SLrNsgA=", false),
    form("E9 /voice", E, "https://ivr.example.com/voice", &[("Digits", "1")], "EecxAVIk/anXzd0OzvGGdT1MHI0=", true),
    form("E9 /voice/", E, "https://ivr.example.com/voice/", &[("Digits", "1")], "mFUTMNrpjWdZqoYGkAsJrJGY2jk=", true),
    form("E9 /voice with /voice/ signature", E, "https://ivr.example.com/voice", &[("Digits", "1")], "mFUTMNrpjWdZqoYGkAsJrJGY2jk=", false),
    form("E9 /voice/ with /voice signature", E, "https://ivr.example.com/voice/", &[("Digits", "1")], "EecxAVIk/anXzd0OzvGGdT1MHI0=", false),
    form("E10", E, "https://sms.example.com/sms", &[("Body", ""), ("From", "+14155550100")], "V20rV8DLJnxpt+2h4nZxro4NjeE=", true),
    Row { alg: Algorithm::HmacSha256, ..form("E11", E, "https://sms.example.com/sms", E3, "dJmvseeYUoorQ4TT4QtWQ/OZQRzxoGxtOROHpGThTjE=", true) },
    form("E11 checked as SHA-1", E, "https://sms.example.com/sms", E3, "dJmvseeYUoorQ4TT4QtWQ/OZQRzxoGxtOROHpGThTjE=", false),
];

/// What a server decides for the row.
fn server_accepts(row: &Row) -> bool {
    let key = row.token.as_bytes();
    if let Some(body) = row.json {
        let hash_ok =
            body_sha256_param(row.url).is_some_and(|h| body_hash_matches(h, body.as_bytes()));
        return hash_ok && verify_url(row.alg, key, row.url, &[], row.sig);
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(row.params)
        .finish();
    let form = FormParams::parse(body.into()).unwrap_or_else(|e| panic!("{}: {e}", row.id));
    verify_url(row.alg, key, row.url, &form.signing_pairs(), row.sig)
}

#[test]
fn every_reference_vector() {
    let wrong: Vec<_> = ROWS
        .iter()
        .filter(|row| server_accepts(row) != row.accept)
        .map(|row| {
            format!(
                "{} (expected {})",
                row.id,
                if row.accept { "accept" } else { "reject" }
            )
        })
        .collect();
    assert!(wrong.is_empty(), "vectors decided wrongly: {wrong:#?}");
}

#[test]
fn vector_39_fails_on_the_body_only() {
    let row = ROWS.iter().find(|r| r.id == "39").unwrap();
    assert!(verify_url(
        row.alg,
        row.token.as_bytes(),
        row.url,
        &[],
        row.sig
    ));
    assert!(!body_hash_matches(
        body_sha256_param(row.url).unwrap(),
        row.json.unwrap().as_bytes()
    ));
}

#[test]
fn canonical_strings_match_the_reference() {
    let canonical = |url: &str, params: Params| {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let form = FormParams::parse(body.into()).unwrap();
        let mut buf = Vec::new();
        canonical_into(&mut buf, url, &form.signing_pairs());
        String::from_utf8(buf).unwrap()
    };
    assert_eq!(
        canonical(U, P5),
        "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212"
    );
    assert_eq!(
        canonical(U, MULTI),
        "https://mycompany.com/myapp.php?foo=1&bar=2Digits1234Digits5678SidCA123SidAccountAC123"
    );
    let e2 = ROWS.iter().find(|r| r.id == "E2").unwrap();
    assert_eq!(
        canonical(e2.url, e2.params),
        "https://sms.example.com/smsBodyhiMediaUrlhttps://a.example/1.jpgMediaUrlhttps://b.example/2.jpgMessageSidSM0001"
    );
    let e4 = ROWS.iter().find(|r| r.id == "E4").unwrap();
    assert_eq!(
        canonical(e4.url, e4.params),
        "https://sms.example.com/smsBodyOlá, añejo — 👋 日本From+4915112345678MessageSidSM0002NumSegments1To+14155550199"
    );
}

#[test]
fn compute_reproduces_the_signatures_over_the_signed_string() {
    let sorted = |p: Params| {
        FormParams::parse(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(p)
                .finish()
                .into(),
        )
        .unwrap()
    };
    let p5 = sorted(P5);
    assert_eq!(
        compute(Algorithm::HmacSha1, T.as_bytes(), U, &p5.signing_pairs()),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    assert_eq!(
        compute(
            Algorithm::HmacSha1,
            T.as_bytes(),
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &p5.signing_pairs()
        ),
        "kvajT1Ptam85bY51eRf/AJRuM3w="
    );
    let e3 = sorted(E3);
    assert_eq!(
        compute(
            Algorithm::HmacSha256,
            E.as_bytes(),
            "https://sms.example.com/sms",
            &e3.signing_pairs()
        ),
        "dJmvseeYUoorQ4TT4QtWQ/OZQRzxoGxtOROHpGThTjE="
    );
}

#[test]
fn body_sha256_param_reads_the_raw_query() {
    assert_eq!(
        body_sha256_param("https://a/x?a=1&bodySHA256=ab%2Bc&b=2"),
        Some("ab%2Bc")
    );
    assert_eq!(
        body_sha256_param("https://a/x?bodySHA256=1&bodySHA256=2"),
        Some("1")
    );
    assert_eq!(body_sha256_param("https://a/x?bodySHA256"), Some(""));
    assert_eq!(body_sha256_param("https://a/x?bodysha256=1"), None);
    assert_eq!(body_sha256_param("https://a/x#?bodySHA256=1"), None);
    assert_eq!(body_sha256_param("https://a/x"), None);
}

#[test]
fn body_hash_is_lowercase_hex_exactly() {
    let empty_json = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    assert!(body_hash_matches(empty_json, b"{}"));
    assert!(!body_hash_matches(&empty_json.to_uppercase(), b"{}"));
    assert!(!body_hash_matches(&empty_json[..63], b"{}"));
    assert!(!body_hash_matches("", b""));
    assert!(!body_hash_matches(empty_json, b"{ }"));
}

/// Section 2: `port_variant(url)` edits only the authority.
#[rustfmt::skip]
const PORT_CASES: &[(&str, Option<&str>)] = &[
    ("https://a.com/x?y=1", Some("https://a.com:443/x?y=1")),
    ("https://a.com:443/x", Some("https://a.com/x")),
    ("http://a.com:80/x", Some("http://a.com/x")),
    ("http://a.com/x", Some("http://a.com:80/x")),
    ("https://a.com:8443/sms", Some("https://a.com/sms")),
    ("https://a.com", Some("https://a.com:443")),
    ("https://a.com?q=1", Some("https://a.com:443?q=1")),
    ("https://a.com#f", Some("https://a.com:443#f")),
    ("https://user:pass@a.com:443/x", Some("https://user:pass@a.com/x")),
    ("https://user:pass@a.com/x", Some("https://user:pass@a.com:443/x")),
    ("https://user@a.com:1234/x", Some("https://user@a.com/x")),
    ("http://[::1]:8080/x", Some("http://[::1]/x")),
    ("http://[::1]/x", Some("http://[::1]:80/x")),
    ("HTTP://a.com/x", Some("HTTP://a.com:80/x")),
    ("HTTPS://a.com/x", Some("HTTPS://a.com:443/x")),
    ("https://a.com:/x", Some("https://a.com/x")),
    ("https://a.com/p?u=http://b.com:99/", Some("https://a.com:443/p?u=http://b.com:99/")),
    ("/relative?x=1", None),
    ("a.com:443/x", None),
    ("file:///etc", None),
    ("http://[::1/x", None),
    ("http://[::1]x/", None),
    ("http://a.com:x1/", None),
    ("", None),
];

#[test]
fn port_variants() {
    for &(url, want) in PORT_CASES {
        assert_eq!(port_variant(url).as_deref(), want, "{url}");
    }
}
