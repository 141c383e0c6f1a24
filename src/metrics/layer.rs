//! `RecordLayer` + `Record<S>`: counts every answered request by route pattern and status, and
//! times the webhooks, into the [`global`](super::global) registry.
//!
//! A plain tower layer rather than `axum::middleware::from_fn`, which boxes each request's
//! future and clones the rest of the stack into a `Next`; this wraps the inner future in place.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

#[derive(Clone, Copy, Default)]
pub struct RecordLayer;

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record { inner }
    }
}

#[derive(Clone)]
pub struct Record<S> {
    inner: S,
}

impl<S> Service<Request> for Record<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RecordFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> RecordFuture<S::Future> {
        // A shared string: cloning it costs no allocation on the hot path.
        let route = match req.extensions().get::<MatchedPath>() {
            Some(p) => Route::Matched(p.clone()),
            None => Route::Unmatched,
        };
        RecordFuture::new(self.inner.call(req), route)
    }
}

/// The label a request is counted under.
pub enum Route {
    /// The pattern axum's router matched.
    Matched(MatchedPath),
    /// A path served outside the router.
    Fixed(&'static str),
    Unmatched,
}

impl Route {
    fn as_str(&self) -> &str {
        match self {
            Route::Matched(p) => p.as_str(),
            Route::Fixed(p) => p,
            Route::Unmatched => "unmatched",
        }
    }
}

pin_project! {
    pub struct RecordFuture<F> {
        #[pin]
        inner: F,
        route: Route,
        start: Instant,
    }
}

impl<F> RecordFuture<F> {
    /// Counts `inner`'s answer under `route` once it comes.
    pub fn new(inner: F, route: Route) -> RecordFuture<F> {
        RecordFuture {
            inner,
            route,
            start: Instant::now(),
        }
    }
}

impl<F, E> Future for RecordFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx));
        if let Ok(response) = &res {
            let route = this.route.as_str();
            let webhook = route.starts_with("/voice/") || route.starts_with("/sms");
            super::global().request(
                route,
                response.status().as_u16(),
                this.start.elapsed(),
                webhook,
            );
        }
        Poll::Ready(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn counts_by_route_pattern_and_status() {
        let app = Router::new()
            .route("/items/{id}", get(|| async { "ok" }))
            .layer(RecordLayer);
        let before = super::super::global().render(None);
        let count = |text: &str| {
            text.lines()
                .find(|l| l.contains("route=\"/items/{id}\"") && l.contains("status=\"200\""))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        for id in ["1", "2"] {
            let req = Request::get(format!("/items/{id}"))
                .body(Body::empty())
                .unwrap();
            assert_eq!(app.clone().oneshot(req).await.unwrap().status(), 200);
        }
        let after = super::super::global().render(None);
        assert_eq!(count(&after), count(&before) + 2, "{after}");
    }
}
