//! The HTTP surface: webhook routes behind the signature layer, plus health.

mod sms;
mod voice;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::config::Config;
use crate::error::AppError;
use crate::form::FormParams;
use crate::ivr::{INCOMING_PATH, MENU_SELECTION_PATH, RECORDING_PATH};
use crate::signature::layer::{TwilioSignatureLayer, Verifier};
use crate::templates::Templates;

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub templates: Arc<Templates>,
}

pub fn router(state: AppState) -> Router {
    // GET is accepted too: a number's webhook may be configured with either method.
    let webhooks = Router::new()
        .route(INCOMING_PATH, post(voice::incoming).get(voice::incoming))
        .route(
            MENU_SELECTION_PATH,
            post(voice::menu_selection).get(voice::menu_selection),
        )
        .route(RECORDING_PATH, post(voice::recording).get(voice::recording))
        .route(sms::PATH, post(sms::incoming).get(sms::incoming))
        .layer(TwilioSignatureLayer::new(Verifier::from_config(
            &state.config,
        )));
    Router::new()
        .merge(webhooks)
        .route("/healthz", get(healthz))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// A field Twilio always sends; its absence means the request is not a real webhook.
fn required<'a>(params: &'a FormParams, name: &'static str) -> Result<&'a str, AppError> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .ok_or(AppError::MissingField(name))
}
