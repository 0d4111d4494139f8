//! Test support (feature `test-support`): a fresh database per test, on
//! SQLite or PostgreSQL (`TEST_DATABASE_URL`; a PostgreSQL test without it
//! fails and says so), and the service started in-process on port 0 through
//! its real [`serve`] or [`run`].
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use tasks::testing::{Backend, TEST_INTERNAL_SECRET, TestDatabase, bearer, spawn};
//!
//! let db = TestDatabase::new(Backend::Postgres).await?;
//! let server = spawn(db.conn().clone(), TEST_INTERNAL_SECRET).await?;
//! let authorization = bearer(TEST_INTERNAL_SECRET, "alice")?;
//! // … call server.url() with `authorization` and `x-user-id: alice` …
//! server.shutdown().await?;
//! db.cleanup().await?;
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;

use anyhow::Context;
pub use auth_core::testing::TestServer;
use auth_core::{InternalSigner, InternalVerifier, UserId};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::{Settings, connect, migrate, run, serve};

/// An internal secret long enough to be accepted, for tests.
pub const TEST_INTERNAL_SECRET: &str = "tasks-test-internal-secret-0123456789";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a PostgreSQL test says when it cannot run: it fails, never passes
/// without having run.
const NO_POSTGRES: &str = "TEST_DATABASE_URL is not set to a postgres:// URL, so this PostgreSQL test cannot run. \
    Set it to an admin URL such as postgres://postgres@127.0.0.1:5432/test (`just test` does), \
    or run the SQLite tests only with `just test-sqlite`.";

/// `TEST_DATABASE_URL`: an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/test`, through which each test
/// creates (and drops) its own database.
///
/// # Panics
/// When it is unset or not a `postgres://` URL (the old `skip` included),
/// with a message that says what to do: a PostgreSQL test that did not run
/// must not report "ok".
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
        .unwrap_or_else(|| panic!("{NO_POSTGRES}"))
}

/// A database that belongs to one test.
pub struct TestDatabase {
    db: DatabaseConnection,
    url: String,
    postgres: Option<Created>,
    /// The SQLite file of [`TestDatabase::sqlite_file`], removed at the end.
    file: Option<PathBuf>,
}

/// A PostgreSQL database this helper created and must drop.
struct Created {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// `sqlite::memory:` on one connection, migrated.
    pub async fn sqlite() -> anyhow::Result<Self> {
        let url = "sqlite::memory:".to_owned();
        let db = connect(&url, 1).await?;
        migrate(&db).await?;
        Ok(Self {
            db,
            url,
            postgres: None,
            file: None,
        })
    }

    /// A SQLite file of its own in the temp directory (WAL mode, so that
    /// readers never block the writer), migrated: for tests in which
    /// several pools share one database, as separate processes would.
    pub async fn sqlite_file() -> anyhow::Result<Self> {
        let path =
            std::env::temp_dir().join(format!("tasks_test_{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Self {
            db: connect(&url, 1).await?,
            url,
            postgres: None,
            file: Some(path),
        };
        // The journal mode is stored in the file: every later pool uses it.
        db.db
            .execute_unprepared("PRAGMA journal_mode = WAL")
            .await
            .context("could not switch the test database to WAL")?;
        migrate(&db.db).await?;
        Ok(db)
    }

    /// A fresh, migrated database on `backend`.
    pub async fn new(backend: Backend) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A new database named `tasks_test_<uuid>`, created through
    /// [`postgres_admin_url`], connected and migrated. Dropped by
    /// [`TestDatabase::cleanup`], or when this value is dropped.
    pub async fn postgres() -> anyhow::Result<Self> {
        let db = Self::postgres_unmigrated().await?;
        migrate(&db.db).await?;
        Ok(db)
    }

    /// Like [`TestDatabase::postgres`], without running the migrations.
    pub async fn postgres_unmigrated() -> anyhow::Result<Self> {
        let admin_url = &postgres_admin_url();
        let name = format!("tasks_test_{}", uuid::Uuid::new_v4().simple());
        admin(admin_url, &format!("CREATE DATABASE \"{name}\""))
            .await
            .with_context(|| format!("could not create test database {name}"))?;
        let url = with_database(admin_url, &name)?;
        let postgres = Created {
            admin_url: admin_url.to_owned(),
            name,
        };
        match connect(&url, 5).await {
            Ok(db) => Ok(Self {
                db,
                url,
                postgres: Some(postgres),
                file: None,
            }),
            Err(err) => {
                let _ = drop_database(&postgres).await;
                Err(err)
            }
        }
    }

    /// The pool (clone it to hand it to [`spawn`]).
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The database's own URL (for a second pool, e.g. another replica).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the pool and drops the PostgreSQL database (or removes the
    /// SQLite file), if any.
    pub async fn cleanup(mut self) -> anyhow::Result<()> {
        self.db
            .close_by_ref()
            .await
            .context("could not close the test pool")?;
        remove_file(self.file.take());
        match self.postgres.take() {
            Some(created) => drop_database(&created).await,
            None => Ok(()),
        }
    }
}

/// A test that failed before [`TestDatabase::cleanup`] still drops its
/// PostgreSQL database (on a thread of its own: `Drop` cannot await).
impl Drop for TestDatabase {
    fn drop(&mut self) {
        remove_file(self.file.take());
        let Some(created) = self.postgres.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(drop_database(&created))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop a test database");
        }
    }
}

