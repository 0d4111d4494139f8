//! The migrations apply, roll back and re-apply on a fresh in-memory SQLite
//! database. (PostgreSQL is exercised by the tasks crate's tests, which own
//! the per-test database helper.)

use migrations::{Migrator, MigratorTrait, SchemaManager};
use sea_orm_migration::sea_orm::{ConnectOptions, Database, DatabaseConnection};

async fn memory_db() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options).await.expect("in-memory sqlite")
}

#[tokio::test]
async fn up_creates_the_table_and_index_and_down_removes_them() {
    let db = memory_db().await;
    Migrator::up(&db, None).await.expect("up");
    let manager = SchemaManager::new(&db);
    assert!(manager.has_table("tasks").await.expect("has_table"));
    assert!(
        manager
            .has_index("tasks", "idx_tasks_user_id_id")
            .await
            .expect("has_index")
    );
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .is_empty()
    );

    Migrator::down(&db, None).await.expect("down");
    assert!(!manager.has_table("tasks").await.expect("has_table"));

    Migrator::up(&db, None).await.expect("up again");
    assert!(manager.has_table("tasks").await.expect("has_table"));
}

#[tokio::test]
async fn up_twice_is_a_no_op() {
    let db = memory_db().await;
    Migrator::up(&db, None).await.expect("first up");
    Migrator::up(&db, None).await.expect("second up");
    assert_eq!(
        Migrator::get_applied_migrations(&db)
            .await
            .expect("applied")
            .len(),
        1
    );
}
