//! Voicemail webhooks: the Record action, the recording status callback and the transcription
//! callback, each merged into one stored voicemail, with staff told by text.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::voice::{call_state, ivr, text};
use super::{AppState, IdempotencyToken, commit_answer, int_field, required, twiml_response};
use crate::error::AppError;
use crate::form::FormParams;
use crate::store::model::{Effect, now_millis};
use crate::store::voicemail::VoicemailEvent;
use crate::twiml::VoiceResponse;

fn opt(params: &FormParams, name: &str) -> Option<String> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The fields every voicemail webhook carries.
fn event(params: &FormParams) -> Result<VoicemailEvent, AppError> {
    Ok(VoicemailEvent {
        recording_sid: required(params, "RecordingSid")?.to_owned(),
        call_sid: required(params, "CallSid")?.to_owned(),
        from: opt(params, "From"),
        to: opt(params, "To"),
        recording_url: opt(params, "RecordingUrl"),
        duration: int_field(params, "RecordingDuration")?,
        at: now_millis(),
        ..VoicemailEvent::default()
    })
}

/// The voicemail plus, when the templates name a staff number, a text to it.
async fn commit(
    app: &AppState,
    key: String,
    response: String,
    event: VoicemailEvent,
    notice: Option<String>,
) -> Result<Response, AppError> {
    if let Some(answer) = app.store.cached_answer(&key) {
        return Ok(twiml_response(answer));
    }
    let t = app.templates.current();
    let mut effects = Vec::with_capacity(2);
    let staff = t.voice.voicemail.notify.as_deref();
    if let (Some(staff), Some(body)) = (staff, notice) {
        effects.extend(text(app, staff, event.to.as_deref(), &body));
    }
    effects.insert(0, Effect::Voicemail(Box::new(event)));
    commit_answer(app, key, response, effects).await
}

fn caller(e: &VoicemailEvent) -> &str {
    e.from.as_deref().unwrap_or("an unknown caller")
}

/// POST /voice/recording: Record's action, requested once a voicemail is recorded.
pub async fn recording(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let e = event(&params)?;
    let t = app.templates.current();
    let state = call_state(&t, query.as_deref())?;
    let seconds = e.duration.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
    tracing::info!(call_sid = %e.call_sid, recording_sid = %e.recording_sid, seconds, "voicemail recorded");
    let step = ivr(&app, &t, &params).recording_done(&state.lang, seconds);
    let notice = (seconds > 0).then(|| {
        let mut n = format!("New voicemail from {} ({seconds} s).", caller(&e));
        if t.voice.voicemail.transcribe {
            n.push_str(" The transcription follows when Twilio has it.");
        }
        n
    });
    let key = token.replay_key(|| format!("voice:recording:{}", e.recording_sid));
    commit(&app, key, step.to_xml(), e, notice).await
}

/// POST /voice/recording-status: the recording's final state (`completed`, `absent`, `failed`).
pub async fn recording_status(
    State(app): State<AppState>,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let mut e = event(&params)?;
    let status = required(&params, "RecordingStatus")?;
    e.recording_status = Some(status.to_owned());
    let key = token.replay_key(|| format!("voice:recording-status:{}:{status}", e.recording_sid));
    commit(&app, key, VoiceResponse::new().to_xml(), e, None).await
}

/// POST /voice/transcription: Twilio's transcription of a voicemail, texted on to staff.
pub async fn transcription(
    State(app): State<AppState>,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let mut e = event(&params)?;
    let status = required(&params, "TranscriptionStatus")?;
    let text = opt(&params, "TranscriptionText");
    e.transcription_sid = opt(&params, "TranscriptionSid");
    e.transcription_status = Some(status.to_owned());
    e.transcription_text = text.clone();
    let notice = match (status, text) {
        ("completed", Some(t)) => Some(format!("Voicemail from {}: \"{t}\"", caller(&e))),
        _ => None,
    };
    let key = token.replay_key(|| format!("voice:transcription:{}", e.recording_sid));
    commit(&app, key, VoiceResponse::new().to_xml(), e, notice).await
}
