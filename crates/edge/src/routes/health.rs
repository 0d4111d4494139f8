//! `/healthz` (the process is up) and `/readyz` (tasks, and auth-verify in
//! remote mode, answer their health checks; in-process verification has its
//! keys, i.e. in JWKS mode the key set is loaded).

use axum::extract::State;
use axum::http::StatusCode;
use proto::auth::auth_verify_server::SERVICE_NAME as AUTH_VERIFY;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Authenticator;
use crate::extract::Json;
use crate::upstream::health_check;

/// `/healthz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: &'static str,
}

/// `/readyz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not ready`.
    #[schema(example = "ready")]
    status: &'static str,
    /// Why not ready (only when not ready).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<String>,
    /// Published keys that are not used (e.g. ES512), a failing JWKS refresh.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    summary = "The process is up",
    responses((status = 200, description = "Up", body = Health)),
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    summary = "Tasks (and auth-verify) answer; the signing keys are loaded",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready, with the reasons", body = Readiness),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
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
    let (status, word) = if problems.is_empty() {
        (StatusCode::OK, "ready")
    } else {
        tracing::warn!(?problems, "not ready");
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    };
    let body = Readiness {
        status: word,
        details: problems,
        warnings,
    };
    (status, Json(body))
}
