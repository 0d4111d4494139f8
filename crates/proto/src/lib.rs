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
