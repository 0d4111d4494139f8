//! The edge's own settings; token settings are auth-core's
//! [`auth_core::AuthSettings`]. Field names are the environment variables,
//! lower-cased.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `EDGE_LISTEN_ADDR`.
    #[serde(default = "default_listen_addr")]
    pub edge_listen_addr: String,
    /// `TASKS_URL`: one URL, or several separated by commas.
    #[serde(default = "default_tasks_url")]
    pub tasks_url: String,
    /// `AUTH_VERIFY_URL`: when set, tokens are verified by auth-verify.
    pub auth_verify_url: Option<String>,
    /// `INTERNAL_AUTH_SECRET`: signs the credential tasks requires.
    pub internal_auth_secret: Option<SecretString>,
    /// `EDGE_UPSTREAM_TIMEOUT_MS`: the longest wait for tasks or auth-verify.
    #[serde(default = "default_upstream_timeout_ms")]
    pub edge_upstream_timeout_ms: u64,
    /// `EDGE_CONNECT_TIMEOUT_MS`: the longest wait for a connection upstream.
    #[serde(default = "default_connect_timeout_ms")]
    pub edge_connect_timeout_ms: u64,
    /// `EDGE_REQUEST_TIMEOUT_MS`: the longest any HTTP request may take.
    #[serde(default = "default_request_timeout_ms")]
    pub edge_request_timeout_ms: u64,
    /// `TASKS_RESOLVE_INTERVAL_MS`: how often the host names in `TASKS_URL`
    /// are resolved again and every address health-checked.
    #[serde(default = "default_resolve_interval_ms")]
    pub tasks_resolve_interval_ms: u64,
}

impl Settings {
    /// Defaults, pointing at the given tasks URL, with the given internal secret.
    pub fn new(tasks_url: &str, internal_auth_secret: &str) -> Self {
        Self {
            edge_listen_addr: default_listen_addr(),
            tasks_url: tasks_url.to_owned(),
            auth_verify_url: None,
            internal_auth_secret: Some(SecretString::from(internal_auth_secret.to_owned())),
            edge_upstream_timeout_ms: default_upstream_timeout_ms(),
            edge_connect_timeout_ms: default_connect_timeout_ms(),
            edge_request_timeout_ms: default_request_timeout_ms(),
            tasks_resolve_interval_ms: default_resolve_interval_ms(),
        }
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_millis(self.edge_upstream_timeout_ms)
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.edge_connect_timeout_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.edge_request_timeout_ms)
    }

    pub fn resolve_interval(&self) -> Duration {
        Duration::from_millis(self.tasks_resolve_interval_ms.max(1))
    }
}

fn default_listen_addr() -> String {
    "0.0.0.0:8080".to_owned()
}
fn default_tasks_url() -> String {
    "http://127.0.0.1:50052".to_owned()
}
fn default_upstream_timeout_ms() -> u64 {
    2_000
}
fn default_connect_timeout_ms() -> u64 {
    1_000
}
fn default_request_timeout_ms() -> u64 {
    10_000
}
fn default_resolve_interval_ms() -> u64 {
    5_000
}
