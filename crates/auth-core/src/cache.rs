//! A bounded cache of tokens that passed every rule, so that a token's
//! signature is checked once rather than on every request.
//!
//! - Keyed by the SHA-256 of the whole token: two tokens share an entry only
//!   if they are the same bytes.
//! - Only successes are stored. A refused token is checked in full every
//!   time, so a refusal that could later become a success (a key not yet
//!   fetched, `nbf` in the future) never sticks.
//! - Every hit runs the time rules again ([`TimeLimits::check`]: `exp`,
//!   `nbf`, the maximum lifetime, with the same leeway): an entry is good
//!   until its token expires, and an expired entry is dropped.
//! - Each entry remembers the key set's generation when it was verified; a
//!   hit under another generation (the JWKS was replaced) is a miss, so a
//!   withdrawn key's tokens are checked against the new set.
//! - At most `capacity` entries: when full, expired entries are dropped, and
//!   if most are still live the whole cache is emptied (amortised O(1) per
//!   insert, whatever tokens arrive).
//!
//! The cache is a layer in front of verification and answers with exactly
//! what verification answered: checks that must run on every request (a
//! session revocation list, say) belong after it, on its result.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

use crate::TokenError;

/// A token's identity in the cache: the SHA-256 of its bytes.
pub type TokenHash = [u8; 32];

/// The SHA-256 of `token`.
pub fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// The time claims of a verified token, and the rules they are held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    /// `exp`, seconds since the epoch.
    pub exp: u64,
    /// `nbf`, when the token has one.
    pub nbf: Option<u64>,
    pub leeway_secs: u64,
    pub max_lifetime_secs: u64,
}

impl TimeLimits {
    /// The time rules of [`crate::jwt`], at `now`: expired once `exp` is
    /// more than the leeway in the past; not valid while `nbf` is more than
    /// the leeway in the future; refused when `exp` is further away than the
    /// maximum lifetime (plus leeway).
    pub fn check(&self, now: u64) -> Result<(), TokenError> {
        if self.exp < now.saturating_sub(self.leeway_secs) {
            return Err(TokenError::Expired);
        }
        if self
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway_secs))
        {
            return Err(TokenError::NotYetValid);
        }
        let limit = self.max_lifetime_secs.saturating_add(self.leeway_secs);
        if self.exp.saturating_sub(now) > limit {
            return Err(TokenError::LifetimeTooLong);
        }
        Ok(())
    }
}

struct Entry<T> {
    value: T,
    limits: TimeLimits,
    generation: u64,
}

/// Verified tokens and what verifying them gave (`T`), bounded.
pub struct VerifiedCache<T> {
    entries: Mutex<HashMap<TokenHash, Entry<T>>>,
    capacity: usize,
}

impl<T: Clone> VerifiedCache<T> {
    /// A cache of at most `capacity` entries (0: nothing is ever stored).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// What verifying this token gave, if it was verified under this key
    /// set `generation` and still meets the time rules at `now`: `None` for
    /// a miss (verify it in full), `Some(Err)` when its time is up (the
    /// entry is dropped).
    pub fn get(
        &self,
        hash: &TokenHash,
        generation: u64,
        now: u64,
    ) -> Option<Result<T, TokenError>> {
        let mut entries = self.lock();
        let entry = entries.get(hash)?;
        if entry.generation != generation {
            entries.remove(hash);
            return None;
        }
        match entry.limits.check(now) {
            Ok(()) => Some(Ok(entry.value.clone())),
            Err(error) => {
                entries.remove(hash);
                Some(Err(error))
            }
        }
    }

    /// Remembers a token that passed every rule under key set `generation`.
    pub fn insert(&self, hash: TokenHash, value: T, limits: TimeLimits, generation: u64, now: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&hash) {
            entries.retain(|_, entry| entry.limits.check(now).is_ok());
            if entries.len() >= self.capacity / 4 * 3 {
                entries.clear();
            }
        }
        entries.insert(
            hash,
            Entry {
                value,
                limits,
                generation,
            },
        );
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenHash, Entry<T>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn limits(exp: u64, nbf: Option<u64>) -> TimeLimits {
        TimeLimits {
            exp,
            nbf,
            leeway_secs: 10,
            max_lifetime_secs: 900,
        }
    }

    fn cache_with(token: &str, limits: TimeLimits) -> VerifiedCache<&'static str> {
        let cache = VerifiedCache::new(8);
        cache.insert(token_hash(token), "claims", limits, 1, NOW);
        cache
    }

    #[test]
    fn a_hit_is_good_until_exp_plus_leeway_and_then_dropped() {
        let cache = cache_with("t", limits(NOW + 60, None));
        let hash = token_hash("t");
        assert_eq!(cache.get(&hash, 1, NOW), Some(Ok("claims")));
        assert_eq!(cache.get(&hash, 1, NOW + 70), Some(Ok("claims")));
        assert_eq!(
            cache.get(&hash, 1, NOW + 71),
            Some(Err(TokenError::Expired))
        );
        assert!(cache.is_empty(), "an expired entry is dropped");
        assert_eq!(cache.get(&hash, 1, NOW), None);
    }

    #[test]
    fn nbf_and_the_lifetime_limit_are_checked_on_every_hit() {
        let cache = cache_with("t", limits(NOW + 60, Some(NOW + 30)));
        assert_eq!(
            cache.get(&token_hash("t"), 1, NOW),
            Some(Err(TokenError::NotYetValid))
        );
        // A clock that went back makes the token's lifetime too long.
        let cache = cache_with("t", limits(NOW + 60, None));
        assert_eq!(
            cache.get(&token_hash("t"), 1, NOW - 900),
            Some(Err(TokenError::LifetimeTooLong))
        );
    }

    #[test]
    fn another_key_set_generation_is_a_miss() {
        let cache = cache_with("t", limits(NOW + 60, None));
        assert_eq!(cache.get(&token_hash("t"), 2, NOW), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn only_the_same_bytes_hit() {
        let cache = cache_with("token", limits(NOW + 60, None));
        assert_eq!(cache.get(&token_hash("token "), 1, NOW), None);
        assert_eq!(cache.get(&token_hash("tokem"), 1, NOW), None);
    }

    #[test]
    fn the_size_stays_bounded() {
        let cache = VerifiedCache::new(16);
        for i in 0..1000 {
            let token = format!("token-{i}");
            cache.insert(token_hash(&token), i, limits(NOW + 60, None), 1, NOW);
            assert!(cache.len() <= 16);
        }
        // The latest one is there.
        assert_eq!(cache.get(&token_hash("token-999"), 1, NOW), Some(Ok(999)));
        // Expired entries go first: a full cache of dead tokens keeps the live one.
        let cache = VerifiedCache::new(4);
        for i in 0..3 {
            cache.insert(
                token_hash(&i.to_string()),
                i,
                limits(NOW - 100, None),
                1,
                NOW - 500,
            );
        }
        cache.insert(token_hash("live"), 7, limits(NOW + 60, None), 1, NOW);
        cache.insert(token_hash("next"), 8, limits(NOW + 60, None), 1, NOW);
        assert_eq!(cache.get(&token_hash("live"), 1, NOW), Some(Ok(7)));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn capacity_zero_stores_nothing() {
        let cache = VerifiedCache::new(0);
        cache.insert(token_hash("t"), 1, limits(NOW + 60, None), 1, NOW);
        assert!(cache.is_empty());
    }
}
