//! Where verification keys come from. Each key is pinned to one algorithm
//! by configuration (or, for JWKS, by the key's own JWK), never by the
//! token's header.

use std::sync::Arc;

use crate::TokenError;
use crate::jwks::Jwks;
use crate::jwt::{Alg, PinnedKey, TokenHeader};

/// The keys a [`crate::TokenVerifier`] may check a token against
/// (`AUTH_JWT_MODE`).
#[derive(Clone)]
pub enum KeySource {
    /// `hs256`: one HS256 key, the shared `BETTER_AUTH_SECRET`.
    Secret(Arc<PinnedKey>),
    /// `jwks`: Better Auth's published asymmetric keys; HS256 is refused.
    Jwks(Jwks),
    /// `both`: HS256 tokens against the secret only, every other algorithm
    /// against the JWKS only.
    Both { secret: Arc<PinnedKey>, jwks: Jwks },
}

impl KeySource {
    /// An HS256 key made of the secret's UTF-8 bytes, as the web app signs.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::Secret(secret_key(secret))
    }

    /// HS256 with the secret, and the JWKS for asymmetric tokens.
    pub fn both(secret: &[u8], jwks: Jwks) -> Self {
        Self::Both {
            secret: secret_key(secret),
            jwks,
        }
    }

    /// The key for a token with this header. Asynchronous because a key set
    /// fetched over the network may need refreshing first.
    pub async fn resolve(&self, header: &TokenHeader) -> Result<Arc<PinnedKey>, TokenError> {
        match self {
            Self::Secret(key) if header.alg == key.alg() => Ok(Arc::clone(key)),
            Self::Secret(_) => Err(TokenError::WrongMode {
                alg: header.alg.name(),
                mode: "hs256",
            }),
            // A JWKS never supplies an HMAC key: an HS256 token cannot be
            // checked against (the bytes of) a published public key.
            Self::Jwks(_) if header.alg == Alg::HS256 => Err(TokenError::WrongMode {
                alg: header.alg.name(),
                mode: "jwks",
            }),
            Self::Jwks(jwks) => jwks.resolve(header).await,
            Self::Both { secret, .. } if header.alg == Alg::HS256 => Ok(Arc::clone(secret)),
            Self::Both { jwks, .. } => jwks.resolve(header).await,
        }
    }

    /// Changes whenever the keys tokens are checked against change: never
    /// for the secret, with each key set the JWKS loads.
    pub fn generation(&self) -> u64 {
        self.jwks().map_or(0, Jwks::key_set_generation)
    }

    /// `AUTH_JWT_MODE` as configured: `hs256`, `jwks` or `both` (the
    /// `mode` label of the verification metrics).
    pub fn mode(&self) -> &'static str {
        match self {
            Self::Secret(_) => "hs256",
            Self::Jwks(_) => "jwks",
            Self::Both { .. } => "both",
        }
    }

    /// The JWKS, in `jwks` and `both` modes.
    pub fn jwks(&self) -> Option<&Jwks> {
        match self {
            Self::Secret(_) => None,
            Self::Jwks(jwks) | Self::Both { jwks, .. } => Some(jwks),
        }
    }
}

fn secret_key(secret: &[u8]) -> Arc<PinnedKey> {
    Arc::new(PinnedKey::hs256(secret))
}
