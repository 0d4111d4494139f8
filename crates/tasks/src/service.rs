//! The `todo.tasks.v1.Tasks` gRPC service: reads the verified caller from
//! the request extensions, calls the repository, and maps its errors to
//! exact status codes.

use proto::tasks::{
    self as pb, CreateTaskRequest, DeleteTaskRequest, DeleteTaskResponse, GetTaskRequest,
    ListTasksRequest, ListTasksResponse, ToggleCompleteRequest, UpdateTaskRequest,
    tasks_server::Tasks,
};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::auth::Caller;
use crate::metrics::query;
use crate::repo::{self, NewTask, Page, StatusFilter, Task, TaskError, TaskUpdate};

/// The service: a handle on the connection pool.
#[derive(Clone)]
pub struct TasksService {
    db: DatabaseConnection,
}

impl TasksService {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// Each method parses the request (a rule broken is INVALID_ARGUMENT before
/// anything is read), then calls the repository for the caller. Its span
/// records the caller's `user_id`, never the task's text.
#[tonic::async_trait]
impl Tasks for TasksService {
    #[tracing::instrument(skip_all, fields(user_id))]
    async fn list_tasks(
        &self,
        request: Request<ListTasksRequest>,
    ) -> Result<Response<ListTasksResponse>, Status> {
        let user = Caller::of(&request)?;
        let req = request.get_ref();
        let filter = status_filter(req.status)?;
        let page = Page::parse(req.limit, req.offset).map_err(to_status)?;
        let tasks = query("list", repo::list(user, &self.db, filter, page))
            .await
            .map_err(to_status)?;
        Ok(Response::new(ListTasksResponse {
            tasks: tasks.into_iter().map(to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(user_id))]
    async fn create_task(
        &self,
        request: Request<CreateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = Caller::of(&request)?;
        let req = request.get_ref();
        let new = NewTask::parse(&req.title, req.description.clone()).map_err(to_status)?;
        reply(query("create", repo::create(user, &self.db, new)).await)
    }

    #[tracing::instrument(skip_all, fields(user_id, task_id = request.get_ref().id))]
    async fn get_task(
        &self,
        request: Request<GetTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = Caller::of(&request)?;
        reply(query("get", repo::get(user, &self.db, request.get_ref().id)).await)
    }

    #[tracing::instrument(skip_all, fields(user_id, task_id = request.get_ref().id))]
    async fn update_task(
        &self,
        request: Request<UpdateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = Caller::of(&request)?;
        let req = request.get_ref();
        let changes = TaskUpdate::parse(&req.title, req.description.clone(), req.completed)
            .map_err(to_status)?;
        reply(query("update", repo::update(user, &self.db, req.id, changes)).await)
    }

    #[tracing::instrument(skip_all, fields(user_id, task_id = request.get_ref().id))]
    async fn delete_task(
        &self,
        request: Request<DeleteTaskRequest>,
    ) -> Result<Response<DeleteTaskResponse>, Status> {
        let user = Caller::of(&request)?;
        query("delete", repo::delete(user, &self.db, request.get_ref().id))
            .await
            .map_err(to_status)?;
        Ok(Response::new(DeleteTaskResponse {}))
    }

    #[tracing::instrument(skip_all, fields(user_id, task_id = request.get_ref().id))]
    async fn toggle_complete(
        &self,
        request: Request<ToggleCompleteRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = Caller::of(&request)?;
        reply(query("toggle", repo::toggle(user, &self.db, request.get_ref().id)).await)
    }
}

fn reply(result: Result<Task, TaskError>) -> Result<Response<pb::Task>, Status> {
    result
        .map(|task| Response::new(to_proto(task)))
        .map_err(to_status)
}

fn status_filter(value: i32) -> Result<StatusFilter, Status> {
    match pb::StatusFilter::try_from(value) {
        Ok(pb::StatusFilter::All) => Ok(StatusFilter::All),
        Ok(pb::StatusFilter::Pending) => Ok(StatusFilter::Pending),
        Ok(pb::StatusFilter::Completed) => Ok(StatusFilter::Completed),
        Err(_) => Err(Status::invalid_argument(format!(
            "unknown status filter {value}"
        ))),
    }
}

/// Each repository error as its gRPC status: NOT_FOUND (missing, or
/// another user's), INVALID_ARGUMENT (a rule broken, with the reason),
/// UNAVAILABLE when the database cannot be reached (stopped, restarting:
/// the edge answers 503), INTERNAL for any other database error. The cause
/// is logged here, inside the request's span, and never sent.
pub(crate) fn to_status(err: TaskError) -> Status {
    match err {
        TaskError::NotFound => Status::not_found("task not found"),
        TaskError::Invalid(reason) => Status::invalid_argument(reason),
        TaskError::Db(cause) if repo::is_outage(&cause) => {
            tracing::warn!(error = %cause, "database unavailable");
            Status::unavailable("database unavailable")
        }
        TaskError::Db(cause) => {
            tracing::error!(error = %cause, "database error");
            Status::internal("internal error")
        }
    }
}

fn to_proto(task: Task) -> pb::Task {
    pb::Task {
        id: task.id,
        user_id: task.user_id,
        title: task.title,
        description: task.description,
        completed: task.completed,
        created_at: task.created_at.rfc3339(),
        updated_at: task.updated_at.rfc3339(),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::DbErr;
    use tonic::Code;

    use super::*;

    #[test]
    fn errors_map_to_exact_codes_and_hide_database_causes() {
        let status = to_status(TaskError::NotFound);
        assert_eq!(
            (status.code(), status.message()),
            (Code::NotFound, "task not found")
        );
        let status = to_status(TaskError::Invalid("title must not be empty".into()));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "title must not be empty");
        let status = to_status(TaskError::Db(DbErr::Custom("relation secret_table".into())));
        assert_eq!(
            (status.code(), status.message()),
            (Code::Internal, "internal error")
        );
        let status = to_status(TaskError::Db(DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout,
        )));
        assert_eq!(
            (status.code(), status.message()),
            (Code::Unavailable, "database unavailable")
        );
    }

    #[test]
    fn unknown_status_filters_are_invalid() {
        assert_eq!(status_filter(2).ok(), Some(StatusFilter::Completed));
        assert_eq!(
            status_filter(7).expect_err("bad").code(),
            Code::InvalidArgument
        );
    }
}
