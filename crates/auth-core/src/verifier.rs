//! Verifies Better Auth's bearer tokens: the entry point the edge and
//! auth-verify use.

use std::sync::Arc;

use tokio::sync::watch;

use crate::jwt::{self, Rules};
use crate::{Claims, KeySource, TokenError};

/// Checks a bearer token against the configured keys and every rule in
/// [`crate::jwt`]. Cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: KeySource,
    rules: Arc<Rules>,
}

impl TokenVerifier {
    pub fn new(keys: KeySource, rules: Rules) -> Self {
        Self {
            keys,
            rules: Arc::new(rules),
        }
    }

    /// The verified claims, or the rule the token broke.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = match jwt::inspect(token) {
            Ok(header) => header,
            // A token signed with a published key we cannot verify (e.g.
            // ES384): say so rather than just "not accepted".
            Err(TokenError::AlgorithmNotAllowed(alg)) => {
                let reason = self.keys.jwks().and_then(|j| j.unsupported_algorithm(&alg));
                return Err(
                    reason.map_or(TokenError::AlgorithmNotAllowed(alg), |reason| {
                        TokenError::UnsupportedKey(reason)
                    }),
                );
            }
            Err(error) => return Err(error),
        };
        let key = self.keys.resolve(&header).await?;
        jwt::decode(token, &header, &key, &self.rules)
    }

    /// `Ok` when tokens can be verified: always in HS256 mode; in `jwks` and
    /// `both` modes once a key set with a usable key is loaded. The error
    /// says what is missing (last fetch error, unsupported keys).
    pub fn readiness(&self) -> Result<(), String> {
        self.keys.jwks().map_or(Ok(()), |jwks| jwks.readiness())
    }

    /// What an operator should know even while ready: published keys that
    /// are not used, a failing JWKS refresh. Empty in HS256 mode.
    pub fn warnings(&self) -> Vec<String> {
        self.keys
            .jwks()
            .map(|jwks| jwks.warnings())
            .unwrap_or_default()
    }

    /// Readiness as it changes (`true` when ready). In HS256 mode it is
    /// `true` and never changes.
    pub fn watch_ready(&self) -> watch::Receiver<bool> {
        match self.keys.jwks() {
            Some(jwks) => jwks.watch_ready(),
            None => watch::channel(true).1,
        }
    }

    /// The key source, e.g. for its fetch count.
    pub fn keys(&self) -> &KeySource {
        &self.keys
    }
}
