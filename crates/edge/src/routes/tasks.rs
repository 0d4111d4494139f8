//! `/api/{user_id}/tasks…`: the six task operations, each scoped to the
//! verified caller and forwarded to the tasks service. Each handler's span
//! records the caller's `user_id` (and the task id), never a body.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use proto::tasks as pb;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Json, Path, Query};

/// A task as the API shows it.
#[derive(Debug, Serialize)]
pub struct TaskView {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    created_at: String,
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

#[derive(Debug, Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum StatusParam {
    #[default]
    All,
    Pending,
    Completed,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: StatusParam,
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct CreateBody {
    title: String,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct UpdateBody {
    title: String,
    description: Option<String>,
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

#[tracing::instrument(name = "list tasks", skip_all, fields(user_id = %caller.0))]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<TaskView>>, ApiError> {
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
    let reply = (state.tasks)
        .call(&caller.0, request, |mut c, r| async move {
            c.list_tasks(r).await
        })
        .await?;
    Ok(Json(reply.tasks.into_iter().map(TaskView::from).collect()))
}

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
