//! Status callbacks for messages and calls: every event stored, the current status never
//! moving backwards, whatever order Twilio's callbacks arrive in.

use axum::extract::State;
use axum::response::Response;

use super::{AppState, IdempotencyToken, int_field as int, optional_key, required, twiml_response};
use crate::error::AppError;
use crate::form::FormParams;
use crate::store::model::{
    CallEvent, ERROR_UNSUBSCRIBED, Effect, OptChange, StatusEvent, WebhookWrite, now_millis,
};
use crate::twiml::MessagingResponse;

pub const MESSAGE_PATH: &str = "/sms/status";
pub const CALL_PATH: &str = "/voice/status";

fn empty_response() -> String {
    MessagingResponse::new().to_xml()
}

/// POST /sms/status: a message status callback. ErrorCode 21610 marks the recipient opted out.
pub async fn message(
    State(app): State<AppState>,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let sid = required(&params, "MessageSid")?;
    let status = params
        .get("MessageStatus")
        .or_else(|| params.get("SmsStatus"))
        .filter(|s| !s.is_empty())
        .ok_or(AppError::MissingField("MessageStatus"))?;
    let error_code = int(&params, "ErrorCode")?;
    let from = optional_key(&params, "From")?;
    let to = optional_key(&params, "To")?;
    let now = now_millis();
    let mut effects = vec![Effect::MessageStatus(StatusEvent {
        message_sid: sid.to_owned(),
        status: status.to_owned(),
        error_code,
        from: from.map(str::to_owned),
        to: to.map(str::to_owned),
        at: now,
    })];
    if error_code == Some(ERROR_UNSUBSCRIBED) {
        let scope = optional_key(&params, "MessagingServiceSid")?.or(from);
        if let (Some(scope), Some(to)) = (scope, to) {
            effects.push(Effect::OptChange(OptChange {
                scope: scope.to_owned(),
                number: to.to_owned(),
                opted_out: true,
                keyword: ERROR_UNSUBSCRIBED.to_string(),
                source: "error_21610",
                message_sid: Some(sid.to_owned()),
                at: now,
            }));
        }
    }
    let write = WebhookWrite {
        replay_key: token.replay_key(|| format!("sms-status:{sid}:{status}")),
        response: empty_response(),
        response_if_opted_out: None,
        effects,
    };
    let outcome = app.store.commit(write).await?;
    Ok(twiml_response(outcome.into_response_string()))
}

/// POST /voice/status: a call status callback.
pub async fn call(
    State(app): State<AppState>,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let sid = required(&params, "CallSid")?;
    let status = required(&params, "CallStatus")?;
    let event = CallEvent {
        call_sid: sid.to_owned(),
        account_sid: params.get("AccountSid").map(str::to_owned),
        from: required(&params, "From")?.to_owned(),
        to: required(&params, "To")?.to_owned(),
        direction: params.get("Direction").map(str::to_owned),
        status: status.to_owned(),
        duration: int(&params, "CallDuration")?,
        log_event: true,
        at: now_millis(),
    };
    let write = WebhookWrite {
        replay_key: token.replay_key(|| format!("call-status:{sid}:{status}")),
        response: empty_response(),
        response_if_opted_out: None,
        effects: vec![Effect::Call(event)],
    };
    let outcome = app.store.commit(write).await?;
    Ok(twiml_response(outcome.into_response_string()))
}
