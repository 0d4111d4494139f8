//! The gRPC service over a real socket on port 0: who is let in, what a
//! proper caller can do, the exact status codes, and health.

use proto::tasks::tasks_client::TasksClient;
use proto::tasks::{
    CreateTaskRequest, DeleteTaskRequest, GetTaskRequest, ListTasksRequest, StatusFilter,
    ToggleCompleteRequest, UpdateTaskRequest,
};
use sea_orm::DatabaseConnection;
use tasks::testing::{TEST_INTERNAL_SECRET, TestDatabase, TestServer, bearer, spawn};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::both_backends;
use crate::common::{ALICE, BOB, as_user, call, client};

fn create(title: &str) -> CreateTaskRequest {
    CreateTaskRequest {
        title: title.to_owned(),
        description: None,
    }
}

fn list_all() -> ListTasksRequest {
    ListTasksRequest::default()
}

/// Starts the service on a fresh SQLite database; the database lives as
/// long as the server's pool.
async fn sqlite_server() -> TestServer {
    let db = TestDatabase::sqlite().await.expect("sqlite");
    spawn(db.conn().clone(), TEST_INTERNAL_SECRET)
        .await
        .expect("spawn")
}

async fn assert_nothing_stored(client: &mut TasksClient<Channel>, user: &str) {
    let tasks = client
        .list_tasks(as_user(list_all(), user))
        .await
        .expect("list");
    assert!(tasks.into_inner().tasks.is_empty());
}

