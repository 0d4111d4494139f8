//! One span and one log line per request: the `request` span (method, path,
//! request id, and the user id once verified), which every log line of the
//! request carries, and at its end the access line `finished processing
//! request` with the status and the latency, and for a refused credential
//! the refusal's `reason` (set by [`crate::error::ApiError`] on the
//! response, so a refusal is one line, not two). A 5xx adds `response
//! failed` at `error`, as tower-http's `TraceLayer` did; the events keep
//! its targets (`tower_http::trace::…`), so filters naming them still work.
//!
//! A tower layer of its own rather than `TraceLayer`: the span is entered
//! only while the handler runs (not again for every poll of the body), and
//! one event is written instead of two for a refusal.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::HeaderName;
use axum::response::Response;
use tower::{Layer, Service};
use tracing::Span;

/// Why a credential was refused, for the access line: put on the response by
/// [`crate::error::ApiError`]'s answer to a refusal.
#[derive(Clone, Debug)]
pub struct Refused(pub String);

/// Wraps a service in [`AccessLog`]; `request_id` names the header the
/// request id is read from.
#[derive(Clone)]
pub struct AccessLogLayer {
    request_id: HeaderName,
}

impl AccessLogLayer {
    pub fn new(request_id: HeaderName) -> Self {
        Self { request_id }
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> AccessLog<S> {
        AccessLog {
            inner,
            request_id: self.request_id.clone(),
        }
    }
}

/// See [`AccessLogLayer`].
#[derive(Clone)]
pub struct AccessLog<S> {
    inner: S,
    request_id: HeaderName,
}

impl<S> Service<Request> for AccessLog<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Logged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let request_id = request
            .headers()
            .get(&self.request_id)
            .and_then(|id| id.to_str().ok())
            .unwrap_or_default();
        // The path only: a query string could carry a token.
        let span = tracing::info_span!(
            target: "edge",
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id,
            user_id = tracing::field::Empty,
        );
        let answer = {
            let _entered = span.enter();
            tracing::debug!(target: "tower_http::trace::on_request", "started processing request");
            self.inner.call(request)
        };
        Logged {
            answer,
            span,
            started,
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer, in the request's span; writes the access line.
    pub struct Logged<F> {
        #[pin]
        answer: F,
        span: Span,
        started: Instant,
    }
}

impl<F> Future for Logged<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let Ok(response) = ready!(this.answer.poll(cx));
        log(&response, this.started.elapsed());
        Poll::Ready(Ok(response))
    }
}

/// The access line (in the current span, the request's) and, for a 5xx,
/// the failure line.
fn log(response: &Response, took: Duration) {
    let latency = Millis(took);
    let status = response.status();
    let reason = response
        .extensions()
        .get::<Refused>()
        .map(|refused| refused.0.as_str());
    tracing::info!(
        target: "tower_http::trace::on_response",
        %latency,
        status = status.as_u16(),
        reason,
        "finished processing request"
    );
    if status.is_server_error() {
        tracing::error!(
            target: "tower_http::trace::on_failure",
            classification = %format_args!("Status code: {status}"),
            %latency,
            "response failed"
        );
    }
}

/// A latency as tower-http wrote it: whole milliseconds, `N ms`.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0.as_millis())
    }
}
