//! The probe against real servers on port 0: a gRPC health service and a
//! minimal HTTP server, healthy and not.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

const TIMEOUT: Duration = Duration::from_secs(3);

/// A gRPC server whose service "up" is SERVING and "down" NOT_SERVING.
async fn grpc_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("up", ServingStatus::Serving)
        .await;
    reporter
        .set_service_status("down", ServingStatus::NotServing)
        .await;
    tokio::spawn(async move {
        let _keep = reporter;
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(TcpIncoming::from(listener))
            .await;
    });
    url
}

/// An HTTP server answering every request with `status_line`.
async fn http_server(status_line: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0_u8; 1024];
            let _ = socket.read(&mut buffer).await;
            let answer = format!("{status_line}\r\ncontent-length: 0\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    url
}

/// A port nothing listens on.
async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
}

#[tokio::test]
async fn grpc_health() {
    let url = grpc_server().await;
    assert_eq!(probe::grpc(&url, "", TIMEOUT).await, Ok(()));
    assert_eq!(probe::grpc(&url, "up", TIMEOUT).await, Ok(()));
    assert!(probe::grpc(&url, "down", TIMEOUT).await.is_err());
    assert!(probe::grpc(&url, "unknown", TIMEOUT).await.is_err());
    assert!(
        probe::grpc(&closed_port().await, "", TIMEOUT)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn http_status() {
    let ok = http_server("HTTP/1.1 200 OK").await;
    assert_eq!(probe::http(&format!("{ok}/readyz"), TIMEOUT).await, Ok(200));
    let unavailable = http_server("HTTP/1.1 503 Service Unavailable").await;
    assert!(probe::http(&unavailable, TIMEOUT).await.is_err());
    assert!(probe::http(&closed_port().await, TIMEOUT).await.is_err());
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/healthz", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    // It gives up (rather than hang) and says why.
    let check = probe::http(&url, Duration::from_millis(200));
    let error = tokio::time::timeout(Duration::from_secs(30), check)
        .await
        .expect("the probe gives up on its own")
        .expect_err("a silent server is not healthy");
    assert!(error.contains("no answer within 200ms"), "{error}");
}

#[tokio::test]
async fn usage_errors_exit_2() {
    assert_eq!(probe::run(&[]).await, 2);
    assert_eq!(probe::run(&["ping".to_owned()]).await, 2);
}
