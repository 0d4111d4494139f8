//! What a client sees when tasks is down or slow, health and readiness,
//! CORS for the web origin, request ids and unknown routes.

use std::time::Duration;

use auth_core::testing::unused_addr;
use tokio::net::TcpListener;

use crate::common::Stack;
use crate::scenarios_in_process_and_external;

scenarios_in_process_and_external!(
    cors_allows_the_web_origin_only,
    every_response_has_a_request_id,
    unknown_routes_are_404_problems,
);

/// Generous bound for "quickly, never a hang" on a busy shared machine.
const NO_HANG: Duration = Duration::from_secs(10);

#[tokio::test]
async fn tasks_stopped_is_503_quickly_and_not_ready() {
    let mut stack = Stack::builder().start().await;
    let alice = stack.user("alice");
    assert_eq!(alice.list("").await.len(), 0);
    assert_eq!(stack.readyz().await.0, 200);

    stack.stop_tasks().await;
    let problem = tokio::time::timeout(NO_HANG, alice.get(alice.tasks()).expect(503))
        .await
        .expect("no hang");
    assert!(
        !problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("tcp"),
        "no internals leak"
    );

    let (ready, body) = tokio::time::timeout(NO_HANG, stack.readyz())
        .await
        .expect("no hang");
    assert_eq!(ready, 503);
    // In public, only that; the reason is on the admin listener.
    assert_eq!(body, serde_json::json!({ "status": "not ready" }));
    let (ready, body) = stack.admin_readyz().await;
    assert_eq!(ready, 503);
    let problems = body["details"]["problems"].to_string();
    assert!(problems.contains("todo.tasks.v1.Tasks"), "{problems}");
    stack.anonymous().get("/healthz").expect(200).await;
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
    let stack = Stack::builder()
        .edge(|settings| {
            settings.tasks_url = silent_url;
            settings.edge_upstream_timeout_ms = 300;
        })
        .start()
        .await;
    assert_failing_upstream(stack, 504).await;
}

#[tokio::test]
async fn auth_verify_down_is_503_not_401() {
    let stack = Stack::builder()
        .edge(|settings| {
            // Nothing listens there.
            settings.auth_verify_url = Some(format!("http://{}", unused_addr()));
        })
        .start()
        .await;
    assert_failing_upstream(stack, 503).await;
}

/// A task listing answers `status` without hanging, and `/readyz` says not ready.
async fn assert_failing_upstream(stack: Stack, status: u16) {
    let alice = stack.user("alice");
    tokio::time::timeout(NO_HANG, alice.get(alice.tasks()).expect(status))
        .await
        .expect("no hang");
    let (ready, _) = tokio::time::timeout(NO_HANG, stack.readyz())
        .await
        .expect("no hang");
    assert_eq!(ready, 503);
    stack.finish().await;
}

async fn cors_allows_the_web_origin_only(stack: &Stack) {
    let path = format!("/api/{}/tasks", stack.user_id("alice"));
    let preflight = |origin: &str| {
        stack
            .anonymous()
            .request(reqwest::Method::OPTIONS, &path)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let response = preflight(stack.web_url()).await;
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        stack.web_url()
    );
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii");
    assert!(allowed.contains("authorization"), "{allowed}");

    // Another origin is never named as allowed, so browsers refuse it.
    let response = preflight("https://evil.example").await;
    let allowed = response.headers().get("access-control-allow-origin");
    assert!(
        allowed.is_none_or(|origin| origin == stack.web_url()),
        "{allowed:?}"
    );
}

async fn every_response_has_a_request_id(stack: &Stack) {
    let nobody = stack.anonymous();
    let reply = nobody.get("/healthz").reply(200).await;
    let id = reply.header("x-request-id");
    assert_eq!(id.len(), 36, "a generated UUID: {id}");
    let reply = nobody
        .get(format!("/api/{}/tasks", stack.user_id("alice")))
        .header("x-request-id", "trace-me-123")
        .reply(401)
        .await;
    assert_eq!(reply.header("x-request-id"), "trace-me-123");
}

async fn unknown_routes_are_404_problems(stack: &Stack) {
    stack.anonymous().get("/nope").expect(404).await;
}
