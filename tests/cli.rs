//! The binary as a user meets it: `cargo run` with no environment, `sign`, `check`, bad config.

mod common;

use common::{free_port, wait_ready};

use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const TEMPLATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

/// A command with an empty environment, run in `dir`, as on a fresh machine.
fn bare(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

fn copy_templates(dir: &Path) {
    std::fs::create_dir(dir.join("templates")).unwrap();
    for f in ["voice.toml", "sms.toml"] {
        std::fs::copy(Path::new(TEMPLATES).join(f), dir.join("templates").join(f)).unwrap();
    }
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn fresh_machine_serves_in_local_mode_and_sign_drives_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_templates(dir.path());
    let port = free_port();
    let child = bare(dir.path())
        .env("PORT", port.to_string())
        .env("SWITCHBOARD_CLOCK", common::OPEN_HOURS)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Running(child);
    let client = reqwest::Client::new();
    wait_ready(&client, port).await;

    let token = dir.path().join(".switchboard/local-token");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&token).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let url = format!("http://127.0.0.1:{port}/voice/incoming");
    let out = bare(dir.path())
        .args(["sign", "--url", &url, "CallSid=CA123", "From=+14155550100"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sig = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(sig.len(), 28);

    let body = "CallSid=CA123&From=%2B14155550100";
    let send = |sig: Option<&str>| {
        let mut r = client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(s) = sig {
            r = r.header("x-twilio-signature", s);
        }
        r.send()
    };
    let r = send(Some(&sig)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<Gather action=\"/voice/menu-selection?menu=main")
    );
    assert_eq!(send(None).await.unwrap().status().as_u16(), 403);
}

#[test]
fn bad_environment_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    copy_templates(dir.path());
    for (var, value) in [
        ("PORT", "eighty"),
        ("PUBLIC_URL", "abc.ngrok.app"),
        ("TRUST_FORWARDED_HEADERS", "perhaps"),
    ] {
        let out = bare(dir.path())
            .env("TWILIO_AUTH_TOKEN", "x".repeat(32))
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("error: {var}:")), "{var}: {err}");
    }
}

#[test]
fn broken_template_stops_start_up_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_templates(dir.path());
    let voice = dir.path().join("templates/voice.toml");
    let shipped = std::fs::read_to_string(&voice).unwrap();
    let src = shipped.replace(
        "[menus.main.options.3]\naction = \"voicemail\"",
        "[menus.main.options.3]\naction = \"menu\"\nmenu = \"nowhere\"",
    );
    assert_ne!(
        src, shipped,
        "the test's edit no longer applies to the shipped template"
    );
    std::fs::write(&voice, src).unwrap();
    let out = bare(dir.path())
        .env("PORT", free_port().to_string())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("templates/voice.toml:") && err.contains("menu 'nowhere' does not exist"),
        "{err}"
    );

    let out = bare(dir.path()).arg("check").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("menu 'nowhere' does not exist"));
}

#[test]
fn check_passes_on_the_shipped_templates() {
    let out = Command::new(BIN)
        .args(["check", "--templates-dir", TEMPLATES])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn migrate_creates_the_schema_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    for _ in 0..2 {
        let out = bare(dir.path())
            .arg("migrate")
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("migrated sqlite://"));
    }
    let out = bare(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "postgres://u:secretpw@127.0.0.1:1/x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && !err.contains("secretpw"),
        "{err}"
    );
}
