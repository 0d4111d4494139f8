//! The `tasks` binary: reads its settings, refuses to start without a
//! usable `INTERNAL_AUTH_SECRET`, binds `TASKS_LISTEN_ADDR`, then migrates
//! and serves until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    match start().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tasks: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> anyhow::Result<()> {
    let config = service_kit::load_config()?;
    let settings: tasks::Settings = service_kit::settings(&config)?;
    // Checked before anything else starts, so the one-line reason is all
    // the operator sees.
    settings.verifier()?;
    let _telemetry = service_kit::init_telemetry("tasks")?;
    let listener = TcpListener::bind(&settings.tasks_listen_addr)
        .await
        .with_context(|| format!("could not listen on {}", settings.tasks_listen_addr))?;
    tasks::run(settings, listener, service_kit::shutdown_signal()).await
}
