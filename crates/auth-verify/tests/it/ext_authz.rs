//! Envoy's `Authorization/Check` over a real socket: a gRPC client sends the
//! `CheckRequest`s Envoy would and reads the verdicts: OK with the identity
//! headers for the upstream, or the edge's own refusal (status, challenge,
//! problem+json body), in HS256 and in JWKS mode with a key rotation.

use std::collections::HashMap;

use auth_core::testing::{JwksServer, TestKey, TestServer, claims, eventually};
use auth_core::{AuthSettings, InternalVerifier};
use auth_verify::ExtAuthzSettings;
use envoy_types::ext_authz::v3::pb::{
    CheckRequest, CheckResponse, DeniedHttpResponse, HeaderAppendAction, HttpResponse,
    OkHttpResponse,
};
use envoy_types::pb::envoy::config::core::v3::{HeaderMap, HeaderValue};
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::common;

const SECRET: &str = "ext-authz-test-secret-0123456789abcdef";
const URL: &str = "http://localhost:3000";
const INTERNAL: &str = "ext-authz-internal-secret-0123456789ab";
const CHALLENGE: &str = r#"Bearer realm="todo""#;

fn token(sub: &str, secret: &str, exp_offset: i64) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    // Issued 15 minutes before it expires, as Better Auth's tokens are.
    let iat = now.min(now + exp_offset - 900);
    let claims = json!({"sub": sub, "iss": URL, "aud": URL, "iat": iat, "exp": now + exp_offset});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// What Envoy sends by default: headers in a map, repeated ones joined by `,`.
fn request(path: &str, headers: &[(&str, &str)]) -> CheckRequest {
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    with_http(HttpRequest {
        method: "GET".to_owned(),
        path: path.to_owned(),
        headers,
        ..HttpRequest::default()
    })
}

/// What Envoy sends with `encode_raw_headers: true`: each header on its own.
fn raw_request(path: &str, headers: &[(&str, &[u8])]) -> CheckRequest {
    let headers = headers
        .iter()
        .map(|(key, value)| HeaderValue {
            key: (*key).to_owned(),
            value: String::new(),
            raw_value: value.to_vec(),
        })
        .collect();
    with_http(HttpRequest {
        method: "GET".to_owned(),
        path: path.to_owned(),
        header_map: Some(HeaderMap { headers }),
        ..HttpRequest::default()
    })
}

fn with_http(http: HttpRequest) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(Request {
                http: Some(http),
                ..Request::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

async fn connect(url: &str) -> AuthorizationClient<Channel> {
    AuthorizationClient::connect(url.to_owned())
        .await
        .expect("connect")
}

async fn check(client: &mut AuthorizationClient<Channel>, request: CheckRequest) -> CheckResponse {
    client.check(request).await.expect("Check").into_inner()
}

fn allowed(response: CheckResponse) -> OkHttpResponse {
    assert_eq!(
        response.status.as_ref().map(|s| s.code),
        Some(0),
        "{response:?}"
    );
    match response.http_response {
        Some(HttpResponse::OkResponse(ok)) => ok,
        other => panic!("expected an OK response, got {other:?}"),
    }
}

/// The denial's HTTP status, headers and problem+json body; the gRPC status
/// must not be OK (Envoy lets anything with OK through).
fn denied(response: CheckResponse) -> (i32, HashMap<String, String>, Value) {
    let code = response.status.as_ref().map_or(0, |s| s.code);
    assert_ne!(code, 0, "a denial must not carry gRPC OK: {response:?}");
    let Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
        status,
        headers,
        body,
    })) = response.http_response
    else {
        panic!("expected a denied response, got {response:?}");
    };
    let headers = headers
        .into_iter()
        .map(|option| {
            assert_eq!(
                option.append_action,
                HeaderAppendAction::OverwriteIfExistsOrAdd as i32
            );
            let header = option.header.expect("header");
            (header.key, header.value)
        })
        .collect();
    let body: Value = serde_json::from_str(&body).expect("problem+json body");
    (status.expect("HTTP status").code, headers, body)
}

/// The headers an OK sets (name → value), checking each replaces any value
/// the client sent.
fn set_headers(ok: &OkHttpResponse) -> HashMap<String, String> {
    ok.headers
        .iter()
        .map(|option| {
            assert_eq!(
                option.append_action,
                HeaderAppendAction::OverwriteIfExistsOrAdd as i32
            );
            // Envoy reads the deprecated `append` first: set, it could append.
            #[allow(deprecated)]
            let append = &option.append;
            assert!(append.is_none(), "appending would keep the client's value");
            let header = option.header.clone().expect("header");
            (header.key, header.value)
        })
        .collect()
}

