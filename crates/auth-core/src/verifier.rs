//! Verifies Better Auth's bearer tokens: the entry point the edge and
//! auth-verify use.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::cache::{TimeLimits, VerifiedCache, token_hash};
use crate::jwt::{self, Rules};
use crate::{Claims, KeySource, RevokedSessions, TokenError};

/// How many verified tokens a [`TokenVerifier`] remembers (a few hundred
/// bytes each).
pub const TOKEN_CACHE_ENTRIES: usize = 4096;

/// Checks a bearer token against the configured keys and every rule in
/// [`crate::jwt`], then (with [`TokenVerifier::with_revocations`]) that its
/// session has not ended. Cheap to clone; clones share one cache of verified
/// tokens ([`crate::cache`]), so a token's signature is checked once, its
/// time rules and its session on every use.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: KeySource,
    rules: Arc<Rules>,
    cache: Arc<VerifiedCache<Claims>>,
    sessions: Sessions,
}

/// What is checked about a token's `sid`.
#[derive(Clone, Default)]
struct Sessions {
    revoked: Option<RevokedSessions>,
    /// `AUTH_REQUIRE_SID`: a token without `sid` is refused.
    required: bool,
}

impl TokenVerifier {
    pub fn new(keys: KeySource, rules: Rules) -> Self {
        crate::metrics::describe();
        Self {
            keys,
            rules: Arc::new(rules),
            cache: Arc::new(VerifiedCache::new(TOKEN_CACHE_ENTRIES)),
            sessions: Sessions::default(),
        }
    }

    /// Also refuses tokens whose `sid` is in `revoked` and, when
    /// `require_sid`, tokens without one.
    pub fn with_revocations(mut self, revoked: Option<RevokedSessions>, require_sid: bool) -> Self {
        self.sessions = Sessions {
            revoked,
            required: require_sid,
        };
        self
    }

    /// The ended sessions checked, if any.
    pub fn revocations(&self) -> Option<&RevokedSessions> {
        self.sessions.revoked.as_ref()
    }

    /// The verified claims, or the rule the token broke. Counted in
    /// [`crate::metrics::VERIFICATIONS`].
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let started = Instant::now();
        let verified = self
            .verify_at(token, jsonwebtoken::get_current_timestamp())
            .await;
        let outcome = verified.as_ref().map(|_| ());
        crate::metrics::verification(self.keys.mode(), outcome, started.elapsed());
        verified
    }

    /// [`Self::verify`] with the cache's clock at `now` (the full check
    /// reads the real clock).
    async fn verify_at(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        if token.len() > crate::MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        // Read before verifying: if the key set changes meanwhile, the entry
        // carries the old generation and is never used.
        let generation = self.keys.generation();
        let hash = token_hash(token);
        let claims = match self.cache.get(&hash, generation, now) {
            Some(hit) => hit?,
            None => {
                let (claims, limits) = self.verify_uncached(token).await?;
                if let Some(limits) = limits {
                    self.cache
                        .insert(hash, claims.clone(), limits, generation, now);
                }
                claims
            }
        };
        // Signature and claims first (from the cache or not): the revocation
        // check only ever sees tokens we issued, so it tells nothing about
        // forged ones; and it runs on every use, so a cached token whose
        // session ends is refused from then on.
        self.check_session(&claims)?;
        Ok(claims)
    }

    /// The token's `sid` against the ended sessions, and `AUTH_REQUIRE_SID`.
    fn check_session(&self, claims: &Claims) -> Result<(), TokenError> {
        match (&claims.session_id, &self.sessions.revoked) {
            (Some(sid), Some(revoked)) => revoked.check(sid),
            (None, _) if self.sessions.required => Err(TokenError::MissingClaim("sid")),
            _ => Ok(()),
        }
    }

    async fn verify_uncached(
        &self,
        token: &str,
    ) -> Result<(Claims, Option<TimeLimits>), TokenError> {
        self.verify_signed(token)
            .await
            .map_err(|error| jwt::reworded(token, error))
    }

    /// Header, key, signature, then claims.
    async fn verify_signed(&self, token: &str) -> Result<(Claims, Option<TimeLimits>), TokenError> {
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
        jwt::decode_timed(token, &header, &key, &self.rules)
    }

    /// `Ok` when tokens can be verified: always in HS256 mode; in `jwks` and
    /// `both` modes once a key set with a usable key is loaded. The error
    /// says what is missing (last fetch error, unsupported keys).
    /// With revocations, also once the ended sessions are loaded and current.
    pub fn readiness(&self) -> Result<(), String> {
        self.keys.jwks().map_or(Ok(()), |jwks| jwks.readiness())?;
        self.revocations()
            .map_or(Ok(()), RevokedSessions::readiness)
    }

    /// What an operator should know even while ready: published keys that
    /// are not used, a failing JWKS refresh. Empty in HS256 mode.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = self
            .keys
            .jwks()
            .map(|jwks| jwks.warnings())
            .unwrap_or_default();
        warnings.extend(self.revocations().and_then(RevokedSessions::warning));
        warnings
    }

    /// Everything behind [`Self::readiness`], for the admin listener: the
    /// mode and, with a JWKS, its URL, key ids, last error and age.
    pub fn details(&self) -> serde_json::Value {
        let mut details = serde_json::json!({ "mode": self.keys.mode() });
        if let Some(jwks) = self.keys.jwks() {
            details["jwks"] = jwks.details();
        }
        details
    }

    /// Sets the gauges sampled at scrape time (the key set's age).
    pub fn sample_metrics(&self) {
        if let Some(jwks) = self.keys.jwks() {
            jwks.sample_metrics();
        }
    }

    /// Readiness as it changes (`true` when ready). In HS256 mode it is
    /// `true` and never changes.
    /// With revocations too, `true` when both are ready.
    pub fn watch_ready(&self) -> watch::Receiver<bool> {
        let keys = self.keys.jwks().map(|jwks| jwks.watch_ready());
        let sessions = self.revocations().map(RevokedSessions::watch_ready);
        match (keys, sessions) {
            (Some(keys), Some(sessions)) => both(keys, sessions),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => watch::channel(true).1,
        }
    }

    /// The key source, e.g. for its fetch count.
    pub fn keys(&self) -> &KeySource {
        &self.keys
    }
}

