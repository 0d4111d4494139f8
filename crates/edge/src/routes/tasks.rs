//! `/api/{user_id}/tasks…`: the six task operations, each scoped to the
//! verified caller and forwarded to the tasks service.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use proto::tasks as pb;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

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

type TaskPath = Result<Path<(String, i64)>, PathRejection>;

fn task_id(path: TaskPath) -> Result<i64, ApiError> {
    Ok(path?.0.1)
}

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<TaskView>>, ApiError> {
    let Query(query) = query?;
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
    let reply = state
        .tasks
        .call(&caller.0.user_id, request, |mut c, r| async move {
            c.list_tasks(r).await
        })
        .await?;
    Ok(Json(reply.tasks.into_iter().map(TaskView::from).collect()))
}

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body?;
    let request = pb::CreateTaskRequest {
        title: body.title,
        description: body.description,
    };
    let user_id = caller.0.user_id;
    let task = state
        .tasks
        .call(&user_id, request, |mut c, r| async move {
            c.create_task(r).await
        })
        .await?;
    let mut headers = HeaderMap::new();
    let location = format!("/api/{}/tasks/{}", user_id, task.id);
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(TaskView::from(task))))
}

pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    path: TaskPath,
) -> Result<Json<TaskView>, ApiError> {
    let request = pb::GetTaskRequest { id: task_id(path)? };
    let task = state
        .tasks
        .call(&caller.0.user_id, request, |mut c, r| async move {
            c.get_task(r).await
        })
        .await?;
    Ok(Json(task.into()))
}

pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    path: TaskPath,
    body: Result<Json<UpdateBody>, JsonRejection>,
) -> Result<Json<TaskView>, ApiError> {
    let id = task_id(path)?;
    let Json(body) = body?;
    let request = pb::UpdateTaskRequest {
        id,
        title: body.title,
        description: body.description,
        completed: body.completed,
    };
    let task = state
        .tasks
        .call(&caller.0.user_id, request, |mut c, r| async move {
            c.update_task(r).await
        })
        .await?;
    Ok(Json(task.into()))
}

pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    path: TaskPath,
) -> Result<StatusCode, ApiError> {
    let request = pb::DeleteTaskRequest { id: task_id(path)? };
    state
        .tasks
        .call(&caller.0.user_id, request, |mut c, r| async move {
            c.delete_task(r).await
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn toggle(
    caller: Caller,
    State(state): State<AppState>,
    path: TaskPath,
) -> Result<Json<TaskView>, ApiError> {
    let request = pb::ToggleCompleteRequest { id: task_id(path)? };
    let task = state
        .tasks
        .call(&caller.0.user_id, request, |mut c, r| async move {
            c.toggle_complete(r).await
        })
        .await?;
    Ok(Json(task.into()))
}
