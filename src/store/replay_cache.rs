//! Answers to recently committed webhooks, kept in memory so a replay of one (Twilio's retries
//! carry the same idempotency token) is answered without a database round trip.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use bytes::Bytes;

/// Bytes of keys and answers remembered; the oldest is forgotten first. A forgotten key is still
/// found in the database, so this bounds memory, not correctness. Twilio retries within seconds,
/// so a few thousand recent answers is all that is ever hit.
const CAPACITY_BYTES: usize = 1 << 20;

#[derive(Default)]
pub struct ReplayCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Shared bytes, so answering a replay copies nothing.
    answers: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl ReplayCache {
    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.inner.lock().ok()?.answers.get(key).cloned()
    }

    /// Remembers a committed answer (only ever called after its commit).
    pub fn put(&self, key: &str, answer: &str) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.answers.contains_key(key) {
            return;
        }
        let size = 2 * key.len() + answer.len();
        while inner.bytes + size > CAPACITY_BYTES {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(a) = inner.answers.remove(&old) {
                inner.bytes -= 2 * old.len() + a.len();
            }
        }
        inner.bytes += size;
        inner.order.push_back(key.to_owned());
        inner
            .answers
            .insert(key.to_owned(), Bytes::copy_from_slice(answer.as_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_forgets_the_oldest() {
        let c = ReplayCache::default();
        c.put("a", "1");
        c.put("a", "2");
        assert_eq!(
            c.get("a").as_deref(),
            Some(&b"1"[..]),
            "the first committed answer stays"
        );
        let answer = "x".repeat(1000);
        let n = CAPACITY_BYTES / 1000;
        for i in 0..n {
            c.put(&i.to_string(), &answer);
        }
        assert_eq!(c.get("a"), None);
        assert_eq!(
            c.get(&(n - 1).to_string()).as_deref(),
            Some(answer.as_bytes())
        );
        let inner = c.inner.lock().unwrap();
        assert!(inner.bytes <= CAPACITY_BYTES, "{}", inner.bytes);
        let counted: usize = inner
            .answers
            .iter()
            .map(|(k, v)| 2 * k.len() + v.len())
            .sum();
        assert_eq!(inner.bytes, counted);
    }
}
