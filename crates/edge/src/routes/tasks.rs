//! `/api/{user_id}/tasks…`: the six task operations, each scoped to the
//! verified caller and forwarded to the tasks service. Each handler's span
//! records the caller's `user_id` (and the task id), never a body.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proto::tasks as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};
use auth_core::ProblemBody;

use crate::openapi::{AuthErrors, BodyErrors, NotFound, limits};

mod json;

// A list's tasks are written by `json`, byte for byte as serde_json
// writes this type (the doc comment below is the OpenAPI description).
/// A task as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Task)]
pub struct TaskView {
    /// The task's id, unique across users.
    id: i64,
    /// The owner: the token's `sub`.
    user_id: String,
    /// Trimmed, 1 to 200 characters.
    title: String,
    /// At most 1000 characters; `null` when there is none.
    description: Option<String>,
    completed: bool,
    /// RFC 3339.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    updated_at: String,
}

impl From<pb::Task> for TaskView {
    fn from(task: pb::Task) -> Self {
        Self {
            id: task.id,
            user_id: task.user_id,
            title: task.title,
            description: task.description,
            completed: task.completed,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

/// Which tasks a list shows.
#[derive(Debug, Deserialize, Default, Clone, Copy, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusParam {
    #[default]
    All,
    Pending,
    Completed,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `all` (the default), `pending` or `completed`.
    #[serde(default)]
    #[param(inline)]
    status: StatusParam,
    #[param(schema_with = limits::limit)]
    limit: Option<u32>,
    #[param(schema_with = limits::offset)]
    offset: Option<u64>,
}

/// A new task.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = NewTask)]
pub struct CreateBody {
    #[schema(schema_with = limits::title)]
    title: String,
    /// Absent or `null`: none.
    #[schema(schema_with = limits::description)]
    description: Option<String>,
}

/// A task's new content.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = TaskUpdate)]
pub struct UpdateBody {
    #[schema(schema_with = limits::title)]
    title: String,
    /// Replaces the description: absent or `null` clears it.
    #[schema(schema_with = limits::description)]
    description: Option<String>,
    /// Absent: left as it is.
    completed: Option<bool>,
}

/// `/api/{user_id}/tasks/{id}`: the user id is the caller's (checked by
/// [`Caller`]); a task id that is not a canonical decimal is 404.
type TaskPath = Path<(String, TaskId)>;

/// A task id as written in a path: canonical decimal only (`5`, never
/// `+5`, `05` or ` 5`, which Rust's integer parsing would take), so one task
/// has exactly one URL.
#[derive(Debug, Clone, Copy)]
pub struct TaskId(i64);

impl TaskId {
    fn parse(text: &str) -> Option<Self> {
        let canonical = match text.as_bytes() {
            [b'0'] => true,
            [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
            _ => false,
        };
        canonical.then(|| text.parse().ok().map(Self)).flatten()
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("not a task id"))
    }
}

#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks",
    operation_id = "listTasks",
    tag = "tasks",
    summary = "The caller's tasks, in creation order",
    security(("bearer" = [])),
    params(
        ("user_id" = String, Path, description = "The caller's user id: must equal the token's `sub`"),
        ListQuery
    ),
    responses(
        (status = 200, description = "The tasks", body = [TaskView]),
        AuthErrors, (status = 422, description = "`limit` over 1000 or `offset` too large", body = ProblemBody, content_type = "application/problem+json")
    ),
)]
#[tracing::instrument(name = "list tasks", skip_all, fields(user_id = %caller.0))]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let status = match query.status {
        StatusParam::All => pb::StatusFilter::All,
        StatusParam::Pending => pb::StatusFilter::Pending,
        StatusParam::Completed => pb::StatusFilter::Completed,
    };
    let request = pb::ListTasksRequest {
        status: status.into(),
        limit: query.limit.unwrap_or(0),
        offset: query.offset.unwrap_or(0),
    };
    let reply = state.tasks.list(&caller.0, request).await?;
    Ok(json::response(json::tasks(&reply.tasks)))
}

#[utoipa::path(
    post,
    path = "/api/{user_id}/tasks",
    operation_id = "createTask",
    tag = "tasks",
    summary = "Create a task",
    security(("bearer" = [])),
    params(
        ("user_id" = String, Path, description = "The caller's user id: must equal the token's `sub`")
    ),
    request_body(content = CreateBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The new task", body = TaskView, headers(("Location" = String, description = "The task's URL"))),
        AuthErrors, BodyErrors
    ),
)]
#[tracing::instrument(name = "create task", skip_all, fields(user_id = %caller.0))]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    Json(body): Json<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let request = pb::CreateTaskRequest {
        title: body.title,
        description: body.description,
    };
    let task = (state.tasks)
        .call(&caller.0, request, |mut c, r| async move {
            c.create_task(r).await
        })
        .await?;
    let mut headers = HeaderMap::new();
    let location = format!("/api/{}/tasks/{}", caller.0, task.id);
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(TaskView::from(task))))
}

