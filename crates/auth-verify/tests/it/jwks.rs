//! auth-verify in JWKS mode: gRPC health is NOT_SERVING until Better Auth's
//! keys are loaded (the web app may start later), then SERVING, and Verify
//! accepts the asymmetric tokens.

use auth_core::AuthSettings;
use auth_core::testing::{JwksServer, TestKey, claims, eventually};
use proto::auth::VerifyRequest;
use proto::auth::auth_verify_client::AuthVerifyClient;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::common::{health, spawn};

#[tokio::test]
async fn not_serving_until_the_jwks_is_loaded_then_serving() {
    let key = TestKey::ed25519_a("k1");
    let addr = JwksServer::reserve();
    let base = format!("http://{addr}");
    let mut settings = AuthSettings::jwks(&base);
    settings.auth_jwks_refetch_cooldown_secs = 1;
    let server = spawn(settings).await;
    let url = server.url();

    assert_eq!(health(&url).await, [ServingStatus::NotServing; 3]);
    let mut client = AuthVerifyClient::connect(url.clone())
        .await
        .expect("connect");
    let early = client
        .verify(VerifyRequest {
            token: key.sign(&claims("user-1", &base)),
        })
        .await
        .expect_err("no keys yet");
    assert_eq!(
        early.code(),
        tonic::Code::Unavailable,
        "retryable, not a bad token"
    );

    let jwks = JwksServer::start_at(addr, &[key.jwk()]).await;
    eventually("auth-verify serving once the keys load", || async {
        (health(&url).await == [ServingStatus::Serving; 3]).then_some(())
    })
    .await;
    let reply = client
        .verify(VerifyRequest {
            token: key.sign(&claims("user-1", &base)),
        })
        .await
        .expect("EdDSA token")
        .into_inner();
    assert_eq!(reply.user_id, "user-1");
    assert!(jwks.fetches() >= 1);

    // No secret in JWKS mode: an HS256 token is refused outright.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims("user-1", &base),
        &jsonwebtoken::EncodingKey::from_secret(b"whatever-secret-whatever-secret-0123"),
    )
    .expect("sign");
    let refused = client
        .verify(VerifyRequest { token: hs })
        .await
        .expect_err("HS256 in jwks mode");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert!(
        refused.message().starts_with("token is HS256") && refused.message().contains("jwks mode"),
        "{}",
        refused.message()
    );
}
