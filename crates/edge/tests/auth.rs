//! Unauthenticated and malformed requests: the 401/400 variants with their
//! RFC 6750 challenges, for local and remote verification.

mod common;

use common::{Backend, SECRET, Verify, WEB_URL, sign, sign_with, start};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

scenarios!(
    no_token_is_401_without_error,
    refused_tokens_are_401_invalid_token,
    malformed_credentials_are_400_invalid_request,
);

const USER: &str = "alice-id";

fn claims(overrides: Value) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "sub": USER, "iss": WEB_URL, "aud": WEB_URL, "iat": now, "exp": now + 900,
    });
    if let (Some(base), Some(extra)) = (claims.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    claims
}

async fn no_token_is_401_without_error(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let url = stack.url(&format!("/api/{USER}/tasks"));
    for request in [
        stack.http.get(&url),
        stack.http.post(&url).json(&json!({ "title": "x" })),
        stack
            .http
            .get(&url)
            .header("authorization", "Basic YWxpY2U6cHc="),
    ] {
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer realm="todo""#
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["status"], 401);
        assert!(body["detail"].is_string());
    }
    stack.finish().await;
}

async fn refused_tokens_are_401_invalid_token(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let url = stack.url(&format!("/api/{USER}/tasks"));
    let now = jsonwebtoken::get_current_timestamp();
    let cases = [
        ("garbage", "not-a-jwt".to_owned(), "malformed"),
        (
            "expired",
            sign(claims(json!({ "exp": now - 3600 }))),
            "expired",
        ),
        (
            "forged",
            sign_with("another-secret-another-secret-0123456", claims(json!({}))),
            "signature",
        ),
        (
            "wrong issuer",
            sign(claims(json!({ "iss": "https://evil.example" }))),
            "issuer",
        ),
        (
            "wrong audience",
            sign(claims(json!({ "aud": "https://evil.example" }))),
            "audience",
        ),
        (
            "alg none",
            format!("eyJhbGciOiJub25lIn0.{}.", payload(&claims(json!({})))),
            "alg none",
        ),
    ];
    for (case, token, reason) in cases {
        let response = stack
            .http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            challenge
                .starts_with(r#"Bearer realm="todo", error="invalid_token", error_description=""#),
            "{case}: {challenge}"
        );
        assert!(challenge.contains(reason), "{case}: {challenge}");
        assert!(!challenge.contains(&token), "the token is never echoed");
        let body: Value = response.json().await.expect("json");
        assert!(
            body["detail"].as_str().is_some_and(|d| d.contains(reason)),
            "{case}: {body}"
        );
    }
    // The same secret that signed these is what the edge uses: a good token works.
    assert!(SECRET.len() >= 32);
    let response = stack
        .http
        .get(&url)
        .bearer_auth(sign(claims(json!({}))))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    stack.finish().await;
}

async fn malformed_credentials_are_400_invalid_request(backend: Backend, verify: Verify) {
    let Some(stack) = start(backend, verify).await else {
        return;
    };
    let url = stack.url(&format!("/api/{USER}/tasks"));
    let token = sign(claims(json!({})));
    let two_headers = stack
        .http
        .request(Method::GET, &url)
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {token}"));
    let in_query = stack.http.get(format!("{url}?access_token={token}"));
    let in_query_too = stack
        .http
        .get(format!("{url}?status=all&access_token={token}"))
        .bearer_auth(&token);
    for request in [two_headers, in_query, in_query_too] {
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii");
        assert!(
            challenge.contains(r#"error="invalid_request""#),
            "{challenge}"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    stack.finish().await;
}

fn payload(claims: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
}
