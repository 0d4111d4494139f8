//! The tasks service's settings: [`Settings`] as read (field names are the
//! environment variables, lower-cased; defaults stated once, in
//! [`Default`]), and [`Config`], the same checked once at start-up: the
//! internal secret turned into its verifier, the pool size in range.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use anyhow::Context;
use auth_core::InternalVerifier;
use secrecy::SecretString;
use serde::Deserialize;
use service_kit::{Listen, Service, Shutdown, Source, in_range};
use tokio::net::TcpListener;

/// `TASKS_DB_MAX_CONNECTIONS`.
const MAX_CONNECTIONS: RangeInclusive<u64> = 1..=1_000;

/// Everything the tasks service reads, as read (`TASKS_LISTEN_ADDR` is read
/// by [`service_kit`]).
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `DATABASE_URL`: a PostgreSQL (or SQLite) URL; unset or empty means the
    /// embedded SQLite file at [`Settings::tasks_sqlite_path`].
    pub database_url: Option<String>,
    /// `TASKS_SQLITE_PATH`: the embedded database file.
    pub tasks_sqlite_path: PathBuf,
    /// `INTERNAL_AUTH_SECRET`: verifies the edge's internal credentials.
    pub internal_auth_secret: Option<SecretString>,
    /// `TASKS_DB_MAX_CONNECTIONS`: PostgreSQL pool size; SQLite always uses
    /// one connection.
    pub tasks_db_max_connections: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: None,
            tasks_sqlite_path: PathBuf::from(".data/tasks.db"),
            internal_auth_secret: None,
            tasks_db_max_connections: 10,
        }
    }
}

impl Settings {
    /// Settings with every default, the given database (None: embedded
    /// SQLite) and internal secret; for tests and embedding, no env needed.
    pub fn new(database_url: Option<String>, internal_auth_secret: &str) -> Self {
        Self {
            database_url,
            internal_auth_secret: Some(SecretString::from(internal_auth_secret.to_owned())),
            ..Self::default()
        }
    }

    /// Checks every setting, or says the one to fix: the internal secret
    /// (set, at least 32 bytes), the pool size (1 to 1000).
    pub fn validate(self) -> anyhow::Result<Config> {
        let verifier = InternalVerifier::new(self.internal_auth_secret.as_ref())?;
        in_range(
            "TASKS_DB_MAX_CONNECTIONS",
            u64::from(self.tasks_db_max_connections),
            MAX_CONNECTIONS,
            "",
        )?;
        let database = match self.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() && is_sqlite(url) => Database::Url {
                url: url.to_owned(),
                max_connections: 1,
            },
            Some(url) if !url.is_empty() => Database::Url {
                url: url.to_owned(),
                max_connections: self.tasks_db_max_connections,
            },
            _ => Database::SqliteFile(self.tasks_sqlite_path),
        };
        Ok(Config { database, verifier })
    }
}

/// The tasks service's validated configuration.
pub struct Config {
    pub(crate) database: Database,
    pub(crate) verifier: InternalVerifier,
}

/// Where the tasks are kept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Database {
    /// `DATABASE_URL`, with its pool size (one connection for SQLite).
    Url { url: String, max_connections: u32 },
    /// The embedded SQLite file (`TASKS_SQLITE_PATH`).
    SqliteFile(PathBuf),
}

impl Database {
    /// The URL to connect to and the pool size. For the embedded file, its
    /// parent directory is created here.
    pub(crate) fn prepare(&self) -> anyhow::Result<(String, u32)> {
        match self {
            Self::Url {
                url,
                max_connections,
            } => Ok((url.clone(), *max_connections)),
            Self::SqliteFile(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("could not create {}", parent.display()))?;
                }
                Ok((sqlite_file_url(path), 1))
            }
        }
    }
}

impl Service for Config {
    const NAME: &'static str = "tasks";
    const LISTEN: Listen = Listen {
        var: "TASKS_LISTEN_ADDR",
        default: "0.0.0.0:50052",
    };
    const ADMIN_LISTEN: &'static str = "TASKS_ADMIN_LISTEN_ADDR";

    fn load(source: &Source) -> anyhow::Result<Self> {
        service_kit::settings::<Settings>(source)?.validate()
    }

    async fn run(
        self,
        listener: TcpListener,
        admin: Option<TcpListener>,
        shutdown: Shutdown,
    ) -> anyhow::Result<()> {
        crate::run(self, listener, admin, shutdown).await
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
            .field("internal_auth_secret", &self.internal_auth_secret)
            .field("tasks_db_max_connections", &self.tasks_db_max_connections)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "tasks-settings-test-secret-0123456789";

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut all = vec![("INTERNAL_AUTH_SECRET", SECRET)];
        all.extend_from_slice(vars);
        Config::load(&service_kit::source_from(all))
    }

    fn refusal(vars: &[(&str, &str)]) -> String {
        format!("{:#}", load(vars).err().expect("refused"))
    }

    #[test]
    fn unset_or_blank_database_url_means_the_sqlite_file() {
        let dir = std::env::temp_dir().join(format!("tasks-settings-{}", std::process::id()));
        let mut settings = Settings::new(Some("  ".to_owned()), SECRET);
        settings.tasks_sqlite_path = dir.join("sub/tasks.db");
        let config = settings.validate().expect("valid");
        let (url, max_connections) = config.database.prepare().expect("url");
        assert_eq!(
            url,
            format!("sqlite://{}?mode=rwc", dir.join("sub/tasks.db").display())
        );
        assert!(dir.join("sub").is_dir());
        assert_eq!(max_connections, 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn postgres_url_is_used_as_given_with_the_pool_size() {
        let config = load(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TASKS_DB_MAX_CONNECTIONS", "7"),
        ])
        .expect("valid");
        assert_eq!(
            config.database,
            Database::Url {
                url: "postgres://u@h/db".to_owned(),
                max_connections: 7
            }
        );
    }

    #[test]
    fn a_pool_size_out_of_range_is_refused_not_clamped() {
        assert_eq!(
            refusal(&[("TASKS_DB_MAX_CONNECTIONS", "0")]),
            "TASKS_DB_MAX_CONNECTIONS is 0: set it to a whole number from 1 to 1000"
        );
        assert!(refusal(&[("TASKS_DB_MAX_CONNECTIONS", "1001")]).contains("from 1 to 1000"));
        assert!(
            refusal(&[("TASKS_DB_MAX_CONNECTIONS", "many")])
                .starts_with("TASKS_DB_MAX_CONNECTIONS is ")
        );
    }

    #[test]
    fn debug_output_hides_the_database_url_and_secret() {
        let settings = Settings::new(Some("postgres://u:hunter2@h/db".to_owned()), "s3cr3t");
        let text = format!("{settings:?}");
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn a_missing_or_short_secret_is_refused_with_a_one_line_reason() {
        let text = format!(
            "{:#}",
            Settings::new(None, "short")
                .validate()
                .err()
                .expect("refused")
        );
        assert!(
            text.contains("INTERNAL_AUTH_SECRET is only 5 bytes"),
            "{text}"
        );
        assert!(!text.contains('\n'));
        let text = format!(
            "{:#}",
            Config::load(&service_kit::source_from([]))
                .err()
                .expect("refused")
        );
        assert!(text.contains("INTERNAL_AUTH_SECRET is not set"), "{text}");
    }
}
