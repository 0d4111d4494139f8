//! The rules every token meets, whatever key checks it (RFC 8725, RFC 7519):
//! size limit, header parameters, algorithm allow-list, signature, `exp`,
//! `nbf`, `iss`, `aud`, `sub`, and a maximum lifetime.
//!
//! [`inspect`] runs before any key is chosen; [`decode`] checks the rest once
//! the key (pinned to one algorithm) is known.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

use crate::{Claims, MAX_TOKEN_BYTES, TokenError, UserId};

/// Header parameters that would let a token choose or describe its own key,
/// or demand processing we do not do: a token carrying any of them is refused.
pub const FORBIDDEN_HEADERS: [&str; 5] = ["crit", "jku", "x5u", "jwk", "x5c"];

/// The algorithms any key may be pinned to.
pub const ALLOWED_ALGORITHMS: [Algorithm; 5] = [
    Algorithm::HS256,
    Algorithm::EdDSA,
    Algorithm::ES256,
    Algorithm::RS256,
    Algorithm::PS256,
];

/// The longest `sub` accepted, in bytes.
pub const MAX_SUBJECT_BYTES: usize = crate::user_id::MAX_USER_ID_BYTES;

/// What a token's header says about the key that should verify it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// A verification key together with the one algorithm it may verify.
pub struct PinnedKey {
    pub alg: Algorithm,
    pub key: DecodingKey,
    /// For EdDSA keys, the same key, to check signatures strictly (see
    /// [`verify_ed25519_strictly`]) before the JWT library checks the rest.
    pub ed25519: Option<ed25519_dalek::VerifyingKey>,
}

/// RFC 8032 verification with the checks plain verification skips (ed25519-
/// dalek's `verify_strict`): no small-order key or `R`, canonical `S`. A
/// weak key (e.g. the identity point) would otherwise accept a forged
/// signature (`R` = identity, `S` = 0) on any token.
fn verify_ed25519_strictly(
    token: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<(), TokenError> {
    let (message, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed(
        "expected three dot-separated segments",
    ))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed("segment is not base64url"))?;
    let signature =
        ed25519_dalek::Signature::from_slice(&signature).map_err(|_| TokenError::BadSignature)?;
    key.verify_strict(message.as_bytes(), &signature)
        .map_err(|_| TokenError::BadSignature)
}

/// Checks the token's size, shape and header, before any key is chosen.
pub fn inspect(token: &str) -> Result<TokenHeader, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(TokenError::Malformed(
            "expected three dot-separated segments",
        ));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(TokenError::Malformed("empty segment"));
    }
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed("header is not base64url"))?;
    let header: Map<String, Value> = serde_json::from_slice(&header)
        .map_err(|_| TokenError::Malformed("header is not a JSON object"))?;
    if let Some(name) = FORBIDDEN_HEADERS.iter().find(|n| header.contains_key(**n)) {
        return Err(TokenError::ForbiddenHeader(name));
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg,
        Some(_) => return Err(TokenError::Malformed("alg is not a string")),
        None => return Err(TokenError::Malformed("header has no alg")),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(TokenError::AlgorithmNone);
    }
    let alg = alg
        .parse::<Algorithm>()
        .ok()
        .filter(|alg| ALLOWED_ALGORITHMS.contains(alg))
        .ok_or_else(|| TokenError::AlgorithmNotAllowed(printable(alg)))?;
    if signature.is_empty() {
        return Err(TokenError::Malformed("empty signature"));
    }
    let kid = match header.get("kid") {
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(TokenError::Malformed("kid is not a string")),
        None => None,
    };
    Ok(TokenHeader { alg, kid })
}

/// The expected issuer and audience, and the time limits, for one kind of token.
#[derive(Debug, Clone)]
pub struct Rules {
    validations: Vec<(Algorithm, Validation)>,
    leeway_secs: u64,
    max_lifetime_secs: u64,
}

impl Rules {
    pub fn new(issuer: &str, audience: &str, leeway_secs: u64, max_lifetime_secs: u64) -> Self {
        let validations = ALLOWED_ALGORITHMS
            .into_iter()
            .map(|alg| {
                let mut validation = Validation::new(alg);
                validation.leeway = leeway_secs;
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.set_issuer(&[issuer]);
                validation.set_audience(&[audience]);
                validation.set_required_spec_claims(&["exp", "iss", "aud"]);
                (alg, validation)
            })
            .collect();
        Self {
            validations,
            leeway_secs,
            max_lifetime_secs,
        }
    }

