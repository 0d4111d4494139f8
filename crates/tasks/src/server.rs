//! Serving: the Tasks service behind [`InternalAuth`], plus gRPC health and
//! reflection, on an already-bound listener, until a shutdown future
//! resolves.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use auth_core::InternalVerifier;
use proto::limits::{MAX_REPLY_BYTES, MAX_REQUEST_BYTES};
use proto::tasks::tasks_server::{SERVICE_NAME, TasksServer};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::admin::Admin;
use crate::auth::InternalAuth;
use crate::service::TasksService;
use crate::{Config, connect, migrate};

/// A call that takes longer is cancelled with DEADLINE_EXCEEDED (clients may
/// ask for less with `grpc-timeout`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves on `listener` until `shutdown` resolves, then stops accepting and
/// lets calls in flight finish. Health reports [`SERVICE_NAME`]
/// (`todo.tasks.v1.Tasks`) and `""` as SERVING; health and reflection
/// (v1, for grpcurl) need no credential, Tasks always does.
pub async fn serve(
    db: DatabaseConnection,
    verifier: InternalVerifier,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status("", ServingStatus::Serving).await;
    health
        .set_service_status(SERVICE_NAME, ServingStatus::Serving)
        .await;

    // A full page of the largest tasks fits in a reply (see `proto::limits`).
    let tasks = TasksServer::new(TasksService::new(db))
        .max_decoding_message_size(MAX_REQUEST_BYTES)
        .max_encoding_message_size(MAX_REPLY_BYTES);
    let tasks = InterceptedService::new(tasks, InternalAuth::new(verifier));
    let reflection = proto::reflection(SERVICE_NAME).context("gRPC reflection")?;
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));

    crate::metrics::describe();
    Server::builder()
        .timeout(REQUEST_TIMEOUT)
        .layer(crate::metrics::GRPC)
        .trace_fn(service_kit::trace::grpc_span)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(tasks)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .context("the gRPC server failed")
}

/// Serves the admin endpoints (`GET /metrics`, the detailed `GET /readyz`)
/// for this database on an already-bound listener until `shutdown`; see
/// [`service_kit::admin`].
pub async fn serve_admin(
    db: DatabaseConnection,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    service_kit::admin::serve(Admin { db }, listener, shutdown).await
}

/// Start-up as the binary does it: connect, migrate, then [`serve`] on
/// `listener` (and the admin endpoints on `admin`, if any) until `shutdown`
/// resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    admin: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (url, max_connections) = config.database.prepare()?;
    let db = connect(&url, max_connections).await?;
    migrate(&db).await?;
    tracing::info!(
        addr = %listener.local_addr().context("listener has no address")?,
        backend = ?db.get_database_backend(),
        "tasks listening"
    );
    let _admin = service_kit::admin::spawn(Admin { db: db.clone() }, admin);
    let served = serve(db.clone(), config.verifier, listener, shutdown).await;
    if let Err(err) = db.close().await {
        tracing::warn!(error = %err, "could not close the database pool");
    }
    served
}
