//! Verification of Better Auth JWTs and the internal credential the edge
//! gives the tasks service. No HTTP or gRPC types appear in this API: the
//! services map [`TokenError`] to their own status codes.
//!
//! Every token rule (size, header, algorithm, signature, `exp`/`nbf`,
//! `iss`/`aud`, `sub`, lifetime) lives in [`jwt`] and is applied to every
//! token whatever key it is checked against: the internal secret, the HS256
//! `BETTER_AUTH_SECRET`, or the keys of Better Auth's JWKS.
//!
//! Two halves. Always built: the rules, the claims and the internal
//! credential ([`InternalSigner`], [`InternalVerifier`]), which is all the
//! tasks service needs. With the `verifier` feature (the edge,
//! auth-verify): [`TokenVerifier`] for Better Auth's tokens, its settings,
//! and the JWKS key source, which fetches keys over HTTPS (reqwest, rustls).
//! With it too: [`bearer`] and [`problem`], what the edge and auth-verify's
//! ext_authz share about requests: which token a request carries, and the
//! answer (status, challenge, problem+json body) when it is refused. And
//! [`RevokedSessions`]: the ended Better Auth sessions, polled from the web
//! app, whose tokens (their `sid` claim) are refused.

#[cfg(feature = "verifier")]
pub mod bearer;
pub mod cache;
mod claims;
mod error;
#[cfg(feature = "verifier")]
mod http_fetch;
mod internal;
#[cfg(feature = "verifier")]
mod jwk;
#[cfg(feature = "verifier")]
mod jwks;
pub mod jwt;
#[cfg(feature = "verifier")]
mod keys;
#[cfg(feature = "verifier")]
pub mod metrics;
#[cfg(feature = "verifier")]
pub mod problem;
#[cfg(feature = "verifier")]
mod revocation;
mod secret;
#[cfg(feature = "verifier")]
mod settings;
#[cfg(feature = "test-support")]
pub mod testing;
mod user_id;
#[cfg(feature = "verifier")]
mod verifier;

#[cfg(feature = "verifier")]
pub use bearer::bearer_token;
pub use claims::Claims;
pub use error::{SettingsError, TokenError};
pub use internal::{INTERNAL_AUDIENCE, INTERNAL_ISSUER, InternalSigner, InternalVerifier};
#[cfg(feature = "verifier")]
pub use jwk::{KeySet, Lookup, UnsupportedKey};
#[cfg(feature = "verifier")]
pub use jwks::{JWKS_FETCH_TIMEOUT, Jwks, JwksOptions};
#[cfg(feature = "verifier")]
pub use keys::KeySource;
#[cfg(feature = "verifier")]
pub use problem::{Problem, ProblemBody, Refusal};
#[cfg(feature = "verifier")]
pub use revocation::{RevocationOptions, RevokedSessions};
pub use secret::MIN_SECRET_BYTES;
#[cfg(feature = "verifier")]
pub use settings::{AuthConfig, AuthSettings, JwtMode};
pub use user_id::{InvalidUserId, MAX_USER_ID_BYTES, UserId};
#[cfg(feature = "verifier")]
pub use verifier::TokenVerifier;

/// The largest token accepted, in bytes; longer ones are refused before any
/// decoding.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Request headers that name a user or an internal caller. Whoever verifies
/// the token (the edge, auth-verify's ext_authz) sets the ones it means and
/// drops any a client sent.
pub const IDENTITY_HEADERS: [&str; 4] = [
    "x-user-id",
    "x-user-id-bin",
    "x-internal-auth",
    "x-forwarded-user",
];
