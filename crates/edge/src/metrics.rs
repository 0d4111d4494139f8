//! What the edge counts (besides auth-core's verification metrics): HTTP
//! requests by route template, method and status with their latency, and
//! calls to its upstreams (tasks, auth-verify) by outcome, with retries and
//! latency. Label values come from fixed sets: route templates such as
//! `/api/{user_id}/tasks` (never the raw path, so never a user id).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::ready;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use metrics::{Counter, Histogram, Unit, counter, describe_counter, describe_histogram, histogram};
use tower::{Layer, Service};

pub const HTTP_REQUESTS: &str = "edge_http_requests_total";
pub const HTTP_SECONDS: &str = "edge_http_request_duration_seconds";
pub const UPSTREAM_CALLS: &str = "edge_upstream_calls_total";
pub const UPSTREAM_RETRIES: &str = "edge_upstream_retries_total";
pub const UPSTREAM_SECONDS: &str = "edge_upstream_call_duration_seconds";

/// The `route` of a request that matched no route (404s of the fallback).
const UNMATCHED: &str = "unmatched";

/// Registers the help text of the edge's metrics and auth-core's.
pub fn describe() {
    auth_core::metrics::describe();
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template (e.g. /api/{user_id}/tasks; `unmatched` for \
         paths no route matches), method and status code"
    );
    describe_histogram!(
        HTTP_SECONDS,
        Unit::Seconds,
        "Time from a request's arrival to its response head, by route template and method"
    );
    describe_counter!(
        UPSTREAM_CALLS,
        "gRPC calls to an upstream (tasks, auth-verify), by operation and outcome (ok, \
         not_found, invalid_argument, unauthenticated, unavailable, timeout, internal); a \
         retried call counts once"
    );
    describe_counter!(
        UPSTREAM_RETRIES,
        "Calls tried again on another replica after a failure that allowed it, by upstream and \
         operation"
    );
    describe_histogram!(
        UPSTREAM_SECONDS,
        Unit::Seconds,
        "Time of one upstream call, retries included, by upstream and operation"
    );
}

/// Counts every request, timeouts and refusals included: a tower layer
/// inside the router (so the request names its route template, axum's
/// [`MatchedPath`]) that wraps the inner call's future. The metric handles
/// are looked up once per route, method and status, and kept.
#[derive(Clone, Default)]
pub struct TrackLayer(Arc<Handles>);

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track {
            inner,
            handles: Arc::clone(&self.0),
        }
    }
}

/// See [`TrackLayer`].
#[derive(Clone)]
pub struct Track<S> {
    inner: S,
    handles: Arc<Handles>,
}

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let method = service_kit::metrics::method_label(request.method());
        let route = request.extensions().get::<MatchedPath>().cloned();
        Tracked {
            answer: self.inner.call(request),
            handles: Arc::clone(&self.handles),
            route,
            method,
            started,
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer; counts it when it is ready.
    pub struct Tracked<F> {
        #[pin]
        answer: F,
        handles: Arc<Handles>,
        route: Option<MatchedPath>,
        method: &'static str,
        started: Instant,
    }
}

impl<F> Future for Tracked<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.answer.poll(cx));
        let route = this.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        this.handles.record(
            route,
            this.method,
            response.status().as_u16(),
            this.started.elapsed(),
        );
        Poll::Ready(Ok(response))
    }
}

/// The request metrics' handles, by route template, then method and status
/// (a fixed, small set: see the module's note on labels).
#[derive(Default)]
pub struct Handles(RwLock<HashMap<Box<str>, ByAnswer>>);

/// One route's latency histogram and request counter, by method and status.
type ByAnswer = HashMap<(&'static str, u16), (Histogram, Counter)>;

impl Handles {
    fn record(&self, route: &str, method: &'static str, status: u16, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Ok(known) = self.0.read()
            && let Some((latency, requests)) =
                known.get(route).and_then(|m| m.get(&(method, status)))
        {
            latency.record(seconds);
            requests.increment(1);
            return;
        }
        let latency = histogram!(HTTP_SECONDS, "route" => route.to_owned(), "method" => method);
        let requests = counter!(HTTP_REQUESTS, "route" => route.to_owned(), "method" => method,
            "status" => status.to_string());
        latency.record(seconds);
        requests.increment(1);
        if let Ok(mut known) = self.0.write() {
            known
                .entry(route.into())
                .or_default()
                .insert((method, status), (latency, requests));
        }
    }
}

/// One upstream call's outcome and time.
pub fn upstream_call(
    upstream: &'static str,
    operation: &'static str,
    outcome: &'static str,
    took: Duration,
) {
    counter!(UPSTREAM_CALLS, "upstream" => upstream, "operation" => operation, "outcome" => outcome)
        .increment(1);
    histogram!(UPSTREAM_SECONDS, "upstream" => upstream, "operation" => operation)
        .record(took.as_secs_f64());
}

/// One retry of an upstream call.
pub fn upstream_retry(upstream: &'static str, operation: &'static str) {
    counter!(UPSTREAM_RETRIES, "upstream" => upstream, "operation" => operation).increment(1);
}

/// The `outcome` label of an upstream call that failed with `error`.
pub fn outcome_of(error: &ApiError) -> &'static str {
    match error {
        ApiError::Auth(_) => "unauthenticated",
        ApiError::NotFound => "not_found",
        ApiError::BadRequest(_) | ApiError::Unprocessable(_) => "invalid_argument",
        ApiError::Unavailable(..) => "unavailable",
        ApiError::Timeout(_) => "timeout",
        ApiError::Internal(_) => "internal",
        ApiError::PayloadTooLarge | ApiError::UnsupportedMediaType | ApiError::RequestTimeout => {
            "other"
        }
    }
}
