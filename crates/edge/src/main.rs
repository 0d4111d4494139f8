//! The `edge` binary: reads configuration, then serves until SIGTERM or
//! Ctrl-C.

use anyhow::Context;
use auth_core::AuthSettings;
use edge::{AppState, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = service_kit::load_config()?;
    let auth: AuthSettings = service_kit::settings(&config)?;
    let settings: Settings = service_kit::settings(&config)?;
    let addr = settings.edge_listen_addr.clone();
    let _telemetry = service_kit::init_telemetry("edge")?;
    let state = match AppState::new(&auth, settings) {
        Ok(state) => state,
        Err(error) => {
            eprintln!("edge: {error:#}");
            std::process::exit(2);
        }
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    edge::serve(state, listener, service_kit::shutdown_signal()).await
}
