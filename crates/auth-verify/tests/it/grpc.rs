//! AuthVerify over a real socket: a valid token yields its user and claims,
//! a refused one UNAUTHENTICATED with the reason, and health is SERVING.

use auth_core::AuthSettings;
use auth_core::testing::TestServer;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proto::auth::VerifyRequest;
use proto::auth::auth_verify_client::AuthVerifyClient;
use serde_json::json;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::common;

const SECRET: &str = "auth-verify-test-secret-0123456789abcdef";
const URL: &str = "http://localhost:3000";

async fn spawn() -> TestServer {
    common::spawn(AuthSettings::hs256(SECRET, URL)).await
}

fn token(secret: &str, exp_offset: i64) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    // Issued 15 minutes before it expires, as Better Auth's tokens are.
    let iat = now.min(now + exp_offset - 900);
    let claims = json!({
        "sub": "user-1", "iss": URL, "aud": URL, "iat": iat, "exp": now + exp_offset,
        "email": "one@example.com", "name": "One",
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

#[tokio::test]
async fn verifies_tokens_over_grpc() {
    let server = spawn().await;
    let mut client = AuthVerifyClient::connect(server.url())
        .await
        .expect("connect");

    let reply = client
        .verify(VerifyRequest {
            token: token(SECRET, 900),
        })
        .await
        .expect("valid token")
        .into_inner();
    assert_eq!(reply.user_id, "user-1");
    assert_eq!(reply.email.as_deref(), Some("one@example.com"));
    assert_eq!(reply.name.as_deref(), Some("One"));
    assert!(reply.expires_at > 0);

    let expired = client
        .verify(VerifyRequest {
            token: token(SECRET, -3600),
        })
        .await
        .expect_err("expired token");
    assert_eq!(expired.code(), tonic::Code::Unauthenticated);
    assert_eq!(expired.message(), "token has expired");

    let forged = client
        .verify(VerifyRequest {
            token: token("some-other-secret-some-other-secret-0123", 900),
        })
        .await
        .expect_err("forged token");
    assert_eq!(forged.code(), tonic::Code::Unauthenticated);
    assert_eq!(forged.message(), "token signature is invalid");

    let huge = client
        .verify(VerifyRequest {
            token: "a".repeat(9000),
        })
        .await
        .expect_err("huge token");
    assert_eq!(huge.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn serves_grpc_health() {
    let server = spawn().await;
    assert_eq!(
        common::health(&server.url()).await,
        [ServingStatus::Serving; 3]
    );
}

/// grpcurl's `list` and `describe` work without a token.
#[tokio::test]
async fn serves_grpc_reflection() {
    use proto::testing::{MessageRequest, MessageResponse, list_services, reflect};

    let server = spawn().await;
    let services = list_services(&server.url()).await.expect("list");
    assert_eq!(
        services,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "todo.auth.v1.AuthVerify"
        ]
    );
    let symbol = MessageRequest::FileContainingSymbol("todo.auth.v1.VerifyRequest".to_owned());
    match reflect(&server.url(), symbol).await.expect("describe") {
        MessageResponse::FileDescriptorResponse(files) => {
            assert!(!files.file_descriptor_proto.is_empty())
        }
        other => panic!("unexpected answer: {other:?}"),
    }
}
