//! The tasks crate's integration tests, one binary: the repository on both
//! backends (`repo`), migrations (`migrate`), the gRPC service over a real
//! socket (`grpc`) and start-up as the binary does it (`run`).

mod common;
mod grpc;
mod migrate;
mod repo;
mod run;
