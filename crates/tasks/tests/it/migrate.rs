//! Start-up migrations: the schema each backend gets, re-running them, and
//! several replicas migrating one fresh PostgreSQL database at once.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tasks::testing::{Backend, TestDatabase};

use crate::both_backends;
use crate::common;

async fn scalar<T: sea_orm::TryGetable>(db: &DatabaseConnection, sql: &str) -> T {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    db.query_one_raw(statement)
        .await
        .expect("query")
        .expect("one row")
        .try_get_by_index(0)
        .expect("column")
}

#[tokio::test]
async fn concurrent_start_up_on_a_fresh_postgres_database_migrates_once() -> anyhow::Result<()> {
    let fresh = TestDatabase::postgres_unmigrated().await?;
    // Three replicas, each with its own pool, starting together.
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(tasks::connect(fresh.url(), 2).await?);
    }
    let (a, b, c) = tokio::join!(
        tasks::migrate(&replicas[0]),
        tasks::migrate(&replicas[1]),
        tasks::migrate(&replicas[2]),
    );
    let outcome = (|| {
        a?;
        b?;
        c?;
        anyhow::Ok(())
    })();

    // One connection, so the lock and unlock below share a session.
    let db = tasks::connect(fresh.url(), 1).await?;
    replicas.push(db.clone());
    let check = tokio::spawn(async move {
        assert_eq!(
            scalar::<i64>(&db, "SELECT count(*) FROM seaql_migrations").await,
            1
        );
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .expect("pending")
                .is_empty()
        );
        // The lock was released: another session can take it at once.
        let key = tasks::MIGRATION_LOCK_KEY;
        assert!(scalar::<bool>(&db, &format!("SELECT pg_try_advisory_lock({key})")).await);
        assert!(scalar::<bool>(&db, &format!("SELECT pg_advisory_unlock({key})")).await);
    })
    .await;

    for replica in replicas {
        replica.close().await?;
    }
    fresh.cleanup().await?;
    outcome?;
    if let Err(err) = check {
        std::panic::resume_unwind(err.into_panic());
    }
    Ok(())
}

async fn postgres_schema_has_a_bigint_identity_and_the_user_index(db: DatabaseConnection) {
    let id_type: String = scalar(
        &db,
        "SELECT data_type || ' ' || is_identity FROM information_schema.columns \
         WHERE table_name = 'tasks' AND column_name = 'id'",
    )
    .await;
    assert_eq!(id_type, "bigint YES");
    let index: String = scalar(
        &db,
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_tasks_user_id_id'",
    )
    .await;
    assert!(index.contains("(user_id, id)"), "{index}");
    let default: String = scalar(
        &db,
        "SELECT column_default FROM information_schema.columns \
         WHERE table_name = 'tasks' AND column_name = 'completed'",
    )
    .await;
    assert_eq!(default, "false");
}

async fn sqlite_schema_has_an_autoincrement_key_and_the_user_index(db: DatabaseConnection) {
    let table: String = scalar(&db, "SELECT sql FROM sqlite_master WHERE name = 'tasks'").await;
    let table = table.to_lowercase();
    assert!(
        table.contains("\"id\" integer not null primary key autoincrement"),
        "{table}"
    );
    let index: String = scalar(
        &db,
        "SELECT sql FROM sqlite_master WHERE name = 'idx_tasks_user_id_id'",
    )
    .await;
    assert!(index.contains("\"user_id\", \"id\""), "{index}");
}

async fn migrations_roll_back_and_reapply(db: DatabaseConnection) {
    tasks::migrate(&db)
        .await
        .expect("a second migrate is a no-op");
    Migrator::down(&db, None).await.expect("down");
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .len(),
        1
    );
    tasks::migrate(&db).await.expect("up again");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .is_empty()
    );
}

#[tokio::test]
async fn postgres_schema() -> anyhow::Result<()> {
    common::on(
        Backend::Postgres,
        postgres_schema_has_a_bigint_identity_and_the_user_index,
    )
    .await
}

#[tokio::test]
async fn sqlite_schema() -> anyhow::Result<()> {
    common::on(
        Backend::Sqlite,
        sqlite_schema_has_an_autoincrement_key_and_the_user_index,
    )
    .await
}

both_backends!(migrations_roll_back_and_reapply);
