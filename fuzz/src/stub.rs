//! A stub tasks service for the edge target (with gRPC health, SERVING):
//! it answers every call with a task owned by the caller, and panics (a
//! fuzz finding) when a call arrives without a valid internal credential for
//! the `x-user-id` it names, or for anyone but the one user whose token the
//! target holds.

use auth_core::{InternalVerifier, UserId};
use proto::tasks as pb;
use proto::tasks::tasks_server::{Tasks, TasksServer};
use secrecy::SecretString;
use tonic::{Request, Response, Status};

/// The only user the edge target has a valid token for.
pub const USER: &str = "alice";

/// The internal secret shared by the edge and the stub.
pub const INTERNAL_SECRET: &str = "fuzz-internal-secret-0123456789-abcdef";

struct Stub {
    verifier: InternalVerifier,
}

impl Stub {
    /// The caller, after the checks the real tasks service makes.
    fn caller<T>(&self, request: &Request<T>) -> String {
        let metadata = request.metadata();
        let user = metadata
            .get(proto::USER_ID_METADATA)
            .and_then(|v| v.to_str().ok())
            .expect("a call without x-user-id reached tasks");
        let credential = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .expect("a call without an internal credential reached tasks");
        let verified = self
            .verifier
            .verify(credential)
            .expect("the edge sent an internal credential that does not verify");
        assert_eq!(
            verified,
            UserId::parse(user).expect("x-user-id"),
            "credential for another user"
        );
        assert_eq!(user, USER, "a call for another user reached tasks");
        user.to_owned()
    }
}

fn task(user: String, id: i64) -> pb::Task {
    pb::Task {
        id,
        user_id: user,
        title: "stub".to_owned(),
        description: None,
        completed: false,
        created_at: "2026-01-01T00:00:00Z".to_owned(),
        updated_at: "2026-01-01T00:00:00Z".to_owned(),
    }
}

/// Id 404 is a task that does not exist; the rest exist.
fn found(id: i64) -> Result<(), Status> {
    if id == 404 {
        Err(Status::not_found("no such task"))
    } else {
        Ok(())
    }
}

#[tonic::async_trait]
impl Tasks for Stub {
    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let user = self.caller(&request);
        Ok(Response::new(pb::ListTasksResponse {
            tasks: vec![task(user, 1)],
        }))
    }

    async fn create_task(
        &self,
        request: Request<pb::CreateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = self.caller(&request);
        if request.get_ref().title.trim().is_empty() {
            return Err(Status::invalid_argument("title: empty"));
        }
        Ok(Response::new(task(user, 1)))
    }

    async fn get_task(
        &self,
        request: Request<pb::GetTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = self.caller(&request);
        found(request.get_ref().id)?;
        Ok(Response::new(task(user, request.get_ref().id)))
    }

    async fn update_task(
        &self,
        request: Request<pb::UpdateTaskRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = self.caller(&request);
        found(request.get_ref().id)?;
        Ok(Response::new(task(user, request.get_ref().id)))
    }

    async fn delete_task(
        &self,
        request: Request<pb::DeleteTaskRequest>,
    ) -> Result<Response<pb::DeleteTaskResponse>, Status> {
        self.caller(&request);
        found(request.get_ref().id)?;
        Ok(Response::new(pb::DeleteTaskResponse {}))
    }

    async fn toggle_complete(
        &self,
        request: Request<pb::ToggleCompleteRequest>,
    ) -> Result<Response<pb::Task>, Status> {
        let user = self.caller(&request);
        found(request.get_ref().id)?;
        Ok(Response::new(task(user, request.get_ref().id)))
    }
}

/// Starts the stub on 127.0.0.1 (port 0) in the shared runtime; its URL.
pub fn start() -> String {
    let runtime = crate::runtime();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind the stub");
    let addr = listener.local_addr().expect("stub address");
    let secret = SecretString::from(INTERNAL_SECRET.to_owned());
    let stub = Stub {
        verifier: InternalVerifier::new(Some(&secret)).expect("internal verifier"),
    };
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    // Health says SERVING, as the real service's does: `/readyz` is 200.
    let (reporter, health) = tonic_health::server::health_reporter();
    runtime.block_on(reporter.set_serving::<TasksServer<Stub>>());
    runtime.spawn(
        tonic::transport::Server::builder()
            .add_service(health)
            .add_service(TasksServer::new(stub))
            .serve_with_incoming(incoming),
    );
    format!("http://{addr}")
}
