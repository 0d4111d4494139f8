//! The `auth-verify` binary: reads configuration, then serves until SIGTERM
//! or Ctrl-C.

use anyhow::Context;
use auth_core::AuthSettings;
use auth_verify::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = service_kit::load_config()?;
    let auth: AuthSettings = service_kit::settings(&config)?;
    let settings: Settings = service_kit::settings(&config)?;
    // Logging first: in JWKS mode the verifier starts fetching keys at once.
    let _telemetry = service_kit::init_telemetry("auth-verify")?;
    let verifier = match auth.verifier() {
        Ok(verifier) => verifier,
        Err(error) => {
            eprintln!("auth-verify: {error}");
            std::process::exit(2);
        }
    };
    let listener = tokio::net::TcpListener::bind(&settings.auth_verify_listen_addr)
        .await
        .with_context(|| format!("could not listen on {}", settings.auth_verify_listen_addr))?;
    auth_verify::serve(verifier, listener, service_kit::shutdown_signal()).await
}
