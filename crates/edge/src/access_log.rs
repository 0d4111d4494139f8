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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderValue, StatusCode};
    use tower::ServiceExt;
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context as LayerContext, Layer as _, SubscriberExt};

    use super::*;

    /// Every event's fields, `message` included, as text.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<Line>>>);

    /// One event's fields.
    type Line = Vec<(String, String)>;

    struct Fields(Vec<(String, String)>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.push((field.name().to_owned(), format!("{value:?}")));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_owned(), value.to_owned()));
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Lines {
        fn on_event(&self, event: &tracing::Event<'_>, _: LayerContext<'_, S>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            self.0.lock().expect("lines").push(fields.0);
        }
    }

    /// The lines logged while `response` is answered through the layer.
    async fn lines_for(response: fn() -> Response) -> Vec<Line> {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::registry().with(
            lines
                .clone()
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        );
        let _default = tracing::subscriber::set_default(subscriber);
        let service = AccessLogLayer::new(HeaderName::from_static("x-request-id")).layer(
            tower::service_fn(move |_: Request| async move { Ok::<_, Infallible>(response()) }),
        );
        let mut request = Request::new(axum::body::Body::empty());
        request
            .headers_mut()
            .insert("x-request-id", HeaderValue::from_static("id-1"));
        service.oneshot(request).await.expect("an answer");
        lines.0.lock().expect("lines").clone()
    }

    fn field<'a>(line: &'a [(String, String)], name: &str) -> Option<&'a str> {
        line.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[tokio::test]
    async fn a_refusal_is_one_access_line_with_its_reason() {
        let lines = lines_for(|| {
            let mut response = Response::new(axum::body::Body::empty());
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
                .extensions_mut()
                .insert(Refused("malformed token: why".to_owned()));
            response
        })
        .await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(field(line, "message"), Some("finished processing request"));
        assert_eq!(field(line, "status"), Some("401"));
        assert_eq!(field(line, "reason"), Some("malformed token: why"));
        assert!(field(line, "latency").is_some_and(|l| l.ends_with(" ms")));
    }

    #[tokio::test]
    async fn an_answer_has_no_reason_and_a_5xx_a_failure_line() {
        let lines = lines_for(|| Response::new(axum::body::Body::empty())).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(field(&lines[0], "status"), Some("200"));
        assert_eq!(field(&lines[0], "reason"), None);

        let lines = lines_for(|| {
            let mut response = Response::new(axum::body::Body::empty());
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        })
        .await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(field(&lines[1], "message"), Some("response failed"));
        assert_eq!(
            field(&lines[1], "classification"),
            Some("Status code: 503 Service Unavailable")
        );
    }
}
