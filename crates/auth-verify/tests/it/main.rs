//! auth-verify's integration tests, one binary: Verify and health over
//! gRPC (`grpc`), JWKS mode (`jwks`), Envoy's ext_authz Check (`ext_authz`),
//! and the same through a real Envoy (`envoy`, ignored unless asked for:
//! `just test-envoy`).

mod common;
mod envoy;
mod ext_authz;
mod grpc;
mod jwks;
