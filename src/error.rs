//! The error type of the webhook handlers, turned into a response in one place.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::call_state::StateError;
use crate::store::StoreError;

/// A request we cannot act on. The caller's mistakes answer 4xx naming what is wrong; a storage
/// failure answers 503 so that Twilio retries later, since nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("missing form field '{0}'")]
    MissingField(&'static str),
    #[error("{0}")]
    BadField(String),
    #[error(transparent)]
    BadState(#[from] StateError),
    #[error("storage unavailable, try again")]
    Store(#[from] StoreError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::MissingField(_) | AppError::BadField(_) | AppError::BadState(_) => {
                tracing::info!(error = %self, "webhook refused");
                StatusCode::BAD_REQUEST
            }
            AppError::Store(e) => {
                tracing::error!(error = %e, "webhook not committed");
                StatusCode::SERVICE_UNAVAILABLE
            }
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{self}\n"),
        )
            .into_response()
    }
}
