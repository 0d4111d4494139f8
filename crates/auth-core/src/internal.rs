//! The internal credential: a short-lived HS256 token the edge mints with
//! `INTERNAL_AUTH_SECRET` for each call to tasks, whose subject is the user
//! the call is made for. Tasks accepts a call only when it verifies and its
//! subject equals the `x-user-id` metadata.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::cache::{VerifiedCache, token_hash};
use crate::jwt::{self, PinnedKey, Rules};
use crate::secret::checked_secret;
use crate::{SettingsError, TokenError, UserId};

/// The `iss` of internal credentials.
pub const INTERNAL_ISSUER: &str = "todo-edge";
/// The `aud` of internal credentials.
pub const INTERNAL_AUDIENCE: &str = "tasks";
/// How long an internal credential lives, in seconds.
const LIFETIME_SECS: u64 = 60;
const LEEWAY_SECS: u64 = 5;

/// The environment variable holding the internal secret.
const SECRET_NAME: &str = "INTERNAL_AUTH_SECRET";

#[derive(Serialize)]
struct InternalClaims<'a> {
    iss: &'static str,
    aud: &'static str,
    sub: &'a str,
    iat: u64,
    exp: u64,
}

/// Signing an internal credential failed (never expected with an HS256 key).
#[derive(Debug, thiserror::Error)]
#[error("could not sign the internal credential")]
pub struct MintError;

/// Mints internal credentials (the edge's side).
#[derive(Clone)]
pub struct InternalSigner {
    key: EncodingKey,
    header: Header,
}

impl InternalSigner {
    pub fn new(secret: Option<&SecretString>) -> Result<Self, SettingsError> {
        let secret = checked_secret(SECRET_NAME, secret)?;
        Ok(Self {
            key: EncodingKey::from_secret(secret.expose_secret().as_bytes()),
            header: Header::new(Algorithm::HS256),
        })
    }

    /// A credential for calls made on behalf of `user_id`.
    pub fn mint(&self, user_id: &UserId) -> Result<String, MintError> {
        self.mint_at(user_id, jsonwebtoken::get_current_timestamp())
            .map(|(token, _)| token)
    }

    /// A credential issued at `now` (seconds since the epoch), with its
    /// `exp`, for a caller that reuses it while enough of it is left.
    pub fn mint_at(&self, user_id: &UserId, now: u64) -> Result<(String, u64), MintError> {
        let claims = InternalClaims {
            iss: INTERNAL_ISSUER,
            aud: INTERNAL_AUDIENCE,
            sub: user_id.as_str(),
            iat: now,
            exp: now + LIFETIME_SECS,
        };
        let token =
            jsonwebtoken::encode(&self.header, &claims, &self.key).map_err(|_| MintError)?;
        Ok((token, claims.exp))
    }

    /// How long a credential lives, in seconds.
    pub const LIFETIME_SECS: u64 = self::LIFETIME_SECS;
}

/// How many verified credentials an [`InternalVerifier`] remembers: the
/// edge reuses one per user for most of its minute.
const CREDENTIAL_CACHE_ENTRIES: usize = 1024;

/// Verifies internal credentials (the tasks side). A credential's signature
/// is checked once; its time rules on every call ([`crate::cache`]).
pub struct InternalVerifier {
    key: PinnedKey,
    rules: Rules,
    cache: VerifiedCache<UserId>,
}

impl InternalVerifier {
    pub fn new(secret: Option<&SecretString>) -> Result<Self, SettingsError> {
        let secret = checked_secret(SECRET_NAME, secret)?;
        Ok(Self {
            key: PinnedKey::hs256(secret.expose_secret().as_bytes()),
            rules: Rules::new(
                INTERNAL_ISSUER,
                &[INTERNAL_AUDIENCE],
                LEEWAY_SECS,
                LIFETIME_SECS,
            ),
            cache: VerifiedCache::new(CREDENTIAL_CACHE_ENTRIES),
        })
    }

    /// The user the credential was minted for.
    pub fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`Self::verify`] with the cache's clock at `now`.
    fn verify_at(&self, token: &str, now: u64) -> Result<UserId, TokenError> {
        if token.len() > crate::MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let hash = token_hash(token);
        if let Some(hit) = self.cache.get(&hash, 0, now) {
            return hit;
        }
        let header = jwt::inspect(token)?;
        let (claims, limits) = jwt::decode_timed(token, &header, &self.key, &self.rules)?;
        if let Some(limits) = limits {
            self.cache
                .insert(hash, claims.user_id.clone(), limits, 0, now);
        }
        Ok(claims.user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn minted_credential_verifies_and_names_its_user() {
        let s = secret("internal-secret-internal-secret-0123");
        let signer = InternalSigner::new(Some(&s)).expect("signer");
        let verifier = InternalVerifier::new(Some(&s)).expect("verifier");
        let user = UserId::parse("user-1").expect("a user id");
        let token = signer.mint(&user).expect("mint");
        assert_eq!(verifier.verify(&token), Ok(user));
    }

    #[test]
    fn credential_from_another_secret_is_refused() {
        let signer =
            InternalSigner::new(Some(&secret("one-secret-one-secret-one-secret-1"))).expect("s");
        let verifier =
            InternalVerifier::new(Some(&secret("two-secret-two-secret-two-secret-2"))).expect("v");
        let token = signer
            .mint(&UserId::parse("user-1").expect("a user id"))
            .expect("mint");
        assert_eq!(verifier.verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_cached_credential_still_expires() {
        let s = secret("internal-secret-internal-secret-0123");
        let signer = InternalSigner::new(Some(&s)).expect("signer");
        let verifier = InternalVerifier::new(Some(&s)).expect("verifier");
        let user = UserId::parse("user-1").expect("a user id");
        let (token, exp) = signer
            .mint_at(&user, jsonwebtoken::get_current_timestamp())
            .expect("mint");
        assert_eq!(verifier.verify(&token), Ok(user.clone()));
        assert_eq!(verifier.cache.len(), 1);
        assert_eq!(verifier.verify(&token), Ok(user));
        assert_eq!(
            verifier.verify_at(&token, exp + LEEWAY_SECS + 1),
            Err(TokenError::Expired)
        );
        assert!(verifier.cache.is_empty());
        // Refusals are not cached.
        let other = InternalVerifier::new(Some(&secret("two-secret-two-secret-two-secret-2")))
            .expect("verifier");
        assert_eq!(other.verify(&token), Err(TokenError::BadSignature));
        assert!(other.cache.is_empty());
    }

    #[test]
    fn short_or_missing_internal_secret_is_refused() {
        assert!(matches!(
            InternalSigner::new(Some(&secret("short"))),
            Err(SettingsError::ShortSecret { .. })
        ));
        assert!(matches!(
            InternalVerifier::new(None),
            Err(SettingsError::MissingSecret(_))
        ));
    }
}
