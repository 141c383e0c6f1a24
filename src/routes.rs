//! The HTTP surface: webhook routes behind the signature layer, plus the API, health and metrics.

pub mod api;
mod sms;
mod status;
pub mod verify;
mod voice;
mod voicemail;
mod webhooks;

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, State};
use axum::http::{Request, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::future::RouteFuture;
use axum::routing::{get, post};
use pin_project_lite::pin_project;
use sha2::Digest as _;
use tower::Service;
use webhooks::{Webhook, Webhooks};

use crate::config::Config;
use crate::deadline::{Deadline, DeadlineFuture, DeadlineLayer};
use crate::error::AppError;
use crate::form::FormParams;
use crate::metrics::layer::{RecordFuture, Route};
use crate::outbox::Wakeup;
use crate::signature::layer::{
    BODY_LIMIT, SignatureFuture, TwilioSignature, TwilioSignatureLayer, Verifier,
};
use crate::store::Store;
use crate::store::model::{Effect, WebhookWrite, check_key_len};
use crate::templates::TemplateSet;
use crate::twilio::TwilioClient;
use crate::twiml;

/// What every handler can reach: one shared [`App`], so the per-request clone axum makes is a
/// single reference count.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl AppState {
    pub fn new(app: App) -> AppState {
        AppState(Arc::new(app))
    }
}

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

pub struct App {
    pub config: Arc<Config>,
    pub templates: Arc<TemplateSet>,
    pub store: Store,
    /// Present when Twilio credentials are configured.
    pub client: Option<TwilioClient>,
    /// Wakes the outbox worker; present when it runs.
    pub wakeup: Option<Wakeup>,
}

/// Everything the server answers: a webhook path goes through the deadline and the signature
/// check straight to its handler; any other request through axum's router.
#[derive(Clone)]
pub struct Routes {
    webhooks: Deadline<TwilioSignature<Webhooks>>,
    router: Router,
}

impl Routes {
    /// The server's routes, every handler reaching `state`.
    pub fn new(state: AppState) -> Routes {
        let webhooks = tower::ServiceBuilder::new()
            .layer(DeadlineLayer::new(
                state.config.webhook_deadline,
                state.templates.clone(),
                state.config.base_path(),
            ))
            .layer(TwilioSignatureLayer::new(Verifier::from_config(
                &state.config,
            )))
            .service(Webhooks::new(state.clone()));
        let router = Router::new()
            .route("/api/messages", post(api::send))
            .route("/api/messages/{id}", get(api::get))
            .route("/api/verify", post(verify::start))
            .route("/api/verify/check", post(verify::check))
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .layer(crate::metrics::layer::RecordLayer)
            .with_state(state);
        Routes { webhooks, router }
    }
}

impl<B> Service<Request<B>> for Routes
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RoutesFuture;

    /// Both halves are always ready: neither holds a resource a request must wait for.
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> RoutesFuture {
        let req = req.map(Body::new);
        match Webhook::at(req.uri().path()) {
            Some(webhook) => RoutesFuture::Webhook {
                inner: RecordFuture::new(self.webhooks.call(req), Route::Fixed(webhook.path())),
            },
            None => RoutesFuture::Router {
                inner: self.router.call(req),
            },
        }
    }
}

pin_project! {
    #[project = RoutesProj]
    pub enum RoutesFuture {
        Webhook {
            #[pin]
            inner: RecordFuture<DeadlineFuture<SignatureFuture>>,
        },
        Router {
            #[pin]
            inner: RouteFuture<Infallible>,
        },
    }
}

impl Future for RoutesFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RoutesProj::Webhook { inner } => inner.poll(cx),
            RoutesProj::Router { inner } => inner.poll(cx),
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(app): State<AppState>) -> Response {
    let depth = app.store.outbox_pending().await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::global().render(depth),
    )
        .into_response()
}

/// Ready when the database answers (templates are always loaded: start-up fails otherwise).
async fn readyz(State(app): State<AppState>) -> Response {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// A field Twilio always sends (a SID, an address, a status); its absence means the request is
/// not a real webhook.
fn required<'a>(params: &'a FormParams, name: &'static str) -> Result<&'a str, AppError> {
    let value = params
        .get(name)
        .filter(|v| !v.is_empty())
        .ok_or(AppError::MissingField(name))?;
    check_key_len(name, value).map_err(AppError::BadField)?;
    Ok(value)
}

/// An optional SID or address, which may become a database key.
fn optional_key<'a>(params: &'a FormParams, name: &str) -> Result<Option<&'a str>, AppError> {
    let value = params.get(name).filter(|v| !v.is_empty());
    if let Some(v) = value {
        check_key_len(name, v).map_err(AppError::BadField)?;
    }
    Ok(value)
}

/// An optional whole-number field; present but not a number is the caller's mistake.
fn int_field(params: &FormParams, name: &'static str) -> Result<Option<i64>, AppError> {
    match params.get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::BadField(format!("form field '{name}' is not a number: '{v}'"))),
    }
}

/// Longest replay key stored as it is: a GET webhook's natural key holds its whole query, with
/// all of Twilio's parameters, and PostgreSQL cannot index a key over about 2.7 KB.
const MAX_REPLAY_KEY: usize = 256;

const IDEMPOTENCY_HEADER: header::HeaderName =
    header::HeaderName::from_static("i-twilio-idempotency-token");

/// Twilio's `I-Twilio-Idempotency-Token`, the same on every retry of one webhook; read alone,
/// since taking the whole `HeaderMap` would copy every header of every webhook.
pub struct IdempotencyToken(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(&IDEMPOTENCY_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 200);
        Ok(IdempotencyToken(token.map(|t| format!("token:{t}"))))
    }
}

impl IdempotencyToken {
    /// The key a webhook's answer is committed under: the token, or without one the webhook's
    /// natural key. A long key is replaced by its SHA-256, which every retry of the same request
    /// shares.
    fn replay_key(self, natural: impl FnOnce() -> String) -> String {
        let key = self.0.unwrap_or_else(natural);
        if key.len() <= MAX_REPLAY_KEY {
            return key;
        }
        let mut hashed = String::with_capacity(7 + 64);
        hashed.push_str("sha256:");
        for byte in sha2::Sha256::digest(key.as_bytes()) {
            let _ = write!(hashed, "{byte:02x}");
        }
        hashed
    }
}

/// Commits a voice webhook's answer with its effects, then wakes the outbox worker for any text
/// they queue; the answer is the one first committed under `replay_key`.
async fn commit_answer(
    app: &AppState,
    replay_key: String,
    response: String,
    effects: Vec<Effect>,
) -> Result<Response, AppError> {
    let queued = effects.iter().any(|e| matches!(e, Effect::OutboxInsert(_)));
    let write = WebhookWrite {
        replay_key,
        response,
        response_if_opted_out: None,
        effects,
    };
    let outcome = app.store.commit(write).await?;
    if queued && let Some(w) = &app.wakeup {
        w.wake();
    }
    Ok(twiml_response(outcome.into_response_string()))
}

/// A committed (or replayed) TwiML answer.
fn twiml_response(xml: impl Into<axum::body::Body>) -> Response {
    let body: axum::body::Body = xml.into();
    ([(header::CONTENT_TYPE, twiml::CONTENT_TYPE)], body).into_response()
}
