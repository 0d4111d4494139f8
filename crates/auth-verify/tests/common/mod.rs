//! Shared by the auth-verify tests: the service on port 0, and its health.

use auth_core::AuthSettings;
use tokio::sync::oneshot;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// auth-verify with these settings on 127.0.0.1:0: its URL, and the sender
/// that stops it (dropping it stops it too).
pub async fn spawn(settings: AuthSettings) -> (String, oneshot::Sender<()>) {
    let verifier = settings.verifier().expect("verifier");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(auth_verify::serve(verifier, listener, async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
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
