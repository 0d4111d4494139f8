//! auth-core's integration tests, one binary: every token rule (`rules`),
//! and JWKS mode against a local JWKS server (`jwks`).

mod common;
mod jwks;
mod rules;
