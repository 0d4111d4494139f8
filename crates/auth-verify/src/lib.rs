//! `todo.auth.v1.AuthVerify`: Better Auth token verification as a gRPC
//! service, for any service that holds a bearer token (and for the edge's
//! remote mode); and on the same port Envoy's external authorization API
//! ([`ext_authz`]), for services behind Envoy. All the rules live in
//! auth-core; this only serves them.

mod admin;
pub mod ext_authz;
mod user_path;

use std::future::Future;

use anyhow::Context;
use auth_core::{AuthConfig, AuthSettings, TokenVerifier};
use envoy_types::ext_authz::v3::pb::AuthorizationServer;
use proto::auth::auth_verify_server::{AuthVerify, AuthVerifyServer};
use proto::auth::{VerifyRequest, VerifyResponse};
use service_kit::grpc_metrics::GrpcMetrics;
use service_kit::{Listen, Service, Shutdown, Source};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

pub use admin::{Admin, serve_admin};
/// The gRPC service name, as generated from `auth.proto`; also its health name.
pub use proto::auth::auth_verify_server::SERVICE_NAME;

/// Largest Verify request accepted: a token is at most 8 KiB, plus framing.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// Largest Check request accepted: Envoy sends every request header (60 KiB
/// at most by default, 96 KiB at most at all) and a few attributes. An
/// oversized `Authorization` header thus still gets its 401 from auth-core.
const MAX_CHECK_BYTES: usize = 256 * 1024;

pub use ext_authz::{Authorizer, ExtAuthzConfig, ExtAuthzSettings};

/// auth-verify's validated configuration: the token settings (auth-core's
/// [`AuthSettings`], checked) and the ext_authz settings
/// ([`ExtAuthzSettings`], checked); it listens on `AUTH_VERIFY_LISTEN_ADDR`.
#[derive(Debug, Clone)]
pub struct Config {
    pub auth: AuthConfig,
    pub ext_authz: ExtAuthzConfig,
}

impl Service for Config {
    const NAME: &'static str = "auth-verify";
    const LISTEN: Listen = Listen {
        var: "AUTH_VERIFY_LISTEN_ADDR",
        default: "0.0.0.0:50051",
    };
    const ADMIN_LISTEN: &'static str = "AUTH_VERIFY_ADMIN_LISTEN_ADDR";

    fn load(source: &Source) -> anyhow::Result<Self> {
        let auth: AuthSettings = service_kit::settings(source)?;
        let ext_authz: ExtAuthzSettings = service_kit::settings(source)?;
        Ok(Self {
            auth: auth.validate()?,
            ext_authz: ext_authz.validate()?,
        })
    }

    async fn run(
        self,
        listener: TcpListener,
        admin: Option<TcpListener>,
        shutdown: Shutdown,
    ) -> anyhow::Result<()> {
        let verifier = self.auth.verifier()?;
        let _admin = service_kit::admin::spawn(Admin(verifier.clone()), admin);
        let authorizer = Authorizer::new(verifier.clone(), self.ext_authz);
        serve(verifier, authorizer, listener, shutdown).await
    }
}

/// The gRPC service over a verifier.
pub struct VerifyService {
    verifier: TokenVerifier,
}

#[tonic::async_trait]
impl AuthVerify for VerifyService {
    async fn verify(
        &self,
        request: Request<VerifyRequest>,
    ) -> Result<Response<VerifyResponse>, Status> {
        let token = request.into_inner().token;
        match self.verifier.verify(&token).await {
            Ok(claims) => {
                tracing::Span::current().record("user_id", claims.user_id.as_str());
                Ok(Response::new(VerifyResponse {
                    user_id: claims.user_id.into_string(),
                    email: claims.email,
                    name: claims.name,
                    expires_at: claims.expires_at,
                }))
            }
            Err(error) => {
                tracing::info!(reason = %error, "token refused");
                Err(if error.is_retryable() {
                    Status::unavailable(error.to_string())
                } else {
                    Status::unauthenticated(error.to_string())
                })
            }
        }
    }
}

