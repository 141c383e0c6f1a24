//! Nothing acknowledged is lost: SIGKILL the server under concurrent signed /sms load, restart
//! it, and find every message that was answered 200 in the database.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use switchboard::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn start(db: &str, port: u16) -> Child {
    Command::new(BIN)
        .env_clear()
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", db)
        .env(
            "TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start switchboard")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_message() {
    let db = test_db().await;
    let port = free_port();
    let mut child = start(&db.url, port);
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;

    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for w in 0..32 {
        let (client, acked) = (client.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let sid = format!("SM{w:02}{i:030}");
                let sent = post_sms(&client, port, &sid, "durable?").await;
                match sent {
                    Ok(r) if r.status().is_success() => acked.lock().unwrap().push(sid),
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    // Let load build up, then kill without warning.
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    for w in workers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "only {} requests were answered before the kill",
        acked.len()
    );

    // Restart on the same database: it must come back, and hold every acknowledged message.
    let port = free_port();
    let mut again = start(&db.url, port);
    wait_ready(&client, port).await;
    let store = Store::connect(&db.url).await.unwrap();
    let mut lost = Vec::new();
    for sid in &acked {
        if store.inbound_message(sid).await.unwrap().is_none() {
            lost.push(sid.clone());
        }
    }
    let _ = again.kill();
    let _ = again.wait();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged messages lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    let stored = store.count_inbound_messages().await.unwrap();
    assert!(
        stored >= acked.len() as i64,
        "stored {stored} < acked {}",
        acked.len()
    );
}
