//! The edge in JWKS mode (`AUTH_JWT_MODE=jwks`, no `BETTER_AUTH_SECRET`),
//! verifying in-process and through auth-verify: a test JWKS endpoint on
//! 127.0.0.1 plays Better Auth's `/api/auth/jwks`.

mod common;

use std::time::{Duration, Instant};

use auth_core::AuthSettings;
use auth_core::testing::{JwksServer, TestKey, claims, es512_jwk};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use edge::Settings;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tasks::testing::{TEST_INTERNAL_SECRET, TestDatabase, TestServer};
use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug)]
enum Verify {
    Local,
    Remote,
}

struct Stack {
    base: String,
    http: reqwest::Client,
    _tasks: TestServer,
    _db: TestDatabase,
    _stops: Vec<oneshot::Sender<()>>,
}

fn auth_settings(web: &str) -> AuthSettings {
    let mut auth = AuthSettings::jwks(web);
    auth.auth_jwks_refetch_cooldown_secs = 1;
    auth
}

/// tasks on SQLite, the edge (and auth-verify) in JWKS mode for `web`,
/// with a 1 s refetch cooldown.
async fn start(web: &str, verify: Verify) -> Stack {
    start_with(auth_settings(web), verify).await
}

async fn start_with(auth: AuthSettings, verify: Verify) -> Stack {
    let db = TestDatabase::sqlite().await.expect("sqlite");
    let tasks = tasks::testing::spawn(db.conn().clone(), TEST_INTERNAL_SECRET)
        .await
        .expect("tasks");
    let mut settings = Settings::new(&tasks.url(), TEST_INTERNAL_SECRET);
    let mut stops = Vec::new();
    if let Verify::Remote = verify {
        let (addr, stop) = common::spawn_auth_verify(&auth).await;
        settings.auth_verify_url = Some(format!("http://{addr}"));
        stops.push(stop);
    }
    let (addr, stop) = common::spawn_edge(&auth, settings).await;
    stops.push(stop);
    Stack {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        _tasks: tasks,
        _db: db,
        _stops: stops,
    }
}

impl Stack {
    async fn readyz(&self) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .expect("readyz");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }

    async fn wait_ready(&self) -> Value {
        let started = Instant::now();
        loop {
            let (status, body) = self.readyz().await;
            if status == StatusCode::OK {
                return body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "never ready: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn post(&self, user: &str, token: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/{user}/tasks", self.base))
            .bearer_auth(token)
            .json(&json!({ "title": "from a JWKS token" }))
            .send()
            .await
            .expect("post")
    }

    async fn list(&self, user: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/api/{user}/tasks", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
    }
}

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A token naming a key nobody published (its signature is never reached).
fn unknown_kid(web: &str) -> String {
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        b64(json!({"alg": "EdDSA", "kid": "nobody-published-this"})),
        b64(claims("alice", web)),
        URL_SAFE_NO_PAD.encode([1u8; 64])
    )
}

async fn every_algorithm_works_end_to_end(verify: Verify) {
    let keys = [
        TestKey::ed25519_a("ed"),
        TestKey::p256("es"),
        TestKey::rs256("rs"),
        TestKey::ps256("ps"),
    ];
    let jwks: Vec<Value> = keys.iter().map(TestKey::jwk).collect();
    let server = JwksServer::start(&jwks).await;
    let web = server.base_url();
    let stack = start(&web, verify).await;
    stack.wait_ready().await;
    for key in &keys {
        let token = key.sign(&claims("alice", &web));
        let response = stack.post("alice", &token).await;
        assert_eq!(response.status(), 201, "{:?} via {verify:?}", key.alg);
    }
    let token = keys[0].sign(&claims("alice", &web));
    let list: Vec<Value> = stack
        .list("alice", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list.len(), 4);
    // Another user's path is still forbidden.
    assert_eq!(stack.list("bob", &token).await.status(), 403);
    // JWKS mode holds no secret: HS256 is refused.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims("alice", &web),
        &jsonwebtoken::EncodingKey::from_secret(b"some-secret-some-secret-some-secret-0"),
    )
    .expect("sign");
    let refused = stack.list("alice", &hs).await;
    assert_eq!(refused.status(), 401);
    assert!(challenge(&refused).contains("HS256 is not accepted"));
    // One fetch in all: in remote mode the edge holds (and fetches) no keys.
    assert_eq!(server.fetches(), 1);
}

