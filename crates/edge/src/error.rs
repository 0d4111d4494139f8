//! Every error the edge answers with, as `application/problem+json`
//! (RFC 9457): `type`, `title`, `status` and `detail`. 401 for a missing or
//! refused token (with its `WWW-Authenticate` challenge), 400 for malformed
//! credentials or input, 403 for another user's path, 404 for a task that is
//! not the caller's, 422 for a body that breaks a rule, 413/415 for the
//! body's size and type, 405 for a wrong method (see
//! [`crate::bare_errors`]), 408 for a request that took too long to arrive,
//! 503/504 (naming the upstream) when tasks or auth-verify is down or slow. 5xx
//! bodies stay generic; the cause is logged once, inside the request's span.

use std::cell::RefCell;

use auth_core::problem::PROBLEM_JSON;
use auth_core::{Problem, Refusal};
use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::access_log::Refused;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Credentials missing, malformed or refused, or for another user: the
    /// answer auth-verify's ext_authz gives too.
    #[error(transparent)]
    Auth(#[from] Refusal),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The request (its body, typically) did not arrive within
    /// `EDGE_REQUEST_TIMEOUT_MS`.
    #[error("the request was not received in time")]
    RequestTimeout,
    /// An upstream (`tasks`, `auth-verify`) is down: its name, the cause.
    #[error("{0} unavailable: {1}")]
    Unavailable(&'static str, String),
    /// An upstream did not answer in time: its name.
    #[error("{0} timed out")]
    Timeout(&'static str),
    /// A fault of ours or of the deployment; the cause chain is logged (with
    /// `{:#}`, once) and never sent.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
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
            Self::Auth(refusal) => {
                StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::UNAUTHORIZED)
            }
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told: the error itself for 4xx, a generic line for 5xx.
    fn detail(&self) -> String {
        match self {
            Self::NotFound => "task not found".to_owned(),
            Self::RequestTimeout => {
                "the request was not received in time (EDGE_REQUEST_TIMEOUT_MS)".to_owned()
            }
            Self::Unavailable(upstream, _) => {
                format!("the {upstream} service is unavailable, try again")
            }
            Self::Timeout(upstream) => {
                format!("the {upstream} service did not answer in time, try again")
            }
            Self::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }

    /// The answer as plain data: auth-core builds the body and challenge
    /// for refused credentials, as it does for auth-verify's ext_authz.
    pub(crate) fn problem(&self) -> Problem {
        match self {
            Self::Auth(refusal) => refusal.problem(),
            other => Problem::new(other.status().as_u16(), &other.detail()),
        }
    }
}

impl IntoResponse for ApiError {
    /// The problem+json answer; a refusal also carries its reason for the
    /// access line ([`Refused`]).
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        if let Self::Auth(refusal) = self {
            return refused(status, refusal);
        }
        let problem = self.problem();
        let mut response = Response::new(Body::from(problem.body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        for (name, value) in problem.headers {
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// A refusal's body and challenge, as sent.
#[derive(Clone)]
struct Answer {
    body: Bytes,
    challenge: Option<HeaderValue>,
}

thread_local! {
    /// The last refusal answered on this thread, and its answer: a client
    /// that keeps sending the same bad token (or none) gets the same
    /// answer, built once. Keyed by the whole refusal, so an answer is only
    /// ever reused for an equal one.
    static LAST_REFUSAL: RefCell<Option<(Refusal, Answer)>> = const { RefCell::new(None) };
}

/// The answer to a refusal (auth-core's problem body and challenge), with
/// its reason for the access line.
fn refused(status: StatusCode, refusal: Refusal) -> Response {
    let cached = LAST_REFUSAL.with_borrow(|last| {
        last.as_ref()
            .filter(|(seen, _)| *seen == refusal)
            .map(|(_, answer)| answer.clone())
    });
    let answer = cached.unwrap_or_else(|| {
        let problem = refusal.problem();
        let answer = Answer {
            body: Bytes::from(problem.body),
            challenge: refusal
                .challenge()
                .and_then(|challenge| HeaderValue::try_from(challenge).ok()),
        };
        LAST_REFUSAL.set(Some((refusal.clone(), answer.clone())));
        answer
    });
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if let Some(challenge) = answer.challenge {
        headers.insert(WWW_AUTHENTICATE, challenge);
    }
    let reason = match refusal {
        Refusal::InvalidToken(reason) => reason,
        other => other.to_string(),
    };
    response.extensions_mut().insert(Refused(reason));
    response
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

/// The tasks service, as named in answers.
pub const TASKS: &str = "tasks";

/// A status from the tasks service.
impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        use tonic::Code;
        match status.code() {
            Code::NotFound => Self::NotFound,
            Code::InvalidArgument => Self::Unprocessable(status.message().to_owned()),
            Code::PermissionDenied => Self::Auth(Refusal::Forbidden),
            Code::Unavailable => Self::Unavailable(TASKS, status.message().to_owned()),
            Code::DeadlineExceeded | Code::Cancelled => Self::Timeout(TASKS),
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

    /// A refusal's answer is auth-core's, also when the one before on the
    /// thread was another (the last answer is reused only for an equal
    /// refusal).
    #[tokio::test(flavor = "current_thread")]
    async fn each_refusal_gets_its_own_answer_even_when_repeated() {
        use axum::body::to_bytes;
        let refusals = [
            Refusal::InvalidToken("malformed token: one".to_owned()),
            Refusal::InvalidToken("malformed token: one".to_owned()),
            Refusal::InvalidToken("malformed token: two".to_owned()),
            Refusal::MissingToken,
            Refusal::Forbidden,
            Refusal::InvalidToken("malformed token: one".to_owned()),
        ];
        for refusal in refusals {
            let problem = refusal.problem();
            let response = ApiError::Auth(refusal.clone()).into_response();
            assert_eq!(response.status().as_u16(), problem.status, "{refusal:?}");
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .map(|v| v.to_str().expect("ascii").to_owned())
            };
            assert_eq!(
                header("content-type").as_deref(),
                problem.header("content-type")
            );
            assert_eq!(
                header("www-authenticate").as_deref(),
                problem.header("www-authenticate"),
                "{refusal:?}"
            );
            let body = to_bytes(response.into_body(), 1 << 16).await.expect("body");
            assert_eq!(body, problem.body.as_bytes(), "{refusal:?}");
        }
    }
}
