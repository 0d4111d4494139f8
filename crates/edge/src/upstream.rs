//! The gRPC channels to tasks (and auth-verify): one balanced channel per
//! upstream, created once and shared, kept current by [`balance::Pool`]
//! (every address each URL resolves to, re-resolved and health-checked every
//! `TASKS_RESOLVE_INTERVAL_MS`). Every call carries the verified user id in
//! `x-user-id` and a fresh internal credential, and is bounded in time; a
//! call that failed before it was sent, or an idempotent one that failed in
//! transit, is tried once more on another replica.

pub mod balance;

use std::error::Error as _;
use std::future::Future;
use std::time::Duration;

use auth_core::InternalSigner;
use proto::tasks as pb;
use proto::tasks::tasks_client::TasksClient;
use tokio::time::Instant;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::error::ApiError;
use crate::settings::Config;

pub use balance::{Options, Pool, Urls};

/// How often an upstream other than tasks is resolved again.
const DEFAULT_RESOLVE_INTERVAL: Duration = Duration::from_secs(5);
/// Attempts per call: the first, and one retry on another replica.
const MAX_ATTEMPTS: u32 = 2;
/// The health-check service name tasks reports.
use proto::tasks::tasks_server::SERVICE_NAME as TASKS_SERVICE;

/// The channel to auth-verify (`AUTH_VERIFY_URL`): balanced over every
/// address of one URL or of a comma-separated list of URLs (see [`balance`]).
pub fn channel(urls: &Urls, connect_timeout: Duration) -> Channel {
    let options = Options {
        name: "auth-verify",
        connect_timeout,
        resolve_interval: DEFAULT_RESOLVE_INTERVAL,
    };
    Pool::new(urls, options).channel()
}

/// Whether a tasks request may be sent again after a failure in transit,
/// when the first attempt may have reached a replica.
pub trait Idempotent {
    const IDEMPOTENT: bool;
}

impl Idempotent for pb::ListTasksRequest {
    const IDEMPOTENT: bool = true;
}
impl Idempotent for pb::GetTaskRequest {
    const IDEMPOTENT: bool = true;
}
/// PUT: the same request twice leaves the same task.
impl Idempotent for pb::UpdateTaskRequest {
    const IDEMPOTENT: bool = true;
}
impl Idempotent for pb::CreateTaskRequest {
    const IDEMPOTENT: bool = false;
}
/// A second delete would answer 404 for a task the first one deleted.
impl Idempotent for pb::DeleteTaskRequest {
    const IDEMPOTENT: bool = false;
}
impl Idempotent for pb::ToggleCompleteRequest {
    const IDEMPOTENT: bool = false;
}

/// The tasks service, as the edge calls it.
#[derive(Clone)]
pub struct Tasks {
    pool: Pool,
    client: TasksClient<Channel>,
    health: HealthClient<Channel>,
    signer: InternalSigner,
    timeout: Duration,
}

impl Tasks {
    /// The pool over `TASKS_URL`, and the settings every call uses.
    pub fn new(config: &Config) -> Self {
        let options = Options {
            name: "tasks",
            connect_timeout: config.connect_timeout,
            resolve_interval: config.resolve_interval,
        };
        let pool = Pool::new(&config.tasks_urls, options);
        Self::with_pool(pool, config.signer.clone(), config.upstream_timeout)
    }

    pub fn with_pool(pool: Pool, signer: InternalSigner, timeout: Duration) -> Self {
        let channel = pool.channel();
        Self {
            client: TasksClient::new(channel.clone()),
            health: HealthClient::new(channel),
            pool,
            signer,
            timeout,
        }
    }

