//! The edge in JWKS mode (`AUTH_JWT_MODE=jwks`, no `BETTER_AUTH_SECRET`),
//! verifying in-process and through auth-verify: a test JWKS endpoint on
//! 127.0.0.1 plays Better Auth's `/api/auth/jwks`.

use std::time::Duration;

use auth_core::AuthSettings;
use auth_core::testing::{
    JwksServer, TestKey, claims, eventually, forged_ed25519_token, small_order_ed25519_jwk,
    unsigned_token,
};
use serde_json::{Value, json};

use crate::common::{Client, Stack, Verify};

/// `$scenario::local` and `$scenario::remote`: the edge verifying in-process
/// and through auth-verify.
macro_rules! local_and_remote {
    ($scenario:ident) => {
        mod $scenario {
            use crate::common::Verify;

            #[tokio::test]
            async fn local() {
                super::$scenario(Verify::Local).await;
            }

            #[tokio::test]
            async fn remote() {
                super::$scenario(Verify::Remote).await;
            }
        }
    };
}

/// tasks on SQLite, the edge (and auth-verify) in JWKS mode for `web`,
/// with a 1 s refetch cooldown.
async fn start(web: &str, verify: Verify) -> Stack {
    let mut auth = AuthSettings::jwks(web);
    auth.auth_jwks_refetch_cooldown_secs = 1;
    Stack::builder().auth(auth).verify(verify).start().await
}

/// `alice`, sending `token`.
fn alice(stack: &Stack, token: &str) -> Client {
    stack.client("alice", token)
}

/// Lists `client`'s tasks expecting 401: the challenge.
async fn unauthorized(client: &Client) -> String {
    let reply = client.get(client.tasks()).reply(401).await;
    reply.header("www-authenticate").to_owned()
}

/// A token naming a key nobody published (its signature is never reached).
fn unknown_kid(web: &str) -> String {
    let header = json!({"alg": "EdDSA", "kid": "nobody-published-this"});
    unsigned_token(&header, &claims("alice", web), 64)
}

async fn every_algorithm_works_end_to_end(verify: Verify) {
    let keys = TestKey::one_of_each();
    let jwks: Vec<Value> = keys.iter().map(TestKey::jwk).collect();
    let server = JwksServer::start(&jwks).await;
    let web = server.base_url();
    let stack = start(&web, verify).await;
    stack.wait_ready().await;
    for key in &keys {
        let token = key.sign(&claims("alice", &web));
        let alice = alice(&stack, &token);
        alice
            .post(alice.tasks())
            .json(json!({ "title": "from a JWKS token" }))
            .context(format_args!("{:?} via {verify:?}", key.alg))
            .expect(201)
            .await;
    }
    let token = keys[0].sign(&claims("alice", &web));
    assert_eq!(alice(&stack, &token).list("").await.len(), keys.len());
    // Another user's path is still forbidden.
    let bobs = stack.client("bob", &token).tasks();
    alice(&stack, &token).get(bobs).expect(403).await;
    // JWKS mode holds no secret: HS256 is refused.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims("alice", &web),
        &jsonwebtoken::EncodingKey::from_secret(b"some-secret-some-secret-some-secret-0"),
    )
    .expect("sign");
    let refused = unauthorized(&alice(&stack, &hs)).await;
    assert!(
        refused.contains("HS256") && refused.contains("jwks mode"),
        "{refused}"
    );
    // One fetch in all: in remote mode the edge holds (and fetches) no keys.
    assert_eq!(server.fetches(), 1);
    stack.finish().await;
}

local_and_remote!(every_algorithm_works_end_to_end);

async fn readyz_waits_for_the_keys(verify: Verify) {
    let key = TestKey::ed25519_a("late");
    // The web app is up but publishes no keys yet.
    let server = JwksServer::start_failing(503, "starting").await;
    let web = server.base_url();
    let stack = start(&web, verify).await;
    // A second fetch means the first one has failed and been handled.
    eventually("a failed fetch of the keys", || async {
        (server.fetches() >= 2).then_some(())
    })
    .await;
    let (status, body) = stack.readyz().await;
    assert_eq!(status, 503, "{body}");
    // The public answer says "not ready" and nothing more; the details are
    // on the admin listener.
    assert_eq!(body, json!({ "status": "not ready" }));
    let (status, body) = stack.admin_readyz().await;
    assert_eq!(status, 503, "{body}");
    let details = body["details"].to_string();
    match verify {
        Verify::Local => assert!(details.contains("not loaded yet"), "{details}"),
        Verify::Remote => assert!(details.contains("NotServing"), "{details}"),
    }
    // Meanwhile a request is 503 (retry later), not a 401 that would make the
    // client throw its token away.
    let token = key.sign(&claims("alice", &web));
    let early = alice(&stack, &token);
    let early = early.get(early.tasks()).reply(503).await;
    assert!(early.headers.get("www-authenticate").is_none());

    server.set_keys(&[key.jwk()]);
    stack.wait_ready().await;
    alice(&stack, &token).create("from a JWKS token").await;
    assert!(server.fetches() >= 1);
    stack.finish().await;
}