#[utoipa::path(
    get,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "getTask",
    tag = "tasks",
    summary = "One task",
    security(("bearer" = [])),
    params(
        ("user_id" = String, Path, description = "The caller's user id: must equal the token's `sub`"),
        ("id" = i64, Path, description = "The task's id")
    ),
    responses(
        (status = 200, description = "The task", body = TaskView),
        AuthErrors, NotFound
    ),
)]
#[tracing::instrument(name = "get task", skip_all, fields(user_id = %caller.0, task_id = id))]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    Path((_, TaskId(id))): TaskPath,
) -> Result<Json<TaskView>, ApiError> {
    let request = pb::GetTaskRequest { id };
    let task = (state.tasks)
        .call(
            &caller.0,
            request,
            |mut c, r| async move { c.get_task(r).await },
        )
        .await?;
    Ok(Json(task.into()))
}

#[utoipa::path(
    put,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "updateTask",
    tag = "tasks",
    summary = "Replace a task's title and description (and its state, when given)",
    security(("bearer" = [])),
    params(
        ("user_id" = String, Path, description = "The caller's user id: must equal the token's `sub`"),
        ("id" = i64, Path, description = "The task's id")
    ),
    request_body(content = UpdateBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The task as stored", body = TaskView),
        AuthErrors, NotFound, BodyErrors
    ),
)]
#[tracing::instrument(name = "update task", skip_all, fields(user_id = %caller.0, task_id = id))]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Path((_, TaskId(id))): TaskPath,
    Json(body): Json<UpdateBody>,
) -> Result<Json<TaskView>, ApiError> {
    let request = pb::UpdateTaskRequest {
        id,
        title: body.title,
        description: body.description,
        completed: body.completed,
    };
    let task = (state.tasks)
        .call(&caller.0, request, |mut c, r| async move {
            c.update_task(r).await
        })
        .await?;
    Ok(Json(task.into()))
}

#[utoipa::path(
    delete,
    path = "/api/{user_id}/tasks/{id}",
    operation_id = "deleteTask",
    tag = "tasks",
    summary = "Delete a task",
    security(("bearer" = [])),
    params(
        ("user_id" = String, Path, description = "The caller's user id: must equal the token's `sub`"),
        ("id" = i64, Path, description = "The task's id")
    ),
    responses(
        (status = 204, description = "Deleted"),
        AuthErrors, NotFound
    ),
)]
#[tracing::instrument(name = "delete task", skip_all, fields(user_id = %caller.0, task_id = id))]
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    Path((_, TaskId(id))): TaskPath,
) -> Result<StatusCode, ApiError> {
    let request = pb::DeleteTaskRequest { id };
    (state.tasks)
        .call(&caller.0, request, |mut c, r| async move {
            c.delete_task(r).await
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    patch,
    path = "/api/{user_id}/tasks/{id}/complete",
    operation_id = "toggleTask",
    tag = "tasks",
    summary = "Flip a task's completed state",
    security(("bearer" = [])),
    params(
        ("user_id" = String, Path, description = "The caller's user id: must equal the token's `sub`"),
        ("id" = i64, Path, description = "The task's id")
    ),
    responses(
        (status = 200, description = "The task with `completed` flipped", body = TaskView),
        AuthErrors, NotFound
    ),
)]
#[tracing::instrument(name = "toggle task", skip_all, fields(user_id = %caller.0, task_id = id))]
pub async fn toggle(
    caller: Caller,
    State(state): State<AppState>,
    Path((_, TaskId(id))): TaskPath,
) -> Result<Json<TaskView>, ApiError> {
    let request = pb::ToggleCompleteRequest { id };
    let task = (state.tasks)
        .call(&caller.0, request, |mut c, r| async move {
            c.toggle_complete(r).await
        })
        .await?;
    Ok(Json(task.into()))
}

#[cfg(test)]
mod tests {
    use super::TaskId;

    #[test]
    fn task_ids_are_canonical_decimals() {
        for (text, id) in [("0", 0), ("5", 5), ("9223372036854775807", i64::MAX)] {
            assert_eq!(TaskId::parse(text).map(|t| t.0), Some(id), "{text}");
        }
        for text in [
            "+5",
            "05",
            "00",
            " 5",
            "5 ",
            "-5",
            "-0",
            "",
            "5a",
            "0x5",
            "9223372036854775808",
            "٥",
        ] {
            assert!(TaskId::parse(text).is_none(), "{text:?}");
        }
    }
}
