//! Test harness: start the real app on 127.0.0.1:0 and sign requests exactly as Twilio does.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;

use switchboard::config::{Config, ServeArgs};
use switchboard::signature::{Algorithm, compute};
use switchboard::startup::Server;
use switchboard::store::Store;
use switchboard::templates::Templates;

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const FORM: &str = "application/x-www-form-urlencoded";
/// Wednesday 2026-11-25, 10:00 in Los Angeles: inside the shipped business hours.
pub const OPEN_HOURS: &str = "2026-11-25T18:00:00Z";
/// Sunday 2026-11-29, 10:00 in Los Angeles: closed.
pub const CLOSED_HOURS: &str = "2026-11-29T18:00:00Z";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub store: Store,
    pub db: TestDb,
}

/// A fresh database: a temp SQLite file, or, when `TEST_DATABASE_URL` is set (CI), a new schema
/// in that PostgreSQL database, so the same tests run on both.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Another handle on a database someone else owns (a second instance in a test).
    pub fn shared(url: String) -> TestDb {
        TestDb { url, _dir: None }
    }
}

pub async fn test_db() -> TestDb {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = format!("sb_test_{:016x}", rand::random::<u64>());
            let pool = sqlx::PgPool::connect(&base)
                .await
                .expect("TEST_DATABASE_URL reachable");
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&pool)
                .await
                .expect("create schema");
            pool.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            TestDb {
                url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                _dir: None,
            }
        }
        _ => {
            let dir = tempfile::tempdir().expect("tempdir");
            TestDb {
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                _dir: Some(dir),
            }
        }
    }
}

/// Starts the app with the shipped templates and the given extra environment.
pub async fn spawn_app(env: &[(&str, &str)]) -> TestApp {
    let db = test_db().await;
    spawn_app_on(db, env).await
}

pub async fn spawn_app_on(db: TestDb, env: &[(&str, &str)]) -> TestApp {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("TWILIO_AUTH_TOKEN".into(), TOKEN.into()),
        ("PORT".into(), "0".into()),
        ("BIND".into(), "127.0.0.1".into()),
        (
            "TEMPLATES_DIR".into(),
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates").into(),
        ),
        ("DATABASE_URL".into(), db.url.clone()),
        // A Wednesday morning in Los Angeles, so the shipped hours are open whenever tests run.
        ("SWITCHBOARD_CLOCK".into(), OPEN_HOURS.into()),
    ]);
    for (k, v) in env {
        vars.insert((*k).into(), (*v).into());
    }
    let config =
        Config::from_sources(&ServeArgs::default(), |k| vars.get(k).cloned()).expect("config");
    let templates = Templates::load_with_env(&config.templates_dir, &|k| vars.get(k).cloned())
        .expect("templates");
    let server = Server::with_templates(config, templates)
        .await
        .expect("server starts");
    let addr = server.local_addr();
    let store = server.store();
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        addr,
        client: reqwest::Client::new(),
        store,
        db,
    }
}

impl TestApp {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// POSTs a form signed for `signed_url` (by default the URL it is sent to).
    pub async fn post_signed(&self, path: &str, params: &[(&str, &str)]) -> reqwest::Response {
        let url = self.url(path);
        self.post_signed_as(path, &url, params, &[]).await
    }

    pub async fn post_signed_as(
        &self,
        path: &str,
        signed_url: &str,
        params: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let sig = sign(signed_url, params);
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", FORM)
            .header("x-twilio-signature", sig)
            .body(encode(params));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }
}

pub fn encode(params: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Twilio's algorithm: params sorted by name then value, exact duplicates dropped.
pub fn sign(url: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    compute(Algorithm::HmacSha1, TOKEN.as_bytes(), url, &sorted)
}

pub fn voice_params<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("From", "+14155551234"),
        ("To", "+15005550006"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("ApiVersion", "2010-04-01"),
    ];
    p.extend_from_slice(extra);
    p
}

pub fn sms_params<'a>(sid: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("MessageSid", sid),
        ("From", "+14155551234"),
        ("To", "+15005550006"),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
    ]
}

/// A port nothing listens on right now, for a server started as a separate process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until the server on `port` answers /readyz with 200.
pub async fn wait_ready(client: &reqwest::Client, port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status().as_u16() == 200
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("server on port {port} did not become ready");
}

/// POSTs a signed inbound SMS to a server running as a separate process on `port`.
pub async fn post_sms(
    client: &reqwest::Client,
    port: u16,
    sid: &str,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    let url = format!("http://127.0.0.1:{port}/sms");
    let params = sms_params(sid, body);
    client
        .post(&url)
        .header("content-type", FORM)
        .header("x-twilio-signature", sign(&url, &params))
        .body(encode(&params))
        .send()
        .await
}
