//! Shared by the auth-verify tests: the service on port 0, and its health.

use auth_core::AuthSettings;
use auth_core::testing::TestServer;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// auth-verify with these settings on 127.0.0.1:0, through its real
/// `serve` (dropping the server stops it).
pub async fn spawn(settings: AuthSettings) -> TestServer {
    let verifier = settings.verifier().expect("verifier");
    TestServer::start(|listener, shutdown| auth_verify::serve(verifier, listener, shutdown))
        .await
        .expect("auth-verify")
}

/// The health status for `""` and for the AuthVerify service, in that order.
pub async fn health(url: &str) -> Vec<ServingStatus> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut client = HealthClient::new(channel);
    let mut statuses = Vec::new();
    for service in ["", auth_verify::SERVICE_NAME] {
        let reply = client
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health")
            .into_inner();
        statuses.push(reply.status());
    }
    statuses
}
