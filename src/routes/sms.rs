//! The inbound SMS webhook: stored, opt-outs mirrored, then answered from the templates.

use axum::extract::State;
use axum::response::Response;

use super::{AppState, IdempotencyToken, required, twiml_response};
use crate::error::AppError;
use crate::form::FormParams;
use crate::keywords::{self, Keyword};
use crate::store::model::{
    Effect, InboundMessage, OptChange, OptOutCheck, WebhookWrite, now_millis,
};
use crate::twiml::{Message, MessagingResponse};

pub const PATH: &str = "/sms";

fn render(text: Option<&str>) -> String {
    let mut r = MessagingResponse::new();
    if let Some(text) = text {
        r.push(Message::new(text.to_owned()));
    }
    r.to_xml()
}

/// POST /sms: commits the message (and any opt-out change) before answering with at most one
/// Message; a replay gets the first answer and changes nothing.
pub async fn incoming(
    State(app): State<AppState>,
    token: IdempotencyToken,
    params: FormParams,
) -> Result<Response, AppError> {
    // A replay this instance answered is looked up before the message is read: its fields were
    // checked when it was first committed.
    let sid = required(&params, "MessageSid")?;
    let key = token.replay_key(|| format!("sms:{sid}"));
    if let Some(answer) = app.store.cached_answer(&key) {
        return Ok(twiml_response(answer));
    }
    let now = now_millis();
    let msg = InboundMessage::from_params(&params, now).map_err(AppError::BadField)?;
    let opt_out_type = params.get("OptOutType");
    let templates = app.templates.current();
    let t = &templates.sms;
    let subscribed = crate::sms::reply(t, &msg.body, opt_out_type, false);
    let opted_out = crate::sms::reply(t, &msg.body, opt_out_type, true);
    let scope = msg.opt_out_scope().to_owned();
    // The answer can depend on the sender's opt-out state, which is read inside the commit.
    let check = (subscribed.text != opted_out.text).then(|| OptOutCheck {
        scope: scope.clone(),
        number: msg.from.clone(),
        response: render(opted_out.text),
    });
    let mut effects = Vec::with_capacity(3);
    if let change @ (Keyword::OptOut | Keyword::OptIn) = subscribed.keyword {
        let by_type = opt_out_type.and_then(keywords::from_opt_out_type).is_some();
        effects.push(Effect::OptChange(OptChange {
            scope,
            number: msg.from.clone(),
            opted_out: change == Keyword::OptOut,
            keyword: match opt_out_type {
                Some(t) if by_type => t.trim().to_ascii_uppercase(),
                _ => msg.body.trim().to_uppercase(),
            },
            source: if by_type { "opt_out_type" } else { "keyword" },
            message_sid: Some(msg.message_sid.clone()),
            at: now,
        }));
    }
    if msg.from.starts_with("whatsapp:") {
        effects.push(Effect::WhatsAppWindow {
            business: msg.to.clone(),
            user: msg.from.clone(),
        });
    }
    tracing::debug!(message_sid = %msg.message_sid, keyword = ?subscribed.keyword, "inbound sms");
    effects.insert(0, Effect::InboundMessage(Box::new(msg)));
    let write = WebhookWrite {
        replay_key: key,
        response: render(subscribed.text),
        response_if_opted_out: check,
        effects,
    };
    // Boxed: only a first delivery commits, and the commit's state would otherwise make every
    // request's future, replays' included, too large for the allocator's fast path.
    let outcome = Box::pin(app.store.commit(write)).await?;
    Ok(twiml_response(outcome.into_response_string()))
}
