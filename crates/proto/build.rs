//! Compiles `proto/` once for the whole workspace. Uses `$PROTOC` when it is
//! set, otherwise the protoc binary vendored by `protoc-bin-vendored`, so a
//! fresh machine needs no system package. Also writes the file descriptor
//! set that gRPC server reflection serves.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let files = [
        root.join("todo/auth/v1/auth.proto"),
        root.join("todo/tasks/v1/tasks.proto"),
    ];
    let mut config = prost_build::Config::new();
    if std::env::var_os("PROTOC").is_none() {
        config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    }
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("todo_descriptor.bin"))
        .compile_with_config(config, &files, &[root])?;
    Ok(())
}