/// A watch that is `true` while both are, kept in step by a task that ends
/// when either source or every receiver is gone. Needs a Tokio runtime
/// (both sources have one: they are polled by tasks of their own).
fn both(mut a: watch::Receiver<bool>, mut b: watch::Receiver<bool>) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(*a.borrow_and_update() && *b.borrow_and_update());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = a.changed() => if changed.is_err() { return },
                changed = b.changed() => if changed.is_err() { return },
                () = tx.closed() => return,
            }
            let ready = *a.borrow_and_update() && *b.borrow_and_update();
            tx.send_if_modified(|was| std::mem::replace(was, ready) != ready);
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::{Value, json};

    use super::*;

    const SECRET: &[u8] = b"cache-test-secret-cache-test-secret-0123";
    const URL: &str = "http://localhost:3000";

    fn verifier() -> TokenVerifier {
        TokenVerifier::new(KeySource::hs256(SECRET), Rules::new(URL, &[URL], 10, 900))
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn token(claims: &Value, secret: &[u8]) -> String {
        let key = EncodingKey::from_secret(secret);
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("sign")
    }

    fn claims(exp: u64) -> Value {
        json!({"sub": "user-1", "iss": URL, "aud": URL, "iat": now(), "exp": exp})
    }

    #[tokio::test]
    async fn a_verified_token_is_cached_and_its_time_rules_run_on_every_hit() {
        let verifier = verifier();
        let token = token(&claims(now() + 60), SECRET);
        let first = verifier.verify(&token).await.expect("valid");
        assert_eq!(verifier.cache.len(), 1);
        assert_eq!(verifier.verify(&token).await, Ok(first));
        // Past exp + leeway, the cached entry says expired, and is dropped.
        let later = now() + 60 + 11;
        assert_eq!(
            verifier.verify_at(&token, later).await,
            Err(TokenError::Expired)
        );
        assert!(verifier.cache.is_empty());
    }

    #[tokio::test]
    async fn refusals_are_never_cached() {
        let verifier = verifier();
        let forged = token(
            &claims(now() + 60),
            b"another-secret-another-secret-0123456",
        );
        let future = token(
            &json!({"sub": "u", "iss": URL, "aud": URL, "nbf": now() + 120, "exp": now() + 600}),
            SECRET,
        );
        for bad in [forged.as_str(), future.as_str(), "not.a.token"] {
            assert!(verifier.verify(bad).await.is_err());
            assert!(verifier.verify(bad).await.is_err());
        }
        assert!(verifier.cache.is_empty());
    }

    #[tokio::test]
    async fn a_token_with_nbf_is_held_to_it_on_hits() {
        let verifier = verifier();
        let at = now();
        let token = token(
            &json!({"sub": "u", "iss": URL, "aud": URL, "nbf": at, "exp": at + 60}),
            SECRET,
        );
        assert!(verifier.verify(&token).await.is_ok());
        // A clock that went back before nbf - leeway: not valid yet.
        assert_eq!(
            verifier.verify_at(&token, at - 11).await,
            Err(TokenError::NotYetValid)
        );
    }
}
