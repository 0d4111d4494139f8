//! Connecting to the database and applying the schema at start-up, safely
//! when several replicas start at once.

use std::time::Duration;

use anyhow::Context;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    RuntimeErr,
};

use crate::settings::is_sqlite;

/// The `pg_advisory_lock` key every replica takes around its migrations
/// (the bytes of "tasksmig"); nothing else in the database may use it.
pub const MIGRATION_LOCK_KEY: i64 = 0x7461_736b_736d_6967;

/// How long start-up keeps trying to reach the database.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a call waits for a PostgreSQL pool connection. Well under the edge's
/// upstream timeout (2 s, twice with its one retry): while the database is
/// down, a call fails fast as UNAVAILABLE (the edge answers 503) instead of
/// waiting for the edge to give up (504).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

/// The pause between two start-up attempts to reach the database.
const CONNECT_RETRY: Duration = Duration::from_millis(250);

/// A connection pool of `max_connections` (at least 1) for `database_url`
/// (PostgreSQL or SQLite). SQLite gets exactly one connection that is never
/// recycled, so `sqlite::memory:` keeps its data for the life of the pool.
pub async fn connect(
    database_url: &str,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    anyhow::ensure!(max_connections >= 1, "a pool needs at least one connection");
    let mut options = ConnectOptions::new(database_url);
    options
        .connect_timeout(ACQUIRE_TIMEOUT)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .sqlx_logging(false);
    if is_sqlite(database_url) {
        // An embedded file is never "down": waiting for its one connection
        // is queueing, not an outage.
        options
            .connect_timeout(CONNECT_TIMEOUT)
            .acquire_timeout(CONNECT_TIMEOUT)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    } else {
        options.max_connections(max_connections);
    }
    // Start-up is patient (the database may be starting too); calls later
    // are not (ACQUIRE_TIMEOUT).
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        match Database::connect(options.clone()).await {
            Ok(db) => return Ok(db),
            // A TLS failure (`sslmode=require` and a server without TLS, a
            // certificate that does not verify) is the configuration's, not
            // a database still starting: said at once.
            Err(error) if is_tls(&error) => {
                return Err(error).context(
                    "could not connect to the database over TLS (see sslmode in DATABASE_URL)",
                );
            }
            Err(_) if tokio::time::Instant::now() + CONNECT_RETRY < deadline => {
                tokio::time::sleep(CONNECT_RETRY).await;
            }
            Err(error) => return Err(error).context("could not connect to the database"),
        }
    }
}

/// Whether connecting failed in TLS (sqlx's `Error::Tls`).
fn is_tls(error: &DbErr) -> bool {
    matches!(error, DbErr::Conn(RuntimeErr::SqlxError(error)) if matches!(**error, sea_orm::sqlx::Error::Tls(_)))
}

/// Applies pending migrations. On PostgreSQL they run under
/// `pg_advisory_lock(MIGRATION_LOCK_KEY)`, taken and released on one
/// dedicated connection, so replicas starting together migrate one at a time
/// and the others find nothing left to do. One span (`migrate`) holds the
/// statements' spans, so start-up is one trace rather than one per statement.
#[tracing::instrument(skip_all)]
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => migrate_postgres(db).await,
        _ => Migrator::up(db, None)
            .await
            .context("could not migrate the database"),
    }
}

async fn migrate_postgres(db: &DatabaseConnection) -> anyhow::Result<()> {
    // Session-level advisory locks belong to one server connection: lock,
    // migrate and unlock must all run on the same one, which a shared pool
    // does not promise. A separate pool capped at one connection that is
    // never recycled does.
    let options = db.get_postgres_connection_pool().connect_options();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with((*options).clone())
        .await
        .context("could not open the migration connection")?;
    let conn = DatabaseConnection::from(pool);

    let result = locked_up(&conn).await;
    // Closing the connection releases the lock even if unlocking failed.
    let closed = conn
        .close()
        .await
        .context("could not close the migration connection");
    result.and(closed)
}

async fn locked_up(conn: &DatabaseConnection) -> anyhow::Result<()> {
    advisory(conn, "pg_advisory_lock")
        .await
        .context("could not take the migration lock")?;
    let migrated = Migrator::up(conn, None)
        .await
        .context("could not migrate the database");
    let unlocked = advisory(conn, "pg_advisory_unlock")
        .await
        .context("could not release the migration lock");
    migrated.and(unlocked)
}

async fn advisory(conn: &DatabaseConnection, function: &str) -> Result<(), DbErr> {
    conn.execute_unprepared(&format!("SELECT {function}({MIGRATION_LOCK_KEY})"))
        .await
        .map(drop)
}
