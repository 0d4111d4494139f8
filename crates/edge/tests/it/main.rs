//! The edge's integration tests, one binary. Black-box tests start tasks
//! (+ auth-verify) and the edge in-process on port 0 through the harness in
//! `common`; the `external` variants run the same scenarios against an edge
//! that is already running (`TEST_EDGE_URL`, `just test-external`).

mod api;
mod auth;
mod common;
mod connections;
mod docs_browser;
mod faults;
mod hardening;
mod jwks;
mod metrics;
mod model;
mod openapi;
mod operations;
mod revocation;
mod router;
mod scaling;
mod trace;
