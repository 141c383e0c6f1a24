//! Typed client for the Twilio REST APIs switchboard calls (Messages, Verify, phone numbers,
//! account): configuration, authentication, transport and error classification.
//!
//! The client never retries; callers (the outbox worker) decide using
//! [`TwilioError::is_retryable`] and [`TwilioError::retry_after`].

mod error;
mod messages;
mod numbers;
mod retry_after;
mod verify;

pub use error::{TwilioError, explain};
pub use messages::{MessageResource, SendMessage};
pub use numbers::{AccountResource, IncomingNumber, NumberWebhooks};
pub use verify::{Verification, VerifyService};

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// Base URL of Twilio's core (2010-04-01) REST API.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
/// Base URL of Twilio's Verify v2 API.
pub const DEFAULT_VERIFY_BASE: &str = "https://verify.twilio.com";
/// Default total timeout of one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// A connect that takes longer than this will not succeed in time anyway, and failing it
/// early leaves the worker room to retry.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings for [`TwilioClient::new`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Account SID (`AC…`), the basic-auth user and the `{AccountSid}` in 2010 API paths.
    pub account_sid: String,
    /// Auth token, the basic-auth password.
    pub auth_token: SecretString,
    /// Base of the 2010 API; tests point it at a local mock.
    pub api_base: String,
    /// Base of the Verify API; tests point it at a local mock.
    pub verify_base: String,
    /// Total timeout per request (connect timeout is the smaller of this and 5 s).
    pub timeout: Duration,
}

impl ClientConfig {
    /// Config for the real Twilio endpoints with the default timeout.
    pub fn new(account_sid: impl Into<String>, auth_token: SecretString) -> Self {
        ClientConfig {
            account_sid: account_sid.into(),
            auth_token,
            api_base: DEFAULT_API_BASE.to_owned(),
            verify_base: DEFAULT_VERIFY_BASE.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("api_base", &self.api_base)
            .field("verify_base", &self.verify_base)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Twilio REST client. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct TwilioClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    account_sid: String,
    auth_token: SecretString,
    api_base: String,
    verify_base: String,
    timeout: Duration,
}

impl fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioClient")
            .field("account_sid", &self.inner.account_sid)
            .field("api_base", &self.inner.api_base)
            .field("verify_base", &self.inner.verify_base)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl TwilioClient {
    /// Builds the client; fails with `Config` on an empty SID or token or a bad base URL.
    pub fn new(cfg: ClientConfig) -> Result<TwilioClient, TwilioError> {
        let ClientConfig {
            account_sid,
            auth_token,
            api_base,
            verify_base,
            timeout,
        } = cfg;
        check_sid("account SID", &account_sid)?;
        if auth_token.expose_secret().is_empty() {
            return Err(TwilioError::Config("auth token is empty".to_owned()));
        }
        if timeout.is_zero() {
            return Err(TwilioError::Config(
                "timeout must be greater than zero".to_owned(),
            ));
        }
        let api_base = normalize_base("api_base", &api_base)?;
        let verify_base = normalize_base("verify_base", &verify_base)?;
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(timeout)
            // Following a redirect would send our credentials somewhere we did not choose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TwilioError::Config(format!("building HTTP client: {e}")))?;
        Ok(TwilioClient {
            inner: Arc::new(Inner {
                http,
                account_sid,
                auth_token,
                api_base,
                verify_base,
                timeout,
            }),
        })
    }

    /// The account SID this client authenticates as.
    pub fn account_sid(&self) -> &str {
        &self.inner.account_sid
    }

    /// `{api_base}/2010-04-01/Accounts/{AccountSid}/{rest}`.
    fn account_url(&self, rest: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{rest}",
            self.inner.api_base, self.inner.account_sid
        )
    }

    fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.api_base)
    }

    fn verify_url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.verify_base)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<T, TwilioError> {
        let request = self.inner.http.get(url).query(query);
        self.execute("GET", url, request).await
    }

    async fn post_form<T: DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<T, TwilioError> {
        let request = self.inner.http.post(url).form(form);
        self.execute("POST", url, request).await
    }

    /// Sends with auth, reads the whole body and classifies the outcome. Logs only method,
    /// URL (no query), status and latency: bodies carry phone numbers and message text.
    async fn execute<T: DeserializeOwned>(
        &self,
        method: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, TwilioError> {
        let started = Instant::now();
        let response = request
            .basic_auth(
                &self.inner.account_sid,
                Some(self.inner.auth_token.expose_secret()),
            )
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after::parse(v, SystemTime::now()));
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(
            method,
            url,
            status = status.as_u16(),
            elapsed_ms,
            "twilio request"
        );

        if !status.is_success() {
            // Scrubbed before `api_error` cuts a non-JSON body down to an excerpt: a cut through
            // the credentials leaves a piece of them that whole-value scrubbing cannot find.
            let body = self.scrub(String::from_utf8_lossy(&body).into_owned());
            return Err(
                match error::api_error(status.as_u16(), retry_after, body.as_bytes()) {
                    TwilioError::Api {
                        status,
                        code,
                        message,
                        more_info,
                        retry_after,
                    } => TwilioError::Api {
                        status,
                        code,
                        message: self.scrub(message),
                        more_info: more_info.map(|m| self.scrub(m)),
                        retry_after,
                    },
                    other => other,
                },
            );
        }
        serde_json::from_slice(&body).map_err(|e| {
            TwilioError::Decode(format!("{method} {url} (HTTP {}): {e}", status.as_u16()))
        })
    }

    fn transport_error(&self, err: reqwest::Error) -> TwilioError {
        if err.is_timeout() {
            return TwilioError::Timeout;
        }
        if err.is_builder() {
            return TwilioError::Config(self.scrub(error_chain(&err)));
        }
        TwilioError::Connect(self.scrub(error_chain(&err)))
    }

    /// Removes the token (and the basic-auth credentials) from text that came from outside,
    /// in case a misbehaving server or proxy echoes the request headers back.
    fn scrub(&self, text: String) -> String {
        use base64::Engine as _;
        let token = self.inner.auth_token.expose_secret();
        let pair = format!("{}:{token}", self.inner.account_sid);
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
        if !text.contains(token) && !text.contains(&encoded) {
            return text;
        }
        text.replace(&encoded, "[redacted]")
            .replace(token, "[redacted]")
    }
}

/// `err` and its sources joined with ": ", since reqwest keeps the useful part
/// ("Connection refused", "invalid peer certificate") in the source chain.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn normalize_base(name: &str, base: &str) -> Result<String, TwilioError> {
    let trimmed = base.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| TwilioError::Config(format!("{name} {trimmed:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(TwilioError::Config(format!(
            "{name} {trimmed:?} must be an http(s) URL"
        )));
    }
    Ok(trimmed.to_owned())
}

/// SIDs go into URL paths, so anything but ASCII letters and digits is refused rather than
/// escaped: a `/` or `..` in a SID is a bug upstream, not something to send to Twilio.
pub(crate) fn check_sid<'a>(what: &str, sid: &'a str) -> Result<&'a str, TwilioError> {
    if sid.is_empty() || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(TwilioError::Config(format!(
            "{what} {sid:?} is not a valid SID"
        )));
    }
    Ok(sid)
}

/// Deserializes `null` (and, with `#[serde(default)]`, a missing field) as `T::default()`.
pub(crate) fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests;
