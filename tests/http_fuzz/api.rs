//! The JSON API with the right bearer key and odd JSON: each endpoint's fields, mostly of the
//! right type with odd contents (NUL, any Unicode, huge, too many media), sometimes of any type
//! or unknown; so requests get past the key check into validation, the outbox and Verify (the
//! mock of Twilio accepts everything).

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::wire::{Framing, RawRequest};

pub const KEY: &str = "fuzz-api-key-0123456789";

/// Text from anywhere: any Unicode, NUL, or far too long.
fn string() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(&["", " ", "\0", "a\0b", "😀", "\u{202e}x", "<b>&amp;</b>"][..])
            .prop_map(str::to_owned),
        3 => "\\PC{0,40}",
        1 => any::<String>(),
        1 => (1000usize..20_000).prop_map(|n| "9".repeat(n)),
        1 => "[a-zA-Z0-9]{2000,8000}",
    ]
    .boxed()
}

/// Mostly one of `good`, else any text; as a JSON string.
fn one_of(good: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        6 => select(good).prop_map(Value::from),
        3 => string().prop_map(Value::from),
        1 => json_value(),
    ]
    .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        6 => string().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ];
    leaf.prop_recursive(2, 24, 12, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..14).prop_map(Value::Array),
            btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

const PHONES: &[&str] = &[
    "+14155551234",
    "+1 (415) 555-1234",
    "whatsapp:+14155551234",
    "+447911123456",
    "+14155551234\0",
    "4155551234",
];
const URLS: &[&str] = &[
    "https://example.com/a.jpg",
    "http://x.example/b.png",
    "https://x.example/\0",
    "http://",
    "ftp://x",
];
const SIDS: &[&str] = &[
    "MG0123456789abcdef0123456789abcdef",
    "MG0123456789abcdef0123456789abcde\0",
    "MG1",
];

fn media() -> BoxedStrategy<Value> {
    prop_oneof![
        9 => vec(one_of(URLS), 0..13).prop_map(Value::from),
        1 => json_value(),
    ]
    .boxed()
}

/// An object with each field present as often as said, and rarely one the API does not know.
fn object(fields: Vec<(&'static str, f64, BoxedStrategy<Value>)>) -> BoxedStrategy<Vec<u8>> {
    let present: Vec<_> = fields
        .into_iter()
        .map(|(k, p, v)| proptest::option::weighted(p, v).prop_map(move |v| v.map(|v| (k, v))))
        .collect();
    (present, proptest::option::weighted(0.03, json_value()))
        .prop_map(|(present, extra)| {
            let mut map: serde_json::Map<String, Value> = present
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            if let Some(v) = extra {
                map.insert("extra".to_owned(), v);
            }
            serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
        })
        .boxed()
}

/// A body shaped for `path`, now and then not an object at all or not JSON.
fn body(path: &str) -> BoxedStrategy<Vec<u8>> {
    let text = || string().prop_map(Value::from).boxed();
    let shaped = match path {
        "/api/verify" => object(vec![
            (
                "to",
                0.97,
                one_of(&["+14155551234", "a@b.example", "whatsapp:+14155551234", "@x"]),
            ),
            (
                "channel",
                0.7,
                one_of(&["sms", "call", "email", "whatsapp", "pigeon"]),
            ),
            ("locale", 0.2, text()),
        ]),
        "/api/verify/check" => object(vec![
            ("to", 0.97, one_of(&["+14155551234", "a@b.example"])),
            (
                "code",
                0.97,
                one_of(&["123456", "1234", "12345678901", "abc1", "12 34", "１２３４"]),
            ),
        ]),
        _ => object(vec![
            ("to", 0.97, one_of(PHONES)),
            ("body", 0.9, text()),
            ("media_urls", 0.3, media()),
            ("from", 0.2, one_of(PHONES)),
            ("messaging_service_sid", 0.15, one_of(SIDS)),
            ("status_callback", 0.3, one_of(URLS)),
        ]),
    };
    prop_oneof![
        20 => shaped,
        1 => json_value().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => vec(any::<u8>(), 0..100),
        1 => Just(br#"{"to": "+14155551234", "body": "\ud800"}"#.to_vec()),
    ]
    .boxed()
}

pub fn request(port: u16) -> impl Strategy<Value = RawRequest> {
    let post = select(
        &[
            "/api/messages",
            "/api/messages",
            "/api/verify",
            "/api/verify/check",
        ][..],
    )
    .prop_flat_map(|path| (Just("POST"), Just(path.to_owned()), body(path)));
    let get = prop_oneof![
        Just("OB0123".to_owned()),
        "[a-zA-Z0-9%._-]{0,40}",
        (1usize..3000).prop_map(|n| "x".repeat(n)),
    ]
    .prop_map(|id| ("GET", format!("/api/messages/{id}"), Vec::new()));
    let wrong = (
        select(&["PUT", "DELETE", "GET"][..]),
        select(&["/api/verify", "/api/messages/"][..]),
    )
        .prop_map(|(m, p)| (m, p.to_owned(), Vec::new()));
    let content_type = prop_oneof![
        16 => Just(Some("application/json")),
        2 => Just(Some("application/json; charset=utf-8")),
        1 => Just(None),
        1 => select(&["text/plain", "application/x-www-form-urlencoded", "application/JSON"][..])
            .prop_map(Some),
    ];
    (prop_oneof![8 => post, 2 => get, 1 => wrong], content_type).prop_map(
        move |((method, target, body), ct)| {
            let mut headers = vec![
                ("host".to_owned(), format!("127.0.0.1:{port}").into_bytes()),
                (
                    "authorization".to_owned(),
                    format!("Bearer {KEY}").into_bytes(),
                ),
            ];
            if let Some(ct) = ct {
                headers.push(("content-type".to_owned(), ct.as_bytes().to_vec()));
            }
            RawRequest {
                method: method.as_bytes().to_vec(),
                target: target.into_bytes(),
                headers,
                body,
                framing: Framing::Length,
            }
        },
    )
}
