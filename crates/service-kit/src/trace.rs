//! W3C trace-context propagation between services: the edge writes the
//! current span's `traceparent` into each gRPC call, and tasks and
//! auth-verify continue that trace, so one request is one trace across
//! services. Without an OTLP exporter there is no trace to propagate and
//! both sides do nothing.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::try_from(value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Writes the current span's trace context (`traceparent`) into `headers`,
/// e.g. a gRPC request's metadata (`request.metadata_mut().as_mut()`).
pub fn inject(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut HeadersMut(headers));
}

/// A gRPC server's span for one call (tonic's `Server::trace_fn`): the
/// method, and `user_id` for the service to record once it knows the
/// caller; it continues the caller's trace.
pub fn grpc_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc",
        method = %request.uri().path(),
        user_id = tracing::field::Empty,
    );
    continue_trace(&span, request.headers());
    span
}

/// Makes `span` part of the trace named in `headers`, when there is one.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    // Fails only when no OpenTelemetry layer is installed: nothing to join.
    let _ = span.set_parent(parent);
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    fn headers_from_current_span() -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        inject(&mut headers);
        headers
    }

    #[test]
    fn a_trace_crosses_the_hop_between_services() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let caller = tracing::info_span!("edge call");
            let headers = caller.in_scope(headers_from_current_span);
            let trace_id = caller.context().span().span_context().trace_id();
            let traceparent = headers["traceparent"].to_str().expect("ascii");
            assert!(traceparent.contains(&trace_id.to_string()), "{traceparent}");

            let callee = tracing::info_span!("tasks call");
            continue_trace(&callee, &headers);
            assert_eq!(callee.context().span().span_context().trace_id(), trace_id);
        });
    }

    #[test]
    fn without_an_exporter_nothing_is_sent() {
        let span = tracing::info_span!("edge call");
        let headers = span.in_scope(headers_from_current_span);
        assert!(headers.is_empty(), "{headers:?}");
    }
}
