//! auth-core's integration tests, one binary: every token rule (`rules`),
//! JWKS mode against a local JWKS server (`jwks`), and ended sessions
//! against a local revocation feed (`revocation`).

mod common;
mod jwks;
mod revocation;
mod rules;
