//! The task store: a tonic gRPC service over sea-orm (PostgreSQL, or an
//! embedded SQLite file by default). It trusts nothing but a caller that
//! presents a valid internal credential whose subject equals `x-user-id`.

mod admin;
mod auth;
mod db;
mod entity;
pub mod metrics;
pub mod repo;
mod server;
mod service;
mod settings;
#[cfg(feature = "test-support")]
pub mod testing;

pub use admin::Admin;
pub use auth::{Caller, InternalAuth};
pub use db::{MIGRATION_LOCK_KEY, connect, migrate};
pub use server::{run, serve, serve_admin};
pub use service::TasksService;
pub use settings::{Config, Settings};