/// Removes a SQLite test file and its WAL companions.
fn remove_file(path: Option<PathBuf>) {
    if let Some(path) = path {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

async fn drop_database(created: &Created) -> anyhow::Result<()> {
    let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", created.name);
    admin(&created.admin_url, &sql)
        .await
        .with_context(|| format!("could not drop test database {}", created.name))
}

/// Runs one statement on a short-lived admin connection.
async fn admin(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let db = connect(admin_url, 1).await?;
    let result = db.execute_unprepared(sql).await;
    db.close().await?;
    result?;
    Ok(())
}

/// `admin_url` with its database name replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority = base.find("://").context("TEST_DATABASE_URL is not a URL")? + 3;
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut url = format!("{}/{name}", &base[..path]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// `Bearer <internal credential>` for `user_id`, as the edge sends it.
pub fn bearer(internal_secret: &str, user_id: &str) -> anyhow::Result<String> {
    let secret = SecretString::from(internal_secret.to_owned());
    let token = InternalSigner::new(Some(&secret))?.mint(&UserId::parse(user_id)?)?;
    Ok(format!("Bearer {token}"))
}

/// Serves `db` (already migrated) through [`serve`] on port 0, accepting
/// internal credentials signed with `internal_secret`.
pub async fn spawn(db: DatabaseConnection, internal_secret: &str) -> anyhow::Result<TestServer> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("could not bind port 0")?;
    spawn_on(listener, db, internal_secret)
}

/// Like [`spawn`], on a listener the caller bound (e.g. to start a replica
/// again on the address it had).
pub fn spawn_on(
    listener: TcpListener,
    db: DatabaseConnection,
    internal_secret: &str,
) -> anyhow::Result<TestServer> {
    let secret = SecretString::from(internal_secret.to_owned());
    let verifier = InternalVerifier::new(Some(&secret))?;
    TestServer::start_on(listener, |listener, shutdown| {
        serve(db, verifier, listener, shutdown)
    })
}

/// The service as the binary starts it: [`run`] with these settings (check
/// the secret, connect, migrate, serve), on port 0.
pub async fn start(settings: Settings) -> anyhow::Result<TestServer> {
    let config = settings.validate()?;
    TestServer::start(|listener, shutdown| run(config, listener, None, shutdown)).await
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_or_added() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/t1",
            ),
            (
                "postgres://u:p@h/test?sslmode=disable",
                "postgres://u:p@h/t1?sslmode=disable",
            ),
            ("postgres://u@h:5432", "postgres://u@h:5432/t1"),
        ];
        for (admin, expected) in cases {
            assert_eq!(with_database(admin, "t1").ok().as_deref(), Some(expected));
        }
    }
}
