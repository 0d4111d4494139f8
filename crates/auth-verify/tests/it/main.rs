//! auth-verify's integration tests, one binary: Verify and health over
//! gRPC (`grpc`), and JWKS mode (`jwks`).

mod common;
mod grpc;
mod jwks;
