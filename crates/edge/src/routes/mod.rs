//! The route table: which handler answers which method and path. The same
//! table yields the OpenAPI document ([`crate::openapi`]), each handler
//! described by its `#[utoipa::path]`.

use axum::Router;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::openapi::ApiDoc;

pub mod health;
pub mod tasks;

/// Every route, and the document describing them; [`crate::router`] adds
/// the docs, the fallback and the middleware.
pub fn api() -> (Router<AppState>, Document) {
    let (routes, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(tasks::list, tasks::create))
        .routes(routes!(tasks::get, tasks::update, tasks::delete))
        .routes(routes!(tasks::toggle))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .split_for_parts();
    (routes, document)
}
