//! The server under real signals: SIGHUP reloads templates (keeping the old ones when the new
//! are broken), SIGTERM stops it cleanly with nothing acknowledged lost; /readyz answers.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

fn start(dir: &Path, db: &str, port: u16) -> Child {
    Command::new(BIN)
        .env_clear()
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", db)
        .env("TEMPLATES_DIR", dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

async fn sms(client: &reqwest::Client, port: u16, sid: &str, body: &str) -> (u16, String) {
    let r = post_sms(client, port, sid, body).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_templates_and_keeps_the_old_ones_when_broken() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["voice.toml", "sms.toml"] {
        std::fs::copy(Path::new(TEMPLATES).join(f), dir.path().join(f)).unwrap();
    }
    let db = test_db().await;
    let port = free_port();
    let mut child = start(dir.path(), &db.url, port);
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;
    assert!(
        sms(&client, port, "SM1", "hi")
            .await
            .1
            .contains("Thank you for your response!")
    );

    let path = dir.path().join("sms.toml");
    let src = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        src.replace("Thank you for your response!", "Reloaded reply."),
    )
    .unwrap();
    signal(&child, "-HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    loop {
        n += 1;
        if sms(&client, port, &format!("SM2-{n}"), "hi")
            .await
            .1
            .contains("Reloaded reply.")
        {
            break;
        }
        assert!(Instant::now() < deadline, "the reload never took effect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    std::fs::write(&path, "help_reply = ").unwrap();
    signal(&child, "-HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, reply) = sms(&client, port, "SM3", "hi").await;
    assert_eq!(status, 200);
    assert!(
        reply.contains("Reloaded reply."),
        "a broken reload keeps the old templates: {reply}"
    );
    assert!(child.try_wait().unwrap().is_none(), "still running");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_and_loses_nothing_acknowledged() {
    let db = test_db().await;
    let port = free_port();
    let mut child = start(Path::new(TEMPLATES), &db.url, port);
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;

    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..16 {
        let (client, acked) = (client.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let sid = format!("SMterm{w:02}{i:06}");
                let sent = post_sms(&client, port, &sid, "bye?").await;
                match sent {
                    Ok(r) if r.status().is_success() => acked.lock().unwrap().push(sid),
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    signal(&child, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "did not stop within 15 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status:?}");
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    let store = switchboard::store::Store::connect(&db.url).await.unwrap();
    for sid in &acked {
        assert!(
            store.inbound_message(sid).await.unwrap().is_some(),
            "{sid} acknowledged but not stored"
        );
    }
}

#[tokio::test]
async fn readyz_reports_the_database() {
    let app = spawn_app(&[]).await;
    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap().as_str()),
        (200, "ready\n")
    );
}
