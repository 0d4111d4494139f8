//! Shared by the integration tests: run one check against a fresh database
//! on each backend, dropping the PostgreSQL database even when it fails.

#![allow(dead_code)]

use std::future::Future;

use sea_orm::DatabaseConnection;
use tasks::testing::{TestDatabase, test_database_url};

/// Runs `check` on a fresh, migrated in-memory SQLite database.
pub async fn on_sqlite<F, Fut>(check: F) -> anyhow::Result<()>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(TestDatabase::sqlite().await?, check).await
}

/// Runs `check` on a fresh, migrated PostgreSQL database, or skips when
/// `TEST_DATABASE_URL` is unset or `skip`.
pub async fn on_postgres<F, Fut>(check: F) -> anyhow::Result<()>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(admin_url) = test_database_url() else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return Ok(());
    };
    run(TestDatabase::postgres(&admin_url).await?, check).await
}

async fn run<F, Fut>(db: TestDatabase, check: F) -> anyhow::Result<()>
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
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
                $crate::common::on_sqlite(super::$check).await
            }

            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                $crate::common::on_postgres(super::$check).await
            }
        }
    )*};
}
