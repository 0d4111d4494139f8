//! The JWS algorithms a key may be pinned to, and the one signature check
//! for each: jsonwebtoken for HS256, ES256, RS256 and PS256; ed25519-dalek's
//! strict verification for EdDSA (never jsonwebtoken's plain one, which
//! accepts forgeries under a weak key); RustCrypto's `p521` for ES512, which
//! jsonwebtoken lacks.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
#[cfg(feature = "verifier")]
use p521::ecdsa::signature::Verifier;

use crate::TokenError;

/// A JWS algorithm (RFC 7518 names) this crate can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    HS256,
    EdDSA,
    ES256,
    ES512,
    RS256,
    PS256,
}

impl Alg {
    /// Every algorithm a key may be pinned to.
    pub const ALL: [Self; 6] = [
        Self::HS256,
        Self::EdDSA,
        Self::ES256,
        Self::ES512,
        Self::RS256,
        Self::PS256,
    ];

    /// The algorithm's JWS name, exactly as in a header (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
            Self::ES512 => "ES512",
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
        }
    }

    /// The algorithm a header's `alg` names (case-sensitive, as RFC 7515).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// jsonwebtoken's name for it, when jsonwebtoken verifies it here: not
    /// EdDSA (verified strictly by ed25519-dalek) nor ES512 (which it lacks).
    fn jsonwebtoken(self) -> Option<Algorithm> {
        match self {
            Self::HS256 => Some(Algorithm::HS256),
            Self::ES256 => Some(Algorithm::ES256),
            Self::RS256 => Some(Algorithm::RS256),
            Self::PS256 => Some(Algorithm::PS256),
            Self::EdDSA | Self::ES512 => None,
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A verification key together with the one algorithm it may verify.
/// Built only through its constructors, so the key always fits the algorithm.
pub struct PinnedKey {
    alg: Alg,
    key: Key,
}

/// Without the `verifier` feature (tasks: the internal credential only),
/// jsonwebtoken's keys alone: no EdDSA or ES512 key can be made.
enum Key {
    Jwt(DecodingKey),
    #[cfg(feature = "verifier")]
    Ed25519(ed25519_dalek::VerifyingKey),
    #[cfg(feature = "verifier")]
    P521(Box<p521::ecdsa::VerifyingKey>),
}

impl PinnedKey {
    /// An HS256 key: these bytes as the HMAC key.
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            alg: Alg::HS256,
            key: Key::Jwt(DecodingKey::from_secret(secret)),
        }
    }

    /// An EdDSA (Ed25519) key, verified strictly (ed25519-dalek's
    /// `verify_strict`: no small-order key or `R`, canonical `S`): a weak
    /// key would otherwise accept a forged signature (`R` = identity,
    /// `S` = 0) on any token.
    #[cfg(feature = "verifier")]
    pub fn ed25519(key: ed25519_dalek::VerifyingKey) -> Self {
        Self {
            alg: Alg::EdDSA,
            key: Key::Ed25519(key),
        }
    }

    /// A jsonwebtoken key for HS256, ES256, RS256 or PS256; `None` for
    /// EdDSA (use [`PinnedKey::ed25519`]) and ES512 ([`PinnedKey::es512`]).
    pub fn jsonwebtoken(alg: Alg, key: DecodingKey) -> Option<Self> {
        alg.jsonwebtoken()?;
        Some(Self {
            alg,
            key: Key::Jwt(key),
        })
    }

    /// An ES512 key from its P-521 affine coordinates (66 bytes each);
    /// `None` when they are not a point on the curve.
    #[cfg(feature = "verifier")]
    pub fn es512(x: &[u8], y: &[u8]) -> Option<Self> {
        if x.len() != 66 || y.len() != 66 {
            return None;
        }
        let mut sec1 = Vec::with_capacity(133);
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).ok()?;
        Some(Self {
            alg: Alg::ES512,
            key: Key::P521(Box::new(key)),
        })
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Checks `signature` (base64url, unpadded) over `message`
    /// (`header.payload` as sent).
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<(), TokenError> {
        // Checked for every key; read by the EdDSA and ES512 ones.
        #[cfg_attr(not(feature = "verifier"), expect(unused_variables))]
        let bytes = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed("signature is not base64url"))?;
        let valid = match &self.key {
            Key::Jwt(key) => {
                let alg = self
                    .alg
                    .jsonwebtoken()
                    .ok_or(TokenError::AlgorithmMismatch)?;
                jsonwebtoken::crypto::verify(signature, message, key, alg)
                    .map_err(|_| TokenError::AlgorithmMismatch)?
            }
            #[cfg(feature = "verifier")]
            Key::Ed25519(key) => ed25519_dalek::Signature::from_slice(&bytes)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok()),
            // JWS ES512 signatures are R || S, 66 bytes each (RFC 7518 §3.4).
            #[cfg(feature = "verifier")]
            Key::P521(key) => p521::ecdsa::Signature::from_slice(&bytes)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
        };
        if valid {
            Ok(())
        } else {
            Err(TokenError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{Rules, decode, inspect};
    use crate::testing::{ED25519_IDENTITY, claims, forged_ed25519_token};

    const URL: &str = "http://localhost:3000";

    /// Even a weak key that got past the JWKS check (the identity point,
    /// pinned without the load-time check) does not verify the classic
    /// forgery (`R` = identity, `S` = 0): Ed25519 is verified strictly.
    #[test]
    fn ed25519_signatures_are_verified_strictly() {
        let token = forged_ed25519_token("weak", &claims("mallory", URL));
        let header = inspect(&token).expect("well-formed");
        let rules = Rules::new(URL, &[URL], 0, 900);
        let key = ed25519_dalek::VerifyingKey::from_bytes(&ED25519_IDENTITY).expect("a point");
        assert_eq!(
            decode(&token, &header, &PinnedKey::ed25519(key), &rules).map(|c| c.user_id),
            Err(TokenError::BadSignature)
        );
        // The forgery this guards against: jsonwebtoken's plain check accepts it.
        let x = URL_SAFE_NO_PAD.encode(ED25519_IDENTITY);
        let plain = DecodingKey::from_ed_components(&x).expect("a point");
        let (message, signature) = token.rsplit_once('.').expect("three segments");
        assert!(
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), &plain, Algorithm::EdDSA)
                .unwrap_or(false)
        );
    }

    /// The strict check is the only one for EdDSA: no jsonwebtoken key can
    /// be pinned to it (nor to ES512, which jsonwebtoken lacks).
    #[test]
    fn eddsa_and_es512_keys_are_never_jsonwebtokens() {
        let x = URL_SAFE_NO_PAD.encode(ED25519_IDENTITY);
        let ed = || DecodingKey::from_ed_components(&x).expect("a point");
        assert!(PinnedKey::jsonwebtoken(Alg::EdDSA, ed()).is_none());
        assert!(PinnedKey::jsonwebtoken(Alg::ES512, ed()).is_none());
        assert!(PinnedKey::jsonwebtoken(Alg::RS256, ed()).is_some());
    }
}
