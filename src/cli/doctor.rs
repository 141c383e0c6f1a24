//! `switchboard doctor`: checks a real setup (credentials, numbers' webhooks, Verify service,
//! A2P 10DLC sender, `PUBLIC_URL`) against Twilio and says what to fix.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use crate::config::{Config, ServeArgs};
use crate::twilio::TwilioClient;

/// How long `PUBLIC_URL/healthz` may take: Twilio itself gives a webhook 15 s in all, so a
/// health check slower than this means calls would already be in trouble.
const REACHABILITY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// A Twilio number to check, E.164; repeat for several [default: TWILIO_PHONE_NUMBER]
    #[arg(long = "number")]
    numbers: Vec<String>,
    /// Public base URL the numbers should point at [default: PUBLIC_URL]
    #[arg(long)]
    public_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One finding: what was checked and, unless it passed, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub status: Status,
    pub what: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(what: impl Into<String>) -> Check {
        Check {
            status: Status::Ok,
            what: what.into(),
            fix: None,
        }
    }

    fn warn(what: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            status: Status::Warn,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }

    fn fail(what: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            status: Status::Fail,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.status {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        write!(f, "{label} {}", self.what)?;
        if let Some(fix) = &self.fix {
            write!(f, ": {fix}")?;
        }
        Ok(())
    }
}

pub fn run(args: &DoctorArgs) -> Result<(), String> {
    // Going through ServeArgs gives --public-url the same validation as PUBLIC_URL.
    let serve = ServeArgs {
        public_url: args.public_url.clone(),
        ..ServeArgs::default()
    };
    let config = Config::load(&serve).map_err(|e| e.to_string())?;
    crate::telemetry::init_quiet(config.log_format);
    let client = crate::startup::twilio_client(&config).map_err(|e| e.to_string())?;
    let public_url = config.public_url.as_deref();
    let checks = super::runtime()?.block_on(async {
        match &client {
            Some(client) => diagnose(&config, client, &args.numbers, public_url).await,
            None => diagnose_with(&config, None, &args.numbers, public_url).await,
        }
    });
    for check in &checks {
        println!("{check}");
    }
    match checks.iter().filter(|c| c.status == Status::Fail).count() {
        0 => Ok(()),
        1 => Err("1 check failed".to_owned()),
        n => Err(format!("{n} checks failed")),
    }
}

/// Runs every check in a fixed order. `numbers` empty means `TWILIO_PHONE_NUMBER`.
pub async fn diagnose(
    config: &Config,
    client: &TwilioClient,
    numbers: &[String],
    public_url: Option<&str>,
) -> Vec<Check> {
    diagnose_with(config, Some(client), numbers, public_url).await
}

async fn diagnose_with(
    config: &Config,
    client: Option<&TwilioClient>,
    numbers: &[String],
    public_url: Option<&str>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    // With credentials missing or rejected every other REST call would fail the same way, so
    // only the checks that need no Twilio call follow.
    let usable = match client {
        None => {
            checks.push(Check::fail(
                "credentials",
                "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must both be set (environment or .env)",
            ));
            None
        }
        Some(client) => {
            let (found, usable) = check_account(client).await;
            checks.extend(found);
            usable.then_some(client)
        }
    };
    if let Some(client) = usable {
        for number in numbers_to_check(config, numbers, &mut checks) {
            checks.push(check_number(client, &number, public_url).await);
        }
        if let Some(sid) = &config.outbound.verify_service_sid {
            checks.push(check_verify(client, sid).await);
        }
    }
    checks.extend(check_a2p(config));
    checks.extend(check_public_url(public_url).await);
    checks
}

/// The account's checks, and whether further REST calls are worth making.
async fn check_account(client: &TwilioClient) -> (Vec<Check>, bool) {
    let sid = client.account_sid();
    let what = format!("credentials for {sid}");
    let account = match client.fetch_account().await {
        Ok(account) => account,
        Err(e) if e.code() == Some(20003) || e.status() == Some(401) => {
            return (
                vec![Check::fail(
                    what,
                    "TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN rejected by Twilio: copy both from \
                     the Twilio Console (Account Info)",
                )],
                false,
            );
        }
        Err(e) => {
            return (
                vec![Check::fail(what, format!("could not check: {e}"))],
                false,
            );
        }
    };
    let mut checks = vec![Check::ok(what)];
    let status = account.status.as_deref().unwrap_or("");
    match status {
        "active" => {}
        "suspended" | "closed" => checks.push(Check::fail(
            format!("account {sid} is {status}"),
            "Twilio refuses calls and messages for it: see Console > Account",
        )),
        "" => checks.push(Check::warn(
            format!("account {sid}"),
            "Twilio did not report its status",
        )),
        other => checks.push(Check::warn(
            format!("account {sid} is {other}"),
            "expected active",
        )),
    }
    if account.r#type.as_deref() == Some("Trial") {
        checks.push(Check::warn(
            format!("account {sid} is a trial account"),
            "it can only text and call verified numbers (error 21608): upgrade it for real users",
        ));
    }
    (checks, status != "suspended" && status != "closed")
}

