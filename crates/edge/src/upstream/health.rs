//! One gRPC health check (`grpc.health.v1.Health/Check`), for `/readyz`.

use std::time::Duration;

use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// `Ok` when `service` answers SERVING within `timeout`; otherwise what it
/// said, or that it did not answer.
pub async fn health_check(
    mut client: HealthClient<Channel>,
    service: &str,
    timeout: Duration,
) -> Result<(), String> {
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    let reply = tokio::time::timeout(timeout, client.check(request))
        .await
        .map_err(|_| format!("{service}: no answer in time"))?
        .map_err(|status| format!("{service}: {}", status.message()))?;
    match reply.into_inner().status() {
        ServingStatus::Serving => Ok(()),
        status => Err(format!("{service}: {status:?}")),
    }
}
