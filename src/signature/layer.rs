//! `TwilioSignatureLayer` + `TwilioSignature<S>`: no webhook handler runs unless Twilio signed it.
//!
//! The service buffers the body (64 KiB at most), parses the form once, rebuilds the URL Twilio
//! called, checks `X-Twilio-Signature`, and hands the parsed [`FormParams`] to the handler as a
//! request extension, which a handler takes by naming `FormParams` among its arguments.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderName, Method, Request, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use secrecy::{ExposeSecret, SecretString};
use tower::{Layer, Service};
use tracing::Instrument;

use super::{Algorithm, body_hash_matches, body_sha256_param, parse_settings_header, verify_url};
use crate::config::{Config, SharedKey};
use crate::form::FormParams;

/// Twilio's webhook bodies are a few KiB; anything far larger is not from Twilio.
pub const BODY_LIMIT: usize = 64 * 1024;

// Names built once: looking a header up by `&str` parses the name on every request.
const SIGNATURE_HEADER: HeaderName = HeaderName::from_static("x-twilio-signature");
const SETTINGS_HEADER: HeaderName = HeaderName::from_static("x-twilio-webhooks-signature-settings");

/// What the layer needs to check a request; built once from the config.
pub struct Verifier {
    auth_token: SecretString,
    shared_key: Option<SharedKey>,
    public_url: Option<String>,
    trust_forwarded: bool,
}

impl Verifier {
    pub fn from_config(config: &Config) -> Verifier {
        Verifier {
            auth_token: config.auth_token.clone(),
            shared_key: config.shared_key.clone(),
            public_url: config.public_url.clone(),
            trust_forwarded: config.trust_forwarded_headers,
        }
    }
}

/// Why a request was refused; the one place these become responses is `into_response`.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    MissingSignature,
    BadSignature,
    BodyTooLarge,
    BadBody(String),
}

impl Rejection {
    /// The metrics label of this refusal.
    pub fn cause(&self) -> &'static str {
        match self {
            Rejection::MissingSignature => "missing_signature",
            Rejection::BadSignature => "bad_signature",
            Rejection::BodyTooLarge => "body_too_large",
            Rejection::BadBody(_) => "bad_body",
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Rejection::MissingSignature => (
                StatusCode::FORBIDDEN,
                "missing X-Twilio-Signature\n".to_owned(),
            ),
            Rejection::BadSignature => (
                StatusCode::FORBIDDEN,
                "invalid X-Twilio-Signature\n".to_owned(),
            ),
            Rejection::BodyTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body over {BODY_LIMIT} bytes\n"),
            ),
            Rejection::BadBody(why) => (StatusCode::BAD_REQUEST, format!("{why}\n")),
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

#[derive(Clone)]
pub struct TwilioSignatureLayer {
    verifier: Arc<Verifier>,
}

impl TwilioSignatureLayer {
    pub fn new(verifier: Verifier) -> TwilioSignatureLayer {
        TwilioSignatureLayer {
            verifier: Arc::new(verifier),
        }
    }
}

impl<S> Layer<S> for TwilioSignatureLayer {
    type Service = TwilioSignature<S>;

    fn layer(&self, inner: S) -> TwilioSignature<S> {
        TwilioSignature {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

#[derive(Clone)]
pub struct TwilioSignature<S> {
    inner: S,
    verifier: Arc<Verifier>,
}

/// The check, then the inner service's answer.
pub type SignatureFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request<Body>> for TwilioSignature<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = SignatureFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The clone that was polled ready is the one we must call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let checked = match read_body(&parts.headers, body).await {
                Ok(bytes) => verifier.check(&parts, bytes.clone()).map(|p| (p, bytes)),
                Err(r) => Err(r),
            };
            match checked {
                Ok((params, bytes)) => {
                    // Every log line of this webhook carries its call or message SID.
                    let span = tracing::info_span!(
                        "webhook",
                        path = parts.uri.path(),
                        call_sid = params.get("CallSid"),
                        message_sid = params.get("MessageSid"),
                    );
                    parts.extensions.insert(params);
                    inner
                        .call(Request::from_parts(parts, Body::from(bytes)))
                        .instrument(span)
                        .await
                }
                Err(rejection) => {
                    crate::metrics::global().signature_failure(rejection.cause());
                    Ok(rejection.into_response())
                }
            }
        })
    }
}