/// The numbers to look up, in E.164; unusable ones become failed checks.
fn numbers_to_check(config: &Config, numbers: &[String], checks: &mut Vec<Check>) -> Vec<String> {
    if numbers.is_empty() {
        return match config.outbound.default_from.as_deref() {
            // A WhatsApp sender need not be one of the account's phone numbers.
            Some(from) if !from.starts_with("whatsapp:") => vec![from.to_owned()],
            _ => {
                checks.push(Check::warn(
                    "numbers",
                    "none checked: pass --number +1... or set TWILIO_PHONE_NUMBER",
                ));
                Vec::new()
            }
        };
    }
    numbers
        .iter()
        .filter_map(|n| match crate::phone::parse_e164(n) {
            Ok(n) => Some(n),
            Err(e) => {
                checks.push(Check::fail(format!("number {n}"), e.to_string()));
                None
            }
        })
        .collect()
}

async fn check_number(client: &TwilioClient, number: &str, public_url: Option<&str>) -> Check {
    let what = format!("number {number}");
    let found = match client.find_incoming_number(number).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Check::fail(
                what,
                format!(
                    "not a number of this account ({}): check the number or the account SID",
                    client.account_sid()
                ),
            );
        }
        Err(e) => return Check::fail(what, format!("could not look it up: {e}")),
    };
    let Some(base) = public_url else {
        return Check::fail(
            format!("{what} webhooks"),
            "cannot compare them: set PUBLIC_URL",
        );
    };
    let wanted = [
        (
            "voice URL",
            found.voice_url,
            format!("{base}/voice/incoming"),
        ),
        ("SMS URL", found.sms_url, format!("{base}/sms")),
    ];
    let wrong: Vec<String> = wanted
        .iter()
        .filter(|(_, current, want)| current.as_deref() != Some(want.as_str()))
        .map(|(name, current, want)| {
            let current = match current.as_deref() {
                None | Some("") => "unset".to_owned(),
                Some(url) => url.to_owned(),
            };
            format!("{name} is {current}, want {want}")
        })
        .collect();
    if wrong.is_empty() {
        return Check::ok(format!("{what} webhooks point at {base}"));
    }
    Check::fail(
        format!("{what} webhooks"),
        format!(
            "{}: run switchboard numbers configure --number {number}",
            wrong.join("; ")
        ),
    )
}

async fn check_verify(client: &TwilioClient, sid: &str) -> Check {
    let what = format!("Verify service {sid}");
    match client.fetch_verify_service(sid).await {
        Ok(service) => match service.friendly_name {
            Some(name) => Check::ok(format!("{what} ({name})")),
            None => Check::ok(what),
        },
        Err(e) if e.status() == Some(404) || e.code() == Some(20404) => Check::fail(
            what,
            "not found in this account: set TWILIO_VERIFY_SID to a service from Console > Verify > Services",
        ),
        Err(e) => Check::fail(what, format!("could not fetch it: {e}")),
    }
}

fn check_a2p(config: &Config) -> Option<Check> {
    let from = config.outbound.default_from.as_deref()?;
    if !is_us_long_code(from) {
        return None;
    }
    match &config.outbound.messaging_service_sid {
        Some(mg) => Some(Check::ok(format!(
            "A2P 10DLC: {from} sends through Messaging Service {mg}"
        ))),
        None => Some(Check::warn(
            format!("A2P 10DLC: {from} has no TWILIO_MESSAGING_SERVICE_SID"),
            "US long codes must send through a Messaging Service with a registered A2P 10DLC \
             campaign (errors 30034/30007 otherwise)",
        )),
    }
}

/// A +1 ten-digit number that is not toll-free: toll-free numbers go through toll-free
/// verification instead of 10DLC campaigns.
fn is_us_long_code(number: &str) -> bool {
    let Some(national) = number.strip_prefix("+1") else {
        return false;
    };
    let toll_free = ["800", "833", "844", "855", "866", "877", "888"];
    national.len() == 10
        && national.bytes().all(|b| b.is_ascii_digit())
        && !toll_free.iter().any(|p| national.starts_with(p))
}

