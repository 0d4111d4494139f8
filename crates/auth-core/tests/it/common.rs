//! Shared by the auth-core tests: token segments built by hand.

use auth_core::testing::unsigned_token;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

/// base64url without padding, as JOSE encodes every segment.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with this header and payload and a 64-byte junk signature.
pub fn unsigned(header: &Value, claims: &Value) -> String {
    unsigned_token(header, claims, 64)
}
