//! The error type of the webhook handlers, turned into a response in one place.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::call_state::StateError;

/// A request we cannot act on. Each variant is the caller's mistake and answers 4xx with a
/// plain message naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("missing form field '{0}'")]
    MissingField(&'static str),
    #[error(transparent)]
    BadState(#[from] StateError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            AppError::MissingField(_) | AppError::BadState(_) => StatusCode::BAD_REQUEST,
        };
        tracing::info!(%status, error = %self, "webhook refused");
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{self}\n"),
        )
            .into_response()
    }
}
