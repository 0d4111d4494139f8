//! Generated gRPC types and stubs for the workspace's protos; nothing else
//! runs codegen.

/// `todo.auth.v1`: the AuthVerify service.
pub mod auth {
    tonic::include_proto!("todo.auth.v1");
}

/// `todo.tasks.v1`: the Tasks service.
pub mod tasks {
    tonic::include_proto!("todo.tasks.v1");
}

/// The metadata key that carries the verified user id between services.
pub const USER_ID_METADATA: &str = "x-user-id";

/// The input limits tasks enforces, and the message sizes they imply: the
/// one place both ends of the Tasks service size their gRPC limits from.
pub mod limits {
    /// The longest title, in characters, after trimming.
    pub const MAX_TITLE_CHARS: usize = 200;
    /// The longest description, in characters.
    pub const MAX_DESCRIPTION_CHARS: usize = 1000;
    /// The largest page a list may ask for.
    pub const MAX_PAGE: u32 = 1000;
    /// The page size when the caller asks for 0.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The largest offset accepted: it must fit a signed 64-bit SQL integer.
    pub const MAX_OFFSET: u64 = i64::MAX as u64;
    /// The longest user id, in bytes (auth-core's limit).
    pub const MAX_USER_ID_BYTES: usize = 255;

    /// A task's encoded size at most: title and description of 4-byte
    /// characters, the longest user id, and 256 bytes for the id, the flag,
    /// two RFC 3339 timestamps and every tag and length.
    pub const MAX_TASK_BYTES: usize =
        4 * (MAX_TITLE_CHARS + MAX_DESCRIPTION_CHARS) + MAX_USER_ID_BYTES + 256;

    /// The largest reply (a full page of the largest tasks, about 5.3 MB),
    /// with a quarter more as margin: tonic's default 4 MiB is too small.
    pub const MAX_REPLY_BYTES: usize = MAX_PAGE as usize * MAX_TASK_BYTES / 4 * 5;

    /// The largest request: a task is well under 8 KiB.
    pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
}

/// The encoded file descriptor set of `proto/` (both packages), as gRPC
/// server reflection serves it.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("todo_descriptor");

/// The name gRPC server reflection (v1) is served under.
pub const REFLECTION_SERVICE: &str = "grpc.reflection.v1.ServerReflection";

/// gRPC server reflection (v1) for a server that serves `service` (e.g.
/// `todo.tasks.v1.Tasks`) and gRPC health: `grpcurl -plaintext HOST list`
/// lists exactly those and reflection itself, and `describe` resolves their
/// messages. Reflection describes; it calls nothing, so it needs no
/// credential of its own and lets no call past a service's own checks.
pub fn reflection(
    service: &str,
) -> Result<
    tonic_reflection::server::v1::ServerReflectionServer<
        impl tonic_reflection::server::v1::ServerReflection,
    >,
    tonic_reflection::server::Error,
> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name(service)
        .with_service_name("grpc.health.v1.Health")
        .with_service_name(REFLECTION_SERVICE)
        .build_v1()
}

/// For tests: ask a server's reflection service one question.
#[cfg(feature = "test-support")]
pub mod testing {
    use tonic::transport::Channel;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    pub use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    pub use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::{ServerReflectionRequest, ServiceResponse};

    /// The answer to `request` from the reflection service at `url`, sent
    /// with no metadata at all (as grpcurl without `-H` does).
    pub async fn reflect(url: &str, request: MessageRequest) -> anyhow::Result<MessageResponse> {
        let channel = Channel::from_shared(url.to_owned())?.connect().await?;
        let mut client = ServerReflectionClient::new(channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        let mut replies = client
            .server_reflection_info(tokio_stream::once(request))
            .await?
            .into_inner();
        let reply = replies
            .message()
            .await?
            .ok_or_else(|| anyhow::anyhow!("reflection answered nothing"))?;
        reply
            .message_response
            .ok_or_else(|| anyhow::anyhow!("reflection answered an empty message"))
    }

    /// The service names `grpcurl list` would print, sorted.
    pub async fn list_services(url: &str) -> anyhow::Result<Vec<String>> {
        match reflect(url, MessageRequest::ListServices(String::new())).await? {
            MessageResponse::ListServicesResponse(list) => {
                let mut names: Vec<String> = list
                    .service
                    .into_iter()
                    .map(|ServiceResponse { name }| name)
                    .collect();
                names.sort();
                Ok(names)
            }
            other => anyhow::bail!("unexpected reflection answer: {other:?}"),
        }
    }
}
