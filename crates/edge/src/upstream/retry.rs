//! Which failed upstream calls are tried once more, on another replica: a
//! call that could not connect (it never left the edge) always; an
//! idempotent one also after a failure in transit or an UNAVAILABLE answer;
//! none once the deadline has passed. And the HTTP error for the failure
//! that ends a call.

use std::error::Error as _;

use crate::error::{ApiError, TASKS};

/// Attempts per call: the first, and one retry on another replica.
pub const MAX_ATTEMPTS: u32 = 2;

/// Whether a request may be sent again after a failure in transit, when the
/// first attempt may have reached a replica; and the RPC it is for (the
/// `operation` label of the upstream metrics).
pub trait Idempotent {
    const IDEMPOTENT: bool;
    const OPERATION: &'static str;
}

/// What a failed call's status says about where it failed.
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    /// No connection could be made: the request never left the edge.
    never_sent: bool,
    /// The status was made by the client from a transport error, not sent
    /// by the upstream (a status from the upstream has no source).
    in_transit: bool,
    /// The client's own deadline passed.
    timed_out: bool,
}

impl Failure {
    pub fn of(status: &tonic::Status) -> Self {
        let mut failure = Self {
            never_sent: false,
            in_transit: status.source().is_some(),
            timed_out: false,
        };
        let mut source = status.source();
        while let Some(error) = source {
            failure.never_sent |= error.is::<tonic::ConnectError>();
            failure.timed_out |= error.is::<tonic::TimeoutExpired>();
            source = error.source();
        }
        failure
    }

    /// Whether the call may be tried again: always when it never left the
    /// edge, and for idempotent requests when it failed in transit or the
    /// upstream answered UNAVAILABLE. Never once the deadline has passed.
    pub fn retryable(self, code: tonic::Code, idempotent: bool) -> bool {
        if self.timed_out {
            return false;
        }
        self.never_sent || (idempotent && (self.in_transit || code == tonic::Code::Unavailable))
    }
}

/// The HTTP error for a failed call: a transport failure is 503 whatever
/// gRPC code the client gave it; statuses the upstream sent map as usual.
pub fn api_error(status: tonic::Status) -> ApiError {
    let failure = Failure::of(&status);
    if failure.in_transit && !failure.timed_out {
        return ApiError::Unavailable(TASKS, status.message().to_owned());
    }
    status.into()
}

#[cfg(test)]
mod tests {
    use tonic::{Code, Status};

    use super::{Failure, api_error};
    use crate::error::ApiError;

    fn refused() -> Status {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        Status::from_error(Box::new(tonic::ConnectError(Box::new(io))))
    }

    #[test]
    fn a_connect_error_is_retried_even_for_writes() {
        let status = refused();
        assert_eq!(status.code(), Code::Unavailable);
        let failure = Failure::of(&status);
        assert!(failure.retryable(status.code(), false));
        assert!(failure.retryable(status.code(), true));
        assert!(matches!(api_error(status), ApiError::Unavailable(..)));
    }

    #[test]
    fn a_failure_in_transit_is_retried_for_reads_only() {
        let broken = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let status = Status::from_error(Box::new(broken));
        let failure = Failure::of(&status);
        assert!(failure.retryable(status.code(), true));
        assert!(!failure.retryable(status.code(), false));
        assert!(matches!(api_error(status), ApiError::Unavailable(..)));
    }

    #[test]
    fn answers_from_tasks_are_retried_only_when_unavailable_and_idempotent() {
        let unavailable = Status::unavailable("database down");
        let failure = Failure::of(&unavailable);
        assert!(failure.retryable(Code::Unavailable, true));
        assert!(!failure.retryable(Code::Unavailable, false));
        for status in [Status::not_found("x"), Status::internal("x")] {
            assert!(!Failure::of(&status).retryable(status.code(), true));
        }
        assert!(matches!(
            api_error(Status::internal("x")),
            ApiError::Internal(_)
        ));
    }

    #[test]
    fn the_deadline_is_never_retried() {
        let status = Status::from_error(Box::new(tonic::TimeoutExpired(())));
        let failure = Failure::of(&status);
        assert!(!failure.retryable(status.code(), true));
        assert!(matches!(api_error(status), ApiError::Timeout(_)));
    }
}
