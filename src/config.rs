//! The typed configuration: flags over environment over `.env` over defaults, validated once at start.

use std::net::IpAddr;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use crate::local_token;

/// Where the Auth Token that checks signatures came from; local mode is reported at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Environment,
    LocalFile(PathBuf),
}

/// A Twilio shared key for the HMAC-SHA256 webhook signing scheme (public beta).
#[derive(Clone)]
pub struct SharedKey {
    pub id: String,
    pub secret: SecretString,
}

impl std::fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedKey")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the server needs, validated. `Debug` never shows a secret (secrecy redacts them).
#[derive(Debug, Clone)]
pub struct Config {
    pub auth_token: SecretString,
    pub token_source: TokenSource,
    pub account_sid: Option<String>,
    pub shared_key: Option<SharedKey>,
    /// The base URL Twilio calls, without a trailing slash, e.g. `https://abc.ngrok.app`.
    pub public_url: Option<String>,
    pub port: u16,
    pub bind: IpAddr,
    pub templates_dir: PathBuf,
    pub trust_forwarded_headers: bool,
    pub log_format: LogFormat,
    /// `sqlite://FILE` (default `sqlite://switchboard.db`) or `postgres://...`; may hold a password.
    pub database_url: SecretString,
    pub outbound: Outbound,
    /// A webhook not answered by then gets fallback TwiML (`WEBHOOK_DEADLINE_MS`).
    pub webhook_deadline: std::time::Duration,
    /// Open connections and idle time (`MAX_CONNECTIONS`, `IDLE_TIMEOUT_SECS`).
    pub limits: crate::serve::Limits,
    /// A fixed instant (unix ms) the business-hours check takes as now (`SWITCHBOARD_CLOCK`),
    /// to try the after-hours path by day; the real clock when `None`.
    pub clock: Option<i64>,
}

/// Sending: the REST API's location, defaults for senders, pacing, and the JSON API's key.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub api_base: String,
    pub verify_base: String,
    pub verify_service_sid: Option<String>,
    /// Bearer key of `/api/*`; the API answers 503 without it.
    pub api_key: Option<SecretString>,
    /// Sender used when a request names none (`TWILIO_PHONE_NUMBER`).
    pub default_from: Option<String>,
    pub messaging_service_sid: Option<String>,
    /// Messages per second per sender and per account.
    pub sender_rate: f64,
    pub account_rate: f64,
    /// Region for numbers written without a country code, e.g. `US`.
    pub default_region: Option<String>,
    /// Total timeout of one REST request.
    pub timeout: std::time::Duration,
    /// The outbox's retry schedule for transient failures.
    pub retry: crate::outbox::backoff::Policy,
}

/// A configuration value that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn bad(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// Values given on the command line; each wins over its environment variable.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on [env: PORT, default 3000]
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to bind [env: BIND, default 127.0.0.1]
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// Base URL Twilio calls, e.g. https://abc.ngrok.app [env: PUBLIC_URL]
    #[arg(long)]
    pub public_url: Option<String>,
    /// Directory holding voice.toml and sms.toml [env: TEMPLATES_DIR, default ./templates]
    #[arg(long)]
    pub templates_dir: Option<PathBuf>,
    /// Trust X-Forwarded-Proto / X-Forwarded-Host when rebuilding the signed URL [env: TRUST_FORWARDED_HEADERS]
    #[arg(long)]
    pub trust_forwarded_headers: bool,
}

/// Reads `.env` (if present) into the process environment without overriding what is already set.
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(bad(".env", e.to_string())),
    }
}

impl Config {
    /// Builds the config from flags and the process environment.
    pub fn load(args: &ServeArgs) -> Result<Config, ConfigError> {
        Config::from_sources(args, |name| std::env::var(name).ok())
    }

    /// Builds the config from flags and an environment lookup, so tests need not touch the process env.
    pub fn from_sources(
        args: &ServeArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());

