//! Verification of Better Auth JWTs and the internal credential the edge
//! gives the tasks service. No HTTP or gRPC types appear in this API: the
//! services map [`TokenError`] to their own status codes.
//!
//! Every rule of DESIGN.md's "Tokens" section lives here, in [`jwt`], and is
//! applied to every token whatever key it is checked against: the HS256
//! secret, or the keys of Better Auth's JWKS ([`Jwks`]).

mod claims;
mod error;
mod internal;
mod jwk;
mod jwks;
pub mod jwt;
mod keys;
mod settings;
#[cfg(feature = "test-support")]
pub mod testing;
mod verifier;

pub use claims::Claims;
pub use error::TokenError;
pub use internal::{INTERNAL_AUDIENCE, INTERNAL_ISSUER, InternalSigner, InternalVerifier};
pub use jwk::UnsupportedKey;
pub use jwks::{Jwks, JwksOptions};
pub use keys::KeySource;
pub use settings::{AuthSettings, JwtMode, MIN_SECRET_BYTES, SettingsError};
pub use verifier::TokenVerifier;

/// The largest token accepted, in bytes; longer ones are refused before any
/// decoding.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