async fn check_public_url(public_url: Option<&str>) -> Vec<Check> {
    let Some(base) = public_url else {
        return vec![Check::fail(
            "PUBLIC_URL",
            "not set: set PUBLIC_URL to the https URL Twilio calls, e.g. https://abc.ngrok.app",
        )];
    };
    let mut checks = Vec::new();
    if base
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    {
        checks.push(Check::ok(format!("PUBLIC_URL {base} is https")));
    } else {
        checks.push(Check::fail(
            format!("PUBLIC_URL {base}"),
            "Twilio requires https in production",
        ));
    }
    checks.push(check_reachable(base).await);
    checks
}

async fn check_reachable(base: &str) -> Check {
    let url = format!("{base}/healthz");
    let http = match reqwest::Client::builder()
        .timeout(REACHABILITY_TIMEOUT)
        // Twilio does not follow a redirect from a webhook URL, so neither do we.
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(http) => http,
        Err(e) => return Check::fail(format!("GET {url}"), format!("no HTTP client: {e}")),
    };
    match http.get(&url).send().await {
        Ok(r) if r.status() == reqwest::StatusCode::OK => {
            Check::ok(format!("GET {url} answers 200"))
        }
        Ok(r) => Check::fail(
            format!("GET {url}"),
            format!(
                "answered {}, want 200: is switchboard behind this URL?",
                r.status()
            ),
        ),
        Err(e) => Check::fail(
            format!("GET {url}"),
            format!(
                "{}: start switchboard and the tunnel, or fix PUBLIC_URL",
                describe(&e)
            ),
        ),
    }
}

/// reqwest's top-level message ("error sending request") hides the cause a user can act on.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", REACHABILITY_TIMEOUT.as_secs());
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert(
            "TWILIO_AUTH_TOKEN".into(),
            "0123456789abcdef0123456789abcdef".into(),
        );
        Config::from_sources(&ServeArgs::default(), |k| map.get(k).cloned()).unwrap()
    }

    #[test]
    fn lines_have_the_documented_shape() {
        assert_eq!(Check::ok("x").to_string(), "ok   x");
        assert_eq!(Check::warn("x", "y").to_string(), "warn x: y");
        assert_eq!(Check::fail("x", "y").to_string(), "FAIL x: y");
    }

    #[test]
    fn us_long_codes() {
        assert!(is_us_long_code("+14155550100"));
        assert!(!is_us_long_code("+18005550100"));
        assert!(!is_us_long_code("+447700900123"));
        assert!(!is_us_long_code("+1415555010"));
        assert!(!is_us_long_code("whatsapp:+14155550100"));
    }

    #[test]
    fn a2p_ok_with_messaging_service() {
        let c = config(&[
            ("TWILIO_PHONE_NUMBER", "+14155550100"),
            (
                "TWILIO_MESSAGING_SERVICE_SID",
                "MG0123456789abcdef0123456789abcdef",
            ),
        ]);
        assert_eq!(
            check_a2p(&c).map(|c| c.to_string()).as_deref(),
            Some(
                "ok   A2P 10DLC: +14155550100 sends through Messaging Service \
                 MG0123456789abcdef0123456789abcdef"
            )
        );
        let uk = config(&[("TWILIO_PHONE_NUMBER", "+442071838750")]);
        assert_eq!(check_a2p(&uk), None);
    }

    #[tokio::test]
    async fn https_url_passes_and_reachability_is_reported_separately() {
        // Nothing listens on port 9 of localhost, so the https URL is well-formed but unreachable.
        let checks = check_public_url(Some("https://127.0.0.1:9")).await;
        assert_eq!(
            checks[0].to_string(),
            "ok   PUBLIC_URL https://127.0.0.1:9 is https"
        );
        assert_eq!(checks[1].status, Status::Fail);
        assert_eq!(checks[1].what, "GET https://127.0.0.1:9/healthz");
        let fix = checks[1].fix.clone().unwrap_or_default();
        assert!(
            fix.ends_with("start switchboard and the tunnel, or fix PUBLIC_URL"),
            "{fix}"
        );
    }

    #[tokio::test]
    async fn reachability_wants_200_from_healthz() {
        let site = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/healthz"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&site)
            .await;
        let up = check_reachable(&site.uri()).await;
        assert_eq!(
            up.to_string(),
            format!("ok   GET {}/healthz answers 200", site.uri())
        );

        let prefixed = check_reachable(&format!("{}/hooks", site.uri())).await;
        assert_eq!(
            prefixed.to_string(),
            format!(
                "FAIL GET {}/hooks/healthz: answered 404 Not Found, want 200: is switchboard \
                 behind this URL?",
                site.uri()
            )
        );
    }

    #[tokio::test]
    async fn missing_public_url_fails() {
        let checks = check_public_url(None).await;
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].status, Status::Fail);
        assert_eq!(checks[0].what, "PUBLIC_URL");
    }
}
