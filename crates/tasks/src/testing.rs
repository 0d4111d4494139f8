//! Test support (feature `test-support`): a fresh database per test, on
//! SQLite or PostgreSQL, and the service started in-process on port 0.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use tasks::testing::{TEST_INTERNAL_SECRET, TestDatabase, bearer, spawn};
//!
//! let db = TestDatabase::from_env().await?; // PostgreSQL if TEST_DATABASE_URL is set
//! let server = spawn(db.conn().clone(), TEST_INTERNAL_SECRET).await?;
//! let authorization = bearer(TEST_INTERNAL_SECRET, "alice")?;
//! // … call server.url() with `authorization` and `x-user-id: alice` …
//! server.shutdown().await?;
//! db.cleanup().await?;
//! # Ok(())
//! # }
//! ```

use std::net::SocketAddr;

use anyhow::Context;
use auth_core::{InternalSigner, InternalVerifier};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::{connect, migrate, serve};

/// An internal secret long enough to be accepted, for tests.
pub const TEST_INTERNAL_SECRET: &str = "tasks-test-internal-secret-0123456789";

/// `TEST_DATABASE_URL` (an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/test`), or None when it is unset,
/// empty or `skip`: PostgreSQL tests then skip themselves.
pub fn test_database_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty() && url != "skip")
}

/// A database that belongs to one test.
pub struct TestDatabase {
    db: DatabaseConnection,
    url: String,
    postgres: Option<Created>,
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
        })
    }

    /// A new database named `tasks_test_<uuid>`, created through
    /// `admin_url`, connected and migrated. Call [`TestDatabase::cleanup`].
    pub async fn postgres(admin_url: &str) -> anyhow::Result<Self> {
        let db = Self::postgres_unmigrated(admin_url).await?;
        migrate(&db.db).await?;
        Ok(db)
    }

    /// Like [`TestDatabase::postgres`], without running the migrations.
    pub async fn postgres_unmigrated(admin_url: &str) -> anyhow::Result<Self> {
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
            }),
            Err(err) => {
                let _ = drop_database(&postgres).await;
                Err(err)
            }
        }
    }

    /// PostgreSQL when `TEST_DATABASE_URL` is set, SQLite otherwise.
    pub async fn from_env() -> anyhow::Result<Self> {
        match test_database_url() {
            Some(admin_url) => Self::postgres(&admin_url).await,
            None => Self::sqlite().await,
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

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Closes the pool and drops the PostgreSQL database, if any.
    pub async fn cleanup(self) -> anyhow::Result<()> {
        self.db
            .close()
            .await
            .context("could not close the test pool")?;
        match &self.postgres {
            Some(created) => drop_database(created).await,
            None => Ok(()),
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
    let token = InternalSigner::new(Some(&secret))?.mint(user_id)?;
    Ok(format!("Bearer {token}"))
}

/// The service running in-process on `127.0.0.1:<random port>`.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    /// `http://127.0.0.1:<port>`, for `TasksClient::connect`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, waits for calls in flight, returns the server's result.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("the server task panicked")?
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `db` (already migrated) on port 0, accepting internal credentials
/// signed with `internal_secret`. The listener is bound before this
/// returns, so the address is usable at once.
pub async fn spawn(db: DatabaseConnection, internal_secret: &str) -> anyhow::Result<TestServer> {
    let secret = SecretString::from(internal_secret.to_owned());
    let verifier = InternalVerifier::new(Some(&secret))?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("could not bind port 0")?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(db, verifier, listener, async {
        let _ = stopped.await;
    }));
    Ok(TestServer {
        addr,
        stop: Some(stop),
        task,
    })
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
