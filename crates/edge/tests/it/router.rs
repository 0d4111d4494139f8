//! The edge's middleware, seen from behind: a probe route wrapped in exactly
//! the middleware every API route gets reports the headers that reach a
//! handler.

use auth_core::AuthSettings;
use auth_core::testing::{TestServer, unused_addr};
use axum::Json;
use axum::http::HeaderMap;
use axum::routing::get;
use edge::{AppState, Config, Settings};
use tasks::testing::TEST_INTERNAL_SECRET;

use crate::common::{Client, SECRET, WEB_URL};

/// The names of the headers a handler receives.
async fn header_names(headers: HeaderMap) -> Json<Vec<String>> {
    Json(
        headers
            .keys()
            .map(|name| name.as_str().to_owned())
            .collect(),
    )
}

#[tokio::test]
async fn inbound_identity_headers_are_ignored() {
    let probe = axum::Router::new().route("/probe", get(header_names));
    let settings = Settings::new(&format!("http://{}", unused_addr()), TEST_INTERNAL_SECRET);
    let config = Config::new(&AuthSettings::hs256(SECRET, WEB_URL), settings).expect("settings");
    let state = AppState::new(&config).expect("state");
    let app = edge::with_middleware(probe, state);
    let server = TestServer::start(|listener, shutdown| async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    })
    .await
    .expect("serve");

    let seen = Client::new(&server.url(), "", None)
        .get("/probe")
        .header("x-user-id", "alice")
        .header("x-internal-auth", "Bearer forged")
        .header("x-forwarded-user", "alice")
        .header("x-unrelated", "kept")
        .expect(200)
        .await;
    let seen: Vec<String> = serde_json::from_value::<Vec<String>>(seen).expect("names");
    assert!(seen.iter().any(|name| name == "x-unrelated"), "{seen:?}");
    for stripped in ["x-user-id", "x-internal-auth", "x-forwarded-user"] {
        assert!(
            !seen.iter().any(|name| name == stripped),
            "{stripped} reached a handler: {seen:?}"
        );
    }
    server.shutdown().await.expect("shutdown");
}