#[tokio::test]
async fn every_algorithm_works_end_to_end_local() {
    every_algorithm_works_end_to_end(Verify::Local).await;
}

#[tokio::test]
async fn every_algorithm_works_end_to_end_remote() {
    every_algorithm_works_end_to_end(Verify::Remote).await;
}

async fn readyz_waits_for_the_keys(verify: Verify) {
    let key = TestKey::ed25519_a("late");
    let addr = JwksServer::reserve().await;
    let web = format!("http://{addr}");
    let stack = start(&web, verify).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = stack.readyz().await;
    assert_eq!(status, 503, "{body}");
    let details = body["details"].to_string();
    match verify {
        Verify::Local => assert!(details.contains("not loaded yet"), "{details}"),
        Verify::Remote => assert!(details.contains("NotServing"), "{details}"),
    }
    // Meanwhile a request is 503 (retry later), not a 401 that would make the
    // client throw its token away.
    let early = stack.list("alice", &key.sign(&claims("alice", &web))).await;
    assert_eq!(early.status(), 503);
    assert!(early.headers().get("www-authenticate").is_none());

    let server = JwksServer::start_at(addr, &[key.jwk()]).await;
    stack.wait_ready().await;
    let token = key.sign(&claims("alice", &web));
    assert_eq!(stack.post("alice", &token).await.status(), 201);
    assert!(server.fetches() >= 1);
}

#[tokio::test]
async fn readyz_waits_for_the_keys_local() {
    readyz_waits_for_the_keys(Verify::Local).await;
}

#[tokio::test]
async fn readyz_waits_for_the_keys_remote() {
    readyz_waits_for_the_keys(Verify::Remote).await;
}

async fn jwks_down_after_first_fetch(verify: Verify) {
    let key = TestKey::ed25519_a("known");
    let mut server = JwksServer::start(&[key.jwk()]).await;
    let web = server.base_url();
    let stack = start(&web, verify).await;
    stack.wait_ready().await;
    server.stop().await;

    let token = key.sign(&claims("alice", &web));
    assert_eq!(stack.post("alice", &token).await.status(), 201);
    let unknown = stack.list("alice", &unknown_kid(&web)).await;
    assert_eq!(unknown.status(), 401, "unknown kid with the JWKS down");
    assert!(challenge(&unknown).contains(r#"error="invalid_token""#));
    assert_eq!(stack.list("alice", &token).await.status(), 200);
    // Still ready: the last good key set stays in use.
    let (status, body) = stack.readyz().await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn jwks_down_after_first_fetch_local() {
    jwks_down_after_first_fetch(Verify::Local).await;
}

#[tokio::test]
async fn jwks_down_after_first_fetch_remote() {
    jwks_down_after_first_fetch(Verify::Remote).await;
}

#[tokio::test]
async fn an_es512_key_is_reported_and_its_tokens_refused() {
    let ed = TestKey::ed25519_a("ed");
    let server = JwksServer::start(&[ed.jwk(), es512_jwk()]).await;
    let web = server.base_url();
    let stack = start(&web, Verify::Local).await;
    let body = stack.wait_ready().await;
    assert!(body["warnings"].to_string().contains("ES512"), "{body}");

    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let es512 = format!(
        "{}.{}.{}",
        b64(json!({"alg": "ES512", "kid": "es512-key"})),
        b64(claims("alice", &web)),
        URL_SAFE_NO_PAD.encode([1u8; 132])
    );
    let refused = stack.list("alice", &es512).await;
    assert_eq!(refused.status(), 401);
    let challenge = challenge(&refused);
    assert!(
        challenge.contains("cannot verify") && challenge.contains("ES512"),
        "{challenge}"
    );
    assert_eq!(
        server.fetches(),
        1,
        "no refetch for a known, unsupported key"
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_does_not_flood_the_web_app() {
    let key = TestKey::ed25519_a("real");
    let server = JwksServer::start(&[key.jwk()]).await;
    let web = server.base_url();
    // The default cooldown (30 s): far longer than this test.
    let stack = start_with(AuthSettings::jwks(&web), Verify::Local).await;
    stack.wait_ready().await;
    let token = unknown_kid(&web);
    for _ in 0..50 {
        assert_eq!(stack.list("alice", &token).await.status(), 401);
    }
    assert!(server.fetches() <= 2, "{} fetches", server.fetches());
}
