//! Voice webhooks: the call arriving, the menu choice, and the end of a voicemail recording.

use axum::Extension;
use axum::extract::{RawQuery, State};

use axum::http::HeaderMap;
use axum::response::Response;

use super::{AppState, replay_key, required, twiml_response};
use crate::call_state::CallState;
use crate::error::AppError;
use crate::form::FormParams;
use crate::ivr::Ivr;
use crate::store::model::{CallEvent, Effect, WebhookWrite, now_millis};
use crate::templates::Templates;
use crate::twiml::VoiceResponse;

fn ivr<'a>(state: &'a AppState, t: &'a Templates) -> Ivr<'a> {
    Ivr {
        flow: &t.voice,
        base_path: state.config.base_path(),
    }
}

fn call_state(t: &Templates, query: Option<&str>) -> Result<CallState, AppError> {
    let flow = &t.voice;
    Ok(CallState::from_query(
        query,
        &flow.start,
        &flow.default_language,
    )?)
}

/// POST /voice/incoming: a new call, or a call back here after no input (attempt raised).
/// The call is recorded (status never regressing) before the menu is answered.
pub async fn incoming(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Extension(params): Extension<FormParams>,
) -> Result<Response, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let t = app.templates.current();
    let state = call_state(&t, query.as_deref())?;
    // One step of one call: its call SID plus the state in the URL.
    let step = query.as_deref().unwrap_or("");
    let key = replay_key(&headers, || format!("voice:{call_sid}:incoming?{step}"));
    if let Some(answer) = app.store.cached_answer(&key) {
        return Ok(twiml_response(answer));
    }
    tracing::debug!(call_sid, menu = %state.menu, attempt = state.attempt, "incoming");
    let call = CallEvent {
        call_sid: call_sid.to_owned(),
        account_sid: params.get("AccountSid").map(str::to_owned),
        from: required(&params, "From")?.to_owned(),
        to: params.get("To").unwrap_or("").to_owned(),
        direction: params.get("Direction").map(str::to_owned),
        status: params
            .get("CallStatus")
            .filter(|s| !s.is_empty())
            .unwrap_or("ringing")
            .to_owned(),
        duration: None,
        log_event: false,
        at: now_millis(),
    };
    let write = WebhookWrite {
        replay_key: key,
        response: ivr(&app, &t).incoming(&state).to_xml(),
        response_if_opted_out: None,
        effects: vec![Effect::Call(call)],
    };
    let outcome = app.store.commit(write).await?;
    Ok(twiml_response(outcome.into_response_string()))
}

/// POST /voice/menu-selection: the caller's keys at the menu named in the URL state.
pub async fn menu_selection(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    Extension(params): Extension<FormParams>,
) -> Result<VoiceResponse, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let t = app.templates.current();
    let state = call_state(&t, query.as_deref())?;
    let digits = params.get("Digits");
    tracing::debug!(call_sid, menu = %state.menu, attempt = state.attempt, digits, "menu selection");
    Ok(ivr(&app, &t).selection(&state, digits))
}

/// POST /voice/recording: Record's action, requested once a voicemail is recorded.
pub async fn recording(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    Extension(params): Extension<FormParams>,
) -> Result<VoiceResponse, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let t = app.templates.current();
    let state = call_state(&t, query.as_deref())?;
    tracing::info!(
        call_sid,
        recording_sid = params.get("RecordingSid"),
        duration = params.get("RecordingDuration"),
        "voicemail recorded"
    );
    Ok(ivr(&app, &t).recording_done(&state.lang))
}