        let port = match (args.port, get("PORT")) {
            (Some(p), _) => p,
            (None, Some(v)) => v
                .trim()
                .parse()
                .map_err(|_| bad("PORT", format!("'{v}' is not a port number (0-65535)")))?,
            (None, None) => 3000,
        };
        let bind = match (args.bind, get("BIND")) {
            (Some(b), _) => b,
            (None, Some(v)) => v
                .trim()
                .parse()
                .map_err(|_| bad("BIND", format!("'{v}' is not an IP address")))?,
            (None, None) => IpAddr::from([127, 0, 0, 1]),
        };
        let public_url = match args.public_url.clone().or_else(|| get("PUBLIC_URL")) {
            Some(v) => Some(validate_public_url(&v)?),
            None => None,
        };
        let templates_dir = args
            .templates_dir
            .clone()
            .or_else(|| get("TEMPLATES_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("templates"));
        let trust_forwarded_headers = args.trust_forwarded_headers
            || match get("TRUST_FORWARDED_HEADERS") {
                Some(v) => parse_bool("TRUST_FORWARDED_HEADERS", &v)?,
                None => false,
            };
        let log_format = match get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") | Some("pretty") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(bad("LOG_FORMAT", format!("'{other}' is not text or json"))),
        };
        let account_sid = match get("TWILIO_ACCOUNT_SID") {
            Some(v) => Some(validate_sid("TWILIO_ACCOUNT_SID", "AC", v.trim())?),
            None => None,
        };
        let (auth_token, token_source) = match get("TWILIO_AUTH_TOKEN") {
            Some(v) => (
                SecretString::from(v.trim().to_owned()),
                TokenSource::Environment,
            ),
            None => {
                let dir = get("SWITCHBOARD_STATE_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(".switchboard"));
                let (token, path) = local_token::load_or_create(&dir)
                    .map_err(|e| bad("TWILIO_AUTH_TOKEN", format!("unset, and {e}")))?;
                (token, TokenSource::LocalFile(path))
            }
        };
        let shared_key = match (
            get("TWILIO_WEBHOOK_KEY_SID"),
            get("TWILIO_WEBHOOK_KEY_SECRET"),
        ) {
            (Some(id), Some(secret)) => Some(SharedKey {
                id: id.trim().to_owned(),
                secret: SecretString::from(secret),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(bad(
                    "TWILIO_WEBHOOK_KEY_SECRET",
                    "must be set with TWILIO_WEBHOOK_KEY_SID",
                ));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "TWILIO_WEBHOOK_KEY_SID",
                    "must be set with TWILIO_WEBHOOK_KEY_SECRET",
                ));
            }
        };
        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| "sqlite://switchboard.db".to_owned());
        let scheme_ok = ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| database_url.starts_with(p));
        if !scheme_ok {
            return Err(bad(
                "DATABASE_URL",
                format!(
                    "'{}' is neither sqlite://FILE nor postgres://...",
                    crate::store::redact(&database_url)
                ),
            ));
        }
        let outbound = outbound(&get)?;
        let webhook_deadline = match get("WEBHOOK_DEADLINE_MS") {
            None => crate::deadline::DEFAULT,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms) if (1..=14_000).contains(&ms) => std::time::Duration::from_millis(ms),
                _ => {
                    return Err(bad(
                        "WEBHOOK_DEADLINE_MS",
                        format!("'{v}' is not 1-14000 milliseconds"),
                    ));
                }
            },
        };
        let limits = limits(&get)?;
        let clock = match get("SWITCHBOARD_CLOCK") {
            None => None,
            Some(v) => Some(
                crate::hours::parse_instant(v.trim()).map_err(|e| bad("SWITCHBOARD_CLOCK", e))?,
            ),
        };
        if auth_token.expose_secret().chars().any(char::is_whitespace) {
            return Err(bad("TWILIO_AUTH_TOKEN", "contains whitespace"));
        }
        Ok(Config {
            auth_token,
            token_source,
            account_sid,
            shared_key,
            public_url,
            port,
            bind,
            templates_dir,
            trust_forwarded_headers,
            log_format,
            database_url: SecretString::from(database_url),
            outbound,
            webhook_deadline,
            limits,
            clock,
        })
    }

    /// Now, for the business-hours check.
    pub fn now_ms(&self) -> i64 {
        self.clock.unwrap_or_else(crate::store::model::now_millis)
    }

    /// The path prefix of `PUBLIC_URL` (e.g. `/hooks` for `https://x.example/hooks`), prepended to
    /// every URL we hand Twilio so callbacks reach us through a path-mounting proxy.
    pub fn base_path(&self) -> &str {
        let Some(url) = &self.public_url else {
            return "";
        };
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        url[after_scheme..]
            .find('/')
            .map_or("", |i| &url[after_scheme + i..])
    }
}

