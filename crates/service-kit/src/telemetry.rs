//! Logs to stderr and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, traces
//! exported by OTLP/gRPC.

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing::{Level, Metadata};
use tracing_subscriber::filter::{FilterFn, Targets, filter_fn};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

/// Keeps the trace exporter alive; flushes pending spans when dropped.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Best effort at exit: nothing useful to do if the collector is gone.
            let _ = provider.shutdown();
        }
    }
}

/// Spans that only an exported trace needs: the SQL statement spans
/// (sea-orm's `tracing-spans`) and the edge's `verify token`. Log lines have
/// the enclosing spans (request, call, repository function) for context.
fn is_trace_only(meta: &Metadata<'_>) -> bool {
    meta.is_span() && (meta.target().starts_with("sea_orm") || meta.name() == "verify token")
}

/// With no exporter, the trace-only spans are off from their call sites
/// on: they cost a request nothing (no span, no field formatted).
fn without_trace_only_spans() -> FilterFn<impl Fn(&Metadata<'_>) -> bool> {
    filter_fn(|meta| !is_trace_only(meta))
}

/// The log filter from `RUST_LOG` (`info` when unset or not understood).
/// Targets and levels alone (`info`, `warn,edge=debug`) make a [`Targets`]
/// filter, which decides once per call site; only a filter on spans or
/// fields (`[request{path=/healthz}]=off`) needs an [`EnvFilter`], which
/// also looks each span up whenever it is entered or left.
fn log_filter(spec: Option<&str>) -> (Option<Targets>, Option<EnvFilter>) {
    let Some(spec) = spec else {
        return (Some(Targets::new().with_default(Level::INFO)), None);
    };
    let dynamic = spec.contains(['[', ']', '{', '}']);
    if !dynamic
        && !spec.trim().is_empty()
        && let Ok(targets) = spec.parse::<Targets>()
    {
        return (Some(targets), None);
    }
    let filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"));
    (None, Some(filter))
}

/// Logs to stderr (level from `RUST_LOG`, default `info`), and exports
/// traces by OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
pub fn init_telemetry(service: &'static str) -> anyhow::Result<Telemetry> {
    let spec = std::env::var("RUST_LOG").ok();
    let (targets, filter) = log_filter(spec.as_deref());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry()
        .with(targets)
        .with(filter)
        .with(fmt);
    // Set but empty (as docker-compose.yml passes it by default) means unset.
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none_or(|url| url.is_empty()) {
        registry
            .with(without_trace_only_spans())
            .try_init()
            .context("could not set up logging")?;
        return Ok(Telemetry { provider: None });
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()
        .context("could not set up the OTLP exporter")?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer(service));
    registry
        .with(otel)
        .try_init()
        .context("could not set up logging")?;
    Ok(Telemetry {
        provider: Some(provider),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::span::{Attributes, Id};
    use tracing_subscriber::layer::{Context, Layer};

    use super::*;

    /// The names of the spans opened.
    #[derive(Clone, Default)]
    struct Opened(Arc<Mutex<Vec<&'static str>>>);

    impl<S: tracing::Subscriber> Layer<S> for Opened {
        fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
            self.0.lock().expect("spans").push(attrs.metadata().name());
        }
    }

    #[test]
    fn without_an_exporter_the_trace_only_spans_are_not_opened() {
        let opened = Opened::default();
        let subscriber = tracing_subscriber::registry()
            .with(without_trace_only_spans())
            .with(opened.clone());
        tracing::subscriber::with_default(subscriber, || {
            let _request = tracing::info_span!("request").entered();
            let _verify = tracing::info_span!("verify token").entered();
            let _repository = tracing::info_span!("create").entered();
            let _sql =
                tracing::info_span!(target: "sea_orm::database", "sea_orm.query_one").entered();
            tracing::info!("still logged");
        });
        assert_eq!(*opened.0.lock().expect("spans"), ["request", "create"]);
    }

    /// Whether an event at `level` from `target` passes `RUST_LOG=spec`.
    fn passes(spec: Option<&str>, target: &str, level: Level) -> bool {
        match log_filter(spec) {
            (Some(targets), None) => targets.would_enable(target, &level),
            _ => panic!("{spec:?}: not a static filter alone"),
        }
    }

    #[test]
    fn levels_and_targets_alone_make_a_static_filter() {
        assert!(passes(None, "edge", Level::INFO));
        assert!(!passes(None, "edge", Level::DEBUG));
        assert!(!passes(Some("warn"), "edge", Level::INFO));
        assert!(passes(Some("warn,edge=debug"), "edge::auth", Level::DEBUG));
        assert!(!passes(Some("warn,edge=debug"), "tasks", Level::INFO));
        assert!(passes(
            Some("tower_http=info,warn"),
            "tower_http::trace::on_response",
            Level::INFO
        ));
    }

    #[test]
    fn span_and_field_filters_and_nonsense_keep_the_env_filter() {
        for spec in ["[request]=debug", "edge[{user_id}]=debug", "", "edge=loud"] {
            let (targets, filter) = log_filter(Some(spec));
            assert!(targets.is_none() && filter.is_some(), "{spec:?}");
        }
    }
}
