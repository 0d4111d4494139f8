//! `/healthz` (the process is up) and `/readyz` (tasks, and auth-verify in
//! remote mode, answer their health checks).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;
use crate::upstream::health_check;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let mut problems = Vec::new();
    if let Err(problem) = state.tasks.ready().await {
        problems.push(problem);
    }
    if let Some(client) = &state.verify_health {
        let timeout = state.settings.upstream_timeout();
        if let Err(problem) = health_check(client.clone(), "todo.auth.v1.AuthVerify", timeout).await
        {
            problems.push(problem);
        }
    }
    if problems.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        tracing::warn!(?problems, "not ready");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "details": problems })),
        )
    }
}
