//! A tower layer for the gRPC servers (tasks, auth-verify): every call
//! counted by method and status code, with its latency. The method label is
//! the `package.Service/Method` path when it is one the service names, else
//! `other`, so a caller cannot grow the label set with made-up paths.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

/// What to count, and under which names.
#[derive(Debug, Clone, Copy)]
pub struct GrpcMetrics {
    /// The counter, e.g. `tasks_grpc_requests_total`.
    pub requests: &'static str,
    /// The latency histogram, e.g. `tasks_grpc_request_duration_seconds`.
    pub seconds: &'static str,
    /// The method paths with their own label value, without the leading
    /// `/`, e.g. `todo.tasks.v1.Tasks/ListTasks`.
    pub methods: &'static [&'static str],
}

impl GrpcMetrics {
    /// Registers the two metrics' help text.
    pub fn describe(&self) {
        describe_counter!(
            self.requests,
            "gRPC calls answered, by method (package.Service/Method, or other) and status code \
             (ok, not_found, unauthenticated, ...)"
        );
        describe_histogram!(
            self.seconds,
            Unit::Seconds,
            "Time to answer one gRPC call, by method"
        );
    }

    fn method(&self, path: &str) -> &'static str {
        let path = path.trim_start_matches('/');
        self.methods
            .iter()
            .find(|method| **method == path)
            .copied()
            .unwrap_or("other")
    }
}

impl<S> tower::Layer<S> for GrpcMetrics {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            metrics: *self,
        }
    }
}

/// A gRPC service whose calls are counted.
#[derive(Debug, Clone)]
pub struct Counted<S> {
    inner: S,
    metrics: GrpcMetrics,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Counted<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let metrics = self.metrics;
        let method = metrics.method(request.uri().path());
        let started = Instant::now();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await;
            // A failed call is answered "trailers-only": its grpc-status is
            // in the head. A successful one has it in the trailers, after
            // the body: no grpc-status in the head means ok.
            let code = match &response {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|code| code.to_str().ok()?.parse().ok())
                    .unwrap_or(0),
                Err(_) => 2,
            };
            let code = crate::metrics::grpc_code_label(code);
            histogram!(metrics.seconds, "method" => method).record(started.elapsed().as_secs_f64());
            counter!(metrics.requests, "method" => method, "code" => code).increment(1);
            response
        })
    }
}
