//! The edge's gRPC upstreams, tasks and auth-verify: one balanced channel
//! per upstream, created once and shared, kept current by [`balance::Pool`]
//! (every address each URL resolves to, re-resolved and health-checked every
//! `TASKS_RESOLVE_INTERVAL_MS`).
//!
//! - [`tasks`]: the tasks client the handlers call ([`TasksClient`]);
//! - [`list`]: `ListTasks` with its reply's text read in place;
//! - [`credential`]: the internal credential, one per user and minute;
//! - [`retry`]: which failed calls are tried once more;
//! - [`health`]: one gRPC health check, for `/readyz`;
//! - [`auth_verify`]: the channel to auth-verify, in remote mode.

mod auth_verify;
pub mod balance;
mod credential;
mod health;
mod list;
mod retry;
mod tasks;

pub use auth_verify::channel;
pub use balance::{Options, Pool, Urls};
pub use health::health_check;
pub use list::Task as ListTask;
pub use tasks::TasksClient;
