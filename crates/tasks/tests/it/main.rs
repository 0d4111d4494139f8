//! The tasks crate's integration tests, one binary: the repository on both
//! backends (`repo`), migrations (`migrate`), the gRPC service over a real
//! socket (`grpc`), start-up as the binary does it (`run`) and TLS to
//! PostgreSQL (`tls`).

mod common;
mod grpc;
mod migrate;
mod repo;
mod run;
mod tls;