/// Serves AuthVerify, Envoy's Authorization (through `authorizer`, over the
/// same verifier), gRPC health and reflection (v1: AuthVerify and health,
/// for grpcurl) on an already-bound listener until `shutdown` resolves.
/// Health (`""`, [`SERVICE_NAME`] and
/// [`ext_authz::SERVICE_NAME`]) is NOT_SERVING until the verifier is ready
/// (in JWKS mode: keys loaded), then follows it.
pub async fn serve(
    verifier: TokenVerifier,
    authorizer: Authorizer,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let mut ready = verifier.watch_ready();
    let initially = *ready.borrow_and_update();
    set_health(&reporter, initially).await;
    if let Err(detail) = verifier.readiness() {
        tracing::warn!(%detail, "not serving until the signing keys are loaded");
    }
    let follow = tokio::spawn(follow_readiness(ready, reporter));
    let service = AuthVerifyServer::new(VerifyService { verifier })
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let ext_authz = AuthorizationServer::new(authorizer).max_decoding_message_size(MAX_CHECK_BYTES);
    let reflection = proto::reflection(SERVICE_NAME).context("gRPC reflection")?;
    tracing::info!(addr = %listener.local_addr()?, "auth-verify listening");
    GRPC_METRICS.describe();
    let served = tonic::transport::Server::builder()
        .layer(GRPC_METRICS)
        // A call's span continues the caller's trace (the edge's remote
        // mode, Envoy): the method, and the user once verified.
        .trace_fn(service_kit::trace::grpc_span)
        .add_service(health)
        .add_service(reflection)
        .add_service(service)
        .add_service(ext_authz)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
        .context("auth-verify server failed");
    follow.abort();
    served
}

/// auth-verify's call metrics: `auth_verify_grpc_requests_total{method, code}`
/// (`todo.auth.v1.AuthVerify/Verify` with `ok` or `unauthenticated` is the
/// verifications by outcome; auth-core's `auth_token_verifications_total`
/// has the reasons) and `auth_verify_grpc_request_duration_seconds{method}`.
pub const GRPC_METRICS: GrpcMetrics = GrpcMetrics {
    requests: "auth_verify_grpc_requests_total",
    seconds: "auth_verify_grpc_request_duration_seconds",
    methods: &[
        "todo.auth.v1.AuthVerify/Verify",
        "envoy.service.auth.v3.Authorization/Check",
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/Watch",
    ],
};

/// Keeps gRPC health in step with the verifier's readiness.
async fn follow_readiness(mut ready: watch::Receiver<bool>, reporter: HealthReporter) {
    while ready.changed().await.is_ok() {
        let now = *ready.borrow_and_update();
        set_health(&reporter, now).await;
        match now {
            true => tracing::info!("signing keys loaded: serving"),
            false => tracing::warn!("signing keys unusable: not serving"),
        }
    }
}

async fn set_health(reporter: &HealthReporter, ready: bool) {
    let status = match ready {
        true => ServingStatus::Serving,
        false => ServingStatus::NotServing,
    };
    reporter.set_service_status("", status).await;
    reporter.set_service_status(SERVICE_NAME, status).await;
    reporter
        .set_service_status(ext_authz::SERVICE_NAME, status)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "auth-verify-settings-test-secret-0123";

    /// auth-verify's configuration from these variables, on top of a valid
    /// HS256 setup.
    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut all = vec![("BETTER_AUTH_SECRET", SECRET)];
        all.extend_from_slice(vars);
        Config::load(&service_kit::source_from(all))
    }

    fn refusal(vars: &[(&str, &str)]) -> String {
        format!("{:#}", load(vars).expect_err("refused"))
    }

    #[test]
    fn the_ext_authz_defaults_are_valid() {
        let config = load(&[]).expect("valid");
        let shown = format!("{:?}", config.ext_authz);
        assert!(shown.contains(r#""api""#), "{shown}");
        assert!(shown.contains("internal_credential: false"), "{shown}");
        // Set but empty (as compose passes unset variables) means unset.
        let config = load(&[("INTERNAL_AUTH_SECRET", "")]).expect("valid");
        assert!(format!("{:?}", config.ext_authz).contains("internal_credential: false"));
        let config = load(&[("INTERNAL_AUTH_SECRET", SECRET)]).expect("valid");
        assert!(format!("{:?}", config.ext_authz).contains("internal_credential: true"));
    }

    #[test]
    fn bad_ext_authz_settings_are_refused_at_load() {
        let text = refusal(&[("AUTH_VERIFY_USER_PATHS", "/api/{user}")]);
        assert!(text.starts_with("AUTH_VERIFY_USER_PATHS: "), "{text}");
        let text = refusal(&[("INTERNAL_AUTH_SECRET", "short")]);
        assert!(
            text.contains("INTERNAL_AUTH_SECRET is only 5 bytes"),
            "{text}"
        );
    }
}
