//! Ended sessions at the edge (`AUTH_REVOCATION_SECRET`): a local feed plays
//! the web app's `/api/internal/revocations`. Several edges, in-process and
//! through auth-verify, refuse a token of an ended session within 2 s with
//! 401 invalid_token; one started later refuses at once; none is ready
//! before it has the list.

use std::time::{Duration, Instant};

use auth_core::AuthSettings;
use auth_core::testing::{RevocationFeedServer, eventually};
use secrecy::SecretString;
use serde_json::Value;

use crate::common::{Client, SECRET, Stack, Verify, WEB_URL};

const FEED_SECRET: &str = "edge-feed-secret-edge-feed-secret-0123456";
const ENDED: &str = "the session was ended (signed out or revoked)";

fn auth(feed: &RevocationFeedServer) -> AuthSettings {
    let mut auth = AuthSettings::hs256(SECRET, WEB_URL);
    auth.auth_revocation_secret = Some(SecretString::from(FEED_SECRET.to_owned()));
    auth.auth_revocation_url = Some(feed.url());
    auth
}

async fn start(feed: &RevocationFeedServer, verify: Verify) -> Stack {
    let stack = Stack::builder()
        .auth(auth(feed))
        .verify(verify)
        .start()
        .await;
    stack.wait_ready().await;
    stack
}

/// `name`'s client on `stack`, with a token of session `sid`.
fn in_session(stack: &Stack, name: &str, sid: &str) -> Client {
    let id = stack.user_id(name);
    let mut claims = stack.claims(&id);
    claims["sid"] = Value::from(sid);
    stack.client(&id, &stack.sign(&claims))
}

fn far() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("fits") + 960
}

#[tokio::test]
async fn every_edge_refuses_an_ended_session_within_2_s() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    let stacks = [
        start(&feed, Verify::Local).await,
        start(&feed, Verify::Local).await,
        start(&feed, Verify::Remote).await,
    ];
    for stack in &stacks {
        let alice = in_session(stack, "alice", "sid-a");
        alice.get(alice.tasks()).expect(200).await;
    }

    let at = Instant::now();
    feed.revoke("sid-a", far());
    for stack in &stacks {
        let alice = in_session(stack, "alice", "sid-a");
        let took = eventually("the edge refuses the ended session", || async {
            let status = alice.get(alice.tasks()).send().await.status().as_u16();
            (status == 401).then(|| at.elapsed())
        })
        .await;
        assert!(took < Duration::from_secs(2), "took {took:?}");
        let reply = alice.get(alice.tasks()).reply(401).await;
        assert!(
            reply
                .header("www-authenticate")
                .contains(r#"error="invalid_token""#),
            "{:?}",
            reply.headers
        );
        assert_eq!(reply.body["detail"], format!("invalid token: {ENDED}"));

        // Another session of the same user, and tokens without sid, work.
        let other = in_session(stack, "alice", "sid-b");
        other.get(other.tasks()).expect(200).await;
        let plain = stack.user("alice");
        plain.get(plain.tasks()).expect(200).await;
    }
    for stack in stacks {
        stack.finish().await;
    }
}

#[tokio::test]
async fn an_edge_started_after_the_revocation_refuses_at_once() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    feed.revoke("sid-a", far());
    for verify in [Verify::Local, Verify::Remote] {
        let stack = start(&feed, verify).await;
        let alice = in_session(&stack, "alice", "sid-a");
        let body = alice.get(alice.tasks()).expect(401).await;
        assert_eq!(body["detail"], format!("invalid token: {ENDED}"));
        stack.finish().await;
    }
}

#[tokio::test]
async fn an_edge_is_not_ready_and_does_not_judge_sid_tokens_until_it_has_the_list() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    feed.fail_with(Some(502));
    let stack = Stack::builder().auth(auth(&feed)).start().await;
    // Public /readyz: not ready, nothing more; the reason is on the admin listener.
    let (status, body) = stack.readyz().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, serde_json::json!({ "status": "not ready" }));
    let body = eventually("the admin readyz names the feed", || async {
        let (status, body) = stack.admin_readyz().await;
        assert_eq!(status, 503, "{body}");
        body.to_string().contains("HTTP 502").then_some(body)
    })
    .await;
    assert!(body.to_string().contains("ended sessions"), "{body}");
    let alice = in_session(&stack, "alice", "sid-a");
    alice.get(alice.tasks()).expect(503).await;
    let plain = stack.user("alice");
    plain.get(plain.tasks()).expect(200).await;

    feed.fail_with(None);
    stack.wait_ready().await;
    alice.get(alice.tasks()).expect(200).await;
    stack.finish().await;
}
