//! The internal admin listener (`EDGE_ADMIN_LISTEN_ADDR`,
//! `TASKS_ADMIN_LISTEN_ADDR`, `AUTH_VERIFY_ADMIN_LISTEN_ADDR`), never the
//! public port:
//!
//! - `GET /metrics`: the Prometheus text format (version 0.0.4);
//! - `GET /readyz`: readiness with everything behind it (key ids, the
//!   JWKS URL and last fetch error, upstream health) as JSON, 200 when
//!   ready, 503 when not. The public `/readyz` only says which.
//!
//! Unset or empty, the variable turns the listener off: the details are
//! then in the logs only.

use std::future::Future;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::config::Source;

/// The content type of the Prometheus text format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a service shows on its admin listener.
pub trait AdminState: Clone + Send + Sync + 'static {
    /// Whether the service is ready, and why (or why not) in detail.
    fn readiness(&self) -> impl Future<Output = (bool, Value)> + Send;

    /// Sets the gauges that are sampled rather than counted (pool sizes,
    /// seconds since the last good JWKS fetch); called before each scrape.
    fn sample(&self) {}
}

/// The admin address `var` names: `None` when unset or empty (no admin
/// listener).
pub fn admin_addr(source: &Source, var: &str) -> anyhow::Result<Option<String>> {
    match source.get_string(&var.to_ascii_lowercase()) {
        Ok(addr) if addr.trim().is_empty() => Ok(None),
        Ok(addr) => Ok(Some(addr.trim().to_owned())),
        Err(config::ConfigError::NotFound(_)) => Ok(None),
        Err(error) => Err(anyhow::anyhow!("{var} is not valid: {error}")),
    }
}

/// `GET /metrics` and `GET /readyz` for `state`.
pub fn router<S: AdminState>(state: S) -> Router {
    Router::new()
        .route("/metrics", get(metrics::<S>))
        .route("/readyz", get(readyz::<S>))
        .with_state(state)
}

/// Serves the admin endpoints on an already-bound listener until `shutdown`.
pub async fn serve<S: AdminState>(
    state: S,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Installed before the first request can be counted.
    crate::metrics::recorder();
    tracing::info!(addr = %listener.local_addr()?, "admin listener (metrics, readiness)");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("admin server failed")
}

/// Serves the admin endpoints in the background, if there is a listener,
/// until the returned guard is dropped (when the service stops).
pub fn spawn<S: AdminState>(state: S, listener: Option<TcpListener>) -> AdminTask {
    AdminTask(listener.map(|listener| {
        tokio::spawn(async move {
            if let Err(error) = serve(state, listener, std::future::pending()).await {
                tracing::error!("{error:#}");
            }
        })
    }))
}

/// The running admin server; stops when dropped.
pub struct AdminTask(Option<tokio::task::JoinHandle<()>>);

impl Drop for AdminTask {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

async fn metrics<S: AdminState>(State(state): State<S>) -> impl IntoResponse {
    state.sample();
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        crate::metrics::render(),
    )
}

async fn readyz<S: AdminState>(State(state): State<S>) -> impl IntoResponse {
    let (ready, details) = state.readiness().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "details": details,
    });
    (status, axum::Json(body))
}