/// A handler behind the layer takes the checked form out of the request (no copy); a route
/// outside it is our wiring mistake, never the caller's.
impl<S: Send + Sync> FromRequestParts<S> for FormParams {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<FormParams, Self::Rejection> {
        parts.extensions.remove::<FormParams>().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "webhook route is not behind the signature layer\n",
        ))
    }
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<bytes::Bytes, Rejection> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(Rejection::BodyTooLarge);
    }
    match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(Rejection::BodyTooLarge),
        Err(e) => Err(Rejection::BadBody(format!(
            "could not read the request body: {e}"
        ))),
    }
}

impl Verifier {
    /// Checks one request; on success returns its form parameters.
    pub fn check(&self, parts: &Parts, body: bytes::Bytes) -> Result<FormParams, Rejection> {
        let signature = match parts.headers.get(&SIGNATURE_HEADER).map(|v| v.to_str()) {
            Some(Ok(s)) if !s.is_empty() => s,
            Some(_) => return Err(self.refuse(parts, "X-Twilio-Signature is empty or not ASCII")),
            None => return Err(self.refuse_missing(parts)),
        };
        let (alg, key) = self.key_for(parts)?;
        let url = self
            .signed_url(parts, self.trust_forwarded)
            .ok_or_else(|| {
                self.refuse(
                    parts,
                    "no Host header to rebuild the URL from: set PUBLIC_URL",
                )
            })?;
        if parts.method == Method::GET {
            // Twilio's parameters ride in the signed query; the handler reads them from there.
            let query = bytes::Bytes::copy_from_slice(parts.uri.query().unwrap_or("").as_bytes());
            let params = FormParams::parse(query).map_err(|e| Rejection::BadBody(e.to_string()))?;
            if verify_url(alg, key, &url, &[], signature) {
                return Ok(params);
            }
            let cause = self.diagnose(parts, alg, key, &[], signature);
            return Err(self.refuse(parts, &cause));
        }
        let params = if is_form(&parts.headers) {
            FormParams::parse(body).map_err(|e| Rejection::BadBody(e.to_string()))?
        } else if let Some(expected) = body_sha256_param(&url) {
            if !body_hash_matches(expected, &body) {
                return Err(self.refuse(parts, "the body's SHA-256 does not match bodySHA256"));
            }
            FormParams::empty()
        } else if body.is_empty() {
            FormParams::empty()
        } else {
            return Err(self.refuse(parts, "a non-form body needs a bodySHA256 query parameter"));
        };
        let pairs = params.signing_pairs();
        if verify_url(alg, key, &url, &pairs, signature) {
            return Ok(params);
        }
        let cause = self.diagnose(parts, alg, key, &pairs, signature);
        Err(self.refuse(parts, &cause))
    }

    /// The key and algorithm: the Auth Token with HMAC-SHA1, unless Twilio says it signed with a
    /// shared key (`X-Twilio-Webhooks-Signature-Settings`) that we hold.
    fn key_for(&self, parts: &Parts) -> Result<(Algorithm, &[u8]), Rejection> {
        let token = self.auth_token.expose_secret().as_bytes();
        let Some(value) = parts.headers.get(&SETTINGS_HEADER) else {
            return Ok((Algorithm::HmacSha1, token));
        };
        let settings = value
            .to_str()
            .map_err(|_| "signature settings header is not ASCII".to_owned())
            .and_then(|v| parse_settings_header(v).map_err(|e| e.to_string()))
            .map_err(|e| self.refuse(parts, &e))?;
        let alg = settings.algorithm.unwrap_or(Algorithm::HmacSha1);
        if settings.key_id.is_empty() {
            return Ok((alg, token));
        }
        match &self.shared_key {
            Some(k) if k.id == settings.key_id => Ok((alg, k.secret.expose_secret().as_bytes())),
            _ => Err(self.refuse(
                parts,
                &format!(
                    "signed with shared key {} which is not configured: set TWILIO_WEBHOOK_KEY_SID and TWILIO_WEBHOOK_KEY_SECRET",
                    settings.key_id
                ),
            )),
        }
    }

