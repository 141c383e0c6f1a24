//! No secret leaks: the server and the CLI run every main scenario with distinctive secrets and
//! trace logging, against a Twilio mock whose errors echo the credentials, and no log line,
//! response (status, headers, body) or terminal output may hold a secret or a piece of one.

mod common;

#[path = "secrets/api.rs"]
mod api;
#[path = "secrets/cli.rs"]
mod cli;
#[path = "secrets/driver.rs"]
mod driver;
#[path = "secrets/leak.rs"]
mod leak;
#[path = "secrets/scenarios.rs"]
mod scenarios;
#[path = "secrets/twilio.rs"]
mod twilio;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use switchboard::signature::{Algorithm, compute};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

/// The Auth Token: signs webhooks and is the password of every REST call.
pub const TOKEN: &str = "7c0ffee5ec12e7d15ea5eba11ad0be42";
/// The bearer key of `/api/*`.
pub const API_KEY: &str = "sbk-Vq7XmR2pLw9ZnK4tYc6HdJ3f";
/// The shared key of Twilio's HMAC-SHA256 webhook signing.
pub const WEBHOOK_KEY_SID: &str = "webhooks_sharedkey_7";
pub const WEBHOOK_KEY_SECRET: &str = "whk-Pz8QrT5vLx1Mn7Wc3Kb9Ys2D";

/// Everything the secrets could have reached: log files, responses and command output.
#[derive(Default)]
pub struct Seen {
    texts: Vec<(String, String)>,
}

impl Seen {
    pub fn add(&mut self, source: impl Into<String>, text: impl Into<String>) {
        self.texts.push((source.into(), text.into()));
    }