fn outbound(get: &impl Fn(&str) -> Option<String>) -> Result<Outbound, ConfigError> {
    let base = |name: &'static str, default: &str| -> Result<String, ConfigError> {
        let v = get(name).unwrap_or_else(|| default.to_owned());
        let v = v.trim().trim_end_matches('/').to_owned();
        if v.starts_with("https://") || v.starts_with("http://") {
            Ok(v)
        } else {
            Err(bad(name, format!("'{v}' is not an http(s) URL")))
        }
    };
    let positive = |name: &'static str, default: f64, unit: &str| -> Result<f64, ConfigError> {
        match get(name) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 && r <= 100_000.0 => Ok(r),
                _ => Err(bad(
                    name,
                    format!("'{v}' is not a number of {unit} in (0, 100000]"),
                )),
            },
        }
    };
    let rate = |name: &'static str, default: f64| positive(name, default, "messages per second");
    let default_from = match get("TWILIO_PHONE_NUMBER") {
        Some(v) => Some(
            crate::phone::parse_address(&v, None)
                .map_err(|e| bad("TWILIO_PHONE_NUMBER", e.to_string()))?,
        ),
        None => None,
    };
    let sid = |name: &'static str, prefix: &str| match get(name) {
        Some(v) => validate_sid(name, prefix, v.trim()).map(Some),
        None => Ok(None),
    };
    let default_region = match get("DEFAULT_REGION") {
        Some(v) => {
            let v = v.trim().to_ascii_uppercase();
            if v.parse::<phonenumber::country::Id>().is_err() {
                return Err(bad(
                    "DEFAULT_REGION",
                    format!("'{v}' is not a two-letter region code such as US or GB"),
                ));
            }
            Some(v)
        }
        None => None,
    };
    Ok(Outbound {
        api_base: base("TWILIO_API_BASE", crate::twilio::DEFAULT_API_BASE)?,
        verify_base: base("TWILIO_VERIFY_BASE", crate::twilio::DEFAULT_VERIFY_BASE)?,
        verify_service_sid: sid("TWILIO_VERIFY_SID", "VA")?,
        api_key: get("SWITCHBOARD_API_KEY").map(SecretString::from),
        default_from,
        messaging_service_sid: sid("TWILIO_MESSAGING_SERVICE_SID", "MG")?,
        sender_rate: rate("SENDER_RATE", 1.0)?,
        account_rate: rate("ACCOUNT_RATE", 80.0)?,
        default_region,
        timeout: std::time::Duration::from_secs_f64(
            positive("TWILIO_TIMEOUT", 10.0, "seconds")?.min(120.0),
        ),
        retry: retry_policy(&positive)?,
    })
}

