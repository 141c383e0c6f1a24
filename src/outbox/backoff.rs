//! When to try a transient failure again: exponential backoff with full jitter.

use std::time::Duration;

/// First retry waits up to this long.
pub const BASE: Duration = Duration::from_millis(500);
/// No wait is longer than this (unless Twilio's Retry-After asks for more).
pub const CAP: Duration = Duration::from_secs(300);
/// Sends tried at most this many times before the message is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// The wait before attempt `attempt + 1`, after `attempt` failed tries (1-based). Full jitter
/// (a uniform draw in 0..=min(CAP, BASE * 2^(attempt-1))) spreads retries from many senders so
/// they don't hit Twilio together; `unit` is that draw in [0, 1). A Retry-After from Twilio
/// is honoured as a floor.
pub fn delay(attempt: i64, retry_after: Option<Duration>, unit: f64) -> Duration {
    let exp = attempt.clamp(1, 32) - 1;
    let ceiling = BASE
        .checked_mul(1u32 << exp.min(31))
        .map_or(CAP, |d| d.min(CAP));
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

/// A uniform draw in [0, 1) for [`delay`].
pub fn random_unit() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
