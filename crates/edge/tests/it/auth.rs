//! Unauthenticated and malformed requests: the 401/400 variants with their
//! RFC 6750 challenges, for local and remote verification (and against a
//! running stack: `external`).

use serde_json::{Value, json};

use crate::common::{Stack, sign_with};
use crate::scenarios;

scenarios!(
    no_token_is_401_without_error,
    refused_tokens_are_401_invalid_token,
    malformed_credentials_are_400_invalid_request,
);

/// The stack's claims for `sub`, with some replaced.
fn claims(stack: &Stack, sub: &str, overrides: Value) -> Value {
    let mut claims = stack.claims(sub);
    if let (Some(base), Some(extra)) = (claims.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    claims
}

async fn no_token_is_401_without_error(stack: &Stack) {
    let nobody = stack.anonymous();
    let path = format!("/api/{}/tasks", stack.user_id("alice"));
    for call in [
        nobody.get(&path),
        nobody.post(&path).json(json!({ "title": "x" })),
        nobody
            .get(&path)
            .header("authorization", "Basic YWxpY2U6cHc="),
    ] {
        let reply = call.reply(401).await;
        assert_eq!(reply.header("www-authenticate"), r#"Bearer realm="todo""#);
        assert!(reply.body["detail"].is_string());
    }
}

async fn refused_tokens_are_401_invalid_token(stack: &Stack) {
    let user = stack.user_id("alice");
    let path = format!("/api/{user}/tasks");
    let now = jsonwebtoken::get_current_timestamp();
    let valid = || claims(stack, &user, json!({}));
    let cases = [
        ("garbage", "not-a-jwt".to_owned(), "malformed"),
        (
            "expired",
            stack.sign(&claims(stack, &user, json!({ "exp": now - 3600 }))),
            "expired",
        ),
        (
            "forged",
            sign_with("another-secret-another-secret-0123456", &valid()),
            "signature",
        ),
        (
            "wrong issuer",
            stack.sign(&claims(
                stack,
                &user,
                json!({ "iss": "https://evil.example" }),
            )),
            "issuer",
        ),
        (
            "wrong audience",
            stack.sign(&claims(
                stack,
                &user,
                json!({ "aud": "https://evil.example" }),
            )),
            "audience",
        ),
        (
            "alg none",
            format!("eyJhbGciOiJub25lIn0.{}.", payload(&valid())),
            "alg none",
        ),
    ];
    let nobody = stack.anonymous();
    for (case, token, reason) in cases {
        let reply = nobody.get(&path).bearer(&token).reply(401).await;
        let challenge = reply.header("www-authenticate");
        assert!(
            challenge
                .starts_with(r#"Bearer realm="todo", error="invalid_token", error_description=""#),
            "{case}: {challenge}"
        );
        assert!(challenge.contains(reason), "{case}: {challenge}");
        assert!(!challenge.contains(&token), "the token is never echoed");
        assert!(
            reply.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains(reason)),
            "{case}: {}",
            reply.body
        );
    }
    // The same secret that signed these is what the edge uses: a good token works.
    nobody
        .get(&path)
        .bearer(&stack.sign(&valid()))
        .expect(200)
        .await;
}

async fn malformed_credentials_are_400_invalid_request(stack: &Stack) {
    let user = stack.user_id("alice");
    let path = format!("/api/{user}/tasks");
    let token = stack.sign(&stack.claims(&user));
    let nobody = stack.anonymous();
    let two_headers = nobody.get(&path).bearer(&token).bearer(&token);
    let in_query = nobody.get(format!("{path}?access_token={token}"));
    let in_query_too = nobody
        .get(format!("{path}?status=all&access_token={token}"))
        .bearer(&token);
    for call in [two_headers, in_query, in_query_too] {
        let reply = call.reply(400).await;
        let challenge = reply.header("www-authenticate");
        assert!(
            challenge.contains(r#"error="invalid_request""#),
            "{challenge}"
        );
    }
}

fn payload(claims: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
}