/// `OUTBOX_RETRY_BASE`, `OUTBOX_RETRY_CAP` and `OUTBOX_RETRY_FOR`, in seconds.
fn retry_policy(
    positive: &impl Fn(&'static str, f64, &str) -> Result<f64, ConfigError>,
) -> Result<crate::outbox::backoff::Policy, ConfigError> {
    use crate::outbox::backoff::{self, Policy};
    let secs = |name, default: std::time::Duration| {
        positive(name, default.as_secs_f64(), "seconds").map(std::time::Duration::from_secs_f64)
    };
    Ok(Policy {
        base: secs("OUTBOX_RETRY_BASE", backoff::BASE)?,
        cap: secs("OUTBOX_RETRY_CAP", backoff::CAP)?,
        max_attempts: backoff::MAX_ATTEMPTS,
        retry_for: secs("OUTBOX_RETRY_FOR", backoff::RETRY_FOR)?,
    })
}

fn limits(get: &impl Fn(&str) -> Option<String>) -> Result<crate::serve::Limits, ConfigError> {
    let whole = |name: &'static str, default: usize, max: usize| match get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                name,
                format!("'{v}' is not a whole number from 1 to {max}"),
            )),
        },
    };
    let idle = crate::serve::IDLE_TIMEOUT.as_secs() as usize;
    Ok(crate::serve::Limits {
        max_connections: whole("MAX_CONNECTIONS", crate::serve::MAX_CONNECTIONS, 1_000_000)?,
        idle_timeout: std::time::Duration::from_secs(whole("IDLE_TIMEOUT_SECS", idle, 3600)? as u64),
    })
}

fn parse_bool(variable: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(variable, format!("'{v}' is not true or false"))),
    }
}

fn validate_sid(variable: &'static str, prefix: &str, v: &str) -> Result<String, ConfigError> {
    let ok =
        v.len() == 34 && v.starts_with(prefix) && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(v.to_owned())
    } else {
        Err(bad(
            variable,
            format!("'{v}' is not a {prefix} SID ({prefix} followed by 32 hex digits)"),
        ))
    }
}

