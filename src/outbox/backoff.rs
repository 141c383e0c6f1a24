//! When to try a transient failure again: exponential backoff with full jitter, and when to
//! stop trying.

use std::time::Duration;

/// First retry waits up to this long (`OUTBOX_RETRY_BASE`).
pub const BASE: Duration = Duration::from_millis(500);
/// No wait is longer than this (unless Twilio's Retry-After asks for more) (`OUTBOX_RETRY_CAP`).
pub const CAP: Duration = Duration::from_secs(300);
/// Sends are tried at least this many times before the message is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// ... and for at least this long after they were accepted (`OUTBOX_RETRY_FOR`). Eight jittered
/// tries alone span about 30 s on average, so a one-minute Twilio outage would fail nearly every
/// send; an hour-long incident only delays them.
pub const RETRY_FOR: Duration = Duration::from_secs(60 * 60);

/// The retry schedule of the outbox worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub base: Duration,
    pub cap: Duration,
    pub max_attempts: i64,
    pub retry_for: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            base: BASE,
            cap: CAP,
            max_attempts: MAX_ATTEMPTS,
            retry_for: RETRY_FOR,
        }
    }
}

impl Policy {
    /// The wait before attempt `attempt + 1`, after `attempt` failed tries (1-based). Full
    /// jitter (a uniform draw in 0..=min(cap, base * 2^(attempt-1))) spreads retries from many
    /// senders so they don't hit Twilio together; `unit` is that draw in [0, 1). A Retry-After
    /// from Twilio is honoured as a floor.
    pub fn delay(&self, attempt: i64, retry_after: Option<Duration>, unit: f64) -> Duration {
        let exp = attempt.clamp(1, 32) - 1;
        let ceiling = self
            .base
            .checked_mul(1u32 << exp.min(31))
            .map_or(self.cap, |d| d.min(self.cap));
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let jittered = ceiling.mul_f64(unit);
        match retry_after {
            Some(r) if r > jittered => r,
            _ => jittered,
        }
    }

    /// Whether a transient failure after `attempts` tries, `age` after the send was accepted,
    /// is final: only once both the tries and the time are used up.
    pub fn gives_up(&self, attempts: i64, age: Duration) -> bool {
        attempts >= self.max_attempts && age >= self.retry_for
    }
}

/// A uniform draw in [0, 1) for [`Policy::delay`].
pub fn random_unit() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delay(attempt: i64, retry_after: Option<Duration>, unit: f64) -> Duration {
        Policy::default().delay(attempt, retry_after, unit)
    }

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let almost_one = 0.999_999;
        assert!(delay(1, None, almost_one) <= BASE);
        assert!(delay(2, None, almost_one) > BASE);
        assert!(delay(2, None, almost_one) <= BASE * 2);
        assert!(delay(4, None, almost_one) <= BASE * 8);
        assert!(delay(30, None, almost_one) <= CAP);
        assert!(delay(30, None, almost_one) > CAP.mul_f64(0.99));
        assert_eq!(delay(3, None, 0.0), Duration::ZERO);
    }

    #[test]
    fn full_jitter_spans_the_whole_range() {
        assert_eq!(delay(3, None, 0.5), BASE * 2);
    }

    #[test]
    fn retry_after_is_a_floor() {
        let r = Duration::from_secs(7);
        assert_eq!(delay(1, Some(r), 0.5), r);
        assert_eq!(delay(30, Some(r), 1.0), CAP);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for a in [-5, 0, 1, 63, 64, i64::MAX] {
            let _ = delay(a, None, f64::NAN);
            let _ = delay(a, Some(Duration::MAX), 2.0);
        }
    }

    #[test]
    fn a_minute_long_outage_fails_nothing_even_with_the_longest_waits() {
        // The worst case for the old count-only rule: every draw at its ceiling still used up
        // eight tries within 64 s.
        let p = Policy::default();
        let spent: Duration = (1..p.max_attempts).map(|a| p.delay(a, None, 1.0)).sum();
        assert!(spent < Duration::from_secs(65), "{spent:?}");
        assert!(!p.gives_up(p.max_attempts, spent));
        assert!(!p.gives_up(p.max_attempts, Duration::from_secs(59 * 60)));
        assert!(p.gives_up(p.max_attempts, RETRY_FOR));
        assert!(
            !p.gives_up(p.max_attempts - 1, RETRY_FOR * 2),
            "tries count too"
        );
    }

    #[test]
    fn a_custom_base_and_cap_shape_the_schedule() {
        let p = Policy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(250),
            ..Policy::default()
        };
        assert_eq!(p.delay(1, None, 1.0), Duration::from_millis(100));
        assert_eq!(p.delay(2, None, 1.0), Duration::from_millis(200));
        assert_eq!(p.delay(3, None, 1.0), Duration::from_millis(250));
    }
}
