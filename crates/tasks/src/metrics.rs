//! What tasks counts: its gRPC calls by method and code with their latency
//! ([`GRPC`], a layer on the server), each database query's latency by
//! operation, and the connection pool's connections in use and idle
//! (sampled at each scrape).

use std::future::Future;
use std::time::Instant;

use metrics::{Unit, describe_gauge, describe_histogram, gauge, histogram};
use sea_orm::DatabaseConnection;
use service_kit::grpc_metrics::GrpcMetrics;

pub const DB_QUERY_SECONDS: &str = "tasks_db_query_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "tasks_db_pool_connections";
pub const DB_POOL_MAX: &str = "tasks_db_pool_max_connections";

/// The server's call metrics: `tasks_grpc_requests_total{method, code}` and
/// `tasks_grpc_request_duration_seconds{method}`.
pub const GRPC: GrpcMetrics = GrpcMetrics {
    requests: "tasks_grpc_requests_total",
    seconds: "tasks_grpc_request_duration_seconds",
    methods: &[
        "todo.tasks.v1.Tasks/ListTasks",
        "todo.tasks.v1.Tasks/CreateTask",
        "todo.tasks.v1.Tasks/GetTask",
        "todo.tasks.v1.Tasks/UpdateTask",
        "todo.tasks.v1.Tasks/DeleteTask",
        "todo.tasks.v1.Tasks/ToggleComplete",
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/Watch",
    ],
};

/// Registers the help text of every tasks metric.
pub fn describe() {
    GRPC.describe();
    describe_histogram!(
        DB_QUERY_SECONDS,
        Unit::Seconds,
        "Time of one repository operation against the database (list, get, create, update, \
         delete, toggle), by operation"
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database pool connections by state: in_use (lent to a query) or idle"
    );
    describe_gauge!(
        DB_POOL_MAX,
        "The database pool's ceiling (TASKS_DB_MAX_CONNECTIONS; 1 for SQLite)"
    );
}

/// Runs one repository operation, timing it as `operation`.
pub async fn query<T>(operation: &'static str, run: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = run.await;
    histogram!(DB_QUERY_SECONDS, "operation" => operation).record(started.elapsed().as_secs_f64());
    result
}

/// Sets the pool gauges from the pool as it is now.
pub fn sample_pool(db: &DatabaseConnection) {
    let (size, idle, max) = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(size - idle));
    gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    gauge!(DB_POOL_MAX).set(f64::from(max));
}
