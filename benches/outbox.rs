//! Outbox benchmarks against a local mock of Twilio's Messages API (no internet):
//!   throughput  N sends with pacing out of the way: sends per second, enqueue to last "sent"
//!   pacing      one sender at RATE/s for SECONDS: achieved rate and the largest burst
//! Run: `cargo bench --bench outbox -- throughput 20000` and `cargo bench --bench outbox -- pacing 20 30`
//! (pin to one core with `taskset -c 1 cargo bench ...` for the one-core figure).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use secrecy::SecretString;
use switchboard::outbox::pacing::Rates;
use switchboard::outbox::{Wakeup, Worker, WorkerConfig};
use switchboard::store::Store;
use switchboard::store::outbox::NewOutbound;
use switchboard::twilio::{ClientConfig, TwilioClient};

const SID: &str = "AC0123456789abcdef0123456789abcdef";

/// A mock Messages endpoint that records when each request arrived.
async fn mock() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let app = Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        post(move || {
            let seen = seen.clone();
            async move {
                if let Ok(mut a) = seen.lock() {
                    a.push(Instant::now());
                }
                (
                    axum::http::StatusCode::CREATED,
                    [("content-type", "application/json")],
                    r#"{"sid":"SM00000000000000000000000000000001","status":"queued","to":"+14155550100"}"#,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, arrivals)
}

async fn setup(rates: Rates) -> (Store, Wakeup, Arc<Mutex<Vec<Instant>>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await
    .expect("store");
    let (url, arrivals) = mock().await;
    let cfg = ClientConfig {
        api_base: url,
        ..ClientConfig::new(SID, SecretString::from("0123456789abcdef0123456789abcdef"))
    };
    let client = TwilioClient::new(cfg).expect("client");
    let wakeup = Wakeup::default();
    Worker::new(
        store.clone(),
        client,
        WorkerConfig {
            rates,
            status_callback: None,
            retry: Default::default(),
        },
    )
    .spawn(wakeup.clone());
    (store, wakeup, arrivals, dir)
}

fn message(i: usize, from: &str) -> NewOutbound {
    NewOutbound {
        to: format!("+1415{:07}", 5_000_000 + i % 1_000_000),
        from: Some(from.to_owned()),
        messaging_service_sid: None,
        body: Some("Your order has shipped.".into()),
        media_urls: vec![],
        status_callback: None,
        segments: 1,
    }
}

async fn throughput(n: usize) {
    let (store, wakeup, arrivals, _dir) = setup(Rates {
        per_sender: 1e5,
        per_account: 1e5,
    })
    .await;
    // Many senders, as a bulk send through a pool of numbers would look.
    let start = Instant::now();
    let mut enqueues = Vec::with_capacity(n);
    for i in 0..n {
        let store = store.clone();
        enqueues.push(tokio::spawn(async move {
            store
                .enqueue(message(i, &format!("+1500555{:04}", i % 100)))
                .await
        }));
    }
    for e in enqueues {
        e.await.expect("join").expect("enqueue");
    }
    let accepted = start.elapsed();
    wakeup.wake();
    while store.outbox_pending().await.expect("pending") > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = start.elapsed();
    let a = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    let sending = match (a.first(), a.last()) {
        (Some(f), Some(l)) => l.duration_since(*f).as_secs_f64(),
        _ => f64::NAN,
    };
    println!(
        "throughput: {n} sends accepted in {:.2} s ({:.0}/s); sending, first to last request at the mock: {:.2} s = {:.0} sends/s; \
         accept to last sent: {:.2} s = {:.0} sends/s ({} requests at the mock)",
        accepted.as_secs_f64(),
        n as f64 / accepted.as_secs_f64(),
        sending,
        a.len() as f64 / sending,
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        a.len()
    );
}

async fn pacing(rate: f64, seconds: f64) {
    let (store, wakeup, arrivals, _dir) = setup(Rates {
        per_sender: rate,
        per_account: 1e5,
    })
    .await;
    let n = (rate * seconds) as usize + 1;
    for i in 0..n {
        store
            .enqueue(message(i, "+15005550006"))
            .await
            .expect("enqueue");
    }
    wakeup.wake();
    while store.outbox_pending().await.expect("pending") > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    let span = a[a.len() - 1].duration_since(a[0]).as_secs_f64();
    let achieved = (a.len() - 1) as f64 / span;
    let min_gap = a
        .windows(2)
        .map(|w| w[1].duration_since(w[0]))
        .min()
        .unwrap_or_default();
    // The most requests seen in any one-second window, against the allowed `rate` (+1 for the edge).
    let mut most = 0;
    let mut lo = 0;
    for hi in 0..a.len() {
        while a[hi].duration_since(a[lo]) >= Duration::from_secs(1) {
            lo += 1;
        }
        most = most.max(hi - lo + 1);
    }
    println!(
        "pacing: target {rate}/s for {seconds} s: {} sends in {span:.2} s = {achieved:.3}/s ({:+.2}% off target); \
         smallest gap {:.1} ms (target {:.1} ms); most in any 1 s window: {most}",
        a.len(),
        (achieved / rate - 1.0) * 100.0,
        min_gap.as_secs_f64() * 1e3,
        1e3 / rate
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    match args.first().map(String::as_str) {
        Some("pacing") => {
            let rate = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(20.0);
            let secs = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30.0);
            rt.block_on(pacing(rate, secs));
        }
        Some("throughput") | None => {
            let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
            rt.block_on(throughput(n));
        }
        Some(other) => {
            eprintln!("unknown benchmark '{other}': throughput [N] or pacing [RATE] [SECONDS]")
        }
    }
}