async fn spawn_hs256() -> TestServer {
    common::spawn(AuthSettings::hs256(SECRET, URL)).await
}

#[tokio::test]
async fn a_valid_token_is_allowed_with_the_user_id_for_the_upstream() {
    let server = spawn_hs256().await;
    let url = server.url();
    assert_eq!(common::health(&url).await, [ServingStatus::Serving; 3]);
    let mut client = connect(&url).await;
    let auth = bearer(&token("user-1", SECRET, 900));

    let ok = allowed(
        check(
            &mut client,
            request(
                "/api/user-1/tasks?status=all",
                &[("authorization", &auth), ("x-user-id", "someone-else")],
            ),
        )
        .await,
    );
    let set = set_headers(&ok);
    assert_eq!(set.get("x-user-id").map(String::as_str), Some("user-1"));
    assert_eq!(set.len(), 1, "no internal credential unless configured");
    // The other identity headers a client might send are dropped; x-user-id
    // is not in the list: Envoy removes after setting, so it would drop ours.
    let mut removed = ok.headers_to_remove.clone();
    removed.sort();
    assert_eq!(
        removed,
        ["x-forwarded-user", "x-internal-auth", "x-user-id-bin"]
    );

    // Paths outside the templates need a valid token, nothing more.
    let ok = allowed(
        check(
            &mut client,
            request("/healthz", &[("authorization", &auth)]),
        )
        .await,
    );
    assert_eq!(
        set_headers(&ok).get("x-user-id").map(String::as_str),
        Some("user-1")
    );

    // The same with Envoy's raw header encoding.
    allowed(
        check(
            &mut client,
            raw_request("/api/user-1/tasks", &[("authorization", auth.as_bytes())]),
        )
        .await,
    );
}

