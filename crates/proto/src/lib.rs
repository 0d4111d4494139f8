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
