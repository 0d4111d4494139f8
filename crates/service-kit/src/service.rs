//! How every service binary starts and stops, the same way: read and
//! validate the configuration, set up logs and traces, bind, serve until
//! SIGTERM or Ctrl-C. A refused configuration is one line on stderr and exit
//! status 2; a failure after start-up is logged and gives exit status 1,
//! after pending traces are flushed.

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::admin::admin_addr;
use crate::config::{Source, load_config};

/// The address `listen.var` names, or its default.
pub fn listen_addr(source: &Source, listen: Listen) -> anyhow::Result<String> {
    match source.get_string(&listen.var.to_ascii_lowercase()) {
        Ok(addr) => Ok(addr),
        Err(config::ConfigError::NotFound(_)) => Ok(listen.default.to_owned()),
        Err(error) => Err(anyhow::anyhow!("{} is not valid: {error}", listen.var)),
    }
}
use crate::shutdown::shutdown_signal;
use crate::telemetry::init_telemetry;

/// The exit status when the configuration is refused.
pub const EXIT_CONFIG: u8 = 2;

/// Resolves when the service should stop accepting and drain.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where a service listens: the variable that says so, and its default.
#[derive(Debug, Clone, Copy)]
pub struct Listen {
    /// E.g. `EDGE_LISTEN_ADDR`.
    pub var: &'static str,
    /// E.g. `0.0.0.0:8080`.
    pub default: &'static str,
}

/// A service binary, implemented by its validated configuration.
pub trait Service: Sized {
    /// The binary's name: in logs, traces and the error line.
    const NAME: &'static str;
    /// The address to listen on.
    const LISTEN: Listen;
    /// The variable naming the admin listener's address (metrics, detailed
    /// readiness), e.g. `EDGE_ADMIN_LISTEN_ADDR`; unset or empty, none.
    const ADMIN_LISTEN: &'static str;

    /// Reads this service's settings from `source` and validates them all;
    /// the error names the variable to fix.
    fn load(source: &Source) -> anyhow::Result<Self>;

    /// Serves on the bound `listener` until `shutdown` resolves, and the
    /// admin endpoints ([`crate::admin`]) on `admin` if there is one.
    fn run(
        self,
        listener: TcpListener,
        admin: Option<TcpListener>,
        shutdown: Shutdown,
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
    let loaded = load_config().and_then(|source| {
        let addr = listen_addr(&source, S::LISTEN)?;
        let admin = admin_addr(&source, S::ADMIN_LISTEN)?;
        Ok(((addr, admin), S::load(&source)?))
    });
    let ((addr, admin), service) = match loaded {
        Ok(loaded) => loaded,
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
    // Before anything is counted.
    crate::metrics::recorder();
    let code = match serve(service, &addr, admin.as_deref()).await {
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

async fn serve<S: Service>(service: S, addr: &str, admin: Option<&str>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    let admin = match admin {
        Some(admin) => Some(
            TcpListener::bind(admin)
                .await
                .with_context(|| format!("could not listen on {admin} ({})", S::ADMIN_LISTEN))?,
        ),
        None => None,
    };
    service
        .run(listener, admin, Box::pin(shutdown_signal()))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source_from;

    const LISTEN: Listen = Listen {
        var: "EXAMPLE_LISTEN_ADDR",
        default: "0.0.0.0:1",
    };

    #[test]
    fn the_listen_address_is_its_variable_or_the_default() {
        let set = source_from([("EXAMPLE_LISTEN_ADDR", "127.0.0.1:2")]);
        assert_eq!(
            listen_addr(&set, LISTEN).ok().as_deref(),
            Some("127.0.0.1:2")
        );
        let unset = source_from([("OTHER_LISTEN_ADDR", "127.0.0.1:3")]);
        assert_eq!(
            listen_addr(&unset, LISTEN).ok().as_deref(),
            Some("0.0.0.0:1")
        );
    }

    #[test]
    fn the_admin_listener_is_off_unless_its_variable_names_an_address() {
        let var = "EXAMPLE_ADMIN_LISTEN_ADDR";
        let set = source_from([(var, "127.0.0.1:9")]);
        assert_eq!(
            admin_addr(&set, var).ok().flatten().as_deref(),
            Some("127.0.0.1:9")
        );
        let empty = source_from([(var, " ")]);
        assert_eq!(admin_addr(&empty, var).ok(), Some(None));
        let unset = source_from([("OTHER", "x")]);
        assert_eq!(admin_addr(&unset, var).ok(), Some(None));
    }
}