#[tokio::test]
async fn bad_or_missing_tokens_get_the_edges_401() {
    let server = spawn_hs256().await;
    let url = server.url();
    let mut client = connect(&url).await;

    for (auth, reason) in [
        (
            bearer(&token(
                "user-1",
                "another-secret-another-secret-0123456",
                900,
            )),
            "token signature is invalid",
        ),
        (bearer(&token("user-1", SECRET, -3600)), "token has expired"),
        (bearer("not.a.jwt"), "malformed token"),
    ] {
        let (status, headers, body) = denied(
            check(
                &mut client,
                request("/api/user-1/tasks", &[("authorization", &auth)]),
            )
            .await,
        );
        assert_eq!(status, 401, "{reason}");
        let challenge = &headers["www-authenticate"];
        assert!(
            challenge
                .starts_with(r#"Bearer realm="todo", error="invalid_token", error_description=""#),
            "{challenge}"
        );
        assert!(challenge.contains(reason), "{challenge}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["title"], "Unauthorized");
        assert_eq!(body["status"], 401);
        assert!(
            body["detail"].as_str().is_some_and(|d| d.contains(reason)),
            "{body}"
        );
    }

    for headers in [&[][..], &[("authorization", "Basic dXNlcjpwYXNz")][..]] {
        let (status, headers, body) =
            denied(check(&mut client, request("/api/user-1/tasks", headers)).await);
        assert_eq!(status, 401);
        assert_eq!(headers["www-authenticate"], CHALLENGE, "no error parameter");
        assert_eq!(body["detail"], "missing bearer token");
    }
}

#[tokio::test]
async fn a_token_for_another_user_than_the_path_names_is_403() {
    let server = spawn_hs256().await;
    let url = server.url();
    let mut client = connect(&url).await;
    let auth = bearer(&token("user-1", SECRET, 900));
    for path in [
        "/api/user-2/tasks",
        "/api/user-2/tasks/7/complete",
        "/API/user-2/tasks",
        "/api/user-1x/tasks",
        "/api/user-1;x/tasks",
        "/api/",
    ] {
        let response = check(&mut client, request(path, &[("authorization", &auth)])).await;
        let (status, headers, body) = denied(response);
        assert_eq!(status, 403, "{path}");
        assert!(!headers.contains_key("www-authenticate"));
        assert_eq!(body["title"], "Forbidden");
    }
    // Paths an upstream could resolve to another user's route are refused.
    for (path, why) in [
        ("/static/../api/user-2/tasks", "dot segment"),
        ("/api//user-2/tasks", "empty segment"),
        ("/api%2fuser-2/tasks", "encoded slash"),
    ] {
        let (status, headers, body) =
            denied(check(&mut client, request(path, &[("authorization", &auth)])).await);
        assert_eq!(status, 400, "{path}");
        assert!(!headers.contains_key("www-authenticate"), "{path}");
        assert!(
            body["detail"].as_str().is_some_and(|d| d.contains(why)),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn an_oversized_authorization_header_is_refused_before_decoding() {
    let server = spawn_hs256().await;
    let url = server.url();
    let mut client = connect(&url).await;
    // 9 KiB and Envoy's whole default header budget (60 KiB): not a gRPC
    // error (Envoy would answer its own status_on_error), but the 401.
    for size in [9 * 1024, 60 * 1024] {
        let auth = bearer(&"a".repeat(size));
        let (status, headers, _) = denied(
            check(
                &mut client,
                request("/api/user-1/tasks", &[("authorization", &auth)]),
            )
            .await,
        );
        assert_eq!(status, 401, "{size}");
        assert!(
            headers["www-authenticate"].contains("token is larger than 8 KiB"),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn malformed_credentials_are_400_invalid_request() {
    let server = spawn_hs256().await;
    let url = server.url();
    let mut client = connect(&url).await;
    let auth = bearer(&token("user-1", SECRET, 900));
    let other = bearer(&token("user-2", SECRET, 900));
    let joined = format!("{auth},{other}");

    for (name, request) in [
        (
            "two raw headers",
            raw_request(
                "/api/user-1/tasks",
                &[
                    ("authorization", auth.as_bytes()),
                    ("authorization", other.as_bytes()),
                ],
            ),
        ),
        (
            "two headers joined by Envoy",
            request("/api/user-1/tasks", &[("authorization", &joined)]),
        ),
        (
            "token in the query",
            request(
                &format!(
                    "/api/user-1/tasks?access_token={}",
                    token("user-1", SECRET, 900)
                ),
                &[],
            ),
        ),
        (
            "query token beside a header",
            request(
                "/api/user-1/tasks?x=1&access_token=a",
                &[("authorization", &auth)],
            ),
        ),
        (
            "not ASCII",
            raw_request(
                "/api/user-1/tasks",
                &[("authorization", b"Bearer \xff\xfe")],
            ),
        ),
    ] {
        let (status, headers, body) = denied(check(&mut client, request).await);
        assert_eq!(status, 400, "{name}");
        assert!(
            headers["www-authenticate"].contains(r#"error="invalid_request""#),
            "{name}: {headers:?}"
        );
        assert_eq!(body["title"], "Bad Request", "{name}");
    }
}

/// A subject that is not visible ASCII is refused at verification (401 with
/// the reason), as at the edge: user ids travel as `x-user-id` only.
#[tokio::test]
async fn a_subject_that_is_not_visible_ascii_is_401() {
    let server = spawn_hs256().await;
    let mut client = connect(&server.url()).await;
    let auth = bearer(&token("\u{fc}ser one", SECRET, 900));
    let (status, headers, _) = denied(
        check(
            &mut client,
            request("/api/%C3%BCser%20one/tasks", &[("authorization", &auth)]),
        )
        .await,
    );
    assert_eq!(status, 401);
    let challenge = &headers["www-authenticate"];
    assert!(challenge.contains("visible ASCII"), "{challenge}");
}

#[tokio::test]
async fn an_internal_credential_for_the_user_when_configured() {
    let settings = ExtAuthzSettings {
        internal_auth_secret: Some(SecretString::from(INTERNAL.to_owned())),
        ..ExtAuthzSettings::default()
    };
    let server = common::spawn_with(AuthSettings::hs256(SECRET, URL), settings).await;
    let url = server.url();
    let mut client = connect(&url).await;
    let auth = bearer(&token("user-1", SECRET, 900));
    let ok = allowed(
        check(
            &mut client,
            request("/api/user-1/tasks", &[("authorization", &auth)]),
        )
        .await,
    );
    let set = set_headers(&ok);
    let verifier =
        InternalVerifier::new(Some(&SecretString::from(INTERNAL.to_owned()))).expect("verifier");
    let user = verifier
        .verify(&set["x-internal-auth"])
        .expect("a valid credential");
    assert_eq!(user.as_str(), "user-1");
    assert!(!ok.headers_to_remove.iter().any(|h| h == "x-internal-auth"));
}

#[tokio::test]
async fn the_path_check_follows_its_setting() {
    let settings = ExtAuthzSettings {
        auth_verify_user_paths: "/v2/users/{user_id}".to_owned(),
        ..ExtAuthzSettings::default()
    };
    let server = common::spawn_with(AuthSettings::hs256(SECRET, URL), settings).await;
    let url = server.url();
    let mut client = connect(&url).await;
    let auth = bearer(&token("user-1", SECRET, 900));
    let verdict = |path: &str| request(path, &[("authorization", &auth)]);
    allowed(check(&mut client, verdict("/api/user-2/tasks")).await);
    allowed(check(&mut client, verdict("/v2/users/user-1/x")).await);
    let (status, _, _) = denied(check(&mut client, verdict("/v2/users/user-2/x")).await);
    assert_eq!(status, 403);

    let off = ExtAuthzSettings {
        auth_verify_user_paths: String::new(),
        ..ExtAuthzSettings::default()
    };
    let server = common::spawn_with(AuthSettings::hs256(SECRET, URL), off).await;
    let url = server.url();
    let mut client = connect(&url).await;
    allowed(check(&mut client, verdict("/api/user-2/tasks")).await);
}

/// Waits until every health name is SERVING (keys loaded).
async fn wait_serving(url: &str) {
    eventually("auth-verify serving once the keys load", || async {
        (common::health(url).await == [ServingStatus::Serving; 3]).then_some(())
    })
    .await;
}

#[tokio::test]
async fn jwks_mode_answers_503_until_the_keys_are_loaded() {
    let key = TestKey::ed25519_a("k1");
    let addr = JwksServer::reserve();
    let base = format!("http://{addr}");
    let server = common::spawn(AuthSettings::jwks(&base)).await;
    let url = server.url();
    let mut client = connect(&url).await;
    let auth = bearer(&key.sign(&claims("user-1", &base)));
    let verdict = || request("/api/user-1/tasks", &[("authorization", &auth)]);

    // No keys yet: 503 (retry), not a 401 that would make clients drop a
    // token that may well be good.
    let (status, headers, body) = denied(check(&mut client, verdict()).await);
    assert_eq!(status, 503);
    assert!(!headers.contains_key("www-authenticate"));
    assert_eq!(body["title"], "Service Unavailable");
    assert_eq!(
        body["detail"],
        "signing keys are not loaded yet, try again shortly"
    );

    let _jwks = JwksServer::start_at(addr, &[key.jwk()]).await;
    wait_serving(&url).await;
    let ok = allowed(check(&mut client, verdict()).await);
    assert_eq!(set_headers(&ok)["x-user-id"], "user-1");
}

#[tokio::test]
async fn jwks_mode_accepts_a_rotated_key_after_one_refetch() {
    let old = TestKey::ed25519_a("k1");
    let new = TestKey::ed25519_b("k2");
    let jwks = JwksServer::start(&[old.jwk()]).await;
    let base = jwks.base_url();
    let server = common::spawn(AuthSettings::jwks(&base)).await;
    let url = server.url();
    wait_serving(&url).await;
    let mut client = connect(&url).await;
    let verdict = |key: &TestKey| {
        let auth = bearer(&key.sign(&claims("user-1", &base)));
        request("/api/user-1/tasks", &[("authorization", &auth)])
    };
    allowed(check(&mut client, verdict(&old)).await);

    // The web app rotates: a token names a key auth-verify has not seen. It
    // refetches the JWKS on that unknown kid (Envoy's jwt_authn would not).
    jwks.set_keys(&[old.jwk(), new.jwk()]);
    let fetches = jwks.fetches();
    let ok = allowed(check(&mut client, verdict(&new)).await);
    assert_eq!(set_headers(&ok)["x-user-id"], "user-1");
    assert_eq!(jwks.fetches(), fetches + 1, "one refetch for the new kid");

    // A key nobody published is refused as a bad token (within the
    // cooldown, without another fetch).
    let (status, headers, _) = denied(check(&mut client, verdict(&TestKey::p256("k3"))).await);
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"].contains(r#"error="invalid_token""#));
}
