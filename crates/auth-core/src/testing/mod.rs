//! Test support (feature `test-support`), shared by every crate's tests:
//! fixed test keys, a JWKS server that counts its fetches, a revocation
//! feed, the one
//! helper that starts a service on port 0 with a stop handle, waits on
//! observable events instead of sleeps, and `TEST_LOG=1` logs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod jwks_server;
mod keys;
mod log;
mod revocation_feed;
mod server;
mod wait;

pub use jwks_server::JwksServer;
pub use keys::{
    ED25519_IDENTITY, TestKey, claims, es512_jwk, forged_ed25519_token, jwks_document,
    small_order_ed25519_jwk, unsigned_token,
};
pub use log::{init_test_log, test_log_layer};
pub use revocation_feed::RevocationFeedServer;
pub use server::{Shutdown, TestServer, read_head, unused_addr};
pub use wait::{PATIENCE, eventually};
