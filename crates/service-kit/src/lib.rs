//! What every service binary shares: one entry point ([`main`] over a
//! [`Service`]), configuration loading and range checks, logs and traces,
//! trace propagation between services, the shutdown signal, and the
//! internal admin listener with the process's Prometheus metrics.

pub mod admin;
pub mod config;
pub mod grpc_metrics;
pub mod metrics;
mod service;
mod shutdown;
mod telemetry;
pub mod trace;

pub use admin::AdminState;
pub use config::{OutOfRange, Source, in_range, load_config, millis, settings, source_from};
pub use service::{EXIT_CONFIG, Listen, Service, Shutdown, listen_addr, main};
pub use shutdown::shutdown_signal;
pub use telemetry::{Telemetry, init_telemetry};
