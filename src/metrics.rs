//! Counters and the latency histogram behind GET /metrics, in Prometheus text format.
//!
//! One process-wide registry, because the layers, handlers and the outbox worker all count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub mod layer;

/// Upper bounds of the webhook latency buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    /// route -> status -> count; nested so a lookup borrows the route instead of allocating.
    requests: Mutex<BTreeMap<String, BTreeMap<u16, u64>>>,
    signature_failures: Mutex<BTreeMap<&'static str, u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    send_attempts: AtomicU64,
    send_retries: AtomicU64,
    send_failures: Mutex<BTreeMap<String, u64>>,
}

pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut m) = map.lock() {
        *m.entry(key).or_insert(0) += 1;
    }
}

impl Metrics {
    /// One answered request: its route pattern (not the raw path, to bound the label set).
    pub fn request(&self, route: &str, status: u16, elapsed: Duration, webhook: bool) {
        if let Ok(mut m) = self.requests.lock() {
            if !m.contains_key(route) {
                m.insert(route.to_owned(), BTreeMap::new());
            }
            if let Some(by_status) = m.get_mut(route) {
                *by_status.entry(status).or_insert(0) += 1;
            }
        }
        if webhook {
            let secs = elapsed.as_secs_f64();
            // One count per request, in its own bucket; `render` sums them into Prometheus's
            // cumulative buckets.
            if let Some(i) = BUCKETS.iter().position(|le| secs <= *le) {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
            self.latency_count.fetch_add(1, Ordering::Relaxed);
            self.latency_sum_micros
                .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        }
    }

    pub fn signature_failure(&self, cause: &'static str) {
        bump(&self.signature_failures, cause);
    }

    pub fn send_attempt(&self) {
        self.send_attempts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn send_retry(&self) {
        self.send_retries.fetch_add(1, Ordering::Relaxed);
    }

    /// A send given up on; `code` is Twilio's error code, or the kind of failure.
    pub fn send_failure(&self, code: String) {
        bump(&self.send_failures, code);
    }

    /// The Prometheus text exposition, with the outbox depth read at scrape time.
    pub fn render(&self, outbox_depth: Option<i64>) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str(
            "# HELP switchboard_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE switchboard_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for (route, by_status) in m.iter() {
                for (status, n) in by_status {
                    let _ = writeln!(
                        out,
                        "switchboard_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP switchboard_signature_failures_total Webhooks refused by the signature layer, by cause.\n");
        out.push_str("# TYPE switchboard_signature_failures_total counter\n");
        if let Ok(m) = self.signature_failures.lock() {
            for (cause, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "switchboard_signature_failures_total{{cause=\"{cause}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP switchboard_webhook_seconds Time to answer a webhook.\n");
        out.push_str("# TYPE switchboard_webhook_seconds histogram\n");
        let mut n = 0;
        for (i, le) in BUCKETS.iter().enumerate() {
            n += self.latency_buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "switchboard_webhook_seconds_bucket{{le=\"{le}\"}} {n}");
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "switchboard_webhook_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "switchboard_webhook_seconds_sum {sum}");
        let _ = writeln!(out, "switchboard_webhook_seconds_count {count}");
        if let Some(depth) = outbox_depth {
            out.push_str("# HELP switchboard_outbox_depth Sends queued, retrying or being sent.\n");
            out.push_str("# TYPE switchboard_outbox_depth gauge\n");
            let _ = writeln!(out, "switchboard_outbox_depth {depth}");
        }
        out.push_str("# HELP switchboard_send_attempts_total Calls to Twilio's Messages API.\n");
        out.push_str("# TYPE switchboard_send_attempts_total counter\n");
        let _ = writeln!(
            out,
            "switchboard_send_attempts_total {}",
            self.send_attempts.load(Ordering::Relaxed)
        );
        out.push_str("# HELP switchboard_send_retries_total Sends scheduled again after a transient failure.\n");
        out.push_str("# TYPE switchboard_send_retries_total counter\n");
        let _ = writeln!(
            out,
            "switchboard_send_retries_total {}",
            self.send_retries.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP switchboard_send_failures_total Sends given up on, by Twilio error code.\n",
        );
        out.push_str("# TYPE switchboard_send_failures_total counter\n");
        if let Ok(m) = self.send_failures.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "switchboard_send_failures_total{{code=\"{code}\"}} {n}"
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request("/sms", 200, Duration::from_micros(700), true);
        m.request("/sms", 200, Duration::from_millis(30), true);
        m.request("/healthz", 200, Duration::from_micros(10), false);
        m.signature_failure("bad_signature");
        m.send_attempt();
        m.send_retry();
        m.send_failure("21211".into());
        let text = m.render(Some(3));
        for line in [
            "switchboard_requests_total{route=\"/sms\",status=\"200\"} 2",
            "switchboard_requests_total{route=\"/healthz\",status=\"200\"} 1",
            "switchboard_signature_failures_total{cause=\"bad_signature\"} 1",
            "switchboard_webhook_seconds_bucket{le=\"0.0005\"} 0",
            "switchboard_webhook_seconds_bucket{le=\"0.001\"} 1",
            "switchboard_webhook_seconds_bucket{le=\"0.05\"} 2",
            "switchboard_webhook_seconds_bucket{le=\"+Inf\"} 2",
            "switchboard_webhook_seconds_count 2",
            "switchboard_outbox_depth 3",
            "switchboard_send_attempts_total 1",
            "switchboard_send_retries_total 1",
            "switchboard_send_failures_total{code=\"21211\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }
}
