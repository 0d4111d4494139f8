//! A floor for `just bench-load` (group `floor`): the least code that does
//! the edge's two hops for a list. A bare axum server answers
//! `GET /api/{user_id}/tasks` by calling `ListTasks` (crates/proto) with the
//! user id in `x-user-id` over one HTTP/2 channel to `bare-list-tasks`
//! (crates/tasks/examples), which runs tasks' SELECT through sqlx, and
//! writes the edge's JSON array.
//!
//! Left out, because they are ours and not the architecture's: the token
//! (no `Authorization` is read: anyone may list anyone's tasks), the
//! internal credential, every middleware (request id, CORS, timeouts,
//! metrics, header stripping, connection limits), tracing and the access
//! log, the balancer over replicas and its retry, `?status`/`?limit`/
//! `?offset` (the default page only), and problem+json errors (a failed
//! call is a bare 502). Kept: TCP_NODELAY on both sides, as the edge sets
//! it, and the reply limit the edge sets.
//!
//! `cargo run --release -p edge --example bare-list-edge -- TASKS_URL [ADDR]`
//! prints the address it listens on once the channel is connected.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::serve::ListenerExt;
use axum::{Json, Router, routing::get};
use proto::tasks::tasks_client::TasksClient;
use proto::tasks::{self as pb, ListTasksRequest};
use serde::Serialize;
use tonic::Request;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

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

impl From<pb::Task> for View {
    fn from(t: pb::Task) -> Self {
        Self {
            id: t.id,
            user_id: t.user_id,
            title: t.title,
            description: t.description,
            completed: t.completed,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

async fn list(
    State(mut tasks): State<TasksClient<Channel>>,
    Path(user): Path<String>,
) -> Result<Json<Vec<View>>, StatusCode> {
    let mut request = Request::new(ListTasksRequest::default());
    let user = MetadataValue::try_from(user).map_err(|_| StatusCode::BAD_REQUEST)?;
    request.metadata_mut().insert(proto::USER_ID_METADATA, user);
    let reply = tasks
        .list_tasks(request)
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    Ok(Json(
        reply
            .into_inner()
            .tasks
            .into_iter()
            .map(View::from)
            .collect(),
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: TASKS_URL [ADDR]"))?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let channel = Endpoint::from_shared(url)?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let tasks = TasksClient::new(channel).max_decoding_message_size(proto::limits::MAX_REPLY_BYTES);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("{}", listener.local_addr()?);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = Router::new()
        .route("/api/{user_id}/tasks", get(list))
        .with_state(tasks);
    axum::serve(listener, app).await?;
    Ok(())
}
