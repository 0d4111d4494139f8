//! `todo.auth.v1.AuthVerify`: Better Auth token verification as a gRPC
//! service, for any service that holds a bearer token (and for the edge's
//! remote mode). All the rules live in auth-core; this only serves them.

use std::future::Future;

use anyhow::Context;
use auth_core::TokenVerifier;
use proto::auth::auth_verify_server::{AuthVerify, AuthVerifyServer};
use proto::auth::{VerifyRequest, VerifyResponse};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

/// Largest request accepted: a token is at most 8 KiB, plus framing.
const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// Settings of auth-verify itself; token settings are auth-core's
/// [`auth_core::AuthSettings`].
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `AUTH_VERIFY_LISTEN_ADDR`.
    #[serde(default = "default_listen_addr")]
    pub auth_verify_listen_addr: String,
}

fn default_listen_addr() -> String {
    "0.0.0.0:50051".to_owned()
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
            Ok(claims) => Ok(Response::new(VerifyResponse {
                user_id: claims.user_id,
                email: claims.email,
                name: claims.name,
                expires_at: claims.expires_at,
            })),
            Err(error) => {
                tracing::info!(reason = %error, "token refused");
                Err(Status::unauthenticated(error.to_string()))
            }
        }
    }
}

/// Serves AuthVerify and gRPC health on an already-bound listener until
/// `shutdown` resolves.
pub async fn serve(
    verifier: TokenVerifier,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<AuthVerifyServer<VerifyService>>()
        .await;
    let service = AuthVerifyServer::new(VerifyService { verifier })
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    tracing::info!(addr = %listener.local_addr()?, "auth-verify listening");
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(service)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
        .context("auth-verify server failed")
}
