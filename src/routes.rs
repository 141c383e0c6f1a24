//! The HTTP surface: webhook routes behind the signature layer, plus health.

pub mod api;
mod sms;
mod status;
pub mod verify;
mod voice;
mod voicemail;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, State};
use axum::handler::Handler;
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use sha2::Digest as _;

use crate::config::Config;
use crate::deadline::DeadlineLayer;
use crate::error::AppError;
use crate::form::FormParams;
use crate::ivr::{
    DIAL_STATUS_PATH, INCOMING_PATH, MENU_SELECTION_PATH, RECORDING_PATH, RECORDING_STATUS_PATH,
    TRANSCRIPTION_PATH,
};
use crate::outbox::Wakeup;
use crate::signature::layer::{BODY_LIMIT, TwilioSignatureLayer, Verifier};
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

/// A webhook route: a number's webhook may be configured with GET as well as POST.
fn post_or_get<H, T>(handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState> + Clone,
    T: 'static,
{
    post(handler.clone()).get(handler)
}

pub fn router(state: AppState) -> Router {
    // The paths Twilio calls: one list gives both the handlers' router and the outer routes
    // that lead into it.
    let routes = [
        (INCOMING_PATH, post_or_get(voice::incoming)),
        (MENU_SELECTION_PATH, post_or_get(voice::menu_selection)),
        (DIAL_STATUS_PATH, post_or_get(voice::dial_status)),
        (RECORDING_PATH, post_or_get(voicemail::recording)),
        (
            RECORDING_STATUS_PATH,
            post_or_get(voicemail::recording_status),
        ),
        (TRANSCRIPTION_PATH, post_or_get(voicemail::transcription)),
        (status::CALL_PATH, post_or_get(status::call)),
        (sms::PATH, post_or_get(sms::incoming)),
        (status::MESSAGE_PATH, post_or_get(status::message)),
    ];
    let paths = routes.each_ref().map(|(path, _)| *path);
    let handlers = routes
        .into_iter()
        .fold(Router::new(), |r, (path, handler)| r.route(path, handler))
        .with_state(state.clone());
    // One deadline and one signature check around the handlers' router, rather than a copy of
    // each around every route: axum boxes and clones every layer it wraps a route in, on every
    // request.
    let webhooks = tower::ServiceBuilder::new()
        .layer(DeadlineLayer::new(
            state.config.webhook_deadline,
            state.templates.clone(),
            state.config.base_path(),
        ))
        .layer(TwilioSignatureLayer::new(Verifier::from_config(
            &state.config,
        )))
        .service(handlers);
    let api = Router::new()
        .route("/api/messages", post(api::send))
        .route("/api/messages/{id}", get(api::get))
        .route("/api/verify", post(verify::start))
        .route("/api/verify/check", post(verify::check))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    let mut router = Router::new();
    for path in paths {
        router = router.route_service(path, webhooks.clone());
    }
    router
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(crate::metrics::layer::RecordLayer)
        .with_state(state)
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
