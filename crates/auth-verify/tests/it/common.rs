//! Shared by the auth-verify tests: the service on port 0, and its health.

use auth_core::AuthSettings;
use auth_core::testing::TestServer;
use auth_verify::{Authorizer, ExtAuthzSettings};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// auth-verify with these settings on 127.0.0.1:0, through its real
/// `serve` (dropping the server stops it).
pub async fn spawn(settings: AuthSettings) -> TestServer {
    spawn_with(settings, ExtAuthzSettings::default()).await
}

/// As [`spawn`], with these ext_authz settings.
pub async fn spawn_with(settings: AuthSettings, ext_authz: ExtAuthzSettings) -> TestServer {
    let verifier = settings.verifier().expect("verifier");
    let config = ext_authz.validate().expect("ext_authz settings");
    let authorizer = Authorizer::new(verifier.clone(), config);
    TestServer::start(|listener, shutdown| {
        auth_verify::serve(verifier, authorizer, listener, shutdown)
    })
    .await
    .expect("auth-verify")
}

/// The health status for `""`, the AuthVerify service and the ext_authz
/// Authorization service, in that order.
pub async fn health(url: &str) -> Vec<ServingStatus> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut client = HealthClient::new(channel);
    let mut statuses = Vec::new();
    for service in [
        "",
        auth_verify::SERVICE_NAME,
        auth_verify::ext_authz::SERVICE_NAME,
    ] {
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
