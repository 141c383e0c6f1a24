//! The sending commands as a person uses them: `send`, `send --csv`, `status`, `verify`,
//! `numbers configure` and `segments`, against a local mock of Twilio and of the ngrok agent.

mod common;

use serde_json::json;
use tokio::process::Command;
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

struct Run {
    ok: bool,
    out: String,
    err: String,
}

async fn run(mock: &MockServer, db: &str, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", common::TOKEN)
        .env("TWILIO_API_BASE", mock.uri())
        .env("TWILIO_VERIFY_BASE", mock.uri())
        .env("TWILIO_VERIFY_SID", "VA0123456789abcdef0123456789abcdef")
        .env("TWILIO_PHONE_NUMBER", "+15005550006")
        .env("DATABASE_URL", db)
        .env("SENDER_RATE", "1000")
        .env("NGROK_API_URL", mock.uri())
        .output()
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"sid": "SM00000000000000000000000000000001", "status": "queued", "to": "+14155551234"}))
}

#[tokio::test]
async fn send_one_prints_id_segments_and_final_status_then_status_shows_it() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created())
        .expect(1)
        .mount(&mock)
        .await;
    let db = common::test_db().await;
    let r = run(
        &mock,
        &db.url,
        &["send", "--to", "+1 415 555 1234", "--body", "Hello 你好"],
    )
    .await;
    assert!(r.ok, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("segments: 1") && r.out.contains("status:   sent"),
        "{}",
        r.out
    );
    let id = r
        .out
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("id:")
        .trim()
        .to_owned();
    let r = run(&mock, &db.url, &["status", &id]).await;
    assert!(
        r.ok && r.out.contains("status:   sent")
            && r.out.contains("SM00000000000000000000000000000001"),
        "{}{}",
        r.out,
        r.err
    );
    let r = run(&mock, &db.url, &["status", "OBnope"]).await;
    assert!(
        !r.ok && r.err.contains("no message with id 'OBnope'"),
        "{}",
        r.err
    );
}

#[tokio::test]
async fn send_csv_sends_many_and_summarises() {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(body_string_contains("To=%2B14155550103"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": 21610, "message": "unsubscribed", "status": 400})),
        )
        .with_priority(1)
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(created())
        .with_priority(2)
        .mount(&mock)
        .await;
    let db = common::test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    std::fs::write(&csv, "name,to,body\nAnn,+14155550101,\nBob,+14155550102,Hi Bob\nCy,+14155550103,\nDee,not-a-number,\n").unwrap();
    let r = run(
        &mock,
        &db.url,
        &["send", "--csv", csv.to_str().unwrap(), "--body", "Hello"],
    )
    .await;
    assert!(!r.ok, "a failed and an invalid row make the exit non-zero");
    assert!(
        r.out
            .contains("3 accepted: 2 sent, 0 refused, 1 failed; 1 rows invalid"),
        "{}{}",
        r.out,
        r.err
    );
    assert!(
        r.err.contains("r.csv:5: refused") && r.err.contains("not-a-number"),
        "{}",
        r.err
    );
    let bodies: Vec<String> = mock
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|q| String::from_utf8_lossy(&q.body).into_owned())
        .collect();
    assert!(
        bodies.iter().any(|b| b.contains("Body=Hi+Bob")),
        "{bodies:?}"
    );
    assert_eq!(bodies.len(), 3);
}