/// `PUBLIC_URL` must be scheme://host[:port][/prefix] with no query or fragment; the trailing slash
/// is dropped so that joining it with a request path gives exactly the URL Twilio signed.
fn validate_public_url(v: &str) -> Result<String, ConfigError> {
    let v = v.trim().trim_end_matches('/');
    let Some((scheme, rest)) = v.split_once("://") else {
        return Err(bad(
            "PUBLIC_URL",
            format!("'{v}' is not a URL (expected https://host)"),
        ));
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(bad(
            "PUBLIC_URL",
            format!("'{v}': scheme must be http or https"),
        ));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("PUBLIC_URL", format!("'{v}' has no host")));
    }
    if rest.contains(['?', '#']) || rest.contains(char::is_whitespace) {
        return Err(bad(
            "PUBLIC_URL",
            format!("'{v}' must not contain a query, fragment or spaces"),
        ));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(&ServeArgs::default(), |k| map.get(k).cloned())
    }

    const TOKEN: (&str, &str) = ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdef");

    #[test]
    fn defaults() {
        let c = load(&[TOKEN]).unwrap();
        assert_eq!(c.port, 3000);
        assert_eq!(c.bind.to_string(), "127.0.0.1");
        assert_eq!(c.templates_dir, PathBuf::from("templates"));
        assert!(!c.trust_forwarded_headers);
        assert_eq!(c.token_source, TokenSource::Environment);
        assert_eq!(c.base_path(), "");
        assert_eq!(c.limits, crate::serve::Limits::default());
        let c = load(&[TOKEN, ("MAX_CONNECTIONS", "8"), ("IDLE_TIMEOUT_SECS", "5")]).unwrap();
        assert_eq!(
            (c.limits.max_connections, c.limits.idle_timeout.as_secs()),
            (8, 5)
        );
    }

    #[test]
    fn the_outbox_retry_schedule_is_configurable() {
        use crate::outbox::backoff::Policy;
        assert_eq!(load(&[TOKEN]).unwrap().outbound.retry, Policy::default());
        let c = load(&[
            TOKEN,
            ("OUTBOX_RETRY_BASE", "0.1"),
            ("OUTBOX_RETRY_CAP", "2"),
            ("OUTBOX_RETRY_FOR", "60"),
        ])
        .unwrap();
        let r = c.outbound.retry;
        assert_eq!(
            (r.base, r.cap, r.retry_for),
            (
                std::time::Duration::from_millis(100),
                std::time::Duration::from_secs(2),
                std::time::Duration::from_secs(60)
            )
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (pairs, var) in [
            (vec![TOKEN, ("PORT", "eighty")], "PORT"),
            (vec![TOKEN, ("PORT", "70000")], "PORT"),
            (vec![TOKEN, ("BIND", "localhost:3")], "BIND"),
            (vec![TOKEN, ("PUBLIC_URL", "abc.ngrok.app")], "PUBLIC_URL"),
            (vec![TOKEN, ("PUBLIC_URL", "ftp://x")], "PUBLIC_URL"),
            (vec![TOKEN, ("PUBLIC_URL", "https://x/?a=1")], "PUBLIC_URL"),
            (
                vec![TOKEN, ("TRUST_FORWARDED_HEADERS", "maybe")],
                "TRUST_FORWARDED_HEADERS",
            ),
            (
                vec![TOKEN, ("TWILIO_ACCOUNT_SID", "AC123")],
                "TWILIO_ACCOUNT_SID",
            ),
            (vec![TOKEN, ("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (
                vec![TOKEN, ("DATABASE_URL", "mysql://u:pw@h/db")],
                "DATABASE_URL",
            ),
            (
                vec![TOKEN, ("TWILIO_WEBHOOK_KEY_SID", "KS1")],
                "TWILIO_WEBHOOK_KEY_SECRET",
            ),
            (vec![TOKEN, ("OUTBOX_RETRY_BASE", "0")], "OUTBOX_RETRY_BASE"),
            (vec![TOKEN, ("MAX_CONNECTIONS", "0")], "MAX_CONNECTIONS"),
            (
                vec![TOKEN, ("IDLE_TIMEOUT_SECS", "1m")],
                "IDLE_TIMEOUT_SECS",
            ),
            (
                vec![TOKEN, ("OUTBOX_RETRY_FOR", "soon")],
                "OUTBOX_RETRY_FOR",
            ),
        ] {
            let err = load(&pairs).unwrap_err();
            assert_eq!(err.variable, var, "{err}");
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn flags_win_over_environment() {
        let args = ServeArgs {
            port: Some(4000),
            ..ServeArgs::default()
        };
        let c = Config::from_sources(&args, |k| match k {
            "PORT" => Some("5000".into()),
            "TWILIO_AUTH_TOKEN" => Some(TOKEN.1.into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.port, 4000);
    }

    #[test]
    fn public_url_is_normalised_and_gives_base_path() {
        let c = load(&[TOKEN, ("PUBLIC_URL", "https://abc.ngrok.app/")]).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://abc.ngrok.app"));
        assert_eq!(c.base_path(), "");
        let c = load(&[TOKEN, ("PUBLIC_URL", "https://x.example/hooks/")]).unwrap();
        assert_eq!(c.base_path(), "/hooks");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = load(&[
            TOKEN,
            ("TWILIO_WEBHOOK_KEY_SID", "KS1"),
            ("TWILIO_WEBHOOK_KEY_SECRET", "supersecretvalue"),
            ("DATABASE_URL", "postgres://app:dbpassword@db/switchboard"),
            ("SWITCHBOARD_API_KEY", "apikeyvalue"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains(TOKEN.1), "{shown}");
        assert!(!shown.contains("supersecretvalue"), "{shown}");
        assert!(!shown.contains("dbpassword"), "{shown}");
        assert!(!shown.contains("apikeyvalue"), "{shown}");
        let err = load(&[TOKEN, ("DATABASE_URL", "mysql://u:dbpassword@h/db")]).unwrap_err();
        assert!(!err.to_string().contains("dbpassword"), "{err}");
    }

    #[test]
    fn local_mode_creates_a_private_token() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let state_s = state.to_string_lossy().to_string();
        let c = load(&[("SWITCHBOARD_STATE_DIR", &state_s)]).unwrap();
        let TokenSource::LocalFile(path) = &c.token_source else {
            panic!("expected local mode");
        };
        let again = load(&[("SWITCHBOARD_STATE_DIR", &state_s)]).unwrap();
        assert_eq!(
            c.auth_token.expose_secret(),
            again.auth_token.expose_secret()
        );
        assert_eq!(c.auth_token.expose_secret().len(), 32);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
