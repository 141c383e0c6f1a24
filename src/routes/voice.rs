//! Voice webhooks of the menu: the call arriving, the menu choice, and a dial's outcome.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::{AppState, IdempotencyToken, commit_answer, required, twiml_response};
use crate::call_state::{self, CallState, DialState};
use crate::error::AppError;
use crate::form::FormParams;
use crate::ivr::{Ivr, Step};
use crate::store::model::{CallEvent, Effect, now_millis};
use crate::store::outbox::{NewOutbound, new_id};
use crate::templates::Templates;

pub(super) fn ivr<'a>(app: &'a AppState, t: &'a Templates, params: &'a FormParams) -> Ivr<'a> {
    Ivr {
        flow: &t.voice,
        base_path: app.config.base_path(),
        caller: params.get("From"),
    }
}

pub(super) fn call_state(t: &Templates, query: Option<&str>) -> Result<CallState, AppError> {
    let flow = &t.voice;
    Ok(CallState::from_query(
        query,
        &flow.start,
        &flow.default_language,
    )?)
}

/// A text to `to` from the number the call reached (or `TWILIO_PHONE_NUMBER`), through the
/// outbox; `None` when `to` is not a phone number.
pub(super) fn text(app: &AppState, to: &str, called: Option<&str>, body: &str) -> Option<Effect> {
    let to = crate::phone::parse_e164(to).ok()?;
    let out = &app.config.outbound;
    let called = called.and_then(|c| crate::phone::parse_e164(c).ok());
    let (from, messaging_service_sid) = match (&out.default_from, &out.messaging_service_sid) {
        (Some(f), _) => (Some(f.clone()), None),
        (None, Some(mg)) => (None, Some(mg.clone())),
        (None, None) => (Some(called?), None),
    };
    let body: String = body.chars().take(crate::templates::MAX_SMS_CHARS).collect();
    let segments = crate::segments::segment(&body).segments as i64;
    let new = NewOutbound {
        to,
        from,
        messaging_service_sid,
        body: Some(body),
        media_urls: Vec::new(),
        status_callback: None,
        segments,
    };
    Some(Effect::OutboxInsert(Box::new((new_id(), new))))
}

/// Answers a step: straight away when it changes nothing, else after its texts are committed
/// under `key`, so that Twilio's retry of the request does not text the caller twice.
async fn answer(
    app: &AppState,
    params: &FormParams,
    step: Step,
    key: impl FnOnce() -> String,
) -> Result<Response, AppError> {
    if step.texts.is_empty() {
        return Ok(twiml_response(step.to_xml()));
    }
    let key = key();
    if let Some(answer) = app.store.cached_answer(&key) {
        return Ok(twiml_response(answer));
    }
    // Boxed, as in `incoming`.
    Box::pin(commit(app, params, key, &step, Vec::new())).await
}

/// Commits `effects` plus a text per `step.texts` to the caller, with the step's answer
/// stored under `key`, then wakes the outbox worker for the texts.
async fn commit(
    app: &AppState,
    params: &FormParams,
    key: String,
    step: &Step,
    mut effects: Vec<Effect>,
) -> Result<Response, AppError> {
    if !step.texts.is_empty() {
        let caller = required(params, "From")?;
        effects.extend(
            step.texts
                .iter()
                .filter_map(|body| text(app, caller, params.get("To"), body)),
        );
    }
    commit_answer(app, key, step.to_xml(), effects).await
}

/// POST /voice/incoming: a new call, or a call back here after no input (attempt raised).
/// The call is recorded (status never regressing) before the menu is answered.
pub async fn incoming(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let call_sid = required(&params, "CallSid")?;
    // One step of one call: its call SID plus the state in the URL. A replay is looked up first:
    // its state was checked when it was first answered.
    let step = query.as_deref().unwrap_or("");
    let key = token.replay_key(|| format!("voice:{call_sid}:incoming?{step}"));
    if let Some(answer) = app.store.cached_answer(&key) {
        return Ok(twiml_response(answer));
    }
    let t = app.templates.current();
    let state = call_state(&t, query.as_deref())?;
    tracing::debug!(call_sid, menu = %state.menu, attempt = state.attempt, "incoming");
    let from = required(&params, "From")?;
    let ivr = ivr(&app, &t, &params);
    let step = if call_state::is_first_request(query.as_deref()) {
        ivr.arrive(&state, app.config.now_ms())
    } else {
        ivr.incoming(&state)
    };
    let call = Effect::Call(CallEvent {
        call_sid: call_sid.to_owned(),
        account_sid: params.get("AccountSid").map(str::to_owned),
        from: from.to_owned(),
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
    });
    // Boxed: only a first delivery commits, and the commit's state would otherwise make every
    // request's future, replays' included, too large for the allocator's fast path.
    Box::pin(commit(&app, &params, key, &step, vec![call])).await
}

/// POST /voice/menu-selection: the caller's keys or speech at the menu named in the URL state.
pub async fn menu_selection(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let t = app.templates.current();
    let state = call_state(&t, query.as_deref())?;
    let digits = params.get("Digits");
    let speech = params.get("SpeechResult");
    tracing::debug!(call_sid, menu = %state.menu, attempt = state.attempt, digits, speech, "menu selection");
    let step = ivr(&app, &t, &params).selection(&state, digits, speech);
    let q = query.as_deref().unwrap_or("");
    answer(&app, &params, step, || {
        token.replay_key(|| format!("voice:{call_sid}:selection?{q}"))
    })
    .await
}

/// POST /voice/dial-status: a `<Dial>` ended; the next number of a hunt list or the fallback.
pub async fn dial_status(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    let call_sid = required(&params, "CallSid")?;
    let status = required(&params, "DialCallStatus")?;
    let t = app.templates.current();
    let state = call_state(&t, query.as_deref())?;
    let dial = DialState::from_query(query.as_deref())?;
    tracing::info!(call_sid, menu = %state.menu, hunt = dial.hunt, status, "dial ended");
    let step = ivr(&app, &t, &params).dial_status(&state, dial, status);
    let q = query.as_deref().unwrap_or("");
    answer(&app, &params, step, || {
        token.replay_key(|| format!("voice:{call_sid}:dial?{q}"))
    })
    .await
}
