//! `/healthz` (the process is up) and `/readyz` (tasks, and auth-verify in
//! remote mode, answer their health checks; in-process verification has its
//! keys, i.e. in JWKS mode the key set is loaded). The public `/readyz`
//! says ready or not, nothing more; what is behind it (key ids, the JWKS
//! URL and last fetch error, upstream health) is logged and shown on the
//! admin listener only ([`crate::admin`]).

use axum::extract::State;
use axum::http::StatusCode;
use proto::auth::auth_verify_server::SERVICE_NAME as AUTH_VERIFY;
use serde::Serialize;
use serde_json::{Value, json};
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

/// `/readyz`'s answer: ready or not, nothing more. The reasons are in the
/// logs and on the admin listener's `/readyz` (`EDGE_ADMIN_LISTEN_ADDR`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not ready`.
    #[schema(example = "ready")]
    status: &'static str,
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
        (status = 503, description = "Not ready (the reasons are on the admin listener)", body = Readiness),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (ready, _) = readiness(&state).await;
    if ready {
        (StatusCode::OK, Json(Readiness { status: "ready" }))
    } else {
        let body = Readiness {
            status: "not ready",
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(body))
    }
}

/// Whether the edge is ready, and in detail why (not): `problems` (what
/// keeps it from being ready), `warnings` (published keys that are not
/// used, a failing JWKS refresh) and the verifier's state.
pub async fn readiness(state: &AppState) -> (bool, Value) {
    let mut problems = Vec::new();
    let mut details = json!({});
    match &state.auth {
        Authenticator::Local(verifier) => {
            if let Err(problem) = verifier.readiness() {
                problems.push(problem);
            }
            details["verification"] = verifier.details();
            details["warnings"] = json!(verifier.warnings());
        }
        Authenticator::Remote { .. } => details["verification"] = json!({ "remote": AUTH_VERIFY }),
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
    if !problems.is_empty() {
        tracing::warn!(?problems, "not ready");
    }
    details["problems"] = json!(problems);
    (problems.is_empty(), details)
}
