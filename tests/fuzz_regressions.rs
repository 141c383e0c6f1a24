//! The fuzz targets' properties under stable `cargo test`: every seed and every saved crash in
//! `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` replayed through the same checks the
//! fuzzer runs (`fuzz/checks/`), and a few hundred random inputs per target besides.

#[path = "../fuzz/checks/mod.rs"]
mod checks;

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

type Check = fn(&[u8]);

/// Runs `check` on every file under `fuzz/{seeds,regressions}/<target>/`; names each input
/// that fails rather than stopping at the first.
fn replay(target: &str, check: Check) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seeds = 0;
    let mut failed: Vec<PathBuf> = Vec::new();
    for dir in ["seeds", "regressions"] {
        // regressions/<target>/ exists only once the fuzzer has found something there.
        let Ok(entries) = fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable directory").path();
            let data = fs::read(&path).expect("a readable input");
            seeds += usize::from(dir == "seeds");
            if panic::catch_unwind(|| check(&data)).is_err() {
                failed.push(path);
            }
        }
    }
    assert!(seeds > 0, "no seeds in fuzz/seeds/{target}/");
    assert!(failed.is_empty(), "{target} fails on {failed:#?}");
}

#[test]
fn signature_inputs() {
    replay("signature", checks::signature::check);
}

#[test]
fn form_inputs() {
    replay("form", checks::form::check);
}

#[test]
fn twiml_inputs() {
    replay("twiml", checks::twiml::check);
}

#[test]
fn templates_inputs() {
    replay("templates", checks::templates::check);
}

/// The shipped voice.toml with a few bytes changed: random bytes alone are almost never TOML,
/// so they would only ever test the syntax error path.
fn edited_voice_toml() -> impl Strategy<Value = Vec<u8>> {
    let voice = include_bytes!("../templates/voice.toml").to_vec();
    let len = voice.len();
    let edits = prop::collection::vec((0..len, any::<u8>(), 0..3usize), 1..6);
    edits.prop_map(move |edits| {
        let mut text = voice.clone();
        for (at, byte, how) in edits {
            let at = at.min(text.len());
            match how {
                0 => text.insert(at, byte),
                1 if at < text.len() => {
                    text.remove(at);
                }
                _ if at < text.len() => text[at] = byte,
                _ => text.push(byte),
            }
        }
        text
    })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..1024)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn signature_random(data in bytes()) {
        checks::signature::check(&data);
    }

    #[test]
    fn form_random(data in bytes()) {
        checks::form::check(&data);
    }

    #[test]
    fn twiml_random(data in bytes()) {
        checks::twiml::check(&data);
    }

    #[test]
    fn templates_random(data in edited_voice_toml()) {
        checks::templates::check(&data);
    }
}
