//! Who is calling: the bearer token is taken from the request, verified
//! (in-process by auth-core, or remotely by auth-verify), and its subject
//! must equal the `{user_id}` in the path.

use std::time::Duration;

use auth_core::{Claims, TokenVerifier, UserId};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::{header, request::Parts};
use proto::auth::VerifyRequest;
use proto::auth::auth_verify_client::AuthVerifyClient;
use tonic::transport::Channel;

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
    pub async fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        match self {
            Self::Local(verifier) => verifier.verify(token).await.map_err(|error| {
                if error.is_retryable() {
                    return ApiError::Unavailable(error.to_string());
                }
                tracing::info!(reason = %error, "token refused");
                ApiError::InvalidToken(error.to_string())
            }),
            Self::Remote { client, timeout } => {
                let mut request = tonic::Request::new(VerifyRequest {
                    token: token.to_owned(),
                });
                request.set_timeout(*timeout);
                let mut client = client.clone();
                let call = client.verify(request);
                let reply = tokio::time::timeout(*timeout, call)
                    .await
                    .map_err(|_| ApiError::Timeout)?;
                match reply {
                    Ok(reply) => {
                        let reply = reply.into_inner();
                        // auth-verify applies the same rules: a bad id is a
                        // fault of the deployment, not of the token.
                        let user_id = UserId::parse(reply.user_id)
                            .map_err(ApiError::internal("auth-verify's answer"))?;
                        Ok(Claims {
                            user_id,
                            email: reply.email,
                            name: reply.name,
                            expires_at: reply.expires_at,
                        })
                    }
                    Err(status) if status.code() == tonic::Code::Unauthenticated => {
                        tracing::info!(reason = %status.message(), "token refused by auth-verify");
                        Err(ApiError::InvalidToken(status.message().to_owned()))
                    }
                    Err(status) => Err(ApiError::from(status)),
                }
            }
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
            tracing::info!("path user id differs from the token's subject");
            return Err(ApiError::Forbidden);
        }
        Ok(Self(claims.user_id))
    }
}

/// The token from the single `Authorization: Bearer …` header.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let query = parts.uri.query().unwrap_or_default();
    if query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("access_token"))
    {
        return Err(ApiError::InvalidRequest(
            "tokens are accepted only in the Authorization header",
        ));
    }
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return match parts.headers.contains_key(header::AUTHORIZATION) {
            true => Err(ApiError::InvalidRequest(
                "more than one Authorization header",
            )),
            false => Err(ApiError::MissingToken),
        };
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidRequest("Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::InvalidRequest("empty bearer token"));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(uri: &str, auth: &[&str]) -> Parts {
        let mut builder = Request::builder().uri(uri);
        for value in auth {
            builder = builder.header(header::AUTHORIZATION, *value);
        }
        builder.body(()).expect("request").into_parts().0
    }

    #[test]
    fn takes_the_token_from_a_single_bearer_header() {
        let p = parts("/api/u/tasks", &["Bearer abc.def.ghi"]);
        assert_eq!(bearer_token(&p).expect("token"), "abc.def.ghi");
        let p = parts("/api/u/tasks", &["bearer abc.def.ghi"]);
        assert_eq!(bearer_token(&p).expect("token"), "abc.def.ghi");
    }

    #[test]
    fn refuses_malformed_credentials() {
        let two = parts("/api/u/tasks", &["Bearer a.b.c", "Bearer d.e.f"]);
        assert!(matches!(
            bearer_token(&two),
            Err(ApiError::InvalidRequest(_))
        ));
        let query = parts("/api/u/tasks?access_token=a.b.c", &[]);
        assert!(matches!(
            bearer_token(&query),
            Err(ApiError::InvalidRequest(_))
        ));
        let empty = parts("/api/u/tasks", &["Bearer  "]);
        assert!(matches!(
            bearer_token(&empty),
            Err(ApiError::InvalidRequest(_))
        ));
    }

    #[test]
    fn other_schemes_count_as_no_token() {
        let basic = parts("/api/u/tasks", &["Basic dXNlcjpwYXNz"]);
        assert!(matches!(bearer_token(&basic), Err(ApiError::MissingToken)));
        let none = parts("/api/u/tasks", &[]);
        assert!(matches!(bearer_token(&none), Err(ApiError::MissingToken)));
    }
}