    /// `PUBLIC_URL` + path + raw query; without it, scheme and host from the request.
    fn signed_url(&self, parts: &Parts, trust_forwarded: bool) -> Option<String> {
        let pq = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        if let Some(base) = &self.public_url {
            // Every webhook takes this path; concatenation skips the formatting machinery.
            let mut url = String::with_capacity(base.len() + pq.len());
            url.push_str(base);
            url.push_str(pq);
            return Some(url);
        }
        let (scheme, host) = request_origin(parts, trust_forwarded)?;
        Some(format!("{scheme}://{host}{pq}"))
    }

    fn refuse_missing(&self, parts: &Parts) -> Rejection {
        tracing::warn!(
            path = parts.uri.path(),
            "webhook refused: no X-Twilio-Signature header"
        );
        Rejection::MissingSignature
    }

    fn refuse(&self, parts: &Parts, cause: &str) -> Rejection {
        tracing::warn!(
            path = parts.uri.path(),
            cause,
            "webhook refused: signature check failed"
        );
        Rejection::BadSignature
    }

    /// Cold path: find which plausible URL the signature was made for, to tell the operator what
    /// to configure. Never logs the token or the expected signature.
    fn diagnose(
        &self,
        parts: &Parts,
        alg: Algorithm,
        key: &[u8],
        pairs: &[(&str, &str)],
        sig: &str,
    ) -> String {
        let pq = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let tried = self
            .signed_url(parts, self.trust_forwarded)
            .unwrap_or_default();
        let matches = |origin: &str| {
            let url = format!("{origin}{pq}");
            url != tried && verify_url(alg, key, &url, pairs, sig)
        };
        if let Some((scheme, host)) = request_origin(parts, true) {
            let origin = format!("{scheme}://{host}");
            if matches(&origin) {
                return match &self.public_url {
                    Some(p) => format!(
                        "would match with {origin}: PUBLIC_URL={p} is not the URL Twilio calls; set PUBLIC_URL={origin}"
                    ),
                    None => format!(
                        "would match with scheme {scheme} and Host {host}: set TRUST_FORWARDED_HEADERS=true or PUBLIC_URL={origin}"
                    ),
                };
            }
            let other = if scheme == "https" { "http" } else { "https" };
            let origin = format!("{other}://{host}");
            if matches(&origin) {
                return format!("would match with scheme {other}: set PUBLIC_URL={origin}");
            }
        }
        format!(
            "no match for {tried}: check that TWILIO_AUTH_TOKEN is the primary Auth Token of the account that owns the number, and that the number's webhook URL is exactly this URL"
        )
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
}

/// Scheme and host as the client saw them: the first `X-Forwarded-Proto`/`X-Forwarded-Host`
/// values when trusted, else plain http and the `Host` header (or the URI's authority on HTTP/2).
fn request_origin(parts: &Parts, trust_forwarded: bool) -> Option<(String, String)> {
    let first = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let forwarded = |name| if trust_forwarded { first(name) } else { None };
    let scheme = forwarded("x-forwarded-proto")
        .unwrap_or("http")
        .to_ascii_lowercase();
    let host = forwarded("x-forwarded-host")
        .or_else(|| first(header::HOST.as_str()))
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))?;
    Some((scheme, host.to_owned()))
}

#[cfg(test)]
mod tests;
