//! A floor for `just bench-load`: the least an axum server can do for a
//! refused request, answering every request with a fixed 401 problem+json
//! (no middleware, no token parsing). Prints the address it listens on.
//!
//! `cargo run --release -p edge --example bare-401 -- 127.0.0.1:0`

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

const BODY: &str = r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"the token is malformed"}"#;

async fn refuse() -> impl IntoResponse {
    (
        StatusCode::UNAUTHORIZED,
        [
            (
                header::WWW_AUTHENTICATE,
                r#"Bearer realm="todo", error="invalid_token""#,
            ),
            (header::CONTENT_TYPE, "application/problem+json"),
        ],
        BODY,
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("{}", listener.local_addr()?);
    axum::serve(listener, Router::new().fallback(refuse)).await?;
    Ok(())
}
