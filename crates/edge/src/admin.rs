//! The edge on its admin listener (`EDGE_ADMIN_LISTEN_ADDR`): the detailed
//! readiness behind the public `/readyz`, and the JWKS age sampled for
//! `/metrics`.

use serde_json::Value;
use service_kit::AdminState;

use crate::AppState;
use crate::auth::Authenticator;

impl AdminState for AppState {
    async fn readiness(&self) -> (bool, Value) {
        crate::routes::health::readiness(self).await
    }

    fn sample(&self) {
        if let Authenticator::Local(verifier) = &self.auth {
            verifier.sample_metrics();
        }
    }
}
