//! The JSON API under watch: near-miss bearer keys, sends to every kind of recipient (Twilio
//! accepts, refuses the credentials, throttles, breaks), their status, and Verify.

use serde_json::json;

use super::API_KEY;
use super::driver::Driver;
use super::twilio::{BROKEN, OK, THROTTLED, UNAUTHORIZED};

/// Sends through the API to each kind of recipient; returns their ids.
pub async fn sends(d: &mut Driver<'_>) -> Vec<String> {
    let send = json!({"to": OK, "body": "hello"});
    let near_misses = [
        None,
        Some("wrong".to_owned()),
        Some(API_KEY[..API_KEY.len() - 1].to_owned()),
        Some(format!("{API_KEY}x")),
        Some(format!(" {API_KEY}")),
    ];
    for key in near_misses {
        let (status, v) = d.api("/api/messages", key.as_deref(), send.clone()).await;
        assert_eq!(status, 401, "{v}");
    }
    let mut ids = Vec::new();
    for to in [OK, UNAUTHORIZED, THROTTLED, BROKEN] {
        let body = json!({"to": to, "body": "hello", "status_callback": "https://abc.example/cb"});
        let (status, v) = d.api("/api/messages", Some(API_KEY), body).await;
        assert_eq!(status, 202, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = d
        .api("/api/messages", Some(API_KEY), json!({"to": "nobody"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(d.api_get("/api/messages/OBmissing").await.0, 404);
    ids
}

/// Each send once the outbox has given up or succeeded, with Twilio's error in its history.
pub async fn statuses(d: &mut Driver<'_>, ids: &[String]) {
    d.outbox_drained().await;
    for id in ids {
        let (status, v) = d.api_get(&format!("/api/messages/{id}")).await;
        assert_eq!(status, 200, "{v}");
    }
}

/// Verify's answers mapped to HTTP: Twilio's 401 is our 502, its 429 ours, its 500 our 503.
pub async fn verify(d: &mut Driver<'_>) {
    for (to, want) in [
        (OK, 200),
        (UNAUTHORIZED, 502),
        (THROTTLED, 429),
        (BROKEN, 503),
    ] {
        let (status, v) = d.api("/api/verify", Some(API_KEY), json!({"to": to})).await;
        assert_eq!(status, want, "{to}: {v}");
    }
    for (code, want) in [("123456", 200), ("000000", 410), ("999999", 503)] {
        let body = json!({"to": OK, "code": code});
        let (status, v) = d.api("/api/verify/check", Some(API_KEY), body).await;
        assert_eq!(status, want, "{code}: {v}");
    }
    let (status, _) = d.api("/api/verify", Some("wrong"), json!({"to": OK})).await;
    assert_eq!(status, 401);
}
