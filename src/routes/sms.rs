//! The inbound SMS webhook: keyword replies, help, and silence for opt-outs.

use axum::Extension;
use axum::extract::State;

use super::{AppState, required};
use crate::error::AppError;
use crate::form::FormParams;
use crate::twiml::{Message, MessagingResponse};

pub const PATH: &str = "/sms";

/// POST /sms: answers with at most one Message; an empty Response sends nothing.
pub async fn incoming(
    State(app): State<AppState>,
    Extension(params): Extension<FormParams>,
) -> Result<MessagingResponse, AppError> {
    let message_sid = required(&params, "MessageSid")?;
    let from = required(&params, "From")?;
    required(&params, "To")?;
    // An MMS may come with no text at all.
    let body = params.get("Body").unwrap_or("");
    let reply = crate::sms::reply(&app.templates.sms, body, params.get("OptOutType"), false);
    tracing::debug!(message_sid, from, keyword = ?reply.keyword, "inbound sms");
    let mut r = MessagingResponse::new();
    if let Some(text) = reply.text {
        r.push(Message::new(text.to_owned()));
    }
    Ok(r)
}