local_and_remote!(readyz_waits_for_the_keys);

async fn jwks_down_after_first_fetch(verify: Verify) {
    let key = TestKey::ed25519_a("known");
    let mut server = JwksServer::start(&[key.jwk()]).await;
    let web = server.base_url();
    let stack = start(&web, verify).await;
    stack.wait_ready().await;
    server.stop().await;

    let token = key.sign(&claims("alice", &web));
    alice(&stack, &token).create("from a JWKS token").await;
    // An unknown kid with the JWKS down: 401.
    let unknown = unauthorized(&alice(&stack, &unknown_kid(&web))).await;
    assert!(unknown.contains(r#"error="invalid_token""#), "{unknown}");
    alice(&stack, &token).list("").await;
    // Still ready: the last good key set stays in use.
    let (status, body) = stack.readyz().await;
    assert_eq!(status, 200, "{body}");
    stack.finish().await;
}

local_and_remote!(jwks_down_after_first_fetch);

/// An unknown `kid` while the JWKS endpoint is slow (slower than
/// `EDGE_UPSTREAM_TIMEOUT_MS`, within the fetch timeout) is refused with 401
/// through auth-verify too, not cut off with a 504 (issue 9, item 3).
async fn an_unknown_kid_with_a_slow_jwks_is_401(verify: Verify) {
    let key = TestKey::ed25519_a("known");
    let server = JwksServer::start(&[key.jwk()]).await;
    let web = server.base_url();
    let stack = start(&web, verify).await;
    stack.wait_ready().await;
    server.set_delay(Duration::from_secs(3));
    let unknown = unauthorized(&alice(&stack, &unknown_kid(&web))).await;
    assert!(unknown.contains("no key matches"), "{unknown}");
    assert!(server.fetches() >= 2, "the unknown kid caused a refetch");
    stack.finish().await;
}

local_and_remote!(an_unknown_kid_with_a_slow_jwks_is_401);

async fn es512_tokens_are_verified_and_forged_or_confused_ones_refused(verify: Verify) {
    let es512 = TestKey::p521("p521");
    let es256 = TestKey::p256("p256");
    let server = JwksServer::start(&[es512.jwk(), es256.jwk()]).await;
    let web = server.base_url();
    let stack = start(&web, verify).await;
    let body = stack.wait_ready().await;
    assert!(body.get("warnings").is_none(), "{body}");

    let token = es512.sign(&claims("alice", &web));
    alice(&stack, &token).create("signed with ES512").await;
    let bobs = stack.client("bob", &token).tasks();
    alice(&stack, &token).get(bobs).expect(403).await;

    // Forged: alice's signature over bob's claims, and a made-up signature.
    let (_, signature) = token.rsplit_once('.').expect("three segments");
    let bob = es512.sign(&claims("bob", &web));
    let (message, _) = bob.rsplit_once('.').expect("three segments");
    let header = |alg: &str, kid: &str| json!({"alg": alg, "kid": kid});
    for forged in [
        format!("{message}.{signature}"),
        unsigned_token(&header("ES512", "p521"), &claims("bob", &web), 132),
        // An ES256 signature under an ES512 header naming the P-521 key.
        es256.sign_with_json_header(&header("ES512", "p521"), &claims("bob", &web)),
    ] {
        let client = stack.client("bob", &forged);
        let reply = client.get(client.tasks()).reply(401).await;
        let challenge = reply.header("www-authenticate");
        assert!(challenge.contains("signature is invalid"), "{challenge}");
    }
    // Algorithm confusion: a header naming the other curve's key.
    for confused in [
        es256.sign_with_json_header(&header("ES256", "p521"), &claims("alice", &web)),
        es512.sign_with_json_header(&header("ES512", "p256"), &claims("alice", &web)),
    ] {
        let challenge = unauthorized(&alice(&stack, &confused)).await;
        assert!(challenge.contains("does not match"), "{challenge}");
    }
    assert_eq!(server.fetches(), 1);
    stack.finish().await;
}

local_and_remote!(es512_tokens_are_verified_and_forged_or_confused_ones_refused);

#[tokio::test]
async fn an_unusable_key_is_reported_and_its_tokens_refused() {
    let ed = TestKey::ed25519_a("ed");
    let coordinate = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH";
    let es384 = json!({"kty": "EC", "crv": "P-384", "alg": "ES384", "kid": "es384-key",
                       "x": coordinate, "y": coordinate});
    let server = JwksServer::start(&[ed.jwk(), es384]).await;
    let web = server.base_url();
    let stack = start(&web, Verify::Local).await;
    let body = stack.wait_ready().await;
    assert_eq!(
        body,
        json!({ "status": "ready" }),
        "nothing but ready in public"
    );
    let (_, body) = stack.admin_readyz().await;
    assert!(
        body["details"]["warnings"].to_string().contains("ES384"),
        "{body}"
    );

    let header = json!({"alg": "ES384", "kid": "es384-key"});
    let token = unsigned_token(&header, &claims("alice", &web), 96);
    let challenge = unauthorized(&alice(&stack, &token)).await;
    assert!(
        challenge.contains("cannot verify") && challenge.contains("ES384"),
        "{challenge}"
    );
    assert_eq!(
        server.fetches(),
        1,
        "no refetch for a known, unsupported key"
    );
    stack.finish().await;
}

/// A token forged for a small-order Ed25519 key in the JWKS (`R` = identity, `S` = 0) is a 401 through the real edge (issue 9,
/// item 8).
#[tokio::test]
async fn a_forgery_under_a_small_order_key_is_refused() {
    let ed = TestKey::ed25519_a("ed");
    let server = JwksServer::start(&[ed.jwk(), small_order_ed25519_jwk("weak")]).await;
    let web = server.base_url();
    let stack = start(&web, Verify::Local).await;
    stack.wait_ready().await;
    let forged = forged_ed25519_token("weak", &claims("alice", &web));
    let challenge = unauthorized(&alice(&stack, &forged)).await;
    assert!(challenge.contains("small-order"), "{challenge}");
    stack.finish().await;
}

#[tokio::test]
async fn a_flood_of_unknown_kids_does_not_flood_the_web_app() {
    let key = TestKey::ed25519_a("real");
    let server = JwksServer::start(&[key.jwk()]).await;
    let web = server.base_url();
    // The default cooldown (30 s): far longer than this test.
    let stack = Stack::builder()
        .auth(AuthSettings::jwks(&web))
        .start()
        .await;
    stack.wait_ready().await;
    let token = unknown_kid(&web);
    for _ in 0..50 {
        unauthorized(&alice(&stack, &token)).await;
    }
    assert!(server.fetches() <= 2, "{} fetches", server.fetches());
    stack.finish().await;
}

/// The JWKS endpoint not listening at all when the edge starts (connection
/// refused, not an error answer), then up, then down mid-run and back with
/// a rotated key: 503 (never a hang, never a 401) until keys are loaded;
/// the known key keeps working through the outage; the new key works once
/// the endpoint is back.
async fn jwks_down_at_start_and_mid_run(verify: Verify) {
    let old = TestKey::ed25519_a("old");
    let new = TestKey::ed25519_b("new");
    let addr = JwksServer::reserve();
    let web = format!("http://{addr}");
    let stack = start(&web, verify).await;
    let with_old = old.sign(&claims("alice", &web));
    let early = alice(&stack, &with_old);
    let early = early.get(early.tasks()).reply(503).await;
    assert!(early.headers.get("www-authenticate").is_none());
    assert_eq!(stack.readyz().await.0, 503);

    let mut server = JwksServer::start_at(addr, &[old.jwk()]).await;
    stack.wait_ready().await;
    alice(&stack, &with_old).create("keys loaded late").await;

    server.stop().await;
    alice(&stack, &with_old).create("JWKS down").await;
    let with_new = new.sign(&claims("alice", &web));
    unauthorized(&alice(&stack, &with_new)).await;

    let _server = JwksServer::start_at(addr, &[old.jwk(), new.jwk()]).await;
    // The refetch cooldown (1 s) may still hold the first tries back.
    eventually("the rotated key is picked up", || async {
        let client = alice(&stack, &with_new);
        let status = client.get(client.tasks()).send().await.status().as_u16();
        assert!(matches!(status, 200 | 401), "answered {status}");
        (status == 200).then_some(())
    })
    .await;
    assert_eq!(alice(&stack, &with_new).list("").await.len(), 2);
    stack.finish().await;
}

local_and_remote!(jwks_down_at_start_and_mid_run);
