//! Logs to stderr and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, traces
//! exported by OTLP/gRPC.

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
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

/// Logs to stderr (level from `RUST_LOG`, default `info`), and exports
/// traces by OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
pub fn init_telemetry(service: &'static str) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    // Set but empty (as docker-compose.yml passes it by default) means unset.
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none_or(|url| url.is_empty()) {
        registry.try_init().context("could not set up logging")?;
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
