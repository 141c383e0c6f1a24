//! `DeadlineLayer` + `Deadline<S>`: every webhook answers well inside Twilio's 15 s, with
//! fallback TwiML (voice: an apology, then voicemail; SMS: an empty Response), never an error page.
//!
//! A write already handed to the store is still committed by its writer after the deadline.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Uri};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::ivr::Ivr;
use crate::templates::TemplateSet;
use crate::twiml::MessagingResponse;

/// Twilio waits 15 s in all; answering by 10 s leaves room for the network.
pub const DEFAULT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct DeadlineLayer {
    limit: Duration,
    templates: Arc<TemplateSet>,
    base_path: Arc<str>,
}

impl DeadlineLayer {
    pub fn new(limit: Duration, templates: Arc<TemplateSet>, base_path: &str) -> DeadlineLayer {
        DeadlineLayer {
            limit,
            templates,
            base_path: base_path.into(),
        }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    layer: DeadlineLayer,
}

impl<S> Service<Request<Body>> for Deadline<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> DeadlineFuture<S::Future> {
        let voice = req.uri().path().starts_with("/voice/");
        // Shares the request's buffer: no copy unless the deadline is overrun.
        let uri = req.uri().clone();
        DeadlineFuture {
            inner: tokio::time::timeout(self.layer.limit, self.inner.call(req)),
            voice,
            uri,
            layer: self.layer.clone(),
        }
    }
}

pin_project! {
    /// The inner answer, or the fallback once the deadline passes.
    pub struct DeadlineFuture<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
        voice: bool,
        uri: Uri,
        layer: DeadlineLayer,
    }
}

impl<F> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match ready!(this.inner.poll(cx)) {
            Ok(answer) => Poll::Ready(answer),
            Err(_) => {
                tracing::error!(
                    path = this.uri.path(),
                    limit_ms = this.layer.limit.as_millis() as u64,
                    "webhook overran its deadline; answered with fallback TwiML"
                );
                Poll::Ready(Ok(fallback(this.layer, *this.voice)))
            }
        }
    }
}

fn fallback(layer: &DeadlineLayer, voice: bool) -> Response {
    if !voice {
        return MessagingResponse::new().into_response();
    }
    let t = layer.templates.current();
    let ivr = Ivr {
        flow: &t.voice,
        base_path: &layer.base_path,
        caller: None,
    };
    ivr.apology(&t.voice.default_language).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use std::path::Path;

    fn templates() -> Arc<TemplateSet> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let t = crate::templates::Templates::load_with_env(&dir, &|_| None).unwrap();
        Arc::new(TemplateSet::new(t))
    }

    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "too late"
    }

    async fn call(path: &str, limit_ms: u64) -> (u16, String, String) {
        let app = Router::new()
            .route("/voice/incoming", post(slow))
            .route("/sms", post(slow))
            .route("/fast", post(|| async { "fast" }))
            .layer(DeadlineLayer::new(
                Duration::from_millis(limit_ms),
                templates(),
                "",
            ));
        let req = Request::post(path).body(Body::empty()).unwrap();
        let res = tower::ServiceExt::oneshot(app, req).await.unwrap();
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, ct, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test(start_paused = true)]
    async fn an_overrunning_voice_webhook_apologises_and_takes_a_message() {
        let (status, ct, body) = call("/voice/incoming", 100).await;
        assert_eq!((status, ct.as_str()), (200, "text/xml"));
        assert!(body.contains("Sorry, we are having trouble"), "{body}");
        assert!(
            body.contains("<Record action=\"/voice/recording?lang=en\""),
            "{body}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_overrunning_sms_webhook_answers_an_empty_response() {
        let (status, _, body) = call("/sms", 100).await;
        assert_eq!(
            (status, body.as_str()),
            (200, r#"<?xml version="1.0" encoding="UTF-8"?><Response />"#)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_answer_passes_through() {
        assert_eq!(call("/fast", 100).await.2, "fast");
    }
}
