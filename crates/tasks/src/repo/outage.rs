//! Telling a database that cannot be reached (stopped, restarting,
//! refusing connections) from any other database error: the first is
//! UNAVAILABLE, worth retrying later; the second is INTERNAL.

use sea_orm::sqlx::Error as SqlxError;
use sea_orm::{DbErr, RuntimeErr};

/// Whether `error` means the database is out of reach: no connection could
/// be had or kept, or the server said it is shutting down or starting up
/// (SQLSTATE classes 08 "connection exception" and 57P "operator
/// intervention").
pub fn is_outage(error: &DbErr) -> bool {
    let runtime = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(error) = runtime else {
        return false;
    };
    match error.as_ref() {
        SqlxError::Io(_)
        | SqlxError::Tls(_)
        | SqlxError::Protocol(_)
        | SqlxError::PoolTimedOut
        | SqlxError::PoolClosed
        | SqlxError::WorkerCrashed => true,
        SqlxError::Database(error) => error
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

    use super::*;

    fn sqlx(error: SqlxError) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
    }

    #[test]
    fn unreachable_databases_are_outages_and_other_errors_are_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for outage in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            sqlx(SqlxError::Io(refused)),
            sqlx(SqlxError::PoolTimedOut),
        ] {
            assert!(is_outage(&outage), "{outage:?}");
        }
        for other in [
            DbErr::Custom("relation secret_table".into()),
            DbErr::RecordNotFound("x".into()),
            sqlx(SqlxError::RowNotFound),
        ] {
            assert!(!is_outage(&other), "{other:?}");
        }
    }
}
