//! The commands that hold secrets, as an operator runs them with trace logging: `sign`,
//! `doctor`, `send`, `status`, `verify`, `numbers configure`, `healthcheck`, and start-up with a
//! malformed token; first against a Twilio that answers by recipient, then against one that
//! refuses the credentials outright.

use tokio::process::Command;

use super::twilio::{BROKEN, NUMBER, OK, THROTTLED, UNAUTHORIZED};
use super::{BIN, Seen};

struct Out {
    ok: bool,
    text: String,
}

async fn switchboard(env: &[(&'static str, String)], args: &[&str], seen: &mut Seen) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    seen.add(format!("switchboard {}", args.join(" ")), text.clone());
    Out {
        ok: out.status.success(),
        text,
    }
}

fn with(
    env: &[(&'static str, String)],
    extra: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    let mut env = env.to_vec();
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

/// Each command meets each kind of answer: success, a 401, a 429 and a 500 that echo the
/// credentials (sends to failing recipients are retried until given up, quickly).
pub async fn run(env: &[(&'static str, String)], seen: &mut Seen) {
    let url = "http://127.0.0.1:9/voice/incoming";
    for args in [
        vec!["sign", "--url", url, "CallSid=CA1", "From=+14155550100"],
        vec!["sign", "--curl", "--url", url, "CallSid=CA1", "Body=it's"],
    ] {
        let out = switchboard(env, &args, seen).await;
        assert!(out.ok, "{}", out.text);
    }
    let out = switchboard(env, &["sign", "--url", "ftp://x", "A=1"], seen).await;
    assert!(!out.ok);

    let site = with(env, &[("PUBLIC_URL", "https://abc.example")]);
    let out = switchboard(&site, &["doctor", "--number", NUMBER], seen).await;
    assert!(out.text.contains("ok   credentials"), "{}", out.text);

    let out = switchboard(env, &["send", "--to", OK, "--body", "hello"], seen).await;
    assert!(out.ok, "{}", out.text);
    let id = out
        .text
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .map(|s| s.trim().to_owned())
        .expect("send prints an id");
    let out = switchboard(env, &["status", &id, "--json"], seen).await;
    assert!(out.ok, "{}", out.text);
    for to in [UNAUTHORIZED, THROTTLED, BROKEN] {
        let out = switchboard(env, &["send", "--to", to, "--body", "hello"], seen).await;
        assert!(!out.ok, "a send to {to} fails: {}", out.text);
        if let Some(id) = out.text.lines().find_map(|l| l.strip_prefix("id:")) {
            switchboard(env, &["status", id.trim()], seen).await;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("to.csv");
    std::fs::write(&csv, format!("to\n{OK}\n{UNAUTHORIZED}\n{BROKEN}\n")).unwrap();
    let out = switchboard(
        env,
        &["send", "--csv", csv.to_str().unwrap(), "--body", "hi"],
        seen,
    )
    .await;
    assert!(!out.ok, "{}", out.text);

    for (args, ok) in [
        (vec!["verify", "start", "--to", OK], true),
        (vec!["verify", "start", "--to", UNAUTHORIZED], false),
        (vec!["verify", "start", "--to", THROTTLED], false),
        (vec!["verify", "start", "--to", BROKEN], false),
        (
            vec!["verify", "check", "--to", OK, "--code", "123456"],
            true,
        ),
        (
            vec!["verify", "check", "--to", OK, "--code", "000000"],
            false,
        ),
        (
            vec!["verify", "check", "--to", OK, "--code", "999999"],
            false,
        ),
    ] {
        let out = switchboard(env, &args, seen).await;
        assert_eq!(out.ok, ok, "{args:?}: {}", out.text);
    }
    let out = switchboard(
        env,
        &[
            "numbers",
            "configure",
            "--number",
            NUMBER,
            "--base-url",
            "https://abc.example",
        ],
        seen,
    )
    .await;
    assert!(out.ok, "{}", out.text);
    let out = switchboard(
        env,
        &["healthcheck", "--url", "http://127.0.0.1:9/healthz"],
        seen,
    )
    .await;
    assert!(!out.ok);

    // A token refused at start-up is named, never shown.
    let spaced = format!("{} {}", &super::TOKEN[..16], &super::TOKEN[16..]);
    let bad = with(env, &[("TWILIO_AUTH_TOKEN", &spaced), ("PORT", "1")]);
    for args in [
        vec!["serve"],
        vec!["sign", "--url", url, "A=1"],
        vec!["doctor"],
    ] {
        let out = switchboard(&bad, &args, seen).await;
        assert!(
            !out.ok && out.text.contains("TWILIO_AUTH_TOKEN: contains whitespace"),
            "{args:?}: {}",
            out.text
        );
    }
}

/// Every REST call answered 401 with the credentials echoed back.
pub async fn run_refused(env: &[(&'static str, String)], seen: &mut Seen) {
    let site = with(env, &[("PUBLIC_URL", "https://abc.example")]);
    for args in [
        vec!["doctor"],
        vec!["send", "--to", OK, "--body", "hello"],
        vec!["verify", "start", "--to", OK],
        vec!["verify", "check", "--to", OK, "--code", "123456"],
        vec!["numbers", "configure", "--number", NUMBER],
    ] {
        let out = switchboard(&site, &args, seen).await;
        assert!(!out.ok, "{args:?}: {}", out.text);
        assert!(
            out.text.contains("20003") || out.text.contains("401"),
            "{args:?}: {}",
            out.text
        );
    }
}