    fn validation(&self, alg: Algorithm) -> Result<&Validation, TokenError> {
        self.validations
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, v)| v)
            .ok_or(TokenError::AlgorithmMismatch)
    }
}

/// Verifies the signature with `key` and checks every claim rule. The caller
/// has already run [`inspect`] on the same token.
pub fn decode(
    token: &str,
    header: &TokenHeader,
    key: &PinnedKey,
    rules: &Rules,
) -> Result<Claims, TokenError> {
    if header.alg != key.alg {
        return Err(TokenError::AlgorithmMismatch);
    }
    let validation = rules.validation(key.alg)?;
    if let Some(ed25519) = &key.ed25519 {
        verify_ed25519_strictly(token, ed25519)?;
    }
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, validation)
        .map_err(from_jsonwebtoken)?
        .claims;

    // jsonwebtoken also accepts an array of issuers that contains the
    // expected one; RFC 7519 §4.1.1 makes `iss` a single string, and the
    // rule is an exact match.
    if !matches!(claims.get("iss"), Some(Value::String(_))) {
        return Err(TokenError::InvalidClaim("iss"));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or(TokenError::InvalidClaim("exp"))?;
    let now = jsonwebtoken::get_current_timestamp();
    if exp.saturating_sub(now) > rules.max_lifetime_secs.saturating_add(rules.leeway_secs) {
        return Err(TokenError::LifetimeTooLong);
    }
    let expires_at = i64::try_from(exp).map_err(|_| TokenError::LifetimeTooLong)?;
    let user_id = subject(claims.get("sub"))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(Claims {
        user_id,
        email: text("email"),
        name: text("name"),
        expires_at,
    })
}

/// The `sub` claim as a [`UserId`]: the one place a token's subject is parsed.
fn subject(sub: Option<&Value>) -> Result<UserId, TokenError> {
    match sub {
        None | Some(Value::Null) => Err(TokenError::MissingClaim("sub")),
        Some(Value::String(sub)) => {
            UserId::parse(sub.as_str()).map_err(|invalid| TokenError::InvalidSubject(invalid.0))
        }
        Some(_) => Err(TokenError::InvalidSubject("not a string")),
    }
}

/// An attacker-chosen header value, cut and cleaned so it is safe to log and
/// to quote in `error_description`.
fn printable(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(16)
        .collect()
}

fn from_jsonwebtoken(error: jsonwebtoken::errors::Error) -> TokenError {
    match error.into_kind() {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim_name(&claim)),
        ErrorKind::InvalidClaimFormat(claim) => TokenError::InvalidClaim(claim_name(&claim)),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::UnsupportedAlgorithm => TokenError::AlgorithmMismatch,
        ErrorKind::Base64(_) => TokenError::Malformed("segment is not base64url"),
        ErrorKind::Json(_) => TokenError::Malformed("payload is not a JSON object"),
        ErrorKind::Utf8(_) => TokenError::Malformed("segment is not UTF-8"),
        _ => TokenError::Malformed("token could not be verified"),
    }
}

fn claim_name(claim: &str) -> &'static str {
    match claim {
        "exp" => "exp",
        "nbf" => "nbf",
        "iss" => "iss",
        "aud" => "aud",
        "sub" => "sub",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ED25519_IDENTITY, claims, forged_ed25519_token};

    const URL: &str = "http://localhost:3000";

    /// The identity-point key, pinned without the load-time check.
    fn weak_key(strict: bool) -> PinnedKey {
        let x = URL_SAFE_NO_PAD.encode(ED25519_IDENTITY);
        PinnedKey {
            alg: Algorithm::EdDSA,
            key: DecodingKey::from_ed_components(&x).expect("a point"),
            ed25519: strict.then(|| {
                ed25519_dalek::VerifyingKey::from_bytes(&ED25519_IDENTITY).expect("a point")
            }),
        }
    }

    /// Even a weak key that got past the JWKS check does not verify the
    /// classic forgery (`R` = identity, `S` = 0): Ed25519 is verified
    /// strictly. (Plain verification, `strict: false`, accepts it.)
    #[test]
    fn ed25519_signatures_are_verified_strictly() {
        let token = forged_ed25519_token("weak", &claims("mallory", URL));
        let header = inspect(&token).expect("well-formed");
        let rules = Rules::new(URL, URL, 0, 900);
        assert_eq!(
            decode(&token, &header, &weak_key(true), &rules).map(|c| c.user_id),
            Err(TokenError::BadSignature)
        );
        assert!(
            decode(&token, &header, &weak_key(false), &rules).is_ok(),
            "the forgery this guards against"
        );
    }
}
