//! [`TasksClient`]: the tasks service as the edge calls it. Every call
//! carries the verified user id in `x-user-id`, an internal credential for
//! that user ([`super::credential`]) and the trace context, is bounded by `EDGE_UPSTREAM_TIMEOUT_MS` (retries
//! included), and is retried once on another replica when [`super::retry`]
//! allows.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{InternalSigner, UserId};
use proto::tasks as pb;
use proto::tasks::tasks_client::TasksClient as GrpcClient;
use proto::tasks::tasks_server::SERVICE_NAME;
use tokio::time::Instant;
use tonic::client::Grpc;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;

use super::credential::Credentials;
use super::list::{ListReply, list_tasks};
use super::retry::{Failure, Idempotent, MAX_ATTEMPTS, api_error};
use super::{Options, Pool, health_check};
use crate::error::{ApiError, TASKS};
use crate::settings::Config;

/// Reads and the full replacement (PUT) may be sent twice; a second
/// create, toggle or delete could be applied twice (a second delete would
/// answer 404 for a task the first one deleted).
macro_rules! idempotent {
    ($($message:ident => $operation:literal, $idempotent:literal),* $(,)?) => {
        $(impl Idempotent for pb::$message {
            const IDEMPOTENT: bool = $idempotent;
            const OPERATION: &'static str = $operation;
        })*
    };
}

idempotent! {
    ListTasksRequest => "ListTasks", true,
    GetTaskRequest => "GetTask", true,
    UpdateTaskRequest => "UpdateTask", true,
    CreateTaskRequest => "CreateTask", false,
    DeleteTaskRequest => "DeleteTask", false,
    ToggleCompleteRequest => "ToggleComplete", false,
}

/// The `upstream` label of the tasks calls' metrics.
const UPSTREAM: &str = "tasks";

/// The tasks service, as the edge calls it. Cheap to clone.
#[derive(Clone)]
pub struct TasksClient {
    pool: Pool,
    client: GrpcClient<Channel>,
    /// The same channel and limits, for calls made without the generated
    /// client ([`super::list`]).
    grpc: Grpc<Channel>,
    health: HealthClient<Channel>,
    credentials: Arc<Credentials>,
    timeout: Duration,
}

impl TasksClient {
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
        // A full page of the largest tasks fits (see `proto::limits`).
        let client = GrpcClient::new(channel.clone())
            .max_decoding_message_size(proto::limits::MAX_REPLY_BYTES)
            .max_encoding_message_size(proto::limits::MAX_REQUEST_BYTES);
        let grpc = Grpc::new(channel.clone())
            .max_decoding_message_size(proto::limits::MAX_REPLY_BYTES)
            .max_encoding_message_size(proto::limits::MAX_REQUEST_BYTES);
        Self {
            client,
            grpc,
            health: HealthClient::new(channel),
            pool,
            credentials: Arc::new(Credentials::new(signer, timeout)),
            timeout,
        }
    }

    /// Makes one call for `user_id`: `call` receives a client and the
    /// prepared request (twice when the call is retried). Its span records
    /// the user and the attempts, never the message. Counted in
    /// [`crate::metrics::UPSTREAM_CALLS`] (once, retries included).
    pub async fn call<M, R, F, Fut>(
        &self,
        user_id: &UserId,
        message: M,
        call: F,
    ) -> Result<R, ApiError>
    where
        M: Idempotent + Clone,
        F: Fn(GrpcClient<Channel>, tonic::Request<M>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    {
        self.call_with(&self.client, user_id, message, call).await
    }

    /// `ListTasks`, its reply's text read in place ([`super::list`]).
    pub async fn list(
        &self,
        user_id: &UserId,
        message: pb::ListTasksRequest,
    ) -> Result<ListReply, ApiError> {
        self.call_with(&self.grpc, user_id, message, list_tasks)
            .await
    }

    /// [`TasksClient::call`] with `client` for `call`'s first argument.
    #[tracing::instrument(name = "tasks call", skip_all, fields(user_id = %user_id, attempts))]
    async fn call_with<C, M, R, F, Fut>(
        &self,
        client: &C,
        user_id: &UserId,
        message: M,
        call: F,
    ) -> Result<R, ApiError>
    where
        C: Clone,
        M: Idempotent + Clone,
        F: Fn(C, tonic::Request<M>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    {
        let started = std::time::Instant::now();
        let result = async {
            let credential = self.credentials.authorization(user_id)?;
            let deadline = Instant::now() + self.timeout;
            self.has_endpoints(deadline).await?;
            let mut attempt = 1;
            loop {
                tracing::Span::current().record("attempts", attempt);
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return Err(ApiError::Timeout(TASKS));
                }
                let mut request = tonic::Request::new(message.clone());
                request.set_timeout(remaining);
                let metadata = request.metadata_mut();
                metadata.insert(proto::USER_ID_METADATA, credential.user_id.clone());
                metadata.insert("authorization", credential.authorization.clone());
                service_kit::trace::inject(metadata.as_mut());
                let status =
                    match tokio::time::timeout(remaining, call(client.clone(), request)).await {
                        Err(_) => return Err(ApiError::Timeout(TASKS)),
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
                crate::metrics::upstream_retry(UPSTREAM, M::OPERATION);
                self.pool.refresh(deadline).await;
            }
        }
        .await;
        let outcome = result
            .as_ref()
            .map_or_else(crate::metrics::outcome_of, |_| "ok");
        crate::metrics::upstream_call(UPSTREAM, M::OPERATION, outcome, started.elapsed());
        result
    }

    /// Whether tasks answers its health check as SERVING (asked again on
    /// another replica when the first answer is a failure).
    pub async fn ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        self.has_endpoints(deadline)
            .await
            .map_err(|error| format!("{SERVICE_NAME}: {error}"))?;
        let first = health_check(self.health.clone(), SERVICE_NAME, self.timeout).await;
        if first.is_ok() {
            return first;
        }
        self.pool.refresh(deadline).await;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return first;
        }
        health_check(self.health.clone(), SERVICE_NAME, remaining).await
    }

    /// Fails fast when the pool has nothing to balance over (a channel with
    /// no endpoint would wait instead of failing).
    async fn has_endpoints(&self, deadline: Instant) -> Result<(), ApiError> {
        match self.pool.endpoints(deadline).await {
            None => Err(ApiError::Timeout(TASKS)),
            Some(0) => Err(ApiError::Unavailable(TASKS, "no tasks endpoint".to_owned())),
            Some(_) => Ok(()),
        }
    }
}
