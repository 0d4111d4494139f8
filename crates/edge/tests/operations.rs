//! What a client sees when tasks is down or slow, health and readiness,
//! CORS for the web origin, and request ids.

mod common;

use std::time::Duration;

use common::{Backend, Stack, Verify, WEB_URL, start, start_with};
use reqwest::{Method, StatusCode};
use tokio::net::TcpListener;

/// Generous bound for "quickly, never a hang" on a busy shared machine.
const NO_HANG: Duration = Duration::from_secs(10);

#[tokio::test]
async fn tasks_stopped_is_503_quickly_and_not_ready() {
    let mut stack = start(Backend::Sqlite, Verify::Local).await.expect("stack");
    let alice = stack.user("alice-id");
    assert_eq!(alice.list("").await.len(), 0);
    let ready = stack
        .http
        .get(stack.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);

    stack.stop_tasks().await;
    let request = alice.request(Method::GET, &alice.tasks_url()).send();
    let response = tokio::time::timeout(NO_HANG, request)
        .await
        .expect("no hang")
        .expect("send");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert!(
        !body["detail"].as_str().unwrap_or_default().contains("tcp"),
        "no internals leak"
    );

    let ready = tokio::time::timeout(NO_HANG, stack.http.get(stack.url("/readyz")).send())
        .await
        .expect("no hang")
        .expect("send");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health = stack
        .http
        .get(stack.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    stack.finish().await;
}

#[tokio::test]
async fn tasks_that_never_answer_is_504() {
    // A listener that accepts connections and never speaks.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let stack = start_with(Backend::Sqlite, Verify::Local, |settings| {
        settings.tasks_url = silent_url;
        settings.edge_upstream_timeout_ms = 300;
    })
    .await
    .expect("stack");
    assert_failing_upstream(stack, StatusCode::GATEWAY_TIMEOUT).await;
}

#[tokio::test]
async fn auth_verify_down_is_503_not_401() {
    let stack = start_with(Backend::Sqlite, Verify::Local, |settings| {
        // Nothing listens there.
        settings.auth_verify_url = Some("http://127.0.0.1:9".to_owned());
    })
    .await
    .expect("stack");
    assert_failing_upstream(stack, StatusCode::SERVICE_UNAVAILABLE).await;
}

#[tokio::test]
async fn cors_allows_the_web_origin_only() {
    let stack = start(Backend::Sqlite, Verify::Local).await.expect("stack");
    let url = stack.url("/api/alice-id/tasks");
    let preflight = |origin: &str| {
        stack
            .http
            .request(Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let response = preflight(WEB_URL).await.expect("preflight");
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], WEB_URL);
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii");
    assert!(allowed.contains("authorization"), "{allowed}");

    // Another origin is never named as allowed, so browsers refuse it.
    let response = preflight("https://evil.example").await.expect("preflight");
    let allowed = response.headers().get("access-control-allow-origin");
    assert!(
        allowed.is_none_or(|origin| origin == WEB_URL),
        "{allowed:?}"
    );
    stack.finish().await;
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let stack = start(Backend::Sqlite, Verify::Local).await.expect("stack");
    let response = stack
        .http
        .get(stack.url("/healthz"))
        .send()
        .await
        .expect("send");
    let id = response.headers()["x-request-id"].to_str().expect("ascii");
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    let response = stack
        .http
        .get(stack.url("/api/alice-id/tasks"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    stack.finish().await;
}

#[tokio::test]
async fn unknown_routes_are_404_problems() {
    let stack = start(Backend::Sqlite, Verify::Local).await.expect("stack");
    let response = stack
        .http
        .get(stack.url("/nope"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    stack.finish().await;
}

/// A task listing answers `status` without hanging, and `/readyz` says not ready.
async fn assert_failing_upstream(stack: Stack, status: StatusCode) {
    let alice = stack.user("alice-id");
    let request = alice.request(Method::GET, &alice.tasks_url()).send();
    let response = tokio::time::timeout(NO_HANG, request)
        .await
        .expect("no hang")
        .expect("send");
    assert_eq!(response.status(), status);
    let ready = tokio::time::timeout(NO_HANG, stack.http.get(stack.url("/readyz")).send())
        .await
        .expect("no hang")
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    stack.finish().await;
}