    /// Records a whole response (status line, every header, body) and returns status and body.
    pub async fn response(&mut self, what: &str, r: reqwest::Response) -> (u16, String) {
        let status = r.status().as_u16();
        let mut text = format!("{:?} {status}\n", r.version());
        for (name, value) in r.headers() {
            text.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        let body = r.text().await.unwrap_or_default();
        text.push_str(&body);
        self.add(format!("response to {what}"), text);
        (status, body)
    }

    /// Everything captured from sources whose name starts with `prefix`.
    pub fn from(&self, prefix: &str) -> String {
        self.texts
            .iter()
            .filter(|(source, _)| source.starts_with(prefix))
            .map(|(_, text)| text.as_str())
            .collect()
    }

    /// Fails listing every leak found.
    pub fn assert_clean(&self, secrets: &leak::Secrets) {
        let total: usize = self.texts.iter().map(|(_, t)| t.len()).sum();
        assert!(total > 0, "nothing was captured");
        let leaks: Vec<_> = self
            .texts
            .iter()
            .flat_map(|(source, text)| secrets.find(source, text))
            .collect();
        assert!(
            leaks.is_empty(),
            "{} leak(s) in {total} bytes captured:\n{}",
            leaks.len(),
            leaks
                .iter()
                .map(|l| format!("- {} in {}: {}", l.secret, l.source, l.line))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The secrets every run uses.
pub fn secrets() -> leak::Secrets {
    let mut s = leak::Secrets::default();
    s.add("TWILIO_AUTH_TOKEN", TOKEN);
    s.add_basic_auth("TWILIO_AUTH_TOKEN", twilio::SID, TOKEN);
    s.add("SWITCHBOARD_API_KEY", API_KEY);
    s.add("TWILIO_WEBHOOK_KEY_SECRET", WEBHOOK_KEY_SECRET);
    s
}

/// Twilio's HMAC-SHA1 signature of a webhook under `TOKEN`.
pub fn sign(url: &str, params: &[(&str, &str)]) -> String {
    sign_with(Algorithm::HmacSha1, TOKEN, url, params)
}

pub fn sign_with(alg: Algorithm, key: &str, url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    compute(alg, key.as_bytes(), url, &sorted)
}

/// The environment both the server and the commands get: real-looking credentials everywhere,
/// every REST call aimed at the mock, trace logging, and retries quick enough to give up fast.
pub fn environment(twilio: &str, db: &str) -> Vec<(&'static str, String)> {
    [
        ("TWILIO_ACCOUNT_SID", twilio::SID),
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("SWITCHBOARD_API_KEY", API_KEY),
        ("TWILIO_WEBHOOK_KEY_SID", WEBHOOK_KEY_SID),
        ("TWILIO_WEBHOOK_KEY_SECRET", WEBHOOK_KEY_SECRET),
        ("TWILIO_API_BASE", twilio),
        ("TWILIO_VERIFY_BASE", twilio),
        ("TWILIO_VERIFY_SID", twilio::VERIFY_SID),
        ("TWILIO_PHONE_NUMBER", twilio::NUMBER),
        ("STAFF_PHONE", twilio::BROKEN),
        ("NGROK_API_URL", twilio),
        ("DATABASE_URL", db),
        ("TEMPLATES_DIR", TEMPLATES),
        ("SWITCHBOARD_CLOCK", common::OPEN_HOURS),
        ("SENDER_RATE", "1000"),
        ("ACCOUNT_RATE", "1000"),
        ("TWILIO_TIMEOUT", "2"),
        ("OUTBOX_RETRY_BASE", "0.02"),
        ("OUTBOX_RETRY_CAP", "0.1"),
        ("OUTBOX_RETRY_FOR", "0.3"),
        ("RUST_LOG", "trace"),
        ("RUST_BACKTRACE", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// The server as a process of its own, since tracing is global: its stdout and stderr go to
/// files that are read once it has stopped.
pub struct Server {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    pub fn start(env: &[(&'static str, String)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let file = |name: &str| Stdio::from(std::fs::File::create(dir.path().join(name)).unwrap());
        let child = Command::new(BIN)
            .current_dir(dir.path())
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("PORT", port.to_string())
            .stdout(file("stdout"))
            .stderr(file("stderr"))
            .spawn()
            .unwrap();
        Server { child, port, dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, so the shutdown path logs too; then the whole output.
    pub fn stop(mut self, seen: &mut Seen) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        for name in ["stdout", "stderr"] {
            let text = std::fs::read(self.dir.path().join(name)).unwrap();
            seen.add(format!("server {name}"), String::from_utf8_lossy(&text));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Proves the secrets were in play: every REST call carried the token as Twilio wants it.
pub async fn assert_mock_saw_the_credentials(mock: &wiremock::MockServer) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{TOKEN}", twilio::SID))
    );
    let requests = mock.received_requests().await.unwrap();
    assert!(!requests.is_empty(), "nothing reached the Twilio mock");
    for r in &requests {
        let auth = r.headers.get("authorization").map(|v| v.to_str().unwrap());
        assert_eq!(auth, Some(expected.as_str()), "{} {}", r.method, r.url);
    }
}

/// The database URL's password, if it has one, is a secret too.
pub fn add_database_password(secrets: &mut leak::Secrets, url: &str) {
    let Some((_, rest)) = url.split_once("://") else {
        return;
    };
    let userinfo = rest.split('@').next().filter(|_| rest.contains('@'));
    if let Some((_, password)) = userinfo.and_then(|u| u.split_once(':'))
        && password.len() >= 12
    {
        secrets.add("DATABASE_URL password", password);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_never_shows_a_secret() {
    let mock = twilio::start(twilio::Mode::ByRecipient).await;
    let db = common::test_db().await;
    let server = Server::start(&environment(&mock.uri(), &db.url));
    let client = reqwest::Client::new();
    common::wait_ready(&client, server.port).await;
    let mut seen = Seen::default();

    scenarios::run(&client, &server, &mut seen).await;
    assert_mock_saw_the_credentials(&mock).await;

    server.stop(&mut seen);
    // The capture works and saw the paths that handle the secrets.
    let log = seen.from("server stderr");
    for line in [
        "TRACE",
        "webhook refused: signature check failed",
        "twilio request",
        "send failed; will retry",
        "api error",
    ] {
        assert!(log.contains(line), "the server log has no '{line}'");
    }
    let mut secrets = secrets();
    add_database_password(&mut secrets, &db.url);
    seen.assert_clean(&secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_never_show_a_secret() {
    let mock = twilio::start(twilio::Mode::ByRecipient).await;
    let db = common::test_db().await;
    let env = environment(&mock.uri(), &db.url);
    let mut seen = Seen::default();

    cli::run(&env, &mut seen).await;
    assert_mock_saw_the_credentials(&mock).await;

    let refused = twilio::start(twilio::Mode::AllUnauthorized).await;
    cli::run_refused(&environment(&refused.uri(), &db.url), &mut seen).await;
    assert_mock_saw_the_credentials(&refused).await;

    let mut secrets = secrets();
    add_database_password(&mut secrets, &db.url);
    seen.assert_clean(&secrets);
}

#[test]
fn local_mode_never_shows_its_token() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("SWITCHBOARD_STATE_DIR", &state)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let url = "http://127.0.0.1:3000/voice/incoming";
    let mut seen = Seen::default();
    seen.add("sign", run(&["sign", "--url", url, "CallSid=CA1"]));
    seen.add(
        "sign --curl",
        run(&["sign", "--curl", "--url", url, "CallSid=CA1"]),
    );
    let token = std::fs::read_to_string(state.join("local-token")).unwrap();
    let mut secrets = leak::Secrets::default();
    secrets.add("local-mode token", token.trim());
    seen.assert_clean(&secrets);
    assert!(Path::new(&state).is_dir());
}