#[tokio::test]
async fn verify_start_and_check() {
    let mock = MockServer::start().await;
    let base = "/v2/Services/VA0123456789abcdef0123456789abcdef";
    Mock::given(method("POST"))
        .and(path(format!("{base}/Verifications")))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"sid": "VE1", "status": "pending", "to": "+14155551234"})),
        )
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/VerificationCheck")))
        .and(body_string_contains("Code=123456"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sid": "VE1", "status": "approved", "to": "+14155551234"})),
        )
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/VerificationCheck")))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": 20404, "message": "not found", "status": 404})),
        )
        .mount(&mock)
        .await;
    let db = common::test_db().await;
    let r = run(
        &mock,
        &db.url,
        &[
            "verify",
            "start",
            "--to",
            "+14155551234",
            "--channel",
            "pigeon",
        ],
    )
    .await;
    assert!(!r.ok && r.err.contains("--channel 'pigeon'"), "{}", r.err);
    let r = run(
        &mock,
        &db.url,
        &["verify", "start", "--to", "nobody", "--channel", "email"],
    )
    .await;
    assert!(!r.ok && r.err.contains("not an email address"), "{}", r.err);
    let r = run(&mock, &db.url, &["verify", "start", "--to", "+14155551234"]).await;
    assert!(
        r.ok && r.out.contains("pending to +14155551234 by sms"),
        "{}{}",
        r.out,
        r.err
    );
    let r = run(
        &mock,
        &db.url,
        &[
            "verify",
            "check",
            "--to",
            "+14155551234",
            "--code",
            "123456",
        ],
    )
    .await;
    assert!(r.ok && r.out.contains("approved"), "{}{}", r.out, r.err);
    let r = run(
        &mock,
        &db.url,
        &[
            "verify",
            "check",
            "--to",
            "+14155551234",
            "--code",
            "654321",
        ],
    )
    .await;
    assert!(!r.ok && r.err.contains("expired"), "{}", r.err);
    assert!(
        !r.err.contains("654321") && !r.out.contains("654321"),
        "codes are never printed back"
    );
}

#[tokio::test]
async fn numbers_configure_with_ngrok_discovery() {
    let mock = MockServer::start().await;
    Mock::given(method("GET")).and(path("/api/endpoints"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"endpoints": [{"name": "switchboard", "url": "https://abc.ngrok.app", "upstream": {"url": "3000"}}]})))
        .mount(&mock).await;
    Mock::given(method("GET")).and(path(format!("/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json"))).and(query_param("PhoneNumber", "+15005550006"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"incoming_phone_numbers": [{"sid": "PN0123456789abcdef0123456789abcdef", "phone_number": "+15005550006"}]})))
        .mount(&mock).await;
    Mock::given(method("POST")).and(path(format!("/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers/PN0123456789abcdef0123456789abcdef.json")))
        .and(body_string_contains("VoiceUrl=https%3A%2F%2Fabc.ngrok.app%2Fvoice%2Fincoming"))
        .and(body_string_contains("SmsUrl=https%3A%2F%2Fabc.ngrok.app%2Fsms"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sid": "PN0123456789abcdef0123456789abcdef", "phone_number": "+15005550006", "voice_url": "https://abc.ngrok.app/voice/incoming", "sms_url": "https://abc.ngrok.app/sms", "status_callback": "https://abc.ngrok.app/voice/status"})))
        .expect(1).mount(&mock).await;
    let db = common::test_db().await;
    let r = run(
        &mock,
        &db.url,
        &["numbers", "configure", "--number", "+15005550006"],
    )
    .await;
    assert!(r.ok, "{}{}", r.out, r.err);
    assert!(
        r.out
            .contains("voice:  https://abc.ngrok.app/voice/incoming")
            && r.out.contains("PUBLIC_URL=https://abc.ngrok.app"),
        "{}",
        r.out
    );
    let r = run(
        &mock,
        &db.url,
        &["numbers", "configure", "--number", "+14155550100"],
    )
    .await;
    assert!(!r.ok, "{}", r.out);
}

#[tokio::test]
async fn segments_command() {
    let mock = MockServer::start().await;
    let db = common::test_db().await;
    let text = "你".repeat(71);
    let r = run(&mock, &db.url, &["segments", &text, "--json"]).await;
    assert!(r.ok, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(r.out.trim()).unwrap();
    assert_eq!(
        (v["encoding"].as_str(), v["segments"].as_i64()),
        (Some("UCS-2"), Some(2)),
        "{v}"
    );
    let r = run(&mock, &db.url, &["segments", &"a".repeat(1601)]).await;
    assert!(!r.ok && r.err.contains("1601"), "{}", r.err);
}
