//! `envoy.service.auth.v3.Authorization/Check`: auth-verify as the external
//! authorizer of Envoy (and of Istio, Envoy Gateway, Contour…), so any
//! service behind Envoy gets Better Auth verification without linking our
//! code. Each request is judged as the edge judges its own: the bearer token
//! by auth-core's shared rules and the same [`TokenVerifier`] (JWKS refetch
//! on an unknown `kid` included), the path's user id against `sub`. The
//! answer is OK with the identity headers for the upstream, or the edge's
//! own refusal: status, `WWW-Authenticate` challenge and problem+json body.

use std::fmt;

use auth_core::{IDENTITY_HEADERS, InternalSigner, Problem, Refusal, TokenVerifier, UserId};
use envoy_types::ext_authz::v3::pb::{
    Authorization, CheckRequest, CheckResponse, DeniedHttpResponse, HeaderAppendAction,
    HeaderValue, HeaderValueOption, HttpResponse, HttpStatus, OkHttpResponse,
};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest;
use envoy_types::pb::google::rpc;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tonic::{Code, Request, Response, Status};
use tracing::Instrument;

use crate::user_path::{DEFAULT_USER_PATHS, UserPaths};

/// The gRPC (and health) name of the service.
pub const SERVICE_NAME: &str = "envoy.service.auth.v3.Authorization";

/// The header that carries the verified user id to the upstream.
pub const USER_ID_HEADER: &str = "x-user-id";
/// The header that carries the internal credential, when one is minted.
pub const INTERNAL_AUTH_HEADER: &str = "x-internal-auth";

/// The ext_authz settings as read; field names are the environment
/// variables, lower-cased.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ExtAuthzSettings {
    /// `AUTH_VERIFY_USER_PATHS`: comma-separated path templates whose
    /// `{user_id}` segment must equal the token's `sub`; empty: none.
    pub auth_verify_user_paths: String,
    /// `INTERNAL_AUTH_SECRET`: when set, every allowed request also gets an
    /// internal credential for its user in `x-internal-auth`.
    pub internal_auth_secret: Option<SecretString>,
}

impl Default for ExtAuthzSettings {
    fn default() -> Self {
        Self {
            auth_verify_user_paths: DEFAULT_USER_PATHS.to_owned(),
            internal_auth_secret: None,
        }
    }
}

impl ExtAuthzSettings {
    /// Checks the settings once, at start-up; the error says what to fix.
    pub fn validate(&self) -> anyhow::Result<ExtAuthzConfig> {
        let user_paths =
            UserPaths::parse(&self.auth_verify_user_paths).map_err(anyhow::Error::msg)?;
        let secret = self
            .internal_auth_secret
            .as_ref()
            .filter(|secret| !secret.expose_secret().is_empty());
        let signer = secret.map(|s| InternalSigner::new(Some(s))).transpose()?;
        Ok(ExtAuthzConfig { user_paths, signer })
    }
}

/// The checked ext_authz settings.
#[derive(Clone)]
pub struct ExtAuthzConfig {
    user_paths: UserPaths,
    signer: Option<InternalSigner>,
}

impl fmt::Debug for ExtAuthzConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtAuthzConfig")
            .field("user_paths", &self.user_paths)
            .field("internal_credential", &self.signer.is_some())
            .finish()
    }
}

/// The Authorization service over a verifier.
pub struct Authorizer {
    verifier: TokenVerifier,
    config: ExtAuthzConfig,
}

impl Authorizer {
    pub fn new(verifier: TokenVerifier, config: ExtAuthzConfig) -> Self {
        Self { verifier, config }
    }

