//! What the HTTP fuzzing found, kept as ordinary tests: each input answered 503 on PostgreSQL
//! (Twilio would retry it for ever) and now gets a 4xx naming what is wrong, or is served.

use serde_json::json;

use super::common::{FORM, TestApp, encode, sign, spawn_app};

/// Random letters and digits (xorshift), which PostgreSQL cannot compress into a short key.
fn incompressible(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(ALPHABET[(x % 62) as usize])
        })
        .collect()
}

type Params<'a> = Vec<(&'a str, &'a str)>;

async fn post(app: &TestApp, path: &str, params: &[(&str, &str)]) -> (u16, String) {
    let r = app.post_signed(path, params).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// PostgreSQL refused the text ("invalid byte sequence for encoding UTF8: 0x00").
#[tokio::test]
async fn a_nul_in_a_webhook_field_is_refused_naming_the_field() {
    let app = spawn_app(&[]).await;
    let params = [
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("From", "+14155551234"),
        ("RecordingDuration", "12"),
        ("RecordingSid", "a\0b"),
    ];
    let (status, body) = post(&app, "/voice/recording?lang=en", &params).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, "form field 4 value contains a NUL character (%00)\n");
    let raw = app
        .client
        .post(app.url("/sms"))
        .header("content-type", FORM)
        .header("x-twilio-signature", sign(&app.url("/sms"), &[]))
        .body(b"MessageSid=SM1&Body=a\0b".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
}

/// The same, through the JSON API.
#[tokio::test]
async fn a_nul_in_an_api_send_is_refused_naming_the_field() {
    let app = spawn_app(&[
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_API_BASE", "http://127.0.0.1:9"),
        ("TWILIO_PHONE_NUMBER", "+15005550006"),
        ("SWITCHBOARD_API_KEY", "key"),
    ])
    .await;
    for (body, field) in [
        (
            json!({"to": "+14155551234", "body": " ", "status_callback": "https://x.example/\0"}),
            "status_callback",
        ),
        (json!({"to": "+14155551234", "body": "a\0b"}), "body"),
        (
            json!({"to": "+14155551234", "media_urls": ["https://x.example/\0.jpg"]}),
            "media_urls",
        ),
    ] {
        let r = app
            .client
            .post(app.url("/api/messages"))
            .bearer_auth("key")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"], format!("{field}: contains a NUL character"));
    }
}

/// A GET webhook's query is part of its replay key, which PostgreSQL could not index ("index
/// row size 7392 exceeds btree version 4 maximum 2704"); a long one is now hashed.
#[tokio::test]
async fn a_get_webhook_with_a_long_query_is_answered_and_replayed() {
    let app = spawn_app(&[]).await;
    let direction = incompressible(7000);
    let query = encode(&[
        ("To", "+15005550006"),
        ("From", "+14155551234"),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("Direction", &direction),
    ]);
    let path = format!("/voice/incoming?{query}");
    let mut answers = Vec::new();
    for _ in 0..2 {
        let r = app
            .client
            .get(app.url(&path))
            .header("x-twilio-signature", sign(&app.url(&path), &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        answers.push(r.text().await.unwrap());
    }
    assert!(answers[0].contains("<Gather"), "{}", answers[0]);
    assert_eq!(answers[0], answers[1], "the retry gets the first answer");
}

/// A SID or address is a database key: one longer than any of Twilio's could not be indexed
/// ("index row size 3872 exceeds btree version 4 maximum 2704 for index voicemails_pkey").
#[tokio::test]
async fn an_overlong_sid_or_address_is_refused_naming_it() {
    let app = spawn_app(&[]).await;
    let long = incompressible(3000);
    let call = ("CallSid", "CA0123456789abcdef0123456789abcdef");
    let cases: [(&str, Params, &str); 4] = [
        (
            "/voice/transcription?lang=en",
            vec![
                call,
                ("RecordingSid", &long),
                ("TranscriptionStatus", "completed"),
            ],
            "RecordingSid",
        ),
        (
            "/voice/incoming",
            vec![("CallSid", &long), ("From", "+14155551234")],
            "CallSid",
        ),
        (
            "/sms",
            vec![
                ("MessageSid", "SM1"),
                ("From", &long),
                ("To", "+15005550006"),
            ],
            "From",
        ),
        (
            "/sms/status",
            vec![
                ("MessageSid", "SM1"),
                ("MessageStatus", "undelivered"),
                ("ErrorCode", "21610"),
                ("To", &long),
            ],
            "To",
        ),
    ];
    for (path, params, field) in cases {
        let (status, body) = post(&app, path, &params).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body.starts_with(&format!("form field '{field}' is 3000 bytes long")),
            "{path}: {body}"
        );
    }
}
