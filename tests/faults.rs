//! Faults: a private PostgreSQL stopped and started under webhook load, and Twilio's REST API
//! down for a while; nothing acknowledged is lost and nothing is sent twice.
//!
//! `FAULT_PG_DOWN_SECS` (default 4) and `FAULT_TWILIO_DOWN_SECS` (default 6) set how long each
//! dependency stays down; `SKIP_PG_FAULTS=1` skips the PostgreSQL test where no PostgreSQL
//! binaries are installed (it fails otherwise, so CI cannot pass it by accident).

mod common;

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn secs_from_env(name: &str, default: f64) -> Duration {
    let secs = std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{name}='{v}' is not a number of seconds"))
        })
        .unwrap_or(default);
    Duration::from_secs_f64(secs)
}

/// Polls `check` every 50 ms until it holds or `limit` passes; returns how long it took.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL stopped and started mid-run.

/// A throwaway PostgreSQL cluster in a temp dir on its own port; stopped when dropped, so a
/// failing test never leaves a server behind (the shared one on 5432 is never touched).
struct PgCluster {
    bin: PathBuf,
    /// `runuser -u postgres --` or similar when we are root, since PostgreSQL refuses root.
    as_user: Vec<String>,
    dir: tempfile::TempDir,
    port: u16,
}

impl PgCluster {
    /// Finds the binaries, runs initdb and starts the server; Err says what was missing.
    fn start() -> Result<PgCluster, String> {
        let bin = pg_bindir().ok_or(
            "no PostgreSQL binaries: neither `pg_config --bindir`, /usr/lib/postgresql/*/bin \
             nor PATH has initdb and pg_ctl (install them, or set SKIP_PG_FAULTS=1)",
        )?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let as_user = if is_root() {
            let (wrapper, uid, gid) = unprivileged(&bin)?;
            for p in [dir.path().to_owned(), dir.path().join("data")] {
                std::fs::create_dir_all(&p).map_err(|e| e.to_string())?;
                std::os::unix::fs::chown(&p, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            }
            wrapper
        } else {
            Vec::new()
        };
        let cluster = PgCluster {
            bin,
            as_user,
            dir,
            port: free_port(),
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-N",
                "-E",
                "UTF8",
            ],
        )?;
        cluster.start_server()?;
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn start_server(&self) -> Result<(), String> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-o", &opts, "-l", &log, "-w", "-t", "30", "start",
            ],
        )
        .map_err(|e| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\nserver log:\n{log}")
        })
    }

    /// Like a crash or a pulled plug: no checkpoint, clients cut off mid-transaction.
    fn stop_immediately(&self) -> Result<(), String> {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut cmd = match self.as_user.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {args:?} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.stop_immediately();
    }
}

