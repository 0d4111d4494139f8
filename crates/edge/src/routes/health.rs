//! `/healthz` (the process is up) and `/readyz` (tasks, and auth-verify in
//! remote mode, answer their health checks; in-process verification has its
//! keys, i.e. in JWKS mode the key set is loaded).

use axum::extract::State;
use axum::http::StatusCode;
use proto::auth::auth_verify_server::SERVICE_NAME as AUTH_VERIFY;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticator;
use crate::extract::Json;
use crate::upstream::health_check;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    if let Authenticator::Local(verifier) = &state.auth {
        if let Err(problem) = verifier.readiness() {
            problems.push(problem);
        }
        warnings = verifier.warnings();
    }
    if let Err(problem) = state.tasks.ready().await {
        problems.push(problem);
    }
    if let Some(client) = &state.verify_health {
        let timeout = state.upstream_timeout;
        if let Err(problem) = health_check(client.clone(), AUTH_VERIFY, timeout).await {
            problems.push(problem);
        }
    }
    let (status, mut body) = if problems.is_empty() {
        (StatusCode::OK, json!({ "status": "ready" }))
    } else {
        tracing::warn!(?problems, "not ready");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "not ready", "details": problems }),
        )
    };
    // Published keys that are not used (e.g. ES512), a failing JWKS refresh.
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    (status, Json(body))
}
