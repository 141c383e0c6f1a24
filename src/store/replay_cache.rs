//! Answers to recently committed webhooks, kept in memory so a replay of one (Twilio's retries
//! carry the same idempotency token) is answered without a database round trip.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Keys remembered; the oldest is forgotten first. A forgotten key is still found in the
/// database, so this bounds memory, not correctness.
const CAPACITY: usize = 16_384;

#[derive(Default)]
pub struct ReplayCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    answers: HashMap<String, String>,
    order: VecDeque<String>,
}

impl ReplayCache {
    pub fn get(&self, key: &str) -> Option<String> {
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
        if inner.order.len() >= CAPACITY
            && let Some(old) = inner.order.pop_front()
        {
            inner.answers.remove(&old);
        }
        inner.order.push_back(key.to_owned());
        inner.answers.insert(key.to_owned(), answer.to_owned());
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
            Some("1"),
            "the first committed answer stays"
        );
        for i in 0..CAPACITY {
            c.put(&i.to_string(), "x");
        }
        assert_eq!(c.get("a"), None);
        assert_eq!(c.get(&(CAPACITY - 1).to_string()).as_deref(), Some("x"));
    }
}
