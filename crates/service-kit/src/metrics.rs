//! The process's Prometheus recorder: installed once, before anything is
//! counted, and rendered by the admin listener's `GET /metrics`.
//!
//! Every crate records through the `metrics` facade (`metrics::counter!`…);
//! without an installed recorder those calls cost next to nothing and go
//! nowhere. Names are `snake_case` with their unit (`_seconds`) and counters
//! end in `_total`; labels take a small, fixed set of values (route
//! templates, never raw paths or user ids).

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Histogram buckets for every `…_seconds` metric: 1 ms to 10 s, enough
/// resolution for p50 and p99 of an API whose timeouts are a few seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histograms are drained when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed as the global one on the first call
/// (later calls return the same handle). Inside a Tokio runtime the first
/// call also starts the periodic upkeep that keeps unscraped histograms
/// from growing.
pub fn recorder() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder is already installed; ours then
        // renders nothing, which the metrics tests would show.
        if ::metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics stays empty");
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let upkeep = handle.clone();
            runtime.spawn(async move {
                let mut every = tokio::time::interval(UPKEEP);
                loop {
                    every.tick().await;
                    upkeep.run_upkeep();
                }
            });
        }
        handle
    })
}

/// The Prometheus text exposition of every metric recorded so far.
pub fn render() -> String {
    recorder().render()
}

/// A `method` label, bounded: the standard ones by name,
/// anything else `other`.
pub fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A gRPC status code (its number) as a label: its name in snake case
/// (`ok`, `not_found`, `unauthenticated`…), `other` past the 17 codes.
pub fn grpc_code_label(code: i32) -> &'static str {
    const NAMES: [&str; 17] = [
        "ok",
        "cancelled",
        "unknown",
        "invalid_argument",
        "deadline_exceeded",
        "not_found",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal",
        "unavailable",
        "data_loss",
        "unauthenticated",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|code| NAMES.get(code))
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_codes_have_their_names_and_anything_else_is_other() {
        assert_eq!(grpc_code_label(0), "ok");
        assert_eq!(grpc_code_label(5), "not_found");
        assert_eq!(grpc_code_label(16), "unauthenticated");
        assert_eq!(grpc_code_label(17), "other");
        assert_eq!(grpc_code_label(-1), "other");
    }
}
