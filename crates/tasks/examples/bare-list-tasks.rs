//! A floor for `just bench-load` (group `floor`): the least code that
//! answers the list from PostgreSQL, to measure what the architecture costs
//! before anything of ours is added.
//!
//! - Default: a bare tonic server of `todo.tasks.v1.Tasks` (crates/proto)
//!   whose `ListTasks` runs the SELECT tasks sends (`repo/reads.rs`, LIST:
//!   the same text, so sqlx prepares it once per connection) for the user in
//!   `x-user-id` and returns `ListTasksResponse`; `bare-list-edge` calls it.
//!   The two are the two-hop floor.
//! - `--http`: the same SELECT answered straight as the edge's JSON array by
//!   a bare axum server on `GET /api/{user_id}/tasks`: the one-hop floor (what
//!   a single-process server such as the Node comparator does).
//!
//! Left out, because they are ours and not the architecture's: the internal
//! credential and its check, tracing, metrics, timeouts, the health and
//! reflection services, the status filter, `?limit`/`?offset` (the default
//! page only), the outage mapping (any error is INTERNAL or 500). Kept: a
//! pool of 10 connections (`TASKS_DB_MAX_CONNECTIONS`' default), TCP_NODELAY
//! as tasks sets it, timestamps written as RFC 3339 with microseconds (by
//! chrono, where tasks writes them digit by digit: the same text).
//!
//! `cargo run --release -p tasks --example bare-list-tasks -- DATABASE_URL [ADDR] [--http]`
//! prints the address it listens on once the pool is connected.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use proto::tasks::tasks_server::{Tasks, TasksServer};
use proto::tasks::{self as pb, ListTasksRequest, ListTasksResponse};
use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgPoolOptions;
use serde::Serialize;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// LIST of `crates/tasks/src/repo/reads.rs`, character for character.
const LIST: &str = "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks WHERE user_id = $1 ORDER BY id LIMIT $2 OFFSET $3";
/// `proto::limits::DEFAULT_LIMIT`: the page the edge asks for without `?limit`.
const PAGE: i64 = proto::limits::DEFAULT_LIMIT as i64;

type Row = (
    i64,
    String,
    String,
    Option<String>,
    bool,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// The user's first page, as the protobuf message tasks builds.
async fn rows(pool: &PgPool, user: &str) -> Result<Vec<pb::Task>, sea_orm::sqlx::Error> {
    let rows: Vec<Row> = sea_orm::sqlx::query_as(LIST)
        .bind(user)
        .bind(PAGE)
        .bind(0_i64)
        .fetch_all(pool)
        .await?;
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Micros, true);
    Ok(rows
        .into_iter()
        .map(
            |(id, user_id, title, description, completed, created, updated)| pb::Task {
                id,
                user_id,
                title,
                description,
                completed,
                created_at: time(created),
                updated_at: time(updated),
            },
        )
        .collect())
}

struct Floor(PgPool);

#[tonic::async_trait]
impl Tasks for Floor {
    async fn list_tasks(
        &self,
        request: Request<ListTasksRequest>,
    ) -> Result<Response<ListTasksResponse>, Status> {
        let user = request
            .metadata()
            .get(proto::USER_ID_METADATA)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("missing x-user-id"))?;
        let tasks = rows(&self.0, user)
            .await
            .map_err(|_| Status::internal("database error"))?;
        Ok(Response::new(ListTasksResponse { tasks }))
    }

    async fn create_task(
        &self,
        _: Request<pb::CreateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        Err(Status::unimplemented("the floor lists only"))
    }

    async fn get_task(&self, _: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        Err(Status::unimplemented("the floor lists only"))
    }

    async fn update_task(
        &self,
        _: Request<pb::UpdateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        Err(Status::unimplemented("the floor lists only"))
    }

    async fn delete_task(
        &self,
        _: Request<pb::DeleteTaskRequest>,
    ) -> Result<Response<pb::DeleteTaskResponse>, Status> {
        Err(Status::unimplemented("the floor lists only"))
    }

    async fn toggle_complete(
        &self,
        _: Request<pb::ToggleCompleteRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        Err(Status::unimplemented("the floor lists only"))
    }
}

/// A task as the edge's JSON shows it (its `TaskView`: same fields, same order).
#[derive(Serialize)]
struct View {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    created_at: String,
    updated_at: String,
}

/// The one-hop floor's handler: the rows straight into the JSON array.
async fn list_json(
    State(pool): State<PgPool>,
    Path(user): Path<String>,
) -> Result<Json<Vec<View>>, StatusCode> {
    let tasks = rows(&pool, &user)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let view = |t: pb::Task| View {
        id: t.id,
        user_id: t.user_id,
        title: t.title,
        description: t.description,
        completed: t.completed,
        created_at: t.created_at,
        updated_at: t.updated_at,
    };
    Ok(Json(tasks.into_iter().map(view).collect()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: DATABASE_URL [ADDR] [--http]"))?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let http = args.next().as_deref() == Some("--http");
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&url)
        .await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("{}", listener.local_addr()?);
    if http {
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let app = axum::Router::new()
            .route("/api/{user_id}/tasks", axum::routing::get(list_json))
            .with_state(pool);
        axum::serve(listener, app).await?;
    } else {
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        Server::builder()
            .add_service(TasksServer::new(Floor(pool)))
            .serve_with_incoming(incoming)
            .await?;
    }
    Ok(())
}
