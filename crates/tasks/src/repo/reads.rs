//! The hot reads (a user's list, one task) as fixed SQL text, run through
//! sqlx on the pool sea-orm holds, each row read by position as it arrives:
//! no query built per call, no column looked up by name, no sea-orm
//! `QueryResult` in between and no per-column type re-check (the columns
//! are the migration's). The text is the same for every call, so sqlx
//! prepares it once per connection and reuses it (its statement cache);
//! `$N` parameters work on PostgreSQL and SQLite alike.
//!
//! Owner scoping by construction, as `Entity::secure_*` does for the other
//! statements: every text here filters on `user_id = $1`, and [`fetch`] is
//! the only way to run one, binding the [`UserId`] as `$1`.
//!
//! Each statement gets the span sea-orm's `tracing-spans` would give it
//! (same name, target and attributes), so a trace still goes down to the
//! SQL and, with no exporter, the span is switched off like sea-orm's own.

use auth_core::UserId;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::sqlite::SqliteRow;
use sea_orm::sqlx::{self, Row};
use sea_orm::{ConnAcquireErr, DatabaseBackend, DatabaseConnection, DbErr, RuntimeErr};
use tracing::Instrument;
use tracing::field::Empty;

use super::{Page, StatusFilter, Task, Timestamp};

/// The span of one statement, as sea-orm's `tracing-spans` opens it: its
/// name, its target (which `service_kit::telemetry` switches off when no
/// trace is exported) and the OpenTelemetry attributes, the text with its
/// placeholders but never the values.
macro_rules! statement_span {
    ($name:literal, $db:expr, $sql:expr) => {
        tracing::info_span!(
            target: "sea_orm::database::db_connection",
            $name,
            otel.kind = "client",
            db.system = system($db.get_database_backend()),
            db.operation = "SELECT",
            db.statement = $sql,
            otel.status_code = Empty,
            exception.message = Empty,
        )
    };
}

/// The columns of [`Task`], in the order [`postgres_task`] and
/// [`sqlite_task`] read them.
macro_rules! columns {
    () => {
        "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks"
    };
}

/// A page of the user's tasks (`$2` limit, `$3` offset), in creation order.
const LIST: &str = concat!(
    columns!(),
    " WHERE user_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
);
/// The same, only tasks whose completion state is `$4`.
const LIST_BY_STATE: &str = concat!(
    columns!(),
    " WHERE user_id = $1 AND completed = $4 ORDER BY id LIMIT $2 OFFSET $3"
);
/// Task `$2`, if the user owns it.
const GET: &str = concat!(columns!(), " WHERE user_id = $1 AND id = $2");

/// A value bound after the user id.
#[derive(Clone, Copy)]
enum Param {
    Int(i64),
    Bool(bool),
}

/// One page of the user's tasks, filtered.
pub async fn list(
    user: &UserId,
    db: &DatabaseConnection,
    filter: StatusFilter,
    page: Page,
) -> Result<Vec<Task>, DbErr> {
    // Page::parse bounds both far below i64::MAX.
    let limit = Param::Int(i64::try_from(page.limit()).unwrap_or(i64::MAX));
    let offset = Param::Int(i64::try_from(page.offset()).unwrap_or(i64::MAX));
    let params = [
        limit,
        offset,
        Param::Bool(filter == StatusFilter::Completed),
    ];
    let (sql, rest) = match filter {
        StatusFilter::All => (LIST, &params[..2]),
        StatusFilter::Pending | StatusFilter::Completed => (LIST_BY_STATE, &params[..]),
    };
    let span = statement_span!("sea_orm.query_all", db, sql);
    let rows = fetch(db, sql, user, rest, Many)
        .instrument(span.clone())
        .await;
    record(&span, &rows);
    rows
}

/// Task `id`, if the user owns it.
pub async fn get(user: &UserId, db: &DatabaseConnection, id: i64) -> Result<Option<Task>, DbErr> {
    let span = statement_span!("sea_orm.query_one", db, GET);
    let rows = fetch(db, GET, user, &[Param::Int(id)], One)
        .instrument(span.clone())
        .await;
    record(&span, &rows);
    Ok(rows?.pop())
}

/// How many rows a text may return.
#[derive(Clone, Copy)]
enum Rows {
    /// Every row.
    Many,
    /// At most one (by primary key).
    One,
}
use Rows::{Many, One};

/// Runs `sql` for `user`: the user id is `$1`, `rest` are `$2`, `$3`, ….
async fn fetch(
    db: &DatabaseConnection,
    sql: &'static str,
    user: &UserId,
    rest: &[Param],
    rows: Rows,
) -> Result<Vec<Task>, DbErr> {
    // Each backend's future is boxed, as sea-orm's are: sqlx's are large,
    // and unboxed they would be copied with every enclosing future's move.
    match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            Box::pin(fetch_postgres(pool, sql, user, rest, rows)).await
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            Box::pin(fetch_sqlite(pool, sql, user, rest, rows)).await
        }
        other => Err(DbErr::Custom(format!("{other:?} is not supported"))),
    }
}

