//! Who is calling: the bearer token is taken from the request, verified
//! (in-process by auth-core, or remotely by auth-verify), and its subject
//! must equal the `{user_id}` in the path.

use std::time::Duration;

use auth_core::{Claims, MAX_TOKEN_BYTES, Refusal, TokenError, TokenVerifier, UserId};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::{HeaderValue, header, request::Parts};
use proto::auth::VerifyRequest;
use proto::auth::auth_verify_client::AuthVerifyClient;
use tonic::transport::Channel;
use tracing::Instrument;

use crate::AppState;
use crate::error::ApiError;

/// How tokens are verified.
#[derive(Clone)]
pub enum Authenticator {
    /// In-process, through auth-core (the default).
    Local(TokenVerifier),
    /// Through the auth-verify service (`AUTH_VERIFY_URL`).
    Remote {
        client: AuthVerifyClient<Channel>,
        timeout: Duration,
    },
}

impl Authenticator {
    /// The token's claims, or why not, in a `verify token` span that
    /// records the mode (`local` or `remote`), the outcome (`ok`, or the
    /// metrics' outcome: `unauthenticated`, `unavailable`, `timeout`…) and,
    /// once verified, the user id; never anything of the token itself. In
    /// remote mode the call to auth-verify is counted in
    /// [`crate::metrics::UPSTREAM_CALLS`] (in process, auth-core counts the
    /// verification itself).
    pub async fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        // Its own handle, not `Span::current()`: with no exporter the span
        // is off (`service_kit::telemetry`), and the current span would be
        // the request's.
        let span = tracing::info_span!(
            "verify token",
            mode = self.mode(),
            outcome = tracing::field::Empty,
            user_id = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let verified = self.check(token).instrument(span.clone()).await;
        let outcome = verified
            .as_ref()
            .map_or_else(crate::metrics::outcome_of, |_| "ok");
        span.record("outcome", outcome);
        if let Ok(claims) = &verified {
            span.record("user_id", claims.user_id.as_str());
        }
        if let Self::Remote { .. } = self {
            crate::metrics::upstream_call("auth-verify", "Verify", outcome, started.elapsed());
        }
        verified
    }

    /// `local` (auth-core in the edge) or `remote` (auth-verify).
    fn mode(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::Remote { .. } => "remote",
        }
    }

    async fn check(&self, token: &str) -> Result<Claims, ApiError> {
        match self {
            // The refusal's reason is in the request's access line.
            Self::Local(verifier) => verifier
                .verify(token)
                .await
                .map_err(|error| ApiError::Auth(Refusal::from(error))),
            Self::Remote { client, timeout } => verify_remotely(client, *timeout, token).await,
        }
    }
}

/// auth-verify, as named in answers.
const AUTH_VERIFY: &str = "auth-verify";

/// Asks auth-verify. The 8 KiB limit is checked first, as in-process; a
/// refusal is 401, auth-verify down or failing 503, slow 504, each naming
/// auth-verify (never a 500: whatever it answers, the caller is told which).
async fn verify_remotely(
    client: &AuthVerifyClient<Channel>,
    timeout: Duration,
    token: &str,
) -> Result<Claims, ApiError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::from(TokenError::TooLarge).into());
    }
    let mut request = tonic::Request::new(VerifyRequest {
        token: token.to_owned(),
    });
    request.set_timeout(timeout);
    // auth-verify's span joins this request's trace.
    service_kit::trace::inject(request.metadata_mut().as_mut());
    let mut client = client.clone();
    let reply = tokio::time::timeout(timeout, client.verify(request))
        .await
        .map_err(|_| ApiError::Timeout(AUTH_VERIFY))?
        .map_err(refused_by_auth_verify)?
        .into_inner();
    // auth-verify applies the same rules; a subject the edge would not
    // accept is the token's problem all the same.
    let user_id = UserId::parse(reply.user_id)
        .map_err(|invalid| Refusal::from(TokenError::InvalidSubject(invalid.0)))?;
    Ok(Claims {
        user_id,
        email: reply.email,
        name: reply.name,
        expires_at: reply.expires_at,
        // auth-verify has checked it (ended sessions included).
        session_id: None,
    })
}

/// Every status auth-verify can answer, as the caller's answer.
fn refused_by_auth_verify(status: tonic::Status) -> ApiError {
    use tonic::Code;
    match status.code() {
        // The reason is in the request's access line.
        Code::Unauthenticated | Code::InvalidArgument => {
            Refusal::InvalidToken(status.message().to_owned()).into()
        }
        // Its message limit: the token is too large to be judged.
        Code::OutOfRange => Refusal::from(TokenError::TooLarge).into(),
        Code::DeadlineExceeded | Code::Cancelled => ApiError::Timeout(AUTH_VERIFY),
        code => {
            tracing::warn!(?code, error = %status.message(), "auth-verify failed");
            ApiError::Unavailable(AUTH_VERIFY, format!("{code:?}: {}", status.message()))
        }
    }
}

/// The verified caller of a `/api/{user_id}/…` route: the token is valid and
/// its subject, parsed once into a [`UserId`], is the path's `user_id`.
#[derive(Debug)]
pub struct Caller(pub UserId);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        let claims = state.auth.verify(token).await?;
        tracing::Span::current().record("user_id", claims.user_id.as_str());
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        let path_user = params
            .iter()
            .find(|(name, _)| *name == "user_id")
            .map(|(_, value)| value);
        if path_user != Some(claims.user_id.as_str()) {
            // The reason is in the request's access line.
            let refusal = Refusal::forbidden(claims.user_id.as_str(), path_user.map(str::as_bytes));
            return Err(refusal.into());
        }
        Ok(Self(claims.user_id))
    }
}

/// The token from the single `Authorization: Bearer …` header, by the rules
/// auth-core shares with auth-verify's ext_authz.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let values = parts.headers.get_all(header::AUTHORIZATION);
    Ok(auth_core::bearer_token(
        values.iter().map(HeaderValue::as_bytes),
        parts.uri.query(),
    )?)
}

#[cfg(test)]
mod tests {
    use tonic::{Code, Status};

    use super::*;

    /// Whatever auth-verify answers, the caller gets a 401 (the token) or a
    /// 503/504 that names auth-verify, never a 500 or a word about tasks.
    #[test]
    fn every_auth_verify_status_is_401_503_or_504() {
        for code in (0..=16).map(Code::from_i32).filter(|c| *c != Code::Ok) {
            let error = refused_by_auth_verify(Status::new(code, "why"));
            let status = error.status().as_u16();
            let problem = error.problem();
            match code {
                Code::Unauthenticated | Code::InvalidArgument | Code::OutOfRange => {
                    assert_eq!(status, 401, "{code:?}");
                }
                Code::DeadlineExceeded | Code::Cancelled => assert_eq!(status, 504, "{code:?}"),
                _ => assert_eq!(status, 503, "{code:?}"),
            }
            if status != 401 {
                assert!(
                    problem.body.contains("auth-verify"),
                    "{code:?}: {}",
                    problem.body
                );
            }
            assert!(
                !problem.body.contains("tasks"),
                "{code:?}: {}",
                problem.body
            );
        }
    }
}
