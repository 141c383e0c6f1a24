//! `switchboard check` on a fixture set of broken templates: each kind of problem is found and
//! named with file and line, the exit status is non-zero, and the server refuses them too.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/check");
const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

/// Each fixture's problems: (line in voice.toml, part of the message).
const CASES: &[(&str, &[(usize, &str)])] = &[
    ("missing_target", &[(11, "menu 'billing' does not exist")]),
    (
        "unreachable_menu",
        &[(12, "menu 'orphan' is not reached from start menu 'main'")],
    ),
    ("duplicate_digit", &[(12, "duplicate key")]),
    (
        "duplicate_keyword",
        &[(16, "keyword 'sales' is already option 1's")],
    ),
    (
        "unset_env_number",
        &[(
            11,
            "environment variable CHECK_FIXTURE_UNSET_PHONE is not set",
        )],
    ),
    (
        "not_e164",
        &[(11, "'555-0100' is not a valid phone number")],
    ),
    (
        "impossible_number",
        &[(
            11,
            "'+15550100' is not a valid phone number: no such number in its country's numbering plan",
        )],
    ),
    (
        "prompt_too_long",
        &[(8, "prompt: 4200 characters, over Say's limit of 4000")],
    ),
    (
        "unknown_language",
        &[(8, "language 'fr' has no [languages.fr] table")],
    ),
    (
        "unknown_say_language",
        &[
            (
                8,
                "say_language 'tlh-QO' is not a language Twilio's Say speaks",
            ),
            (14, "language 'klingon' has no [languages.klingon] table"),
        ],
    ),
    (
        "bad_hours",
        &[(13, "'America/Atlantis' is not an IANA time zone")],
    ),
    ("dial_fallback", &[(13, "a fallback cannot dial")]),
];

/// A templates dir holding the fixture as voice.toml beside the shipped sms.toml.
fn templates_with(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(FIXTURES).join(format!("{fixture}.toml")),
        dir.path().join("voice.toml"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(SHIPPED).join("sms.toml"),
        dir.path().join("sms.toml"),
    )
    .unwrap();
    dir
}

fn check(dir: &Path) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["check", "--templates-dir"])
        .arg(dir)
        .env_remove("CHECK_FIXTURE_UNSET_PHONE")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_kind_of_broken_template_is_named_with_file_and_line() {
    for (fixture, wanted) in CASES {
        let dir = templates_with(fixture);
        let (ok, stderr) = check(dir.path());
        assert!(!ok, "{fixture}: check passed\n{stderr}");
        let n = wanted.len();
        let count = format!("{n} problem{} in templates", if n == 1 { "" } else { "s" });
        assert!(
            stderr.contains(&count),
            "{fixture}: wanted {count}\n{stderr}"
        );
        for (line, needle) in *wanted {
            let at = format!("voice.toml:{line}: ");
            assert!(
                stderr
                    .lines()
                    .any(|l| l.contains(&at) && l.contains(needle)),
                "{fixture}: wanted {at}...{needle}\n{stderr}"
            );
        }
    }
}

#[test]
fn every_fixture_is_in_the_table() {
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(f, _)| format!("{f}.toml")).collect();
    listed.sort();
    assert_eq!(names, listed);
}

#[test]
fn the_server_refuses_to_start_on_a_broken_template() {
    let dir = templates_with("dial_fallback");
    let out = Command::new(BIN)
        .env("TEMPLATES_DIR", dir.path())
        .env("PORT", "0")
        .env("DATABASE_URL", "sqlite::memory:")
        .env("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("voice.toml:13: dial: a fallback cannot dial"),
        "{stderr}"
    );
}

#[test]
fn shipped_templates_pass_and_graph_draws_them() {
    let (ok, stderr) = check(Path::new(SHIPPED));
    assert!(ok, "{stderr}");
    let out = Command::new(BIN)
        .args(["graph", "--templates-dir", SHIPPED])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mermaid = String::from_utf8_lossy(&out.stdout);
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    assert!(
        mermaid.contains("hours -- \"closed\" --> voicemail"),
        "{mermaid}"
    );
    let out = Command::new(BIN)
        .args(["graph", "--format", "dot", "--templates-dir", SHIPPED])
        .output()
        .unwrap();
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph switchboard {"), "{dot}");
    let out = Command::new(BIN)
        .args(["graph", "--format", "svg", "--templates-dir", SHIPPED])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown format is refused");
}
