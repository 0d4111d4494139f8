//! Error answers that did not come from [`crate::ApiError`] (axum's own 405,
//! a layer's bare status) get the problem+json body every error has; their
//! status and headers are kept (axum adds `Allow` to a 405 after this).

use auth_core::Problem;
use auth_core::problem::PROBLEM_JSON;
use axum::body::{Body, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// For `tower::util::MapResponseLayer`: a 4xx/5xx with an empty body gets
/// a problem body (an error that has a body of its own, such as `/readyz`'s
/// 503, keeps it).
pub fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    let empty = response.body().size_hint().exact() == Some(0);
    if !(status.is_client_error() || status.is_server_error()) || !empty {
        return response;
    }
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "this method is not allowed here: the Allow header lists those that are".to_owned()
        }
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let problem = Problem::new(status.as_u16(), &detail);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, Body::from(problem.body))
}
