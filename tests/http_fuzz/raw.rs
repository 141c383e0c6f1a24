//! Requests from anywhere: any method token, real and made-up paths with odd queries and
//! escapes, every kind of Content-Type, encoding, signature, host and forwarding header, huge
//! headers, and bodies from empty to over the limit; some validly signed all the same.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::sign;
use super::wire::{Framing, RawRequest};

pub const ROUTES: &[&str] = &[
    "/voice/incoming",
    "/voice/menu-selection",
    "/voice/dial-status",
    "/voice/recording",
    "/voice/recording-status",
    "/voice/transcription",
    "/voice/status",
    "/sms",
    "/sms/status",
    "/status",
    "/api/messages",
    "/api/messages/OB0123",
    "/api/verify",
    "/api/verify/check",
    "/healthz",
    "/readyz",
    "/metrics",
    "/",
];

pub const FORM: &str = "application/x-www-form-urlencoded";

const ODD_TARGETS: &[&str] = &[
    "*",
    "http://127.0.0.1/voice/incoming",
    "//sms",
    "voice/incoming",
    "/sms#frag",
    "/sms?",
    "/voice/incoming?&&&",
];

const ODD_HOSTS: &[&str] = &[
    "localhost",
    "",
    "[::1]",
    "evil.example:99999",
    "a, b",
    " 127.0.0.1 ",
    "127.0.0.1:0",
];

fn bytes(s: impl Into<String>) -> Vec<u8> {
    s.into().into_bytes()
}

fn method() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        8 => select(&["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"][..])
            .prop_map(bytes),
        1 => select(&["TRACE", "CONNECT", "get", "pOsT", "PROPFIND", "M-SEARCH", "BREW"][..])
            .prop_map(bytes),
        1 => "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}".prop_map(bytes),
        1 => vec(any::<u8>(), 0..12),
    ]
    .boxed()
}

fn escape() -> impl Strategy<Value = String> {
    select(
        &[
            "%41", "%zz", "%", "%F", "%00", "%2F", "%2e%2e", "%C3%28", "%E2%82", "%FF", "..", ".",
            "//", "a", "é", "%20", "+",
        ][..],
    )
    .prop_map(str::to_owned)
}

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "main",
                "nowhere",
                "1",
                "0",
                "-1",
                "99",
                "100",
                "+1",
                "en",
                "zh-CN",
                "",
                "final",
                "closed",
                "star",
                "hash",
                "12",
                "%zz",
                "%00",
                "a%20b",
                "%E6%97%A5"
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-zA-Z0-9%+=&;._-]{0,20}",
        (1usize..6000).prop_map(|n| "x".repeat(n)),
    ]
}

pub fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        select(
            &[
                "menu",
                "attempt",
                "lang",
                "via",
                "hunt",
                "bodySHA256",
                "CallSid",
                "From"
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-zA-Z%]{0,8}",
    ];
    vec((key, query_value()), 0..6).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn target() -> BoxedStrategy<Vec<u8>> {
    let path = prop_oneof![
        6 => select(ROUTES).prop_map(str::to_owned),
        1 => "/[a-zA-Z0-9/._~%-]{0,60}",
        1 => (select(ROUTES), vec(escape(), 1..8))
            .prop_map(|(r, e)| format!("{r}/{}", e.concat())),
        1 => vec(escape(), 1..12).prop_map(|e| format!("/{}", e.concat())),
        1 => (select(ROUTES), 1000usize..30_000)
            .prop_map(|(r, n)| format!("{r}/{}", "a".repeat(n))),
        1 => select(ODD_TARGETS).prop_map(str::to_owned),
    ];
    prop_oneof![
        8 => (path, proptest::option::of(query())).prop_map(|(p, q)| match q {
            Some(q) => bytes(format!("{p}?{q}")),
            None => bytes(p),
        }),
        1 => vec(any::<u8>(), 0..40).prop_map(|b| [b"/".to_vec(), b].concat()),
    ]
    .boxed()
}

fn host(port: u16) -> BoxedStrategy<Option<Vec<u8>>> {
    let real = format!("127.0.0.1:{port}");
    prop_oneof![
        6 => Just(Some(bytes(real))),
        1 => select(ODD_HOSTS).prop_map(|h| Some(bytes(h))),
        1 => Just(None),
        1 => (1usize..10_000).prop_map(|n| Some(vec![b'h'; n])),
        1 => vec(128u8..=255, 1..10).prop_map(Some),
    ]
    .boxed()
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    proptest::option::weighted(
        0.85,
        select(
            &[
                FORM,
                FORM,
                FORM,
                "application/x-www-form-urlencoded; charset=utf-8",
                "application/x-www-form-urlencoded;charset=ISO-8859-1",
                "APPLICATION/X-WWW-FORM-URLENCODED",
                "multipart/form-data; boundary=xyz",
                "multipart/form-data",
                "application/json",
                "application/json; charset=utf-8",
                "text/xml",
                "text/plain",
                "",
                ";;;",
                "*/*",
                "application/x-www-form-urlencoded;",
            ][..],
        ),
    )
}

