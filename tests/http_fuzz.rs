//! HTTP-level property tests against the running server (its own process, so a panic shows in
//! its stderr): thousands of raw, signed and API requests, and not one may get a 5xx, go
//! unanswered, or panic the server, which must still be healthy afterwards. Regression cases
//! for what the fuzzing found live in `http_fuzz/regressions.rs`.
//!
//! `HTTP_FUZZ_CASES=N` runs N cases per test instead of the defaults.

mod common;

#[path = "http_fuzz/api.rs"]
mod api;
#[path = "http_fuzz/raw.rs"]
mod raw;
#[path = "http_fuzz/regressions.rs"]
mod regressions;
#[path = "http_fuzz/sign.rs"]
mod sign;
#[path = "http_fuzz/webhook.rs"]
mod webhook;
#[path = "http_fuzz/wire.rs"]
mod wire;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use wire::{Answer, RawRequest};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

/// The server under test, with the mock of Twilio its outbox worker and Verify calls reach.
pub struct Fuzzed {
    child: Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
    _db: common::TestDb,
    _twilio: MockServer,
}

impl Fuzzed {
    pub async fn start() -> Fuzzed {
        let twilio = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "sid": "SM0123456789abcdef0123456789abcdef", "status": "queued",
                "to": "+14155551234",
            })))
            .mount(&twilio)
            .await;
        let db = common::test_db().await;
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let log = std::fs::File::create(dir.path().join("stderr")).unwrap();
        let child = Command::new(BIN)
            .current_dir(dir.path())
            .env_clear()
            .envs([
                ("PORT", port.to_string().as_str()),
                ("DATABASE_URL", &db.url),
                ("TEMPLATES_DIR", TEMPLATES),
                ("TWILIO_AUTH_TOKEN", sign::TOKEN),
                ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
                ("TWILIO_WEBHOOK_KEY_SID", sign::SHARED_KEY_SID),
                ("TWILIO_WEBHOOK_KEY_SECRET", sign::SHARED_KEY_SECRET),
                ("TWILIO_API_BASE", &twilio.uri()),
                ("TWILIO_VERIFY_BASE", &twilio.uri()),
                ("TWILIO_VERIFY_SID", "VA0123456789abcdef0123456789abcdef"),
                ("TWILIO_PHONE_NUMBER", "+15005550006"),
                ("SWITCHBOARD_API_KEY", api::KEY),
                ("STAFF_PHONE", "+14155550199"),
                ("TRUST_FORWARDED_HEADERS", "true"),
                ("SENDER_RATE", "1000"),
                ("ACCOUNT_RATE", "1000"),
                ("SQLITE_SYNCHRONOUS", "normal"),
                ("SWITCHBOARD_CLOCK", common::OPEN_HOURS),
                ("RUST_LOG", "warn"),
                ("RUST_BACKTRACE", "1"),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        common::wait_ready(&reqwest::Client::new(), port).await;
        Fuzzed {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            _db: db,
            _twilio: twilio,
        }
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.path().join("stderr")).unwrap_or_default())
            .into_owned()
    }

    /// Panics the server logged, each with the line after (where it happened).
    pub fn panics(&self) -> Vec<String> {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains("panicked"))
            .map(|(i, l)| format!("{l} {}", lines.get(i + 1).unwrap_or(&"")))
            .collect()
    }

    pub async fn healthy(&self) -> bool {
        let url = format!("http://{}/healthz", self.addr);
        matches!(reqwest::get(url).await, Ok(r) if r.status().as_u16() == 200)
    }
}

impl Drop for Fuzzed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The verdict on one answer: any status below 500 is fine; a 5xx or no answer is a bug.
pub fn judge(req: &RawRequest, answer: &Answer) -> Result<(), String> {
    match answer {
        Answer::Status(s, _) if *s < 500 => Ok(()),
        Answer::Status(s, body) => Err(format!("answered {s} {body:?} to\n{req:?}")),
        Answer::NoAnswer(why) => Err(format!("no answer ({why}) to\n{req:?}")),
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("HTTP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `cases` batches from `strategy` against a fresh server, each batch's requests at once,
/// shrinking any failure to a smallest batch that still fails; then the server must be healthy
/// and have logged no panic.
fn fuzz<S: Strategy<Value = Vec<RawRequest>>>(
    name: &str,
    default_cases: u32,
    strategy: impl Fn(u16) -> S,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(Fuzzed::start());
    let mut runner = TestRunner::new(Config {
        cases: cases(default_cases),
        failure_persistence: None,
        max_shrink_iters: 400,
        ..Config::default()
    });
    let started = Instant::now();
    let statuses = Mutex::new(BTreeMap::<u16, usize>::new());
    let result = runner.run(&strategy(server.addr.port()), |batch| {
        let sends = batch.iter().map(|req| wire::send(server.addr, req));
        let answers = rt.block_on(futures_util::future::join_all(sends));
        for (req, answer) in batch.iter().zip(&answers) {
            if let (Answer::Status(s, body), Ok(mut seen)) = (answer, statuses.lock()) {
                *seen.entry(*s).or_default() += 1;
                if std::env::var_os("HTTP_FUZZ_SHOW").is_some() {
                    eprintln!("{s} {}", body.lines().next().unwrap_or(""));
                }
            }
            judge(req, answer).map_err(TestCaseError::fail)?;
        }
        Ok(())
    });
    let healthy = rt.block_on(server.healthy());
    let panics = server.panics();
    let statuses = statuses.into_inner().unwrap_or_default();
    eprintln!(
        "{name}: {} requests in {:.1} s, by status: {statuses:?}",
        statuses.values().sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        panics.is_empty(),
        "{name}: the server panicked:\n{}",
        panics.join("\n")
    );
    assert!(healthy, "{name}: the server no longer answers /healthz");
    if let Err(e) = result {
        let log = server.log();
        let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
        let last = &errors[errors.len().saturating_sub(5)..];
        panic!(
            "{name}: {e}\nlast errors the server logged:\n{}",
            last.join("\n")
        );
    }
}

fn one<S: Strategy<Value = RawRequest>>(s: S) -> impl Strategy<Value = Vec<RawRequest>> {
    s.prop_map(|req| vec![req])
}

#[test]
fn any_request_gets_a_4xx_or_better_and_never_panics() {
    fuzz("raw", 1500, |port| one(raw::request(port)));
}

#[test]
fn signed_webhooks_with_odd_fields_never_get_a_5xx() {
    fuzz("signed webhooks", 2000, |port| one(webhook::request(port)));
}

/// Most carry the same SIDs, so these race for the same rows and replay keys, as Twilio's
/// retries and a call's parallel callbacks do.
#[test]
fn signed_webhooks_at_once_never_get_a_5xx() {
    fuzz("signed webhooks at once", 300, |port| {
        proptest::collection::vec(webhook::request(port), 2..8)
    });
}

#[test]
fn api_requests_with_odd_json_never_get_a_5xx() {
    fuzz("api", 800, |port| one(api::request(port)));
}
