//! `switchboard doctor` as an operator runs it, against a local mock of Twilio's REST API and a
//! second mock standing in for the public URL.

use serde_json::json;
use tokio::process::Command;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const VERIFY: &str = "VA0123456789abcdef0123456789abcdef";
const MG: &str = "MG0123456789abcdef0123456789abcdef";
const NUMBER: &str = "+14155550100";
const ACCOUNT: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef.json";
const NUMBERS: &str =
    "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/IncomingPhoneNumbers.json";

struct Run {
    ok: bool,
    out: String,
    err: String,
}

/// The mocked world: Twilio's API and the site behind PUBLIC_URL.
struct World {
    twilio: MockServer,
    site: MockServer,
}

impl World {
    async fn new() -> World {
        let site = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/healthz"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&site)
            .await;
        World {
            twilio: MockServer::start().await,
            site,
        }
    }

    fn public_url(&self) -> String {
        self.site.uri()
    }

    async fn account(&self, status: u16, body: serde_json::Value) {
        Mock::given(method("GET"))
            .and(path(ACCOUNT))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.twilio)
            .await;
    }

    async fn active_account(&self) {
        self.account(
            200,
            json!({"sid": SID, "friendly_name": "Prod", "status": "active", "type": "Full"}),
        )
        .await;
    }

    async fn number(&self, voice_url: serde_json::Value, sms_url: serde_json::Value) {
        Mock::given(method("GET"))
            .and(path(NUMBERS))
            .and(query_param("PhoneNumber", NUMBER))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "incoming_phone_numbers": [{
                    "sid": "PN0123456789abcdef0123456789abcdef", "phone_number": NUMBER,
                    "voice_url": voice_url, "sms_url": sms_url, "status_callback": null
                }]
            })))
            .mount(&self.twilio)
            .await;
    }

    async fn right_number(&self) {
        let base = self.public_url();
        self.number(
            json!(format!("{base}/voice/incoming")),
            json!(format!("{base}/sms")),
        )
        .await;
    }

    async fn verify_service(&self, status: u16, body: serde_json::Value) {
        Mock::given(method("GET"))
            .and(path(format!("/v2/Services/{VERIFY}")))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.twilio)
            .await;
    }

    async fn healthy(&self) {
        self.active_account().await;
        self.right_number().await;
        self.verify_service(200, json!({"sid": VERIFY, "friendly_name": "Switchboard"}))
            .await;
    }

    /// Runs `switchboard doctor` with only the given environment (plus credentials and mocks).
    async fn doctor(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(BIN)
            .arg("doctor")
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("TWILIO_ACCOUNT_SID", SID)
            .env("TWILIO_AUTH_TOKEN", TOKEN)
            .env("TWILIO_API_BASE", self.twilio.uri())
            .env("TWILIO_VERIFY_BASE", self.twilio.uri())
            .env("PUBLIC_URL", self.public_url())
            .envs(env.iter().copied())
            .output()
            .await
            .unwrap();
        Run {
            ok: out.status.success(),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

fn full_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TWILIO_PHONE_NUMBER", NUMBER),
        ("TWILIO_VERIFY_SID", VERIFY),
        ("TWILIO_MESSAGING_SERVICE_SID", MG),
    ]
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

#[tokio::test]
async fn healthy_setup_only_fails_on_the_plain_http_mock_url() {
    let w = World::new().await;
    w.healthy().await;

    let r = w.doctor(&full_env(), &[]).await;

    let base = w.public_url();
    assert_eq!(
        lines(&r.out),
        vec![
            format!("ok   credentials for {SID}"),
            format!("ok   number {NUMBER} webhooks point at {base}"),
            format!("ok   Verify service {VERIFY} (Switchboard)"),
            format!("ok   A2P 10DLC: {NUMBER} sends through Messaging Service {MG}"),
            format!("FAIL PUBLIC_URL {base}: Twilio requires https in production"),
            format!("ok   GET {base}/healthz answers 200"),
        ],
        "{}",
        r.err
    );
    assert!(!r.ok);
    assert_eq!(r.err.trim(), "error: 1 check failed");
}

#[tokio::test]
async fn rejected_credentials_fail_and_skip_the_other_twilio_checks() {
    let w = World::new().await;
    w.account(
        401,
        json!({"code": 20003, "message": "Authenticate", "status": 401}),
    )
    .await;

    let r = w.doctor(&full_env(), &[]).await;

    let base = w.public_url();
    assert_eq!(
        lines(&r.out),
        vec![
            format!(
                "FAIL credentials for {SID}: TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN rejected by \
                 Twilio: copy both from the Twilio Console (Account Info)"
            ),
            format!("ok   A2P 10DLC: {NUMBER} sends through Messaging Service {MG}"),
            format!("FAIL PUBLIC_URL {base}: Twilio requires https in production"),
            format!("ok   GET {base}/healthz answers 200"),
        ]
    );
    assert!(!r.ok);
    assert_eq!(r.err.trim(), "error: 2 checks failed");
}

#[tokio::test]
async fn webhooks_pointing_elsewhere_name_the_current_url_and_the_fix() {
    let w = World::new().await;
    w.active_account().await;
    w.number(json!("https://old.example/voice"), json!(null))
        .await;

    let r = w.doctor(&[], &["--number", "+1 (415) 555-0100"]).await;

    let base = w.public_url();
    assert_eq!(
        lines(&r.out)[1],
        format!(
            "FAIL number {NUMBER} webhooks: voice URL is https://old.example/voice, want \
             {base}/voice/incoming; SMS URL is unset, want {base}/sms: run switchboard numbers \
             configure --number {NUMBER}"
        ),
        "{}",
        r.out
    );
    assert!(!r.ok);
}

#[tokio::test]
async fn unknown_number_is_not_of_this_account() {
    let w = World::new().await;
    w.active_account().await;
    Mock::given(method("GET"))
        .and(path(NUMBERS))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"incoming_phone_numbers": []})),
        )
        .mount(&w.twilio)
        .await;

    let r = w.doctor(&[], &["--number", NUMBER]).await;

    assert_eq!(
        lines(&r.out)[1],
        format!(
            "FAIL number {NUMBER}: not a number of this account ({SID}): check the number or \
             the account SID"
        )
    );
    assert!(!r.ok);
}

