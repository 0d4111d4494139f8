//! The tasks service's settings: field names are the environment variables,
//! lower-cased, read through `service_kit::load_config`; defaults live here.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use auth_core::{InternalVerifier, SettingsError};
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the tasks service needs to start.
#[derive(Clone, Deserialize)]
pub struct Settings {
    /// `DATABASE_URL`: a PostgreSQL (or SQLite) URL; unset or empty means the
    /// embedded SQLite file at [`Settings::tasks_sqlite_path`].
    #[serde(default)]
    pub database_url: Option<String>,
    /// `TASKS_SQLITE_PATH`: the embedded database file (default `.data/tasks.db`).
    #[serde(default = "default_sqlite_path")]
    pub tasks_sqlite_path: PathBuf,
    /// `TASKS_LISTEN_ADDR` (default `0.0.0.0:50052`).
    #[serde(default = "default_listen_addr")]
    pub tasks_listen_addr: String,
    /// `INTERNAL_AUTH_SECRET`: verifies the edge's internal credentials.
    #[serde(default)]
    pub internal_auth_secret: Option<SecretString>,
    /// `TASKS_DB_MAX_CONNECTIONS`: PostgreSQL pool size (default 10); SQLite
    /// always uses one connection.
    #[serde(default = "default_max_connections")]
    pub tasks_db_max_connections: u32,
}

fn default_sqlite_path() -> PathBuf {
    PathBuf::from(".data/tasks.db")
}
fn default_listen_addr() -> String {
    "0.0.0.0:50052".to_owned()
}
fn default_max_connections() -> u32 {
    10
}

impl Settings {
    /// Settings with every default, the given database (None: embedded
    /// SQLite) and internal secret; for tests and embedding, no env needed.
    pub fn new(database_url: Option<String>, internal_auth_secret: &str) -> Self {
        Self {
            database_url,
            tasks_sqlite_path: default_sqlite_path(),
            tasks_listen_addr: default_listen_addr(),
            internal_auth_secret: Some(SecretString::from(internal_auth_secret.to_owned())),
            tasks_db_max_connections: default_max_connections(),
        }
    }

    /// The verifier for internal credentials, or the one-line reason the
    /// secret is refused (missing, or shorter than 32 bytes).
    pub fn verifier(&self) -> Result<InternalVerifier, SettingsError> {
        InternalVerifier::new(self.internal_auth_secret.as_ref())
    }

    /// The URL to connect to: `DATABASE_URL`, or the embedded SQLite file,
    /// whose parent directory is created here.
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = self.database_url.as_deref().map(str::trim)
            && !url.is_empty()
        {
            return Ok(url.to_owned());
        }
        let path = &self.tasks_sqlite_path;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        Ok(sqlite_file_url(path))
    }

    /// The pool size for `url`: one connection for SQLite.
    pub fn max_connections(&self, url: &str) -> u32 {
        if is_sqlite(url) {
            1
        } else {
            self.tasks_db_max_connections.max(1)
        }
    }
}

/// Whether `url` names a SQLite database.
pub(crate) fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// `sqlite://<path>?mode=rwc`: read-write, created when missing.
fn sqlite_file_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The database URL may carry a password: say only whether it is set.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url.as_ref().map(|_| "[set]"))
            .field("tasks_sqlite_path", &self.tasks_sqlite_path)
            .field("tasks_listen_addr", &self.tasks_listen_addr)
            .field("internal_auth_secret", &self.internal_auth_secret)
            .field("tasks_db_max_connections", &self.tasks_db_max_connections)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_database_url_means_the_sqlite_file() {
        let dir = std::env::temp_dir().join(format!("tasks-settings-{}", std::process::id()));
        let mut settings = Settings::new(Some("  ".to_owned()), "x");
        settings.tasks_sqlite_path = dir.join("sub/tasks.db");
        let url = settings.database_url().expect("url");
        assert_eq!(
            url,
            format!("sqlite://{}?mode=rwc", dir.join("sub/tasks.db").display())
        );
        assert!(dir.join("sub").is_dir());
        assert_eq!(settings.max_connections(&url), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn postgres_url_is_used_as_given_with_the_pool_size() {
        let settings = Settings::new(Some("postgres://u@h/db".to_owned()), "x");
        let url = settings.database_url().expect("url");
        assert_eq!(url, "postgres://u@h/db");
        assert_eq!(settings.max_connections(&url), 10);
    }

    #[test]
    fn debug_output_hides_the_database_url_and_secret() {
        let settings = Settings::new(Some("postgres://u:hunter2@h/db".to_owned()), "s3cr3t");
        let text = format!("{settings:?}");
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn a_short_secret_is_refused_with_a_one_line_reason() {
        let err = Settings::new(None, "short")
            .verifier()
            .err()
            .expect("refused");
        let text = err.to_string();
        assert!(text.contains("INTERNAL_AUTH_SECRET"));
        assert!(!text.contains('\n'));
    }
}
