//! Every error the edge answers with, as `application/problem+json`
//! (RFC 9457): `type`, `title`, `status` and `detail`. 401 for a missing or
//! refused token (with its `WWW-Authenticate` challenge), 400 for malformed
//! credentials or input, 403 for another user's path, 404 for a task that is
//! not the caller's, 422 for a body that breaks a rule, 413/415 for the
//! body's size and type, 503/504 when an upstream is down or slow. 5xx
//! bodies stay generic; the cause is logged once, inside the request's span.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No bearer credentials at all (no `error` parameter in the challenge).
    #[error("missing bearer token")]
    MissingToken,
    /// Credentials that were presented and refused.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// Malformed credentials (RFC 6750 `invalid_request`).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("the token does not grant access to this user's tasks")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("upstream unavailable: {0}")]
    Unavailable(String),
    #[error("upstream timed out")]
    Timeout,
    /// A fault of ours or of the deployment; the cause chain is logged (with
    /// `{:#}`, once) and never sent.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

#[derive(Serialize)]
struct Problem<'a> {
    r#type: &'static str,
    title: &'a str,
    status: u16,
    detail: String,
}

impl ApiError {
    /// For `map_err`: an [`ApiError::Internal`] whose cause is `error`, with
    /// what was being done.
    pub fn internal<E>(doing: &'static str) -> impl FnOnce(E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |error| Self::Internal(anyhow::Error::new(error).context(doing))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told: the error itself for 4xx, a generic line for 5xx.
    fn detail(&self) -> String {
        match self {
            Self::NotFound => "task not found".to_owned(),
            Self::Unavailable(_) => "the tasks service is unavailable, try again".to_owned(),
            Self::Timeout => "the tasks service did not answer in time, try again".to_owned(),
            Self::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    /// The RFC 6750 challenge, for the errors that carry one.
    fn challenge(&self) -> Option<String> {
        match self {
            Self::MissingToken => Some(r#"Bearer realm="todo""#.to_owned()),
            Self::InvalidToken(reason) => Some(format!(
                r#"Bearer realm="todo", error="invalid_token", error_description="{}""#,
                quoted_string_safe(reason)
            )),
            Self::InvalidRequest(reason) => Some(format!(
                r#"Bearer realm="todo", error="invalid_request", error_description="{}""#,
                quoted_string_safe(reason)
            )),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let problem = Problem {
            r#type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
        };
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(challenge) = self
            .challenge()
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// Keeps only characters RFC 6750 allows inside `error_description`.
fn quoted_string_safe(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, ' '..='~') && *c != '"' && *c != '\\')
        .take(200)
        .collect()
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => Self::Unprocessable(rejection.body_text()),
            _ => Self::BadRequest(rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    /// A path that names no task we could hold (e.g. a non-numeric id).
    fn from(_: PathRejection) -> Self {
        Self::NotFound
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        use tonic::Code;
        match status.code() {
            Code::NotFound => Self::NotFound,
            Code::InvalidArgument => Self::Unprocessable(status.message().to_owned()),
            Code::PermissionDenied => Self::Forbidden,
            Code::Unavailable => Self::Unavailable(status.message().to_owned()),
            Code::DeadlineExceeded | Code::Cancelled => Self::Timeout,
            // Tasks refusing the edge's own credential is a deployment fault,
            // not the user's: never a 401 to the client.
            code => Self::Internal(
                anyhow::Error::new(status).context(format!("tasks answered {code:?}")),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_chain_for_the_log_only() {
        let status = tonic::Status::unauthenticated("invalid internal credential: expired");
        let error = ApiError::from(status);
        let logged = error.to_string();
        assert!(
            logged.contains("tasks answered Unauthenticated"),
            "{logged}"
        );
        assert!(
            logged.contains("invalid internal credential: expired"),
            "{logged}"
        );
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.detail(), "internal error");
    }
}
