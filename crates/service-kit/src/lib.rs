//! What every service binary shares at start-up: reading configuration,
//! setting up logs and traces, and waiting for a shutdown signal.

pub mod trace;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use serde::de::DeserializeOwned;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

/// Reads configuration: built-in defaults (in each settings type), then the
/// optional file named by `CONFIG_FILE` (TOML, same lower-case names), then
/// the environment, e.g. `BETTER_AUTH_SECRET` → `better_auth_secret`.
pub fn load_config() -> anyhow::Result<config::Config> {
    let mut builder = config::Config::builder();
    if let Some(path) = std::env::var_os("CONFIG_FILE") {
        let path = path.to_string_lossy().into_owned();
        builder = builder.add_source(config::File::with_name(&path).required(true));
    }
    builder
        .add_source(config::Environment::default())
        .build()
        .context("could not read the configuration")
}

/// One settings type out of the loaded configuration.
pub fn settings<T: DeserializeOwned>(config: &config::Config) -> anyhow::Result<T> {
    config
        .clone()
        .try_deserialize()
        .with_context(|| format!("invalid configuration for {}", std::any::type_name::<T>()))
}

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

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, draining");
}
