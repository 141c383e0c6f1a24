//! The JSON API for the business's own apps: send messages through the outbox and read their
//! status, behind `Authorization: Bearer <SWITCHBOARD_API_KEY>`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::config::Outbound;
use crate::store::StoreError;
use crate::store::outbox::NewOutbound;

/// An API failure: the status and a message naming what is wrong, as `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Extra fields for the body, e.g. `{"status": "expired"}`.
    pub extra: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            extra: None,
        }
    }

    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let (Some(serde_json::Value::Object(extra)), Some(map)) =
            (self.extra, body.as_object_mut())
        {
            map.extend(extra);
        }
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, error = %self.message, "api error");
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        tracing::error!(error = %e, "api request not committed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable, try again",
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        ApiError::new(r.status(), r.body_text())
    }
}

/// Checks the bearer key in constant time; without a configured key the API is off.
pub fn authorize(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(key) = &app.config.outbound.api_key else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the API is off: set SWITCHBOARD_API_KEY",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(key.expose_secret().as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer key",
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    pub to: String,
    pub body: Option<String>,
    #[serde(default)]
    pub media_urls: Vec<String>,
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub status_callback: Option<String>,
}

/// Turns a request into an outbox row, refusing what Twilio would refuse with a clear message.
pub fn validate_send(out: &Outbound, req: SendRequest) -> Result<NewOutbound, String> {
    let region = out.default_region.as_deref();
    let to = crate::phone::parse_address(&req.to, region).map_err(|e| format!("to: {e}"))?;
    let from = match req.from {
        Some(f) => Some(crate::phone::parse_address(&f, region).map_err(|e| format!("from: {e}"))?),
        None => None,
    };
    let messaging_service_sid = req
        .messaging_service_sid
        .or_else(|| out.messaging_service_sid.clone());
    if let Some(mg) = &messaging_service_sid
        && !(mg.len() == 34 && mg.starts_with("MG"))
    {
        return Err(format!("messaging_service_sid: '{mg}' is not an MG SID"));
    }
    let from = from.or_else(|| {
        if messaging_service_sid.is_none() {
            out.default_from.clone()
        } else {
            None
        }
    });
    if from.is_none() && messaging_service_sid.is_none() {
        return Err("give from or messaging_service_sid (or set TWILIO_PHONE_NUMBER)".into());
    }
    let body = req.body.filter(|b| !b.is_empty());
    if body.is_none() && req.media_urls.is_empty() {
        return Err("give body or media_urls".into());
    }
    if let Some(b) = &body {
        crate::segments::check_body_length(b).map_err(|e| format!("body: {e}"))?;
    }
    if req.media_urls.len() > 10 {
        return Err(format!(
            "media_urls: {} given, Twilio takes at most 10",
            req.media_urls.len()
        ));
    }
    for url in req.media_urls.iter().chain(&req.status_callback) {
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(format!("'{url}' is not an http(s) URL"));
        }
    }
    // Twilio takes no NUL, and PostgreSQL cannot store one in text.
    let texts = [
        ("body", &body),
        ("messaging_service_sid", &messaging_service_sid),
        ("status_callback", &req.status_callback),
    ];
    let texts = texts
        .into_iter()
        .filter_map(|(f, t)| Some((f, t.as_deref()?)));
    let urls = req.media_urls.iter().map(|u| ("media_urls", u.as_str()));
    if let Some((field, _)) = texts.chain(urls).find(|(_, t)| t.contains('\0')) {
        return Err(format!("{field}: contains a NUL character"));
    }
    let segments = body
        .as_deref()
        .map_or(0, |b| crate::segments::segment(b).segments as i64);
    Ok(NewOutbound {
        to,
        from,
        messaging_service_sid,
        body,
        media_urls: req.media_urls,
        status_callback: req.status_callback,
        segments,
    })
}

/// POST /api/messages: 202 with the id once the send is committed to the outbox.
pub async fn send(
    State(app): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<SendRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let Json(req) = req?;
    if app.wakeup.is_none() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sending needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
        ));
    }
    let new = validate_send(&app.config.outbound, req).map_err(ApiError::bad)?;
    let (to, segments) = (new.to.clone(), new.segments);
    let id = app.store.enqueue(new).await?;
    if let Some(w) = &app.wakeup {
        w.wake();
    }
    let body = json!({ "id": id, "status": "queued", "to": to, "segments": segments });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// GET /api/messages/{id}: the send's state, the delivery status from Twilio's callbacks, and
/// its whole history.
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let Some(row) = app.store.outbox_message(&id).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no message with id '{id}'"),
        ));
    };
    Ok(Json(message_json(&app.store, &row).await?).into_response())
}

/// The JSON form of a send, shared with the CLI's `status`.
pub async fn message_json(
    store: &crate::store::Store,
    row: &crate::store::outbox::OutboxRow,
) -> Result<serde_json::Value, StoreError> {
    let delivery = match &row.message_sid {
        Some(sid) => store.message_status(sid).await?,
        None => None,
    };
    let history = store.outbox_history(row).await?;
    Ok(json!({
        "id": row.id,
        "to": row.to,
        "from": row.from,
        "messaging_service_sid": row.messaging_service_sid,
        "status": delivery.as_ref().map_or(row.status.as_str(), |d| d.0.as_str()),
        "outbox_status": row.status,
        "message_sid": row.message_sid,
        "segments": row.segments,
        "attempts": row.attempts,
        "error_code": delivery.as_ref().and_then(|d| d.1).or(row.error_code),
        "error_message": row.error_message,
        "history": history,
    }))
}
