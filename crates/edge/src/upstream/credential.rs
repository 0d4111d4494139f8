//! The internal credential each call to tasks carries, minted once per user
//! and reused while enough of its minute is left, instead of signed for
//! every call. A reused credential always leaves the edge with at least
//! [`MIN_LEFT_SECS`] (and the whole upstream deadline plus ten seconds) to
//! live, so tasks never sees one expire in flight; tasks checks each one
//! in full the first time and its `exp` on every call. The user id's
//! `x-user-id` value is kept with it, so neither is built per call.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use auth_core::{InternalSigner, UserId};
use tonic::metadata::{Ascii, MetadataValue};

use crate::error::ApiError;

/// A credential is reused while at least this many seconds of it are left.
pub const MIN_LEFT_SECS: u64 = 30;

/// How many users' credentials are kept.
const ENTRIES: usize = 4096;

/// Mints and reuses internal credentials.
pub struct Credentials {
    signer: InternalSigner,
    /// Reuse while `exp - now` is at least this; `None`: never reuse (an
    /// upstream deadline too long for a minute's credential).
    min_left: Option<u64>,
    cache: Mutex<HashMap<UserId, (Metadata, u64)>>,
}

/// The metadata a call on behalf of one user carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `x-user-id`: the user id.
    pub user_id: MetadataValue<Ascii>,
    /// `authorization`: `Bearer <credential>`.
    pub authorization: MetadataValue<Ascii>,
}

impl Credentials {
    pub fn new(signer: InternalSigner, upstream_timeout: Duration) -> Self {
        let min_left = MIN_LEFT_SECS.max(upstream_timeout.as_secs().saturating_add(11));
        Self {
            signer,
            min_left: (min_left < InternalSigner::LIFETIME_SECS).then_some(min_left),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// `x-user-id` and `authorization: Bearer <credential>` for a call on
    /// behalf of `user`.
    pub fn authorization(&self, user: &UserId) -> Result<Metadata, ApiError> {
        self.authorization_at(user, now())
    }

    fn authorization_at(&self, user: &UserId, now: u64) -> Result<Metadata, ApiError> {
        let Some(min_left) = self.min_left else {
            return self.mint(user, now).map(|(value, _)| value);
        };
        if let Some((value, exp)) = self.lock().get(user)
            && exp.saturating_sub(now) >= min_left
        {
            return Ok(value.clone());
        }
        let (value, exp) = self.mint(user, now)?;
        let mut cache = self.lock();
        if cache.len() >= ENTRIES && !cache.contains_key(user) {
            cache.retain(|_, (_, exp)| exp.saturating_sub(now) >= min_left);
            if cache.len() >= ENTRIES / 4 * 3 {
                cache.clear();
            }
        }
        cache.insert(user.clone(), (value.clone(), exp));
        Ok(value)
    }

    fn mint(&self, user: &UserId, now: u64) -> Result<(Metadata, u64), ApiError> {
        let user_id = MetadataValue::try_from(user.as_str())
            .map_err(ApiError::internal("the user id as x-user-id metadata"))?;
        let (token, exp) = self
            .signer
            .mint_at(user, now)
            .map_err(ApiError::internal("minting the internal credential"))?;
        let authorization = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(ApiError::internal("the internal credential as metadata"))?;
        Ok((
            Metadata {
                user_id,
                authorization,
            },
            exp,
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, (Metadata, u64)>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use auth_core::InternalVerifier;
    use secrecy::SecretString;

    use super::*;

    const SECRET: &str = "internal-secret-internal-secret-0123";

    fn credentials(timeout: Duration) -> Credentials {
        let secret = SecretString::from(SECRET.to_owned());
        Credentials::new(InternalSigner::new(Some(&secret)).expect("signer"), timeout)
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("a user id")
    }

    fn token(value: &Metadata) -> String {
        let text = value.authorization.to_str().expect("ascii");
        text.strip_prefix("Bearer ").expect("bearer").to_owned()
    }

    #[test]
    fn one_credential_per_user_while_enough_of_it_is_left() {
        let credentials = credentials(Duration::from_secs(2));
        let now = now();
        let alice = credentials
            .authorization_at(&user("alice"), now)
            .expect("a");
        let bob = credentials.authorization_at(&user("bob"), now).expect("b");
        assert_ne!(alice, bob);
        let verifier =
            InternalVerifier::new(Some(&SecretString::from(SECRET.to_owned()))).expect("v");
        assert_eq!(verifier.verify(&token(&alice)), Ok(user("alice")));
        assert_eq!(alice.user_id, "alice");
        assert_eq!(bob.user_id, "bob");
        // Reused until fewer than 30 s are left of its 60...
        let again = credentials
            .authorization_at(&user("alice"), now + 29)
            .expect("a");
        assert_eq!(again, alice);
        // ...then a new one, valid from then.
        let fresh = credentials
            .authorization_at(&user("alice"), now + 31)
            .expect("a");
        assert_ne!(fresh, alice);
        assert_eq!(credentials.lock()[&user("alice")].1, now + 31 + 60);
    }

    #[test]
    fn a_long_upstream_deadline_turns_reuse_off() {
        assert_eq!(credentials(Duration::from_secs(2)).min_left, Some(30));
        assert_eq!(credentials(Duration::from_secs(40)).min_left, Some(51));
        assert_eq!(credentials(Duration::from_secs(49)).min_left, None);
        let credentials = credentials(Duration::from_secs(600));
        credentials.authorization(&user("alice")).expect("minted");
        assert_eq!(credentials.lock().len(), 0, "nothing kept");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let credentials = credentials(Duration::from_secs(2));
        for i in 0..(ENTRIES + 10) {
            credentials
                .authorization(&user(&format!("u{i}")))
                .expect("minted");
            assert!(credentials.lock().len() <= ENTRIES);
        }
    }
}
