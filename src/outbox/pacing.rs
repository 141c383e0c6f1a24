//! Pacing: messages per second per sender and per account, with `governor`, never bursting.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// Rates, in messages per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// One sender (a number or Messaging Service); a US long code sends 1 segment per second.
    pub per_sender: f64,
    /// The whole account.
    pub per_account: f64,
}

impl Default for Rates {
    fn default() -> Rates {
        Rates {
            per_sender: 1.0,
            per_account: 80.0,
        }
    }
}

/// `None` for an infinite rate: no limiter at all, as in the unthrottled benchmark.
#[derive(Clone)]
pub struct Pacer {
    senders: Option<Arc<RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>>>,
    account: Option<Arc<RateLimiter<NotKeyed, InMemoryState, DefaultClock>>>,
}

/// A burst of one: the n-th send may go at n/rate seconds, never earlier.
fn quota(per_second: f64) -> Quota {
    let per_second = if per_second.is_finite() && per_second > 0.0 {
        per_second
    } else {
        1.0
    };
    let period = std::time::Duration::from_secs_f64(1.0 / per_second);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN)
}

impl Pacer {
    pub fn new(rates: Rates) -> Pacer {
        let limited = |r: f64| r != f64::INFINITY;
        Pacer {
            senders: limited(rates.per_sender)
                .then(|| Arc::new(RateLimiter::keyed(quota(rates.per_sender)))),
            account: limited(rates.per_account)
                .then(|| Arc::new(RateLimiter::direct(quota(rates.per_account)))),
        }
    }

    /// Waits until `sender` may send one message, then takes that turn.
    pub async fn wait(&self, sender: &str) {
        if let Some(s) = &self.senders {
            s.until_key_ready(&sender.to_owned()).await;
        }
        if let Some(a) = &self.account {
            a.until_ready().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn bad_rates_fall_back_to_one_per_second() {
        let _ = quota(0.0);
        let _ = quota(f64::NAN);
        let _ = quota(-3.0);
        let _ = quota(1e12);
    }

    #[tokio::test]
    async fn a_sender_is_paced_never_early() {
        let p = Pacer::new(Rates {
            per_sender: 20.0,
            per_account: 1000.0,
        });
        let start = Instant::now();
        for _ in 0..5 {
            p.wait("+14155550100").await;
        }
        // 5 turns at 20/s: the first is free, the next four need 4 x 50 ms.
        // A lower bound only: pacing may never let a sender go early (speed is for benches).
        assert!(
            start.elapsed() >= Duration::from_millis(190),
            "{:?}",
            start.elapsed()
        );
    }
}
