//! The paths Twilio calls, found by an exact `match` and handed to their handlers without
//! axum's `Router`.
//!
//! A webhook through the router paid for two route matches, a `MatchedPath` in the request's
//! extensions for each, and a boxed clone of the services on the way, on every request. The
//! webhooks are nine fixed paths, so a `match` on the path finds them; the handlers stay axum
//! handlers, with their extractors.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::handler::Handler;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::Service;

use super::{AppState, sms, status, voice, voicemail};
use crate::ivr::{
    DIAL_STATUS_PATH, INCOMING_PATH, MENU_SELECTION_PATH, RECORDING_PATH, RECORDING_STATUS_PATH,
    TRANSCRIPTION_PATH,
};

/// One webhook Twilio calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Webhook {
    Incoming,
    MenuSelection,
    DialStatus,
    Recording,
    RecordingStatus,
    Transcription,
    CallStatus,
    Sms,
    MessageStatus,
}

impl Webhook {
    pub const ALL: [Webhook; 9] = [
        Webhook::Incoming,
        Webhook::MenuSelection,
        Webhook::DialStatus,
        Webhook::Recording,
        Webhook::RecordingStatus,
        Webhook::Transcription,
        Webhook::CallStatus,
        Webhook::Sms,
        Webhook::MessageStatus,
    ];

    /// The path it is served at, which is also its metrics label.
    pub fn path(self) -> &'static str {
        match self {
            Webhook::Incoming => INCOMING_PATH,
            Webhook::MenuSelection => MENU_SELECTION_PATH,
            Webhook::DialStatus => DIAL_STATUS_PATH,
            Webhook::Recording => RECORDING_PATH,
            Webhook::RecordingStatus => RECORDING_STATUS_PATH,
            Webhook::Transcription => TRANSCRIPTION_PATH,
            Webhook::CallStatus => status::CALL_PATH,
            Webhook::Sms => sms::PATH,
            Webhook::MessageStatus => status::MESSAGE_PATH,
        }
    }

    /// The webhook served at exactly `path` (as axum matches: no decoding, no trailing slash).
    pub fn at(path: &str) -> Option<Webhook> {
        Webhook::ALL.into_iter().find(|w| w.path() == path)
    }

    fn call(self, req: Request<Body>, state: AppState) -> HandlerFuture {
        match self {
            Webhook::Incoming => Handler::call(voice::incoming, req, state),
            Webhook::MenuSelection => Handler::call(voice::menu_selection, req, state),
            Webhook::DialStatus => Handler::call(voice::dial_status, req, state),
            Webhook::Recording => Handler::call(voicemail::recording, req, state),
            Webhook::RecordingStatus => Handler::call(voicemail::recording_status, req, state),
            Webhook::Transcription => Handler::call(voicemail::transcription, req, state),
            Webhook::CallStatus => Handler::call(status::call, req, state),
            Webhook::Sms => Handler::call(sms::incoming, req, state),
            Webhook::MessageStatus => Handler::call(status::message, req, state),
        }
    }
}

/// What axum makes of an `async fn` handler's future: one box, whatever the handler.
type HandlerFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// The service behind the signature check: runs the webhook the path names. A number's webhook
/// may be configured for GET as well as POST (HEAD is answered as GET, as axum does).
#[derive(Clone)]
pub struct Webhooks {
    state: AppState,
}

impl Webhooks {
    pub fn new(state: AppState) -> Webhooks {
        Webhooks { state }
    }
}

impl Service<Request<Body>> for Webhooks {
    type Response = Response;
    type Error = Infallible;
    type Future = WebhookFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> WebhookFuture {
        let Some(webhook) = Webhook::at(req.uri().path()) else {
            return WebhookFuture(Err(Some(StatusCode::NOT_FOUND.into_response())));
        };
        if !matches!(*req.method(), Method::GET | Method::HEAD | Method::POST) {
            let refusal = (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "GET,HEAD,POST")],
            );
            return WebhookFuture(Err(Some(refusal.into_response())));
        }
        WebhookFuture(Ok(webhook.call(req, self.state.clone())))
    }
}

/// The handler's answer, or a refusal made before any handler ran.
pub struct WebhookFuture(Result<HandlerFuture, Option<Response>>);

impl Future for WebhookFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Ok(handler) => handler.as_mut().poll(cx).map(Ok),
            Err(refusal) => Poll::Ready(Ok(refusal.take().unwrap_or_default())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_webhook_is_found_at_its_own_path_only() {
        for w in Webhook::ALL {
            assert_eq!(Webhook::at(w.path()), Some(w));
        }
        let mut paths = Webhook::ALL.map(Webhook::path);
        paths.sort_unstable();
        assert!(paths.windows(2).all(|w| w[0] != w[1]), "{paths:?}");
    }

    #[test]
    fn near_misses_are_not_webhooks() {
        for path in [
            "/voice/incoming/",
            "/Voice/incoming",
            "/voice/incoming%20",
            "/voice",
            "/sms/",
            "/",
            "",
        ] {
            assert_eq!(Webhook::at(path), None, "{path}");
        }
    }
}
