//! The leak detector: every way a secret could show up in text, including pieces of it.
//!
//! A secret is found whole, as any 12-character piece (a truncated log line or error excerpt
//! still gives most of it away), and as any 16-character piece of its base64 at each of the
//! three byte alignments, which covers `Authorization: Basic base64(sid:token)` and a secret
//! embedded in any other base64 blob.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Shortest piece of a raw secret that counts as a leak.
const RAW_PIECE: usize = 12;
/// Shortest piece of a base64 encoding that counts (16 characters carry 12 bytes).
const B64_PIECE: usize = 16;

/// The secrets of one run, and where each piece of them came from.
#[derive(Default)]
pub struct Secrets {
    pieces: HashMap<usize, HashMap<Vec<u8>, String>>,
    whole: Vec<(String, String)>,
}

/// One place a secret was found.
#[derive(Debug)]
pub struct Leak {
    pub secret: String,
    pub source: String,
    pub line: String,
}

impl Secrets {
    /// Adds `value` under `name`: itself, its pieces and its base64 pieces.
    pub fn add(&mut self, name: &str, value: &str) {
        assert!(
            value.len() >= RAW_PIECE,
            "{name} is too short to tell apart from other text"
        );
        self.whole.push((name.to_owned(), value.to_owned()));
        self.add_pieces(name, value.as_bytes(), RAW_PIECE);
        for pad in 0..3 {
            let mut bytes = vec![b'A'; pad];
            bytes.extend_from_slice(value.as_bytes());
            let encoded = STANDARD.encode(&bytes);
            // The first group mixes in the padding bytes and the last may mix in whatever
            // follows the secret, so only the groups in between are the secret's own.
            let start = if pad == 0 { 0 } else { 4 };
            let core = &encoded.as_bytes()[start..encoded.len() - 4];
            self.add_pieces(&format!("{name} (base64)"), core, B64_PIECE);
        }
    }

    /// Adds the value of `Authorization: Basic` for `user:password`, whole.
    pub fn add_basic_auth(&mut self, name: &str, user: &str, password: &str) {
        let value = STANDARD.encode(format!("{user}:{password}"));
        self.whole
            .push((format!("{name} (Basic auth value)"), value));
    }

    fn add_pieces(&mut self, name: &str, text: &[u8], len: usize) {
        let by_len = self.pieces.entry(len).or_default();
        for piece in text.windows(len) {
            by_len.insert(piece.to_vec(), name.to_owned());
        }
    }

    /// Every leak in `text`, which came from `source`; one per line at most.
    pub fn find(&self, source: &str, text: &str) -> Vec<Leak> {
        let mut leaks = Vec::new();
        let mut seen_lines = HashSet::new();
        let mut report = |secret: &str, at: usize| {
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            if seen_lines.insert(start) {
                leaks.push(Leak {
                    secret: secret.to_owned(),
                    source: source.to_owned(),
                    line: text[start..end].chars().take(400).collect(),
                });
            }
        };
        for (name, value) in &self.whole {
            for (at, _) in text.match_indices(value.as_str()) {
                report(name, at);
            }
        }
        let bytes = text.as_bytes();
        for (len, pieces) in &self.pieces {
            for (at, window) in bytes.windows(*len).enumerate() {
                if let Some(name) = pieces.get(window)
                    && text.is_char_boundary(at)
                {
                    report(name, at);
                }
            }
        }
        leaks
    }
}

#[test]
fn finds_whole_secrets_pieces_and_base64() {
    let mut s = Secrets::default();
    let token = "7c0ffee5ec12e7d15ea5eba11ad0be42";
    s.add("token", token);
    s.add_basic_auth("token", "AC0123456789abcdef0123456789abcdef", token);
    let basic = STANDARD.encode(format!("AC0123456789abcdef0123456789abcdef:{token}"));
    let cut = &token[..14];
    for (text, found) in [
        (format!("x token={token} y"), true),
        (format!("error excerpt ending in {cut}…"), true),
        (format!("Authorization: Basic {basic}"), true),
        (format!("{}…", &basic[..70]), true),
        (format!("json: {}", STANDARD.encode(token)), true),
        ("nothing to see: 7c0ffee5ec1 here".to_owned(), false),
        (
            format!(
                "the SID alone: {}",
                STANDARD.encode("AC0123456789abcdef0123456789abcdef")
            ),
            false,
        ),
    ] {
        assert_eq!(!s.find("t", &text).is_empty(), found, "{text}");
    }
}