fn optional_header(
    name: &'static str,
    values: &'static [&'static str],
) -> impl Strategy<Value = Option<(String, Vec<u8>)>> {
    proptest::option::of(select(values).prop_map(move |v| (name.to_owned(), bytes(v))))
}

/// The headers beside Host and Content-Type, some of them huge or many.
fn other_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let signature = prop_oneof![
        "[A-Za-z0-9+/=]{0,60}".prop_map(bytes),
        Just(bytes("0123456789012345678901234567")),
        vec(any::<u8>(), 0..40),
    ];
    (
        optional_header(
            "content-encoding",
            &["gzip", "br", "deflate", "identity", "garbage", "gzip, br"],
        ),
        proptest::option::of(signature.prop_map(|s| ("x-twilio-signature".to_owned(), s))),
        optional_header(
            "x-twilio-webhooks-signature-settings",
            &[
                "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256",
                "algorithm=HMAC_SHA256",
                "algorithm=HMAC_SHA1",
                "algorithm=MD5",
                "key=,algorithm=",
                ",,,",
                "key=other",
            ],
        ),
        optional_header(
            "x-forwarded-proto",
            &["https", "http", "HTTPS", "ftp", "https, http", "", " "],
        ),
        optional_header(
            "x-forwarded-host",
            &["abc.ngrok.app", "evil.example:443", "a, b", "", "[::1]:80"],
        ),
        optional_header(
            "authorization",
            &[
                "Bearer fuzz-api-key-0123456789",
                "Bearer wrong",
                "Basic eDp5",
                "Bearer ",
                "bearer fuzz-api-key-0123456789",
            ],
        ),
        optional_header("i-twilio-idempotency-token", &["tok-1", "", "tok-2"]),
        vec(("x-[a-z-]{1,12}", vec(32u8..=126, 0..40)), 0..4),
        proptest::option::weighted(0.05, 1usize..200_000)
            .prop_map(|n| n.map(|n| ("x-pad".to_owned(), vec![b'p'; n]))),
        proptest::option::weighted(0.03, 90usize..150),
    )
        .prop_map(
            |(ce, sig, settings, proto, fhost, auth, idem, extra, pad, many)| {
                let mut h: Vec<_> = [ce, sig, settings, proto, fhost, auth, idem, pad]
                    .into_iter()
                    .flatten()
                    .collect();
                h.extend(extra);
                for i in 0..many.unwrap_or(0) {
                    h.push((format!("x-many-{i}"), bytes("1")));
                }
                h
            },
        )
}

/// Form-like text with the escapes and bytes that trip parsers.
fn form_body() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        select(
            &[
                "CallSid",
                "From",
                "To",
                "Body",
                "MessageSid",
                "Digits",
                "NumMedia",
                "MediaUrl0",
                "DialCallStatus",
                "RecordingSid",
                "RecordingDuration",
                "MessageStatus",
                "ErrorCode"
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-zA-Z0-9%+]{0,10}",
    ];
    let value = prop_oneof![
        query_value(),
        vec(any::<u8>(), 0..20).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        select(&["%C3", "%FF%FE", "%00", "%zz%", "%E6%97", "+%2B+"][..]).prop_map(str::to_owned),
    ];
    vec((name, value), 0..12).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes()
    })
}

pub fn body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => Just(Vec::new()),
        4 => form_body(),
        2 => vec(any::<u8>(), 0..600),
        1 => vec(128u8..=255, 1..50),
        1 => (500usize..5000).prop_map(|n| "a=1&".repeat(n).into_bytes()),
        1 => (1usize..40)
            .prop_map(|n| format!("CallSid={}", "CA1&CallSid=".repeat(n)).into_bytes()),
        1 => select(&[64 * 1024, 64 * 1024 + 1, 70_000, 150_000][..]).prop_map(|n| vec![b'a'; n]),
        1 => Just(br#"{"to": "+14155551234", "body": "hi"}"#.to_vec()),
    ]
    .boxed()
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        20 => Just(Framing::Length),
        2 => Just(Framing::Chunked),
        1 => Just(Framing::Both),
        1 => Just(Framing::Short),
    ]
}

/// Any request; a third of them then get a valid signature over whatever they carry.
pub fn request(port: u16) -> impl Strategy<Value = RawRequest> {
    (
        method(),
        target(),
        host(port),
        content_type(),
        other_headers(),
        body(),
        framing(),
        proptest::bool::weighted(0.35),
    )
        .prop_map(
            |(method, target, host, ct, others, body, framing, signed)| {
                let mut headers = Vec::new();
                if let Some(h) = host {
                    headers.push(("host".to_owned(), h));
                }
                if let Some(ct) = ct {
                    headers.push(("content-type".to_owned(), bytes(ct)));
                }
                headers.extend(others);
                let mut req = RawRequest {
                    method,
                    target,
                    headers,
                    body,
                    framing,
                };
                if signed {
                    sign::sign(&mut req);
                }
                req
            },
        )
}
