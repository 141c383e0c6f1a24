//! Verification codes through Twilio Verify: start one, check one. Codes are never stored or logged.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::api::{ApiError, authorize};
use crate::twilio::{TwilioClient, TwilioError};

pub const CHANNELS: [&str; 4] = ["sms", "call", "email", "whatsapp"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    pub to: String,
    #[serde(default = "default_channel")]
    pub channel: String,
    pub locale: Option<String>,
}

fn default_channel() -> String {
    "sms".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub to: String,
    pub code: String,
}

impl std::fmt::Debug for CheckRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckRequest")
            .field("to", &self.to)
            .field("code", &"[redacted]")
            .finish()
    }
}

/// What Verify's errors mean to the caller: 60200 is their mistake (400), 60202/60203/60212 are
/// limits (429), 20404 means the verification expired or was used (410: start again).
pub fn verify_error(e: TwilioError) -> ApiError {
    let status = match e.code() {
        Some(60200) => StatusCode::BAD_REQUEST,
        Some(60202 | 60203 | 60212 | 20429) => StatusCode::TOO_MANY_REQUESTS,
        Some(20404) => {
            let mut err = ApiError::new(
                StatusCode::GONE,
                "verification expired or already used: start a new one",
            );
            err.extra = Some(json!({ "status": "expired" }));
            return err;
        }
        _ if e.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    };
    ApiError::new(status, e.to_string())
}

/// The destination as Verify wants it: an email address for `email`, else a phone number.
pub fn verify_target(
    default_region: Option<&str>,
    to: &str,
    channel: &str,
) -> Result<String, String> {
    if !CHANNELS.contains(&channel) {
        return Err(format!(
            "channel '{channel}' is not one of sms, call, email, whatsapp"
        ));
    }
    if channel == "email" {
        let t = to.trim();
        return match t.split_once('@') {
            Some((user, domain)) if !user.is_empty() && domain.contains('.') => Ok(t.to_owned()),
            _ => Err(format!("to: '{to}' is not an email address")),
        };
    }
    crate::phone::parse_address(to, default_region)
        .map(|n| n.trim_start_matches("whatsapp:").to_owned())
        .map_err(|e| format!("to: {e}"))
}

fn service(app: &AppState) -> Result<(&TwilioClient, &str), ApiError> {
    match (&app.client, &app.config.outbound.verify_service_sid) {
        (Some(c), Some(sid)) => Ok((c, sid)),
        (None, _) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "verification needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
        )),
        (_, None) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "verification needs TWILIO_VERIFY_SID",
        )),
    }
}

/// POST /api/verify: sends a code; 200 with `status: pending`.
pub async fn start(
    State(app): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<StartRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let Json(req) = req?;
    let to = verify_target(
        app.config.outbound.default_region.as_deref(),
        &req.to,
        &req.channel,
    )
    .map_err(ApiError::bad)?;
    let (client, sid) = service(&app)?;
    let v = client
        .start_verification(sid, &to, &req.channel, req.locale.as_deref())
        .await
        .map_err(verify_error)?;
    Ok(Json(json!({ "status": v.status, "to": to, "channel": req.channel })).into_response())
}

/// POST /api/verify/check: 200 with `approved` or `pending` (wrong code), 410 when expired.
pub async fn check(
    State(app): State<AppState>,
    headers: HeaderMap,
    req: Result<Json<CheckRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &headers)?;
    let Json(req) = req?;
    let code = req.code.trim();
    if !(4..=10).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::bad("code: expected 4 to 10 letters or digits"));
    }
    let channel = if req.to.contains('@') { "email" } else { "sms" };
    let to = verify_target(
        app.config.outbound.default_region.as_deref(),
        &req.to,
        channel,
    )
    .map_err(ApiError::bad)?;
    let (client, sid) = service(&app)?;
    let v = client
        .check_verification(sid, &to, code)
        .await
        .map_err(verify_error)?;
    let status = if v.status == "approved" {
        "approved"
    } else {
        "pending"
    };
    Ok(Json(json!({ "status": status, "to": to })).into_response())
}
