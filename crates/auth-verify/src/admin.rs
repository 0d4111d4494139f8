//! auth-verify on its admin listener (`AUTH_VERIFY_ADMIN_LISTEN_ADDR`).

use auth_core::TokenVerifier;
use service_kit::AdminState;
use tokio::net::TcpListener;

/// What auth-verify shows on its admin listener
/// (`AUTH_VERIFY_ADMIN_LISTEN_ADDR`): the verifier's readiness in detail
/// (mode; with a JWKS its URL, key ids, last fetch error, age), and the
/// JWKS age sampled for `/metrics`.
#[derive(Clone)]
pub struct Admin(pub TokenVerifier);

impl AdminState for Admin {
    async fn readiness(&self) -> (bool, serde_json::Value) {
        let mut details = self.0.details();
        let ready = match self.0.readiness() {
            Ok(()) => true,
            Err(problem) => {
                details["problem"] = problem.into();
                false
            }
        };
        details["warnings"] = self.0.warnings().into();
        (ready, details)
    }

    fn sample(&self) {
        self.0.sample_metrics();
    }
}

/// Serves the admin endpoints for `verifier` on an already-bound listener
/// until `shutdown`; see [`service_kit::admin`].
pub async fn serve_admin(
    verifier: TokenVerifier,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    service_kit::admin::serve(Admin(verifier), listener, shutdown).await
}
