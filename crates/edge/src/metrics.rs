//! What the edge counts (besides auth-core's verification metrics): HTTP
//! requests by route template, method and status with their latency, and
//! calls to its upstreams (tasks, auth-verify) by outcome, with retries and
//! latency. Label values come from fixed sets: route templates such as
//! `/api/{user_id}/tasks` (never the raw path, so never a user id).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
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

/// Counts every request, outermost (timeouts and refusals included): a
/// tower layer that wraps the inner call's future (axum's `from_fn` would
/// clone the whole service below it for each request).
#[derive(Clone, Copy)]
pub struct TrackLayer;

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track(inner)
    }
}

/// See [`TrackLayer`].
#[derive(Clone)]
pub struct Track<S>(S);

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let method = service_kit::metrics::method_label(request.method());
        let answer = self.0.call(request);
        Box::pin(async move {
            let response = answer.await?;
            record(&response, method, started);
            Ok(response)
        })
    }
}

fn record(response: &Response, method: &'static str, started: Instant) {
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let status = response.status().as_u16().to_string();
    histogram!(HTTP_SECONDS, "route" => route.clone(), "method" => method)
        .record(started.elapsed().as_secs_f64());
    counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
}

/// Inside the router (a route layer, where the matched route is known):
/// hands the route template out to [`track`] on the response.
pub async fn route_template(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
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
