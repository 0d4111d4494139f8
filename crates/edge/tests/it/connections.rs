//! Connections that never finish a request are reaped, and a cap on open
//! connections answers fast instead of hanging (issue 9, items 1 and 6).
//! Each test waits on the socket being closed, never on a clock.

use auth_core::testing::eventually;
use edge::Settings;

use crate::common::{Raw, Stack};

/// An in-process stack whose edge settings `tweak` changes.
async fn stack(tweak: impl FnOnce(&mut Settings) + 'static) -> Stack {
    Stack::builder().edge(tweak).start().await
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let stack = stack(|s| s.edge_header_read_timeout_ms = 200).await;
    let mut silent = Raw::connect(stack.base()).await;
    assert_eq!(silent.until_closed().await, "");
    stack.finish().await;
}

#[tokio::test]
async fn a_half_sent_head_is_closed() {
    let stack = stack(|s| s.edge_header_read_timeout_ms = 200).await;
    for half in [
        &b"GET /healthz HTTP/1.1\r\nHost: edge\r\n"[..],
        b"G",
        // Part of the HTTP/2 preface: the protocol is not even known yet.
        b"PRI * HTTP/2.0\r\n",
    ] {
        let mut slow = Raw::connect(stack.base()).await;
        slow.send(half).await;
        let answer = slow.until_closed().await;
        assert!(!answer.contains(" 200 "), "{answer}");
    }
    stack.finish().await;
}

/// HTTP/2 is served (the server's SETTINGS carry the stream limit), and an
/// HTTP/2 connection that never starts a request is closed like any other.
#[tokio::test]
async fn http2_is_served_with_its_stream_limit_and_reaped_too() {
    let stack = stack(|s| {
        s.edge_header_read_timeout_ms = 200;
        s.edge_http2_max_concurrent_streams = 7;
    })
    .await;
    let mut client = Raw::connect(stack.base()).await;
    // The client preface and an empty SETTINGS frame.
    client.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
    client.send(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await;
    let frames = client.until_closed_bytes().await;
    // The server's first frame: SETTINGS (type 4) with
    // MAX_CONCURRENT_STREAMS (id 3) = 7 among its 6-byte entries.
    assert!(frames.len() >= 9 && frames[3] == 4, "{frames:?}");
    let length = usize::from(frames[1]) << 8 | usize::from(frames[2]);
    let entries = frames[9..9 + length].chunks(6);
    assert!(
        entries.clone().any(|e| e == [0, 3, 0, 0, 0, 7]),
        "{:?}",
        entries.collect::<Vec<_>>()
    );
    stack.finish().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let stack = stack(|s| {
        s.edge_header_read_timeout_ms = 30_000;
        s.edge_idle_timeout_ms = 200;
    })
    .await;
    let mut client = Raw::connect(stack.base()).await;
    client
        .send(b"GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
        .await;
    client.until(r#"{"status":"ok"}"#).await;
    // Kept alive, then nothing more: closed after the idle timeout.
    assert_eq!(client.until_closed().await, "");
    stack.finish().await;
}

#[tokio::test]
async fn at_the_connection_cap_new_connections_are_refused_fast() {
    let stack = stack(|s| {
        s.edge_max_connections = 2;
        s.edge_header_read_timeout_ms = 30_000;
    })
    .await;
    let first = Raw::connect(stack.base()).await;
    let _second = Raw::connect(stack.base()).await;
    // Accepted in order: the third finds both slots taken.
    let mut third = Raw::connect(stack.base()).await;
    third
        .send(b"GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
        .await;
    let answer = third.until_closed().await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
        "{answer}"
    );
    if !answer.is_empty() {
        assert!(answer.contains("application/problem+json"), "{answer}");
    }
    // A normal client is refused fast too (an answer or an error, no hang).
    let refused = stack.anonymous().get("/healthz").try_status().await;
    assert!(refused.is_none_or(|status| status == 503), "{refused:?}");
    // Once a connection closes, its slot serves the next one.
    drop(first);
    eventually("a slot is free again", || async {
        let status = stack.anonymous().get("/healthz").try_status().await;
        (status.map(|s| s.as_u16()) == Some(200)).then_some(())
    })
    .await;
    stack.finish().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_408() {
    let stack = stack(|s| {
        s.edge_request_timeout_ms = 300;
        // At least the upstream budget, or the edge refuses to start.
        s.edge_upstream_timeout_ms = 300;
    })
    .await;
    let alice = stack.user("alice");
    let token = stack.sign(&stack.claims(&alice.id));
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"title\": \"sl",
        alice.tasks()
    );
    let mut slow = Raw::connect(stack.base()).await;
    slow.send(head.as_bytes()).await;
    let answer = slow.until_closed().await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains(r#""status":408"#), "{answer}");
    assert!(alice.list("").await.is_empty(), "nothing was created");
    stack.finish().await;
}