#[tokio::test]
async fn missing_verify_service_fails() {
    let w = World::new().await;
    w.active_account().await;
    w.right_number().await;
    w.verify_service(
        404,
        json!({"code": 20404, "message": "The requested resource was not found", "status": 404}),
    )
    .await;

    let r = w.doctor(&full_env(), &[]).await;

    assert_eq!(
        lines(&r.out)[2],
        format!(
            "FAIL Verify service {VERIFY}: not found in this account: set TWILIO_VERIFY_SID to \
             a service from Console > Verify > Services"
        )
    );
    assert!(!r.ok);
    assert_eq!(r.err.trim(), "error: 2 checks failed");
}

#[tokio::test]
async fn us_long_code_without_messaging_service_warns() {
    let w = World::new().await;
    w.healthy().await;

    let r = w
        .doctor(
            &[
                ("TWILIO_PHONE_NUMBER", NUMBER),
                ("TWILIO_VERIFY_SID", VERIFY),
            ],
            &[],
        )
        .await;

    assert_eq!(
        lines(&r.out)[3],
        format!(
            "warn A2P 10DLC: {NUMBER} has no TWILIO_MESSAGING_SERVICE_SID: US long codes must \
             send through a Messaging Service with a registered A2P 10DLC campaign (errors \
             30034/30007 otherwise)"
        ),
        "{}",
        r.out
    );
    // A warning alone does not fail doctor: only the plain-http mock URL does.
    assert_eq!(r.err.trim(), "error: 1 check failed");
}

#[tokio::test]
async fn unreachable_public_url_fails_with_the_error() {
    let w = World::new().await;
    w.healthy().await;
    let mut env = full_env();
    // Port 9 (discard) has no listener on a test machine, so the connection is refused.
    env.push(("PUBLIC_URL", "https://127.0.0.1:9"));

    let r = w.doctor(&env, &[]).await;

    let last = lines(&r.out).last().copied().unwrap_or_default().to_owned();
    assert!(
        last.starts_with("FAIL GET https://127.0.0.1:9/healthz: ")
            && last.ends_with(": start switchboard and the tunnel, or fix PUBLIC_URL"),
        "{}",
        r.out
    );
    assert!(lines(&r.out).contains(&"ok   PUBLIC_URL https://127.0.0.1:9 is https"));
}
