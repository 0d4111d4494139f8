//! The edge: the only public API. It verifies the caller's Better Auth JWT
//! (through auth-core, or auth-verify in remote mode), checks that the path's
//! user id is the token's subject, and calls the tasks service over gRPC with
//! that user id and an internal credential.

mod access_log;
mod admin;
mod auth;
mod bare_errors;
mod connections;
mod error;
mod extract;
pub mod metrics;
pub mod openapi;
mod request_id;
mod routes;
pub mod settings;
mod upstream;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use proto::auth::auth_verify_client::AuthVerifyClient;
use tokio::net::TcpListener;
use tonic_health::pb::health_client::HealthClient;
use tower::util::{MapFutureLayer, MapRequestLayer, MapResponseLayer};
use tower_http::cors::CorsLayer;

pub use crate::auth::Authenticator;
pub use crate::error::ApiError;
pub use crate::settings::{Config, Settings};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every request shares, behind one `Arc`: axum clones the state for
/// each request, and one reference count is cheaper than cloning every
/// handle in it.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The handles and settings in an [`AppState`].
pub struct Shared {
    auth: Authenticator,
    tasks: upstream::TasksClient,
    /// auth-verify's health, in remote mode.
    verify_health: Option<HealthClient<tonic::transport::Channel>>,
    upstream_timeout: Duration,
    request_timeout: Duration,
    cors_origin: HeaderValue,
    connections: settings::Connections,
}

impl AppState {
    /// Starts what the configuration describes: the (lazy, balanced)
    /// upstream channels and, verifying in-process, the token verifier (in
    /// JWKS mode its key fetching). Needs a Tokio runtime.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        metrics::describe();
        let (authenticator, verify_health) = match &config.auth_verify_urls {
            Some(urls) => {
                let channel = upstream::channel(urls, config.connect_timeout);
                let client = AuthVerifyClient::new(channel.clone());
                let remote = Authenticator::Remote {
                    client,
                    timeout: config.verify_timeout(),
                };
                (remote, Some(HealthClient::new(channel)))
            }
            None => (Authenticator::Local(config.auth.verifier()?), None),
        };
        Ok(Self(Arc::new(Shared {
            auth: authenticator,
            tasks: upstream::TasksClient::new(config),
            verify_health,
            upstream_timeout: config.upstream_timeout,
            request_timeout: config.request_timeout,
            cors_origin: config.cors_origin.clone(),
            connections: config.connections.clone(),
        })))
    }
}

/// The whole HTTP API with its middleware.
pub fn router(state: AppState) -> Router {
    let (routes, document) = routes::api();
    let routes = routes
        .merge(openapi::routes(document))
        .fallback(|| async { ApiError::NotFound });
    with_middleware(routes, state)
}

/// `routes` behind the middleware every request of the API goes through:
/// body limit, identity-header stripping, timeout, problem bodies for
/// bare errors (405), CORS, metrics, the request span and access line,
/// request ids. (Public so that a test can put a probe route behind exactly
/// this stack.)
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(state.cors_origin.clone())
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::LOCATION, REQUEST_ID])
        .max_age(std::time::Duration::from_secs(600));
    let limit = state.request_timeout;

    // One `layer` call (axum boxes the route again for each), outermost
    // first; each a tower layer that wraps the inner call's future, none
    // cloning the service below it per request as axum's `from_fn` does.
    let stack = tower::ServiceBuilder::new()
        .layer(request_id::RequestIdLayer::new(REQUEST_ID))
        .layer(access_log::AccessLogLayer::new(REQUEST_ID))
        .layer(metrics::TrackLayer::default())
        .layer(cors)
        .layer(MapResponseLayer::new(bare_errors::problem_for_bare_errors))
        .layer(MapFutureLayer::new(move |answer| {
            request_timeout(limit, answer)
        }))
        .layer(MapRequestLayer::new(strip_identity_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    routes.layer(stack).with_state(state)
}

/// `EDGE_REQUEST_TIMEOUT_MS` for the whole request: one not done by then
/// (in practice, a body that arrives too slowly; upstream calls have their
/// own, shorter limit) is answered 408 as problem+json, and the connection
/// is closed (RFC 9110 §15.5.9).
async fn request_timeout(
    limit: Duration,
    answer: impl Future<Output = Result<Response, Infallible>>,
) -> Result<Response, Infallible> {
    Ok(match tokio::time::timeout(limit, answer).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) => {
            tracing::info!("request not received in time");
            let mut response = ApiError::RequestTimeout.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    })
}

/// Inbound headers that name a user or an internal caller: the edge decides
/// those itself, so whatever a client sends is dropped on arrival.
fn strip_identity_headers(mut request: Request) -> Request {
    for name in auth_core::IDENTITY_HEADERS {
        request.headers_mut().remove(name);
    }
    request
}

/// Serves the admin endpoints (`GET /metrics`, the detailed `GET /readyz`)
/// on an already-bound listener until `shutdown` resolves; see
/// [`service_kit::admin`].
pub async fn serve_admin(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    service_kit::admin::serve(state, listener, shutdown).await
}

/// Serves the API on an already-bound listener until `shutdown` resolves,
/// then drains in-flight requests; every connection is bounded by the
/// `EDGE_*` connection settings (see [`connections`]).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "edge listening");
    let limits = state.connections.clone();
    connections::serve(router(state), &limits, listener, shutdown).await
}