    /// The verdict on one HTTP request.
    async fn judge(&self, http: &HttpRequest) -> Result<OkHttpResponse, Problem> {
        let (path, query) = match http.path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (http.path.as_str(), None),
        };
        let token = auth_core::bearer_token(authorization_values(http), query)
            .map_err(|refusal| refusal.problem())?;
        let claims = self.verifier.verify(token).await.map_err(|error| {
            if !error.is_retryable() {
                tracing::info!(reason = %error, "token refused");
            }
            Refusal::from(error).problem()
        })?;
        tracing::Span::current().record("user_id", claims.user_id.as_str());
        let path_user = self.config.user_paths.user_in(path).map_err(|not_normal| {
            tracing::info!(reason = %not_normal, "path refused");
            Problem::new(400, &not_normal.to_string())
        })?;
        if path_user
            .as_ref()
            .is_some_and(|user| **user != *claims.user_id.as_str().as_bytes())
        {
            let refusal = Refusal::forbidden(claims.user_id.as_str(), path_user.as_deref());
            tracing::info!(reason = %refusal, "path user id differs from the token's subject");
            return Err(refusal.problem());
        }
        self.allow(&claims.user_id)
    }

    /// OK: the identity headers for the upstream, set over whatever the
    /// client sent, and every other identity header removed. (Envoy applies
    /// `headers_to_remove` after the headers it sets, so a header we set is
    /// never also in the list.)
    fn allow(&self, user_id: &UserId) -> Result<OkHttpResponse, Problem> {
        // A `UserId` is visible ASCII (auth-core refuses any other subject),
        // so it always travels as `x-user-id`.
        let mut headers = vec![set_header(USER_ID_HEADER, user_id.as_str().to_owned())];
        if let Some(signer) = &self.config.signer {
            let credential = signer.mint(user_id).map_err(|error| {
                tracing::error!(%error, "could not mint the internal credential");
                Problem::new(500, "internal error")
            })?;
            headers.push(set_header(INTERNAL_AUTH_HEADER, credential));
        }
        let headers_to_remove = IDENTITY_HEADERS
            .iter()
            .filter(|name| !headers.iter().any(|h| header_name(h) == Some(**name)))
            .map(|name| (*name).to_owned())
            .collect();
        Ok(OkHttpResponse {
            headers,
            headers_to_remove,
            ..OkHttpResponse::default()
        })
    }
}

#[tonic::async_trait]
impl Authorization for Authorizer {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        let request = request.into_inner();
        let Some(http) = request
            .attributes
            .and_then(|attributes| attributes.request)
            .and_then(|request| request.http)
        else {
            return Err(Status::invalid_argument(
                "CheckRequest without attributes.request.http: only HTTP requests are judged",
            ));
        };
        // The path only: a query string could carry a token.
        let span = tracing::info_span!(
            "ext_authz",
            method = %http.method,
            path = %http.path.split('?').next().unwrap_or_default(),
            user_id = tracing::field::Empty,
        );
        let response = match self.judge(&http).instrument(span).await {
            Ok(ok) => CheckResponse {
                status: Some(rpc::Status::default()),
                http_response: Some(HttpResponse::OkResponse(ok)),
                ..CheckResponse::default()
            },
            Err(problem) => denied(problem),
        };
        Ok(Response::new(response))
    }
}

/// Every `Authorization` value of the request. Envoy joins repeated
/// headers with `,` (in the `headers` map, and for `Authorization`, one of
/// its inline headers, even in `header_map` with `encode_raw_headers`); no
/// bearer token contains a comma, so a comma splits the value back into the
/// headers it came from.
fn authorization_values(http: &HttpRequest) -> Vec<&[u8]> {
    let raw = http.header_map.iter().flat_map(|map| &map.headers);
    let raw = raw
        .filter(|header| header.key.eq_ignore_ascii_case("authorization"))
        .map(|header| match header.raw_value.is_empty() {
            true => header.value.as_bytes(),
            false => header.raw_value.as_slice(),
        });
    let joined = http
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.as_bytes());
    raw.chain(joined)
        .flat_map(|value| value.split(|&b| b == b','))
        .collect()
}

/// A denial carrying the edge's answer, with a gRPC status that names it.
fn denied(problem: Problem) -> CheckResponse {
    let code = match problem.status {
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        503 => Code::Unavailable,
        _ => Code::Internal,
    };
    CheckResponse {
        status: Some(rpc::Status {
            code: code as i32,
            message: format!("denied with HTTP {}", problem.status),
            details: Vec::new(),
        }),
        http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
            status: Some(HttpStatus {
                code: i32::from(problem.status),
            }),
            headers: problem
                .headers
                .into_iter()
                .map(|(name, value)| set_header(name, value))
                .collect(),
            body: problem.body,
        })),
        ..CheckResponse::default()
    }
}

/// A header that replaces any value of the same name.
fn set_header(name: &str, value: String) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key: name.to_owned(),
            value,
            raw_value: Vec::new(),
        }),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        ..HeaderValueOption::default()
    }
}

fn header_name(option: &HeaderValueOption) -> Option<&str> {
    option.header.as_ref().map(|header| header.key.as_str())
}
