//! How every service binary starts and stops, the same way: read and
//! validate the configuration, set up logs and traces, bind, serve until
//! SIGTERM or Ctrl-C. A refused configuration is one line on stderr and exit
//! status 2; a failure after start-up is logged and gives exit status 1,
//! after pending traces are flushed.

use std::future::Future;
use std::process::ExitCode;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{Source, load_config};
use crate::shutdown::shutdown_signal;
use crate::telemetry::init_telemetry;

/// The exit status when the configuration is refused.
pub const EXIT_CONFIG: u8 = 2;

/// A service binary, implemented by its validated configuration.
pub trait Service: Sized {
    /// The binary's name: in logs, traces and the error line.
    const NAME: &'static str;

    /// Reads this service's settings from `source` and validates them all;
    /// the error names the variable to fix.
    fn load(source: &Source) -> anyhow::Result<Self>;

    /// The address to listen on.
    fn listen_addr(&self) -> &str;

    /// Serves on the bound `listener` until `shutdown` resolves.
    fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = anyhow::Result<()>>;
}

/// The whole `main` of a service binary.
pub fn main<S: Service>() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(start::<S>()),
        Err(error) => {
            eprintln!("{}: could not start the Tokio runtime: {error}", S::NAME);
            ExitCode::FAILURE
        }
    }
}

async fn start<S: Service>() -> ExitCode {
    let service = match load_config().and_then(|source| S::load(&source)) {
        Ok(service) => service,
        Err(error) => {
            eprintln!("{}: {error:#}", S::NAME);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // Logging before anything starts: in JWKS mode the verifier fetches
    // keys at once.
    let telemetry = match init_telemetry(S::NAME) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("{}: {error:#}", S::NAME);
            return ExitCode::FAILURE;
        }
    };
    let code = match serve(service).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    };
    // Flushes pending spans, the error's included.
    drop(telemetry);
    code
}

async fn serve<S: Service>(service: S) -> anyhow::Result<()> {
    let addr = service.listen_addr().to_owned();
    let listener = TcpListener::bind(&addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    service.run(listener, shutdown_signal()).await
}
