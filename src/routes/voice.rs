//! Voice webhooks: the call arriving, the menu choice, and the end of a voicemail recording.

use axum::Extension;
use axum::extract::{RawQuery, State};

use super::{AppState, required};
use crate::call_state::CallState;
use crate::error::AppError;
use crate::form::FormParams;
use crate::ivr::Ivr;
use crate::twiml::VoiceResponse;

fn ivr(state: &AppState) -> Ivr<'_> {
    Ivr {
        flow: &state.templates.voice,
        base_path: state.config.base_path(),
    }
}

fn call_state(app: &AppState, query: Option<&str>) -> Result<CallState, AppError> {
    let flow = &app.templates.voice;
    Ok(CallState::from_query(query, &flow.start, &flow.default_language)?)
}

/// POST /voice/incoming: a new call, or a call back here after no input (attempt raised).
pub async fn incoming(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    Extension(params): Extension<FormParams>,
) -> Result<VoiceResponse, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let state = call_state(&app, query.as_deref())?;
    tracing::debug!(call_sid, menu = %state.menu, attempt = state.attempt, "incoming");
    Ok(ivr(&app).incoming(&state))
}

/// POST /voice/menu-selection: the caller's keys at the menu named in the URL state.
pub async fn menu_selection(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    Extension(params): Extension<FormParams>,
) -> Result<VoiceResponse, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let state = call_state(&app, query.as_deref())?;
    let digits = params.get("Digits");
    tracing::debug!(call_sid, menu = %state.menu, attempt = state.attempt, digits, "menu selection");
    Ok(ivr(&app).selection(&state, digits))
}

/// POST /voice/recording: Record's action, requested once a voicemail is recorded.
pub async fn recording(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    Extension(params): Extension<FormParams>,
) -> Result<VoiceResponse, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let state = call_state(&app, query.as_deref())?;
    tracing::info!(
        call_sid,
        recording_sid = params.get("RecordingSid"),
        duration = params.get("RecordingDuration"),
        "voicemail recorded"
    );
    Ok(ivr(&app).recording_done(&state.lang))
}