/// The body of [`fetch`] on one backend, as sea-orm runs a statement: a
/// connection from the pool, then the query on it (fewer stream layers
/// than the pool's own `fetch_all`, each of which enters the caller's span
/// at every poll). A macro: sqlx's bounds for one function over both
/// databases would be longer than the body.
macro_rules! fetch_on {
    ($database:ty, $pool:expr, $sql:expr, $user:expr, $rest:expr, $rows:expr, $task:path) => {{
        let mut query = sqlx::query::<$database>($sql).bind($user.as_str());
        for param in $rest {
            query = match *param {
                Param::Int(value) => query.bind(value),
                Param::Bool(value) => query.bind(value),
            };
        }
        let mut conn = $pool.acquire().await.map_err(acquire_err)?;
        let fetched = match $rows {
            Many => query.fetch_all(&mut *conn).await,
            One => query.fetch_optional(&mut *conn).await.map(Vec::from_iter),
        };
        let fetched = fetched.map_err(query_err)?;
        fetched.into_iter().map($task).collect()
    }};
}

/// [`fetch`] on PostgreSQL.
async fn fetch_postgres(
    pool: &sqlx::PgPool,
    sql: &'static str,
    user: &UserId,
    rest: &[Param],
    rows: Rows,
) -> Result<Vec<Task>, DbErr> {
    fetch_on!(sqlx::Postgres, pool, sql, user, rest, rows, postgres_task)
}

/// [`fetch`] on SQLite.
async fn fetch_sqlite(
    pool: &sqlx::SqlitePool,
    sql: &'static str,
    user: &UserId,
    rest: &[Param],
    rows: Rows,
) -> Result<Vec<Task>, DbErr> {
    fetch_on!(sqlx::Sqlite, pool, sql, user, rest, rows, sqlite_task)
}

/// A PostgreSQL row of the texts above, by position, as sent (binary):
/// the timestamps are read as the integer they are, no calendar type built.
fn postgres_task(row: PgRow) -> Result<Task, DbErr> {
    postgres_row(&row).map_err(query_err)
}

fn postgres_row(row: &PgRow) -> Result<Task, sqlx::Error> {
    Ok(Task {
        id: row.try_get_unchecked(0)?,
        user_id: row.try_get_unchecked::<&str, _>(1)?.to_owned(),
        title: row.try_get_unchecked::<&str, _>(2)?.to_owned(),
        description: row
            .try_get_unchecked::<Option<&str>, _>(3)?
            .map(str::to_owned),
        completed: row.try_get_unchecked(4)?,
        created_at: postgres_timestamp(row, 5)?,
        updated_at: postgres_timestamp(row, 6)?,
    })
}

/// A `timestamptz` column: microseconds since 2000-01-01, as an `int8` is.
fn postgres_timestamp(row: &PgRow, index: usize) -> Result<Timestamp, sqlx::Error> {
    let micros = row.try_get_unchecked(index)?;
    Timestamp::from_postgres(micros).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: format!("timestamp out of range: {micros} µs after 2000-01-01").into(),
    })
}

/// A SQLite row of the texts above, by position. SQLite stores the
/// timestamps as text, which sqlx's chrono decoding reads in every form it
/// may have been written in.
fn sqlite_task(row: SqliteRow) -> Result<Task, DbErr> {
    sqlite_row(&row).map_err(query_err)
}

fn sqlite_row(row: &SqliteRow) -> Result<Task, sqlx::Error> {
    let timestamp = |index: usize| {
        row.try_get_unchecked::<chrono::DateTime<chrono::Utc>, _>(index)
            .map(Timestamp::from)
    };
    Ok(Task {
        id: row.try_get_unchecked(0)?,
        user_id: row.try_get_unchecked::<&str, _>(1)?.to_owned(),
        title: row.try_get_unchecked::<&str, _>(2)?.to_owned(),
        description: row
            .try_get_unchecked::<Option<&str>, _>(3)?
            .map(str::to_owned),
        completed: row.try_get_unchecked(4)?,
        created_at: timestamp(5)?,
        updated_at: timestamp(6)?,
    })
}

/// A pool that gives no connection, as sea-orm reports it.
fn acquire_err(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        error => DbErr::Conn(RuntimeErr::SqlxError(error.into())),
    }
}

/// A failed statement (or a row that does not decode), as sea-orm reports it.
fn query_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(error.into()))
}

fn system(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "postgresql",
        DatabaseBackend::Sqlite => "sqlite",
        DatabaseBackend::MySql => "mysql",
        _ => "other_sql",
    }
}

/// The outcome on the statement's span, as sea-orm records it.
fn record<T>(span: &tracing::Span, result: &Result<T, DbErr>) {
    match result {
        Ok(_) => {
            span.record("otel.status_code", "OK");
        }
        Err(error) => {
            span.record("otel.status_code", "ERROR");
            span.record("exception.message", tracing::field::display(error));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_scoped_to_the_user_bound_first() {
        for sql in [LIST, LIST_BY_STATE, GET] {
            assert!(sql.contains(" FROM tasks WHERE user_id = $1 "), "{sql}");
            assert_eq!(sql.matches("user_id =").count(), 1, "{sql}");
        }
    }
}