    /// Makes one call for `user_id`: `call` receives a client and the
    /// prepared request (twice when the call is retried).
    pub async fn call<M, R, F, Fut>(
        &self,
        user_id: &str,
        message: M,
        call: F,
    ) -> Result<R, ApiError>
    where
        M: Idempotent + Clone,
        F: Fn(TasksClient<Channel>, tonic::Request<M>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    {
        let credential = self
            .signer
            .mint(user_id)
            .map_err(|error| ApiError::Internal(error.to_string()))?;
        let user_id = MetadataValue::try_from(user_id)
            .map_err(|_| ApiError::Internal("user id is not valid metadata".to_owned()))?;
        let authorization = MetadataValue::try_from(format!("Bearer {credential}"))
            .map_err(|_| ApiError::Internal("credential is not valid metadata".to_owned()))?;
        let deadline = Instant::now() + self.timeout;
        self.has_endpoints(deadline).await?;
        let mut attempt = 1;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ApiError::Timeout);
            }
            let mut request = tonic::Request::new(message.clone());
            request.set_timeout(remaining);
            let metadata = request.metadata_mut();
            metadata.insert(proto::USER_ID_METADATA, user_id.clone());
            metadata.insert("authorization", authorization.clone());
            service_kit::trace::inject(|key, value| {
                if let (Ok(key), Ok(value)) = (
                    MetadataKey::from_bytes(key.as_bytes()),
                    MetadataValue::try_from(value),
                ) {
                    metadata.insert(key, value);
                }
            });
            let status =
                match tokio::time::timeout(remaining, call(self.client.clone(), request)).await {
                    Err(_) => return Err(ApiError::Timeout),
                    Ok(Ok(reply)) => return Ok(reply.into_inner()),
                    Ok(Err(status)) => status,
                };
            let failure = Failure::of(&status);
            if attempt >= MAX_ATTEMPTS || !failure.retryable(status.code(), M::IDEMPOTENT) {
                return Err(api_error(status));
            }
            tracing::warn!(
                code = ?status.code(),
                error = %status.message(),
                "tasks call failed; trying another replica"
            );
            attempt += 1;
            self.pool.refresh(deadline).await;
        }
    }

    /// Whether tasks answers its health check as SERVING (asked again on
    /// another replica when the first answer is a failure).
    pub async fn ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        self.has_endpoints(deadline)
            .await
            .map_err(|error| format!("{TASKS_SERVICE}: {error}"))?;
        let first = health_check(self.health.clone(), TASKS_SERVICE, self.timeout).await;
        if first.is_ok() {
            return first;
        }
        self.pool.refresh(deadline).await;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return first;
        }
        health_check(self.health.clone(), TASKS_SERVICE, remaining).await
    }

    /// Fails fast when the pool has nothing to balance over (a channel with
    /// no endpoint would wait instead of failing).
    async fn has_endpoints(&self, deadline: Instant) -> Result<(), ApiError> {
        match self.pool.endpoints(deadline).await {
            None => Err(ApiError::Timeout),
            Some(0) => Err(ApiError::Unavailable("no tasks endpoint".to_owned())),
            Some(_) => Ok(()),
        }
    }
}

/// What a failed call's status says about where it failed.
#[derive(Debug, Clone, Copy)]
struct Failure {
    /// No connection could be made: the request never left the edge.
    never_sent: bool,
    /// The status was made by the client from a transport error, not sent
    /// by tasks (a status from tasks has no source).
    in_transit: bool,
    /// The client's own deadline passed.
    timed_out: bool,
}

impl Failure {
    fn of(status: &tonic::Status) -> Self {
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
    /// edge, and for idempotent requests when it failed in transit or tasks
    /// answered UNAVAILABLE. Never once the deadline has passed.
    fn retryable(self, code: tonic::Code, idempotent: bool) -> bool {
        if self.timed_out {
            return false;
        }
        self.never_sent || (idempotent && (self.in_transit || code == tonic::Code::Unavailable))
    }
}

/// The HTTP error for a failed call: a transport failure is 503 whatever
/// gRPC code the client gave it; statuses tasks sent map as usual.
fn api_error(status: tonic::Status) -> ApiError {
    let failure = Failure::of(&status);
    if failure.in_transit && !failure.timed_out {
        return ApiError::Unavailable(status.message().to_owned());
    }
    status.into()
}

/// One gRPC health check, bounded by `timeout`.
pub async fn health_check(
    mut client: HealthClient<Channel>,
    service: &str,
    timeout: Duration,
) -> Result<(), String> {
    let request = HealthCheckRequest {
        service: service.to_owned(),
    };
    let reply = tokio::time::timeout(timeout, client.check(request))
        .await
        .map_err(|_| format!("{service}: no answer in time"))?
        .map_err(|status| format!("{service}: {}", status.message()))?;
    match reply.into_inner().status() {
        ServingStatus::Serving => Ok(()),
        status => Err(format!("{service}: {status:?}")),
    }
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
        assert!(matches!(api_error(status), ApiError::Unavailable(_)));
    }

    #[test]
    fn a_failure_in_transit_is_retried_for_reads_only() {
        let broken = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let status = Status::from_error(Box::new(broken));
        let failure = Failure::of(&status);
        assert!(failure.retryable(status.code(), true));
        assert!(!failure.retryable(status.code(), false));
        assert!(matches!(api_error(status), ApiError::Unavailable(_)));
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
        assert!(matches!(api_error(status), ApiError::Timeout));
    }
}
