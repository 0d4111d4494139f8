//! Shared by the tasks tests: one check on a fresh database of each backend
//! (the database is dropped even when the check fails), and requests as the
//! edge sends them.

use std::future::Future;

use proto::USER_ID_METADATA;
use proto::tasks::tasks_client::TasksClient;
use sea_orm::DatabaseConnection;
use tasks::testing::{Backend, TEST_INTERNAL_SECRET, TestDatabase, TestServer, bearer};
use tonic::Request;
use tonic::transport::Channel;

pub const ALICE: &str = "alice";
pub const BOB: &str = "bob";

/// Runs `check` on a fresh, migrated database of `backend`.
pub async fn on<F, Fut>(backend: Backend, check: F) -> anyhow::Result<()>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDatabase::new(backend).await?;
    // A failed assertion panics inside the task, so cleanup still runs.
    let outcome = tokio::spawn(check(db.conn().clone())).await;
    db.cleanup().await?;
    if let Err(err) = outcome
        && err.is_panic()
    {
        std::panic::resume_unwind(err.into_panic());
    }
    Ok(())
}

/// One `#[tokio::test]` per backend for each named check:
/// `both_backends!(check)` makes `check::sqlite` and `check::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test]
            async fn sqlite() -> anyhow::Result<()> {
                $crate::common::on(tasks::testing::Backend::Sqlite, super::$check).await
            }

            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                $crate::common::on(tasks::testing::Backend::Postgres, super::$check).await
            }
        }
    )*};
}

pub async fn client(server: &TestServer) -> TasksClient<Channel> {
    TasksClient::connect(server.url()).await.expect("connect")
}

/// A request carrying the given `authorization` and `x-user-id` entries.
pub fn call<T>(message: T, authorization: Option<&str>, user: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(value) = authorization {
        let value = value.parse().expect("ascii");
        request.metadata_mut().insert("authorization", value);
    }
    if let Some(user) = user {
        request
            .metadata_mut()
            .insert(USER_ID_METADATA, user.parse().expect("ascii"));
    }
    request
}

/// A request as the edge sends it for `user`.
pub fn as_user<T>(message: T, user: &str) -> Request<T> {
    let credential = bearer(TEST_INTERNAL_SECRET, user).expect("mint");
    call(message, Some(&credential), Some(user))
}
