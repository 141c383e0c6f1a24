//! Sending through the outbox against a local mock of Twilio's REST API: the exact request,
//! refusals before Twilio, retries of transient failures only, crash recovery, Verify.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "test-api-key";
const FROM: &str = "+15005550006";
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

fn created(sid: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"sid": sid, "status": "queued", "to": "+14155551234", "from": FROM, "num_segments": "1"}))
}

fn twilio_error(status: u16, code: i64) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"code": code, "message": format!("error {code}"), "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}))
}

async fn app_with(mock: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    let uri = mock.uri();
    let mut env = vec![
        ("TWILIO_ACCOUNT_SID", SID),
        ("TWILIO_API_BASE", uri.as_str()),
        ("TWILIO_VERIFY_BASE", uri.as_str()),
        ("TWILIO_VERIFY_SID", "VA0123456789abcdef0123456789abcdef"),
        ("SWITCHBOARD_API_KEY", KEY),
        ("TWILIO_PHONE_NUMBER", FROM),
        ("SENDER_RATE", "1000"),
        ("ACCOUNT_RATE", "1000"),
        ("TWILIO_TIMEOUT", "1"),
    ];
    env.extend_from_slice(extra);
    spawn_app(&env).await
}

impl TestApp {
    async fn api(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn message(&self, id: &str) -> Value {
        let r = self
            .client
            .get(self.url(&format!("/api/messages/{id}")))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.json().await.unwrap()
    }

    /// Polls until the send leaves the outbox (sent, refused or failed).
    async fn settled(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self.message(id).await;
            if ["sent", "refused", "failed"].contains(&m["outbox_status"].as_str().unwrap_or("")) {
                return m;
            }
            assert!(Instant::now() < deadline, "still {m}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn send(&self, to: &str, body: &str) -> String {
        let (status, v) = self
            .api("/api/messages", json!({"to": to, "body": body}))
            .await;
        assert_eq!(status, 202, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }
}

fn form(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&req.body).into_owned().collect()
}

#[tokio::test]
async fn sends_the_exact_request_and_records_the_sid() {
    let mock = MockServer::start().await;
    let auth = format!("Basic {}", base64_encode(&format!("{SID}:{TOKEN}")));
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(header("authorization", auth.as_str()))
        .respond_with(created("SM0000000000000000000000000000000a"))
        .expect(1)
        .mount(&mock)
        .await;
    let app = app_with(&mock, &[("PUBLIC_URL", "https://abc.ngrok.app")]).await;
    let (status, v) = app.api("/api/messages", json!({"to": "+1 (415) 555-1234", "body": "Hello €", "media_urls": ["https://x.example/a.jpg", "https://x.example/b.jpg"]})).await;
    assert_eq!(status, 202, "{v}");
    assert_eq!(
        (v["to"].as_str(), v["segments"].as_i64()),
        (Some("+14155551234"), Some(1))
    );
    let m = app.settled(v["id"].as_str().unwrap()).await;
    assert_eq!(m["status"], "sent");
    assert_eq!(m["message_sid"], "SM0000000000000000000000000000000a");
    let reqs = mock.received_requests().await.unwrap();
    assert_eq!(
        form(&reqs[0]),
        [
            ("To", "+14155551234"),
            ("From", FROM),
            ("Body", "Hello €"),
            ("MediaUrl", "https://x.example/a.jpg"),
            ("MediaUrl", "https://x.example/b.jpg"),
            ("StatusCallback", "https://abc.ngrok.app/sms/status")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    // Delivery receipts flow back through /sms/status into the same record.
    let cb = [
        ("MessageSid", "SM0000000000000000000000000000000a"),
        ("MessageStatus", "delivered"),
        ("To", "+14155551234"),
        ("From", FROM),
    ];
    let r = app
        .post_signed_as("/sms/status", "https://abc.ngrok.app/sms/status", &cb, &[])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let m = app.message(v["id"].as_str().unwrap()).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert!(m["history"].as_array().unwrap().len() >= 3, "{m}");
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn api_refuses_bad_requests_naming_the_problem() {
    let mock = MockServer::start().await;
    let app = app_with(&mock, &[]).await;
    let r = app
        .client
        .post(app.url("/api/messages"))
        .json(&json!({"to": "+14155551234", "body": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    for (body, needle) in [
        (
            json!({"to": "555", "body": "x"}),
            "'555' is not a valid phone number",
        ),
        (json!({"to": "+14155551234"}), "give body or media_urls"),
        (
            json!({"to": "+14155551234", "body": "a".repeat(1601)}),
            "1601",
        ),
        (
            json!({"to": "+14155551234", "body": "x", "media_urls": ["ftp://x"]}),
            "ftp://x",
        ),
        (
            json!({"to": "+14155551234", "body": "x", "color": "red"}),
            "color",
        ),
    ] {
        let (status, v) = app.api("/api/messages", body).await;
        assert!((400..500).contains(&status), "{status} {v}");
        assert!(v["error"].as_str().unwrap().contains(needle), "{v}");
    }
    let r = app
        .client
        .get(app.url("/api/messages/OBnope"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(mock.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn opted_out_and_outside_whatsapp_window_are_refused_before_twilio() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created("SM1"))
        .mount(&mock)
        .await;
    let app = app_with(&mock, &[]).await;
    // +14155551234 texts STOP to our number.
    app.post_signed("/sms", &sms_params("SMin1", "STOP")).await;
    let m = app.settled(&app.send("+14155551234", "sale!").await).await;
    assert_eq!(m["status"], "refused");
    assert!(
        m["error_message"].as_str().unwrap().contains("opted out"),
        "{m}"
    );
    let m = app
        .settled(&app.send("whatsapp:+14155550199", "hi").await)
        .await;
    assert_eq!(m["status"], "refused");
    assert!(
        m["error_message"]
            .as_str()
            .unwrap()
            .contains("24-hour window"),
        "{m}"
    );
    assert_eq!(mock.received_requests().await.unwrap().len(), 0);
    // Once the user writes, the window is open and the send goes.
    let p = [
        ("MessageSid", "SMwa"),
        ("From", "whatsapp:+14155550199"),
        ("To", "whatsapp:+15005550006"),
        ("Body", "hello"),
    ];
    app.post_signed("/sms", &p).await;
    let (status, v) = app
        .api(
            "/api/messages",
            json!({"to": "whatsapp:+14155550199", "from": "whatsapp:+15005550006", "body": "hi"}),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    assert_eq!(
        app.settled(v["id"].as_str().unwrap()).await["status"],
        "sent"
    );
}

#[tokio::test]
async fn transient_failures_are_retried_then_sent() {
    for (first, code) in [(429, 20429), (500, 0), (503, 0)] {
        let mock = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(MESSAGES))
            .respond_with(twilio_error(first, code).insert_header("retry-after", "0"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&mock)
            .await;
        Mock::given(method("POST"))
            .and(path(MESSAGES))
            .respond_with(created("SM2"))
            .with_priority(2)
            .mount(&mock)
            .await;
        let app = app_with(&mock, &[]).await;
        let m = app
            .settled(&app.send("+14155551234", "retry me").await)
            .await;
        assert_eq!(m["status"], "sent", "after {first}: {m}");
        assert_eq!(m["attempts"], 2, "{m}");
        assert!(m["history"].to_string().contains("retrying"), "{m}");
    }
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created("SM3").set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created("SM3"))
        .with_priority(2)
        .mount(&mock)
        .await;
    let app = app_with(&mock, &[("TWILIO_TIMEOUT", "0.3")]).await;
    let m = app.settled(&app.send("+14155551234", "slow").await).await;
    assert_eq!(
        (m["status"].as_str(), m["attempts"].as_i64()),
        (Some("sent"), Some(2)),
        "{m}"
    );
    assert!(m["history"].to_string().contains("timed out"), "{m}");
}

#[tokio::test]
async fn twilio_4xx_errors_are_never_retried() {
    for (code, needle) in [
        (21211, "21211"),
        (21610, "21610"),
        (30034, "10DLC"),
        (21408, "21408"),
    ] {
        let mock = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(MESSAGES))
            .respond_with(twilio_error(400, code))
            .expect(1)
            .mount(&mock)
            .await;
        let app = app_with(&mock, &[]).await;
        let m = app.settled(&app.send("+14155551234", "no").await).await;
        assert_eq!(m["status"], "failed", "{m}");
        assert_eq!(m["error_code"], code);
        assert!(m["error_message"].as_str().unwrap().contains(needle), "{m}");
        if code == 21610 {
            assert!(app.store.is_opted_out(FROM, "+14155551234").await.unwrap());
        }
    }
}

#[tokio::test]
async fn sends_accepted_before_a_crash_are_sent_after_restart() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(body_string_contains("Body=before"))
        .respond_with(created("SM4"))
        .expect(2)
        .mount(&mock)
        .await;
    let db = test_db().await;
    let url = db.url.clone();
    // Accepted while no worker runs (as if the process died right after the 202) ...
    let store = switchboard::store::Store::connect(&url).await.unwrap();
    let new = |to: &str| switchboard::store::outbox::NewOutbound {
        to: to.into(),
        from: Some(FROM.into()),
        messaging_service_sid: None,
        body: Some("before".into()),
        media_urls: vec![],
        status_callback: None,
        segments: 1,
    };
    let queued = store.enqueue(new("+14155551234")).await.unwrap();
    // ... and one a dead worker had claimed (its lease ran out) but never finished.
    let stuck = store.enqueue(new("+14155551235")).await.unwrap();
    assert_eq!(store.claim_due(1, -1).await.unwrap().len(), 1);
    let uri = mock.uri();
    let app = spawn_app_on(
        db,
        &[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_API_BASE", uri.as_str()),
            ("SWITCHBOARD_API_KEY", KEY),
            ("SENDER_RATE", "1000"),
        ],
    )
    .await;
    for id in [queued, stuck] {
        assert_eq!(app.settled(&id).await["status"], "sent");
    }
}

#[tokio::test]
async fn two_workers_share_one_outbox_without_sending_twice() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created("SM5"))
        .mount(&mock)
        .await;
    let db = test_db().await;
    let url = db.url.clone();
    let uri = mock.uri();
    let env = [
        ("TWILIO_ACCOUNT_SID", SID),
        ("TWILIO_API_BASE", uri.as_str()),
        ("SWITCHBOARD_API_KEY", KEY),
        ("TWILIO_PHONE_NUMBER", FROM),
        ("SENDER_RATE", "1000"),
        ("ACCOUNT_RATE", "1000"),
    ];
    let a = spawn_app_on(db, &env).await;
    let b = spawn_app_on(TestDb::shared(url), &env).await;
    let mut ids = Vec::new();
    for i in 0..60 {
        let app = if i % 2 == 0 { &a } else { &b };
        ids.push(app.send(&format!("+1415555{:04}", 1000 + i), "once").await);
    }
    for id in &ids {
        assert_eq!(a.settled(id).await["status"], "sent");
    }
    let reqs = mock.received_requests().await.unwrap();
    let mut tos: Vec<String> = reqs
        .iter()
        .map(|r| form(r).into_iter().find(|(k, _)| k == "To").unwrap().1)
        .collect();
    tos.sort();
    let n = tos.len();
    tos.dedup();
    assert_eq!((n, tos.len()), (60, 60), "each message sent exactly once");
}

#[tokio::test]
async fn verify_start_check_and_error_mapping() {
    let mock = MockServer::start().await;
    let base = "/v2/Services/VA0123456789abcdef0123456789abcdef";
    Mock::given(method("POST"))
        .and(path(format!("{base}/Verifications")))
        .and(body_string_contains("Channel=sms"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"sid": "VE1", "status": "pending", "to": "+14155551234", "channel": "sms"}),
        ))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/VerificationCheck")))
        .and(body_string_contains("Code=123456"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"sid": "VE1", "status": "approved", "to": "+14155551234", "valid": true}),
        ))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/VerificationCheck")))
        .and(body_string_contains("Code=000000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"sid": "VE1", "status": "pending", "to": "+14155551234", "valid": false}),
        ))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/VerificationCheck")))
        .and(body_string_contains("Code=999999"))
        .respond_with(twilio_error(404, 20404))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/VerificationCheck")))
        .and(body_string_contains("Code=555555"))
        .respond_with(twilio_error(429, 60202))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/Verifications")))
        .and(body_string_contains("Channel=call"))
        .respond_with(twilio_error(400, 60200))
        .mount(&mock)
        .await;
    let app = app_with(&mock, &[]).await;
    let (s, v) = app
        .api(
            "/api/verify",
            json!({"to": "+14155551234", "channel": "sms"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("pending")), "{v}");
    for (code, status, answer) in [
        ("123456", 200, "approved"),
        ("000000", 200, "pending"),
        ("999999", 410, "expired"),
    ] {
        let (s, v) = app
            .api(
                "/api/verify/check",
                json!({"to": "+14155551234", "code": code}),
            )
            .await;
        assert_eq!((s, v["status"].as_str()), (status, Some(answer)), "{v}");
    }
    let (s, _) = app
        .api(
            "/api/verify/check",
            json!({"to": "+14155551234", "code": "555555"}),
        )
        .await;
    assert_eq!(s, 429);
    let (s, _) = app
        .api(
            "/api/verify",
            json!({"to": "+14155551234", "channel": "call"}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, v) = app
        .api(
            "/api/verify",
            json!({"to": "+14155551234", "channel": "pigeon"}),
        )
        .await;
    assert!(
        s == 400 && v["error"].as_str().unwrap().contains("pigeon"),
        "{v}"
    );
}

#[tokio::test]
async fn a_stopping_worker_records_its_send_in_flight() {
    use switchboard::outbox::{Wakeup, Worker, WorkerConfig, pacing::Rates};
    use switchboard::twilio::{ClientConfig, TwilioClient};
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created("SM6").set_delay(Duration::from_millis(400)))
        .mount(&mock)
        .await;
    let db = test_db().await;
    let store = switchboard::store::Store::connect(&db.url).await.unwrap();
    let id = store
        .enqueue(switchboard::store::outbox::NewOutbound {
            to: "+14155551234".into(),
            from: Some(FROM.into()),
            messaging_service_sid: None,
            body: Some("in flight".into()),
            media_urls: vec![],
            status_callback: None,
            segments: 1,
        })
        .await
        .unwrap();
    let client = TwilioClient::new(ClientConfig {
        api_base: mock.uri(),
        ..ClientConfig::new(SID, TOKEN.to_owned().into())
    })
    .unwrap();
    let cfg = WorkerConfig {
        rates: Rates {
            per_sender: 1000.0,
            per_account: 1000.0,
        },
        status_callback: None,
        retry: Default::default(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handle =
        Worker::new(store.clone(), client, cfg).spawn_stoppable(Wakeup::default(), stopped);
    // Stop while Twilio (the mock) is still answering the send.
    let deadline = Instant::now() + Duration::from_secs(10);
    while mock.received_requests().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the worker never sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the worker stops")
        .unwrap();
    let row = store.outbox_message(&id).await.unwrap().unwrap();
    assert_eq!(
        row.status, "sent",
        "recorded before the worker returned, so a restart will not send it again"
    );
}
