//! Verifies Better Auth's bearer tokens: the entry point the edge and
//! auth-verify use.

use std::sync::Arc;

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
        let header = jwt::inspect(token)?;
        let key = self.keys.resolve(&header).await?;
        jwt::decode(token, &header, &key, &self.rules)
    }
}