fn has_pg(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

fn pg_bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    // Newest major version first ("9.6" sorts after "15" as text, so compare as numbers).
    versioned.sort_by_key(|p| {
        let v = p.parent().and_then(|v| v.file_name()).map(|v| {
            v.to_string_lossy()
                .split('.')
                .map(|n| n.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        });
        std::cmp::Reverse(v)
    });
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    from_pg_config
        .into_iter()
        .chain(versioned)
        .chain(on_path)
        .find(|d| has_pg(d))
}

fn is_root() -> bool {
    // /proc/self belongs to the effective user of the process reading it.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A command prefix that runs a program as an unprivileged user, with that user's uid and gid.
fn unprivileged(bin: &Path) -> Result<(Vec<String>, u32, u32), String> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    let mut candidates = Vec::new();
    if let (Some(uid), Some(gid)) = (id("-u"), id("-g")) {
        candidates.push((vec!["runuser", "-u", "postgres", "--"], uid, gid));
        candidates.push((
            vec![
                "setpriv",
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
            ],
            uid,
            gid,
        ));
    }
    candidates.push((
        vec![
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ],
        65534,
        65534,
    ));
    let pg_ctl = bin.join("pg_ctl");
    for (prefix, uid, gid) in candidates {
        let works = Command::new(prefix[0])
            .args(&prefix[1..])
            .arg(&pg_ctl)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if works {
            return Ok((prefix.into_iter().map(str::to_owned).collect(), uid, gid));
        }
    }
    Err(
        "running as root, and neither runuser nor setpriv could run pg_ctl as another user \
         (PostgreSQL refuses to run as root)"
            .to_owned(),
    )
}

/// What one signed webhook got, and when it was sent and answered.
struct Posted {
    sid: String,
    status: Option<u16>,
    sent: Instant,
    answered: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load_loses_no_acknowledged_webhook() {
    let pg = match PgCluster::start() {
        Ok(pg) => pg,
        Err(e) if std::env::var("SKIP_PG_FAULTS").as_deref() == Ok("1") => {
            eprintln!("skipped (SKIP_PG_FAULTS=1): {e}");
            return;
        }
        Err(e) => panic!("cannot start a private PostgreSQL: {e}"),
    };
    let down_for = secs_from_env("FAULT_PG_DOWN_SECS", 4.0);
    // Twilio answers slowly, so sends are still in flight when the database goes.
    let seen = Seen::default();
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(Twilio::new(&seen, true, Duration::from_millis(1500)))
        .mount(&twilio)
        .await;
    let uri = twilio.uri();
    let app = Arc::new(spawn_app_on(TestDb::shared(pg.url()), &sending(&uri)).await);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let readyz = |http: reqwest::Client, url: String| async move {
        http.get(url).send().await.map(|r| r.status().as_u16()).ok()
    };
    let ready_url = app.url("/readyz");
    assert_eq!(readyz(http.clone(), ready_url.clone()).await, Some(200));

    // Load: signed webhooks, each with a new MessageSid, from a few concurrent posters.
    let log = Arc::new(Mutex::new(Vec::<Posted>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut posters = Vec::new();
    for w in 0..12 {
        let (app, log, stop) = (app.clone(), log.clone(), stop.clone());
        posters.push(tokio::spawn(async move {
            // Bounded whatever happens: at most this many webhooks per poster.
            for i in 0..2_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let sid = format!("SM{w:02}{i:030}");
                let sent = Instant::now();
                let status = tokio::time::timeout(
                    Duration::from_secs(20),
                    app.post_signed("/sms", &sms_params(&sid, "still there?")),
                )
                .await
                .ok()
                .map(|r| r.status().as_u16());
                let answered = Instant::now();
                log.lock().unwrap().push(Posted {
                    sid,
                    status,
                    sent,
                    answered,
                });
                // Keep the rate modest: the point is overlap with the outage, not throughput.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    let acked = |log: &Mutex<Vec<Posted>>| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|p| p.status.is_some_and(|s| (200..300).contains(&s)))
            .count()
    };
    within(
        Duration::from_secs(10),
        "webhooks answered before the stop",
        || {
            let n = acked(&log);
            async move { n >= 30 }
        },
    )
    .await;

    let mut sends = Vec::new();
    for i in 0..8 {
        sends.push(queue(&app, i).await);
    }
    within(Duration::from_secs(10), "sends in flight", || {
        let n = seen.all().len();
        async move { n >= 8 }
    })
    .await;

    // Stop the database as a crash would.
    let stopping = Instant::now();
    tokio::task::block_in_place(|| pg.stop_immediately()).expect("pg_ctl stop");
    let down_at = Instant::now();
    let noticed = within(Duration::from_secs(15), "/readyz answers 503", || {
        let r = readyz(http.clone(), ready_url.clone());
        async move { r.await == Some(503) }
    })
    .await;
    // One webhook sent now, checked on its own: refused with 503, and in good time.
    let t = Instant::now();
    let r = app
        .post_signed(
            "/sms",
            &sms_params("SMdown0000000000000000000000000000", "x"),
        )
        .await;
    assert_eq!(r.status().as_u16(), 503, "{}", r.text().await.unwrap());
    let refused_in = t.elapsed();
    assert!(
        refused_in < Duration::from_secs(5),
        "a webhook waited {refused_in:?} to be refused: Twilio gives up at 15 s"
    );
    let rest = down_for.saturating_sub(down_at.elapsed());
    tokio::time::sleep(rest).await;

    // Start it again: readiness and webhooks come back without restarting the app.
    let up_at = Instant::now();
    tokio::task::block_in_place(|| pg.start_server()).expect("pg_ctl start");
    let recovered = within(Duration::from_secs(20), "/readyz back to 200", || {
        let r = readyz(http.clone(), ready_url.clone());
        async move { r.await == Some(200) }
    })
    .await;
    let before = acked(&log);
    within(
        Duration::from_secs(10),
        "webhooks acknowledged again",
        || {
            let n = acked(&log);
            async move { n >= before + 30 }
        },
    )
    .await;
    let r = app
        .post_signed(
            "/sms",
            &sms_params("SMback0000000000000000000000000000", "x"),
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    stop.store(true, Ordering::Relaxed);
    for p in posters {
        p.await.unwrap();
    }
    // The sends Twilio accepted while the database was down are recorded once it is back, not
    // left to a lease that would send them again.
    for id in &sends {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let row = app.store.outbox_message(id).await.unwrap().unwrap();
            if row.status == "sent" {
                break;
            }
            assert!(Instant::now() < deadline, "not recorded as sent: {row:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let creates = seen.all();
    for i in 0..sends.len() {
        let body = format!("msg {i}");
        let n = creates.iter().filter(|c| c.0 == body).count();
        assert_eq!(n, 1, "'{body}' created {n} times");
    }

    let log = std::mem::take(&mut *log.lock().unwrap());
    let ok = |p: &Posted| p.status.is_some_and(|s| (200..300).contains(&s));
    // Sent after the database was gone and answered before it was back: nothing could commit.
    let while_down: Vec<&Posted> = log
        .iter()
        .filter(|p| p.sent >= down_at && p.answered <= up_at)
        .collect();
    let wrongly_acked: Vec<&str> = while_down
        .iter()
        .filter(|p| ok(p))
        .map(|p| p.sid.as_str())
        .collect();
    assert!(
        wrongly_acked.is_empty(),
        "acknowledged while the database was down: {wrongly_acked:?}"
    );
    assert!(
        while_down.len() >= 5,
        "only {} webhooks fell wholly within the outage",
        while_down.len()
    );
    assert!(
        while_down.iter().all(|p| p.status == Some(503)),
        "while down, every webhook gets 503: {:?}",
        while_down.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    let odd: Vec<(&str, Option<u16>)> = log
        .iter()
        .filter(|p| !matches!(p.status, Some(200 | 503)))
        .map(|p| (p.sid.as_str(), p.status))
        .collect();
    assert!(odd.is_empty(), "answers other than 200 or 503: {odd:?}");

    // Nothing acknowledged is lost: every 2xx is in the database, read through the app's pool.
    let acked: Vec<&str> = log
        .iter()
        .filter(|p| ok(p))
        .map(|p| p.sid.as_str())
        .collect();
    let mut lost = Vec::new();
    for sid in &acked {
        if app.store.inbound_message(sid).await.unwrap().is_none() {
            lost.push(*sid);
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged webhooks lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    eprintln!(
        "{} webhooks, {} acknowledged, {} refused while down; stop took {:?}, /readyz 503 after \
         {noticed:?}, a webhook refused in {refused_in:?}, ready again {recovered:?} after start",
        log.len(),
        acked.len(),
        while_down.len(),
        down_at - stopping,
    );
}

// ---------------------------------------------------------------------------------------------
// Twilio's REST API down for a while.

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const KEY: &str = "test-api-key";
const FROM: &str = "+15005550006";
const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";
/// The test's retry schedule (`OUTBOX_RETRY_BASE`, `OUTBOX_RETRY_CAP`), short so it runs fast.
const BASE: Duration = Duration::from_millis(100);
const CAP: Duration = Duration::from_secs(1);

/// Every create the mock saw: for which body, and what it answered.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, u16)>>>);

impl Seen {
    fn all(&self) -> Vec<(String, u16)> {
        self.0.lock().unwrap().clone()
    }
}

/// Twilio's Messages resource, either failing every create with 503 or accepting each with a
/// fresh SID.
struct Twilio {
    seen: Seen,
    up: bool,
    next: AtomicUsize,
    /// How long an accepted create takes to answer.
    delay: Duration,
}

impl Twilio {
    fn new(seen: &Seen, up: bool, delay: Duration) -> Twilio {
        Twilio {
            seen: seen.clone(),
            up,
            next: AtomicUsize::new(0),
            delay,
        }
    }
}

impl Respond for Twilio {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = form_urlencoded::parse(&req.body)
            .find(|(k, _)| k == "Body")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let status = if self.up { 201 } else { 503 };
        self.seen.0.lock().unwrap().push((body.clone(), status));
        if !self.up {
            return ResponseTemplate::new(503).set_body_json(
                json!({"code": 20503, "message": "Service Unavailable", "status": 503}),
            );
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        ResponseTemplate::new(201).set_body_json(json!({"sid": format!("SM{n:032x}"), "status": "queued", "to": "+14155551234", "from": FROM, "num_segments": "1", "body": body})).set_delay(self.delay)
    }
}

/// A mock of Twilio on `port`, which must be free (the previous one's listener released).
async fn twilio_on(port: u16, seen: &Seen, up: bool) -> MockServer {
    let mut tries = 0;
    let listener = loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(l) => break l,
            // The stopped server's thread may not have dropped its listener yet.
            Err(e) => {
                tries += 1;
                assert!(tries < 100, "cannot bind 127.0.0.1:{port} again: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let mock = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(Twilio::new(seen, up, Duration::ZERO))
        .mount(&mock)
        .await;
    mock
}

/// The app's environment for sending through the mock at `uri`, on the test's retry schedule.
fn sending(uri: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("TWILIO_ACCOUNT_SID", SID),
        ("TWILIO_API_BASE", uri),
        ("SWITCHBOARD_API_KEY", KEY),
        ("TWILIO_PHONE_NUMBER", FROM),
        ("SENDER_RATE", "1000"),
        ("ACCOUNT_RATE", "1000"),
        ("TWILIO_TIMEOUT", "3"),
        ("OUTBOX_RETRY_BASE", "0.1"),
        ("OUTBOX_RETRY_CAP", "1"),
    ]
}

async fn queue(app: &TestApp, i: usize) -> String {
    let r = app
        .client
        .post(app.url("/api/messages"))
        .bearer_auth(KEY)
        .json(&json!({"to": format!("+1415555{:04}", 1000 + i), "body": format!("msg {i}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let v: serde_json::Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// The waits the worker scheduled after each failed try ("retrying in N ms"), in order.
fn scheduled_waits(history: &[switchboard::store::outbox::HistoryEntry]) -> Vec<Duration> {
    history
        .iter()
        .filter_map(|h| h.detail.as_deref()?.split("retrying in ").nth(1))
        .filter_map(|rest| rest.strip_suffix(" ms")?.parse().ok())
        .map(Duration::from_millis)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_down_for_a_while_delays_sends_but_fails_none_and_sends_each_once() {
    let down_for = secs_from_env("FAULT_TWILIO_DOWN_SECS", 6.0);
    let seen = Seen::default();
    let port = free_port();
    // First half of the outage: Twilio answers, but 503 to everything.
    let failing = twilio_on(port, &seen, false).await;
    let uri = failing.uri();
    let app = spawn_app(&sending(&uri)).await;
    let outage = Instant::now();
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(queue(&app, i).await);
    }
    tokio::time::sleep(down_for / 2).await;
    let answered_503 = seen.all().len();
    assert!(answered_503 >= 10, "the mock saw {answered_503} tries");

    // Second half: nothing listens at all (connection refused); the API still queues.
    drop(failing);
    for i in 10..20 {
        ids.push(queue(&app, i).await);
    }
    tokio::time::sleep(down_for.saturating_sub(outage.elapsed())).await;
    let mut retried = 0;
    for id in &ids {
        let row = app.store.outbox_message(id).await.unwrap().unwrap();
        assert!(
            ["queued", "retrying", "sending"].contains(&row.status.as_str()),
            "{id} is {} after {} tries: a transient outage must not fail a send",
            row.status,
            row.attempts
        );
        retried += usize::from(row.attempts > 1);
    }
    assert!(retried >= 10, "only {retried} sends were retried");

    // Twilio is back on the same address: every send goes, once.
    let back = Instant::now();
    let _up = twilio_on(port, &seen, true).await;
    let mut rows = Vec::new();
    for id in &ids {
        let deadline = Instant::now() + Duration::from_secs(20);
        let row = loop {
            let row = app.store.outbox_message(id).await.unwrap().unwrap();
            if !["queued", "retrying", "sending"].contains(&row.status.as_str()) {
                break row;
            }
            assert!(Instant::now() < deadline, "still {row:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        rows.push(row);
    }
    let drained = back.elapsed();
    let seen = seen.all();
    let created: HashMap<&str, usize> =
        seen.iter()
            .filter(|s| s.1 == 201)
            .fold(HashMap::new(), |mut m, s| {
                *m.entry(s.0.as_str()).or_default() += 1;
                m
            });
    let mut sids = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.status, "sent", "{row:?}");
        let sid = row.message_sid.as_deref().expect("a sent row has its SID");
        assert!(sids.insert(sid), "{sid} recorded twice");
        let body = format!("msg {i}");
        assert_eq!(
            created.get(body.as_str()),
            Some(&1),
            "'{body}' must be created exactly once"
        );
    }
    assert_eq!(created.len(), ids.len(), "no other creates: {created:?}");

    // Backoff grew: each wait within its ceiling, later waits longer than the first ones.
    let mut by_try: Vec<Vec<Duration>> = Vec::new();
    for row in &rows {
        let waits = scheduled_waits(&app.store.outbox_history(row).await.unwrap());
        assert_eq!(waits.len() as i64, row.attempts - 1, "{row:?}");
        for (k, w) in waits.iter().enumerate() {
            let ceiling = BASE.saturating_mul(1 << k.min(20)).min(CAP);
            assert!(*w <= ceiling, "wait {} was {w:?} > {ceiling:?}", k + 1);
            by_try.resize_with(by_try.len().max(k + 1), Vec::new);
            by_try[k].push(*w);
        }
    }
    let mean = |ws: &[Duration]| ws.iter().sum::<Duration>() / ws.len().max(1) as u32;
    let later: Vec<Duration> = by_try.iter().skip(3).flatten().copied().collect();
    assert!(
        !later.is_empty() && mean(&later) > mean(&by_try[0]) * 2,
        "first waits average {:?}, fourth and later {:?}",
        mean(&by_try[0]),
        mean(&later)
    );
    // And no hot loop: tries bounded by the schedule (cap-sized waits average cap / 2).
    let most = rows.iter().map(|r| r.attempts).max().unwrap_or(0);
    let bound = 8 + 4 * (down_for.as_secs_f64() / CAP.as_secs_f64()).ceil() as i64;
    assert!(
        most <= bound,
        "a send was tried {most} times in {down_for:?}"
    );
    let failed_tries: i64 = rows.iter().map(|r| r.attempts - 1).sum();
    eprintln!(
        "{} sends, {failed_tries} failed tries during a {down_for:?} outage ({answered_503} \
         answered 503 in its first half), at most {most} tries per send; all sent {drained:?} \
         after Twilio came back",
        ids.len(),
    );
}
