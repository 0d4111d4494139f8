//! The route table: which handler answers which method and path.

use axum::Router;
use axum::routing::{get, patch};

use crate::AppState;

pub mod health;
pub mod tasks;

/// Every route; [`crate::router`] adds the fallback and the middleware.
pub fn table() -> Router<AppState> {
    Router::new()
        .route("/api/{user_id}/tasks", get(tasks::list).post(tasks::create))
        .route(
            "/api/{user_id}/tasks/{id}",
            get(tasks::get).put(tasks::update).delete(tasks::delete),
        )
        .route("/api/{user_id}/tasks/{id}/complete", patch(tasks::toggle))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
}
