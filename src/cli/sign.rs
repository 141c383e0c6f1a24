//! `switchboard sign`: the signature Twilio would send, so a user can drive the server with curl.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, ServeArgs};
use crate::signature::{Algorithm, compute};

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The full URL Twilio requests, e.g. http://127.0.0.1:3000/voice/incoming
    #[arg(long)]
    url: String,
    /// Form parameters as name=value (repeat a name for several values)
    #[arg(value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Print a ready-to-run curl command instead of the bare signature
    #[arg(long)]
    curl: bool,
    /// Directory of the local-mode token (default .switchboard) [env: SWITCHBOARD_STATE_DIR]
    #[arg(long, hide = true)]
    state_dir: Option<PathBuf>,
}

pub fn run(args: &SignArgs) -> Result<(), String> {
    let out = signature_for(args, |name| std::env::var(name).ok())?;
    println!("{out}");
    Ok(())
}

/// The token the server would use: `TWILIO_AUTH_TOKEN`, else the local-mode token file in
/// `state_dir` (by default `SWITCHBOARD_STATE_DIR`, else `.switchboard`).
pub(super) fn auth_token(
    state_dir: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<SecretString, String> {
    let state_dir = state_dir.map(|d| d.to_string_lossy().into_owned());
    let config = Config::from_sources(&ServeArgs::default(), |name| match name {
        "SWITCHBOARD_STATE_DIR" if state_dir.is_some() => state_dir.clone(),
        "TWILIO_AUTH_TOKEN" | "SWITCHBOARD_STATE_DIR" => env(name),
        _ => None,
    })
    .map_err(|e| e.to_string())?;
    Ok(config.auth_token)
}

/// Uses the same token the server would.
fn signature_for(args: &SignArgs, env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    if !args.url.starts_with("http://") && !args.url.starts_with("https://") {
        return Err(format!(
            "--url '{}' must start with http:// or https://",
            args.url
        ));
    }
    let mut pairs = Vec::with_capacity(args.params.len());
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("parameter '{p}' is not NAME=VALUE"))?;
        pairs.push((k, v));
    }
    let token = auth_token(args.state_dir.as_deref(), env)?;
    let mut sorted = pairs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    let key = token.expose_secret().as_bytes();
    let sig = compute(Algorithm::HmacSha1, key, &args.url, &sorted);
    if !args.curl {
        return Ok(sig);
    }
    let mut cmd = format!(
        "curl -sS -X POST '{}' -H 'X-Twilio-Signature: {sig}'",
        args.url
    );
    for (k, v) in &pairs {
        cmd.push_str(&format!(
            " --data-urlencode '{k}={}'",
            v.replace('\'', r"'\''")
        ));
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(url: &str, params: &[&str]) -> SignArgs {
        SignArgs {
            url: url.into(),
            params: params.iter().map(|s| s.to_string()).collect(),
            curl: false,
            state_dir: None,
        }
    }

    #[test]
    fn matches_twilio_reference_vector() {
        // signature.md vector #1, token 12345.
        let a = args(
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &[
                "CallSid=CA1234567890ABCDE",
                "Caller=+14158675309",
                "Digits=1234",
                "From=+14158675309",
                "To=+18005551212",
            ],
        );
        let sig =
            signature_for(&a, |k| (k == "TWILIO_AUTH_TOKEN").then(|| "12345".into())).unwrap();
        assert_eq!(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    #[test]
    fn repeated_values_are_sorted_and_deduplicated() {
        // signature.md vector #7.
        let a = args(
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &[
                "Sid=CA123",
                "SidAccount=AC123",
                "Digits=5678",
                "Digits=1234",
                "Digits=1234",
            ],
        );
        let sig =
            signature_for(&a, |k| (k == "TWILIO_AUTH_TOKEN").then(|| "12345".into())).unwrap();
        assert_eq!(sig, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn bad_arguments_are_named() {
        let env = |k: &str| (k == "TWILIO_AUTH_TOKEN").then(|| "12345".into());
        assert!(
            signature_for(&args("localhost/x", &[]), env)
                .unwrap_err()
                .contains("--url")
        );
        assert!(
            signature_for(&args("http://h/x", &["Digits"]), env)
                .unwrap_err()
                .contains("'Digits'")
        );
    }

    #[test]
    fn curl_form_quotes_values() {
        let mut a = args("http://h/sms", &["Body=it's"]);
        a.curl = true;
        let cmd =
            signature_for(&a, |k| (k == "TWILIO_AUTH_TOKEN").then(|| "12345".into())).unwrap();
        assert!(
            cmd.starts_with("curl -sS -X POST 'http://h/sms' -H 'X-Twilio-Signature: "),
            "{cmd}"
        );
        assert!(cmd.ends_with(r"--data-urlencode 'Body=it'\''s'"), "{cmd}");
    }
}
