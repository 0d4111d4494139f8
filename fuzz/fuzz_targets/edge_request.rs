//! The edge's whole HTTP handling: method, path, headers and body through
//! the real router (`edge::router`, every middleware) with a stub tasks
//! service behind it (`todo_fuzz::stub`). Input: method byte, flags byte,
//! then path, headers (`name: value` lines) and body separated by `0xFF`;
//! in the path `{me}` is the user whose valid token flag bit 0 adds, and
//! `{other}` another user. No answer is a 5xx; every error is problem+json;
//! the stub panics if a call for anyone but the token's user arrives.
#![no_main]

use std::sync::OnceLock;

use auth_core::AuthSettings;
use auth_core::testing::claims;
use axum::Router;
use axum::body::Body;
use http::{HeaderName, HeaderValue, Method, Request};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use todo_fuzz::stub::{self, INTERNAL_SECRET, USER};
use tower::ServiceExt;

const SECRET: &str = "fuzz-better-auth-secret-0123456789-abcdef";
const URL: &str = "http://localhost:3000";

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let tasks_url = stub::start();
        let settings = edge::Settings::new(&tasks_url, INTERNAL_SECRET);
        let config =
            edge::Config::new(&AuthSettings::hs256(SECRET, URL), settings).expect("config");
        let _guard = todo_fuzz::runtime().enter();
        edge::router(edge::AppState::new(&config).expect("edge state"))
    })
}

const METHODS: [&str; 10] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "CONNECT", "FROB",
];

fn request(data: &[u8]) -> Option<Request<Body>> {
    let (&[method, flags], rest) = data.split_first_chunk::<2>()?;
    let mut parts = rest.splitn(3, |b| *b == 0xFF);
    let path = std::str::from_utf8(parts.next()?).ok()?;
    let path = path.replace("{me}", USER).replace("{other}", "bob");
    let headers = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default().to_vec();

    let method =
        Method::from_bytes(METHODS[usize::from(method) % METHODS.len()].as_bytes()).ok()?;
    let mut builder = Request::builder().method(method).uri(path);
    if flags & 1 != 0 {
        let token = sign(&claims(USER, URL));
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if flags & 2 != 0 {
        builder = builder.header("content-type", "application/json");
    }
    if flags & 4 != 0 {
        builder = builder.header("origin", URL);
    }
    for line in headers.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body)).ok()
}

fn sign(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("sign")
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = request(data) else {
        return;
    };
    // A HEAD answer has the headers of a GET and no body.
    let head = request.method() == Method::HEAD;
    let router = router().clone();
    let (status, content_type, body) = todo_fuzz::runtime().block_on(async move {
        let response = router
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, content_type, body)
    });
    assert!(
        status < 500,
        "answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    if status >= 400 {
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{status} is not problem+json"
        );
        if !head {
            let problem: Value = serde_json::from_slice(&body).expect("a problem+json body");
            assert_eq!(problem["status"], status, "problem status");
        }
    }
});
