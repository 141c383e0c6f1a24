//! Soak: the release server under a steady mixed load of signed voice and SMS webhooks for a
//! bounded time on loopback, counting errors and watching its memory.
//!
//! `cargo bench --bench soak -- [SECONDS] [RATE]` (default 600 s at 2,000 requests/s). Every
//! request is new work (a new CallSid or MessageSid, committed before the answer), except menu
//! choices, which follow the calls. Prints the counts, latency percentiles, RSS and open
//! connections every minute, and exits 1 on any error or an RSS growth of 5% or more from the
//! end of the first minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use switchboard::signature::{Algorithm, compute};
use tokio::sync::{Mutex, Semaphore};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
/// In flight at once; past this the load generator is behind and says so.
const MAX_IN_FLIGHT: usize = 512;

#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    ok: AtomicU64,
    non_2xx: AtomicU64,
    errors: AtomicU64,
    late: AtomicU64,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Where the resident memory is: heap and stacks, mapped files (code, SQLite's shared memory).
fn rss_parts(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    format!(
        "anon {} file {} shmem {}",
        field("RssAnon:"),
        field("RssFile:"),
        field("RssShmem:")
    )
}

/// Established TCP connections to the server's port: its memory follows them, and the load
/// generator opens one whenever none is idle.
fn connections(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let local = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let mut f = l.split_whitespace().skip(1);
            let is_local = f.next().is_some_and(|a| a.ends_with(&local));
            is_local && f.nth(1) == Some("01")
        })
        .count()
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The n-th request of the mix: 40% new calls, 30% menu choices, 30% new messages.
fn request(base: &str, n: u64) -> (String, String, String) {
    let call = format!("CA{:032x}", n / 10 * 10);
    let (path, pairs): (String, Vec<(&str, String)>) = match n % 10 {
        0..=3 => (
            "/voice/incoming".into(),
            vec![
                ("CallSid", format!("CA{n:032x}")),
                ("CallStatus", "ringing".into()),
            ],
        ),
        4..=6 => (
            "/voice/menu-selection?menu=main&attempt=1&lang=en".into(),
            vec![
                ("CallSid", call),
                ("Digits", ["1", "2", "3", "8", "9"][(n % 5) as usize].into()),
            ],
        ),
        _ => (
            "/sms".into(),
            vec![
                ("MessageSid", format!("SM{n:032x}")),
                (
                    "Body",
                    ["HOURS", "hello", "ADDRESS"][(n % 3) as usize].into(),
                ),
                ("NumMedia", "0".into()),
            ],
        ),
    };
    let mut pairs: Vec<(&str, String)> = pairs;
    pairs.extend([
        ("AccountSid", "AC0123456789abcdef0123456789abcdef".into()),
        ("From", format!("+1415555{:04}", n % 10_000)),
        ("To", "+14155550000".into()),
        ("ApiVersion", "2010-04-01".into()),
    ]);
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = format!("{base}{path}");
    let mut sorted = borrowed.clone();
    sorted.sort_unstable();
    let sig = compute(Algorithm::HmacSha1, TOKEN.as_bytes(), &url, &sorted);
    (url, form(&borrowed), sig)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let secs: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(600);
    let rate: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", &base)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/soak.db", dir.path().display()),
        )
        .env(
            "TEMPLATES_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
        )
        .env("SWITCHBOARD_CLOCK", "2026-11-25T18:00:00Z")
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start the server");
    let pid = server.id();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(MAX_IN_FLIGHT)
        .build()
        .expect("client");
    let ready = Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(
            ready.elapsed() < Duration::from_secs(10),
            "server not ready"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let counts = Arc::new(Counts::default());
    let latencies = Arc::new(Mutex::new(Vec::<u32>::with_capacity(
        (secs * rate) as usize,
    )));
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut n, mut rss_first_minute, mut next_report) = (0u64, None, 60u64);
    println!("soak: {secs} s at {rate} requests/s against {base} (pid {pid})");
    while start.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        let due = start.elapsed().as_micros() as u64 * rate / 1_000_000;
        while n < due {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                counts.late.fetch_add(due - n, Ordering::Relaxed);
                n = due;
                break;
            };
            let (url, body, sig) = request(&base, n);
            let (client, counts, latencies) = (client.clone(), counts.clone(), latencies.clone());
            counts.sent.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let t = Instant::now();
                let r = client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", sig)
                    .body(body)
                    .send()
                    .await;
                let took = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        counts.ok.fetch_add(1, Ordering::Relaxed)
                    }
                    Ok(_) => counts.non_2xx.fetch_add(1, Ordering::Relaxed),
                    Err(_) => counts.errors.fetch_add(1, Ordering::Relaxed),
                };
                latencies.lock().await.push(took);
                drop(permit);
            });
            n += 1;
        }
        let elapsed = start.elapsed().as_secs();
        if elapsed >= next_report {
            let rss = rss_kib(pid);
            rss_first_minute = rss_first_minute.or(rss);
            println!(
                "{elapsed:>4} s: sent {} ok {} non-2xx {} errors {} late {} rss {} KiB ({}), {} connections",
                counts.sent.load(Ordering::Relaxed),
                counts.ok.load(Ordering::Relaxed),
                counts.non_2xx.load(Ordering::Relaxed),
                counts.errors.load(Ordering::Relaxed),
                counts.late.load(Ordering::Relaxed),
                rss.unwrap_or(0),
                rss_parts(pid),
                connections(port)
            );
            next_report += 60;
        }
    }
    let _ = permits.acquire_many(MAX_IN_FLIGHT as u32).await;
    let rss_end = rss_kib(pid).unwrap_or(0);
    let _ = server.kill();
    let _ = server.wait();

    let mut l = latencies.lock().await;
    l.sort_unstable();
    let first = rss_first_minute.unwrap_or(rss_end).max(1);
    let growth = (rss_end as f64 - first as f64) / first as f64 * 100.0;
    let bad = counts.non_2xx.load(Ordering::Relaxed) + counts.errors.load(Ordering::Relaxed);
    println!(
        "done: {} requests ({:.0}/s), {} ok, {} non-2xx, {} errors, {} late; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        counts.sent.load(Ordering::Relaxed),
        counts.sent.load(Ordering::Relaxed) as f64 / secs as f64,
        counts.ok.load(Ordering::Relaxed),
        counts.non_2xx.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed),
        counts.late.load(Ordering::Relaxed),
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        percentile(&l, 1.0),
    );
    println!("rss: {first} KiB after the first minute, {rss_end} KiB at the end ({growth:+.1}%)");
    if bad > 0 || growth >= 5.0 || counts.late.load(Ordering::Relaxed) > 0 {
        std::process::exit(1);
    }
}
