//! Where verification keys come from. Each key is pinned to one algorithm
//! by configuration (or, for JWKS, by the key's own JWK), never by the
//! token's header.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::TokenError;
use crate::jwt::{PinnedKey, TokenHeader};

/// The keys a [`crate::TokenVerifier`] may check a token against.
#[derive(Clone)]
pub enum KeySource {
    /// One HS256 key: the shared `BETTER_AUTH_SECRET`.
    Secret(Arc<PinnedKey>),
}

impl KeySource {
    /// An HS256 key made of the secret's UTF-8 bytes, as the web app signs.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::Secret(Arc::new(PinnedKey {
            alg: Algorithm::HS256,
            key: DecodingKey::from_secret(secret),
        }))
    }

    /// The key for a token with this header. Asynchronous because a key set
    /// fetched over the network may need refreshing first.
    pub async fn resolve(&self, header: &TokenHeader) -> Result<Arc<PinnedKey>, TokenError> {
        match self {
            Self::Secret(key) if header.alg == key.alg => Ok(Arc::clone(key)),
            Self::Secret(_) => Err(TokenError::AlgorithmMismatch),
        }
    }
}