#[tokio::test]
async fn user_id_without_a_credential_is_unauthenticated() {
    let server = sqlite_server().await;
    let mut client = client(&server).await;
    let status = client
        .create_task(call(create("sneaky"), None, Some(ALICE)))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "missing internal credential");
    assert_nothing_stored(&mut client, ALICE).await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_credential_for_another_user_is_unauthenticated() {
    let server = sqlite_server().await;
    let mut client = client(&server).await;
    let alices = bearer(TEST_INTERNAL_SECRET, ALICE).expect("mint");
    let status = client
        .create_task(call(create("as bob"), Some(&alices), Some(BOB)))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(
        status.message(),
        "x-user-id does not match the internal credential"
    );
    assert_nothing_stored(&mut client, BOB).await;
    assert_nothing_stored(&mut client, ALICE).await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_credential_signed_with_another_secret_is_unauthenticated() {
    let server = sqlite_server().await;
    let mut client = client(&server).await;
    let forged = bearer("another-secret-another-secret-0123456789", ALICE).expect("mint");
    let status = client
        .list_tasks(call(list_all(), Some(&forged), Some(ALICE)))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().starts_with("invalid internal credential"),
        "{}",
        status.message()
    );
    let token = forged.trim_start_matches("Bearer ");
    assert!(
        !status.message().contains(token),
        "the token is never echoed"
    );

    let status = client
        .list_tasks(call(list_all(), Some("Basic YWxpY2U6cHc="), Some(ALICE)))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn health_reports_serving_without_a_credential() {
    let server = sqlite_server().await;
    let channel = Channel::from_shared(server.url())
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut health = HealthClient::new(channel);
    for service in ["todo.tasks.v1.Tasks", ""] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("check")
            .into_inner();
        assert_eq!(reply.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "todo.nope.v1.Nope".to_owned(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound);
    server.shutdown().await.expect("shutdown");
}

/// Every rpc as a proper caller, and the status codes a caller can meet.
async fn a_proper_caller_manages_their_tasks(db: DatabaseConnection) {
    let server = spawn(db, TEST_INTERNAL_SECRET).await.expect("spawn");
    let mut client = client(&server).await;

    let request = CreateTaskRequest {
        title: "  Buy milk ".to_owned(),
        description: Some("2 litres".to_owned()),
    };
    let created = client
        .create_task(as_user(request, ALICE))
        .await
        .expect("create")
        .into_inner();
    assert_eq!(
        (created.user_id.as_str(), created.title.as_str()),
        (ALICE, "Buy milk")
    );
    assert_eq!(created.description.as_deref(), Some("2 litres"));
    assert!(!created.completed);
    assert!(created.created_at.ends_with('Z'), "{}", created.created_at);
    chrono::DateTime::parse_from_rfc3339(&created.updated_at).expect("RFC 3339");
    let other = client
        .create_task(as_user(create("Walk"), ALICE))
        .await
        .expect("create");
    let other = other.into_inner();

    let id = created.id;
    let toggled = client
        .toggle_complete(as_user(ToggleCompleteRequest { id }, ALICE))
        .await
        .expect("toggle")
        .into_inner();
    assert!(toggled.completed);

    let completed = ListTasksRequest {
        status: StatusFilter::Completed as i32,
        limit: 0,
        offset: 0,
    };
    let listed = client
        .list_tasks(as_user(completed, ALICE))
        .await
        .expect("list");
    let ids: Vec<i64> = listed.into_inner().tasks.iter().map(|t| t.id).collect();
    assert_eq!(ids, [id]);
    let listed = client
        .list_tasks(as_user(list_all(), ALICE))
        .await
        .expect("list");
    let ids: Vec<i64> = listed.into_inner().tasks.iter().map(|t| t.id).collect();
    assert_eq!(ids, [id, other.id]);

    let update = UpdateTaskRequest {
        id,
        title: "Buy oat milk".to_owned(),
        description: None,
        completed: None,
    };
    let updated = client
        .update_task(as_user(update, ALICE))
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.title, "Buy oat milk");
    assert_eq!(updated.description, None, "absent description clears it");
    assert!(updated.completed, "absent completed leaves it unchanged");

    // Bob cannot see, change or delete it: NOT_FOUND, as for a missing task.
    for status in [
        client
            .get_task(as_user(GetTaskRequest { id }, BOB))
            .await
            .expect_err("hidden"),
        client
            .toggle_complete(as_user(ToggleCompleteRequest { id }, BOB))
            .await
            .expect_err("hidden"),
        client
            .delete_task(as_user(DeleteTaskRequest { id }, BOB))
            .await
            .expect_err("hidden"),
        client
            .get_task(as_user(GetTaskRequest { id: 999_999 }, ALICE))
            .await
            .expect_err("missing"),
    ] {
        assert_eq!(
            (status.code(), status.message()),
            (Code::NotFound, "task not found")
        );
    }
    let fetched = client
        .get_task(as_user(GetTaskRequest { id }, ALICE))
        .await
        .expect("get");
    assert_eq!(
        fetched.into_inner(),
        updated,
        "Bob's attempts changed nothing"
    );

    let status = client
        .create_task(as_user(create("   "), ALICE))
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(status.message(), "title must not be empty");
    // An unknown status filter, a page over 1000.
    for (status, limit) in [(9, 0), (0, 1001)] {
        let invalid = ListTasksRequest {
            status,
            limit,
            offset: 0,
        };
        let refused = client
            .list_tasks(as_user(invalid, ALICE))
            .await
            .expect_err("invalid");
        assert_eq!(refused.code(), Code::InvalidArgument, "{status} {limit}");
    }

    client
        .delete_task(as_user(DeleteTaskRequest { id }, ALICE))
        .await
        .expect("delete");
    let status = client
        .get_task(as_user(GetTaskRequest { id }, ALICE))
        .await
        .expect_err("gone");
    assert_eq!(status.code(), Code::NotFound);
    let listed = client
        .list_tasks(as_user(list_all(), ALICE))
        .await
        .expect("list");
    assert_eq!(listed.into_inner().tasks, [other]);

    server.shutdown().await.expect("shutdown");
}

both_backends!(a_proper_caller_manages_their_tasks);

/// grpcurl's `list` and `describe` work with no credential at all, and
/// reflection lets nothing through: a Tasks call without one is still
/// UNAUTHENTICATED.
#[tokio::test]
async fn reflection_describes_without_a_credential_and_lets_no_call_through() {
    use proto::testing::{MessageRequest, MessageResponse, list_services, reflect};

    let server = sqlite_server().await;
    let services = list_services(&server.url()).await.expect("list");
    assert_eq!(
        services,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "todo.tasks.v1.Tasks"
        ]
    );
    let symbol = MessageRequest::FileContainingSymbol("todo.tasks.v1.Tasks".to_owned());
    match reflect(&server.url(), symbol).await.expect("describe") {
        MessageResponse::FileDescriptorResponse(files) => {
            assert!(!files.file_descriptor_proto.is_empty())
        }
        other => panic!("unexpected answer: {other:?}"),
    }

    let mut client = client(&server).await;
    let status = client
        .list_tasks(call(list_all(), None, Some(ALICE)))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated);
    server.shutdown().await.expect("shutdown");
}
