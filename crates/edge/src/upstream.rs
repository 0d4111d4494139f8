//! The gRPC channels to tasks (and auth-verify): one channel per upstream,
//! created once and shared; every call carries the verified user id in
//! `x-user-id` and a fresh internal credential, and is bounded in time.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use auth_core::InternalSigner;
use proto::tasks::tasks_client::TasksClient;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::error::ApiError;

/// A lazily connected channel to one URL, or balanced over a comma-separated
/// list of URLs.
pub fn channel(urls: &str, connect_timeout: Duration) -> anyhow::Result<Channel> {
    let endpoints = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| {
            Endpoint::from_shared(url.to_owned())
                .with_context(|| format!("invalid upstream URL {url:?}"))
                .map(|endpoint| {
                    endpoint
                        .connect_timeout(connect_timeout)
                        .tcp_nodelay(true)
                        .http2_keep_alive_interval(Duration::from_secs(30))
                        .keep_alive_while_idle(true)
                })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    match endpoints.as_slice() {
        [] => anyhow::bail!("no upstream URL given"),
        [one] => Ok(one.connect_lazy()),
        _ => Ok(Channel::balance_list(endpoints.into_iter())),
    }
}

/// The tasks service, as the edge calls it.
#[derive(Clone)]
pub struct Tasks {
    client: TasksClient<Channel>,
    health: HealthClient<Channel>,
    signer: InternalSigner,
    timeout: Duration,
}

impl Tasks {
    pub fn new(channel: Channel, signer: InternalSigner, timeout: Duration) -> Self {
        Self {
            client: TasksClient::new(channel.clone()),
            health: HealthClient::new(channel),
            signer,
            timeout,
        }
    }

    /// Makes one call for `user_id`: `call` receives a client and the
    /// prepared request.
    pub async fn call<M, R, F, Fut>(
        &self,
        user_id: &str,
        message: M,
        call: F,
    ) -> Result<R, ApiError>
    where
        F: FnOnce(TasksClient<Channel>, tonic::Request<M>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, tonic::Status>>,
    {
        let credential = self
            .signer
            .mint(user_id)
            .map_err(|error| ApiError::Internal(error.to_string()))?;
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.timeout);
        let metadata = request.metadata_mut();
        metadata.insert(
            proto::USER_ID_METADATA,
            MetadataValue::try_from(user_id)
                .map_err(|_| ApiError::Internal("user id is not valid metadata".to_owned()))?,
        );
        metadata.insert(
            "authorization",
            MetadataValue::try_from(format!("Bearer {credential}"))
                .map_err(|_| ApiError::Internal("credential is not valid metadata".to_owned()))?,
        );
        let reply = tokio::time::timeout(self.timeout, call(self.client.clone(), request))
            .await
            .map_err(|_| ApiError::Timeout)??;
        Ok(reply.into_inner())
    }

    /// Whether tasks answers its health check as SERVING.
    pub async fn ready(&self) -> Result<(), String> {
        health_check(self.health.clone(), "todo.tasks.v1.Tasks", self.timeout).await
    }
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
