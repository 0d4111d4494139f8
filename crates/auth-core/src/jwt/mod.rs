//! The rules every token meets, whatever key checks it (RFC 8725, RFC 7519):
//! size limit, header parameters, algorithm allow-list, signature, `exp`,
//! `nbf`, `iss`, `aud`, `sub`, and a maximum lifetime.
//!
//! [`inspect`] runs before any key is chosen; [`decode`] checks the rest once
//! the key (pinned to one algorithm) is known. Before either, [`sent`] names
//! credentials that are not bearer JWTs at all (Better Auth's session token,
//! its cookie cache), so the refusal can say what was sent.

mod alg;
mod checks;
mod json;
pub mod sent;

use serde_json::Value;

pub use alg::{Alg, PinnedKey};
pub use checks::shown;
use json::Part;

use crate::cache::TimeLimits;
use crate::{Claims, MAX_TOKEN_BYTES, TokenError};

/// Header parameters that would let a token choose or describe its own key,
/// or demand processing we do not do: a token carrying any of them is refused.
pub const FORBIDDEN_HEADERS: [&str; 5] = ["crit", "jku", "x5u", "jwk", "x5c"];

/// The algorithms any key may be pinned to.
pub const ALLOWED_ALGORITHMS: [Alg; 6] = Alg::ALL;

/// The longest `sub` accepted, in bytes.
pub const MAX_SUBJECT_BYTES: usize = crate::user_id::MAX_USER_ID_BYTES;

/// What a token's header says about the key that should verify it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    pub alg: Alg,
    pub kid: Option<String>,
}

/// Checks the token's size, shape and header, before any key is chosen.
pub fn inspect(token: &str) -> Result<TokenHeader, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    if let Some(error) = sent::not_a_jwt(token) {
        return Err(error);
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
    let header = json::object(header, Part::Header).map_err(TokenError::Malformed)?;
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
    // The payload is not read here: nothing is decided from claims before
    // the signature is checked ([`decode`]; [`reworded`] for refusals).
    if sent::is_cookie_cache_header(&header) {
        return Err(TokenError::CookieCache);
    }
    let alg = Alg::from_name(alg)
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

/// The expected issuer and audiences, and the time limits, for one kind of
/// token.
#[derive(Debug, Clone)]
pub struct Rules {
    issuer: String,
    audiences: Vec<String>,
    leeway_secs: u64,
    max_lifetime_secs: u64,
}

impl Rules {
    /// `iss` must equal `issuer`; `aud` (a string or an array) must contain
    /// one of `audiences`.
    pub fn new(issuer: &str, audiences: &[&str], leeway_secs: u64, max_lifetime_secs: u64) -> Self {
        Self {
            issuer: issuer.to_owned(),
            audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
            leeway_secs,
            max_lifetime_secs,
        }
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
    decode_timed(token, header, key, rules).map(|(claims, _)| claims)
}

/// [`decode`], also giving the token's time claims with the rules they are
/// held to, for a [`crate::cache::VerifiedCache`]; `None` when they cannot
/// be re-checked later, so the token is not to be cached.
pub fn decode_timed(
    token: &str,
    header: &TokenHeader,
    key: &PinnedKey,
    rules: &Rules,
) -> Result<(Claims, Option<TimeLimits>), TokenError> {
    if header.alg != key.alg() {
        return Err(TokenError::AlgorithmMismatch);
    }
    let (message, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed(
        "expected three dot-separated segments",
    ))?;
    key.verify(message.as_bytes(), signature)?;
    let payload =
        message
            .split_once('.')
            .map(|(_, payload)| payload)
            .ok_or(TokenError::Malformed(
                "expected three dot-separated segments",
            ))?;
    let claims = json::object(payload, Part::Payload).map_err(TokenError::Malformed)?;
    if sent::is_cookie_cache_claims(&claims) {
        return Err(TokenError::CookieCache);
    }
    let verified = checks::check(&claims, rules, now())?;
    // `check` has accepted `exp` and `nbf` as whole numbers (or `nbf` as
    // absent), so both can be re-checked later from these.
    let limits = claims
        .get("exp")
        .and_then(Value::as_u64)
        .map(|exp| TimeLimits {
            exp,
            nbf: claims.get("nbf").and_then(Value::as_u64),
            leeway_secs: rules.leeway_secs,
            max_lifetime_secs: rules.max_lifetime_secs,
        });
    Ok((verified, limits))
}

/// `error`, the refusal of `token` after its header was read, or
/// [`TokenError::CookieCache`] when the token's payload is shaped like Better
/// Auth's session cookie cache. The only use of claims that were not
/// verified, and it must be one: a cookie cache signed with a key this
/// service does not hold (HS256 in `jwks` mode), or a forged one, can only
/// be named from what it says. It words a refusal and never accepts; a
/// token whose signature verifies has its claims checked in [`decode`].
/// Refusals of the token's framing (size, shape, header) are kept.
pub fn reworded(token: &str, error: TokenError) -> TokenError {
    match error {
        TokenError::TooLarge
        | TokenError::Malformed(_)
        | TokenError::ForbiddenHeader(_)
        | TokenError::AlgorithmNone
        | TokenError::SessionToken { .. }
        | TokenError::CookieCache
        | TokenError::Encrypted => error,
        _ => match token.split('.').nth(1) {
            Some(payload) if sent::is_cookie_cache_payload(payload) => TokenError::CookieCache,
            _ => error,
        },
    }
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
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

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use serde_json::json;

    use super::*;

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    /// A cookie-cache payload is not read before the signature: the header
    /// passes, the signature is refused, and only then does the payload word
    /// the refusal.
    #[test]
    fn unverified_claims_only_word_a_refusal() {
        let url = "http://localhost:3000";
        let cache = json!({"session": {"token": "t"}, "user": {"id": "u"}, "exp": 1});
        let token = format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(&json!({"alg": "HS256"})),
            b64(&cache)
        );
        let header = inspect(&token).expect("the header alone is fine");
        let key = PinnedKey::hs256(&[7; 32]);
        let refused = decode(&token, &header, &key, &Rules::new(url, &[url], 0, 900))
            .expect_err("not signed with this key");
        assert_eq!(refused, TokenError::BadSignature);
        assert_eq!(reworded(&token, refused), TokenError::CookieCache);
        // The framing refusals stay, and so does any refusal of a token
        // that does not look like a cookie cache.
        let framing = TokenError::Malformed("empty signature");
        assert_eq!(reworded(&token, framing.clone()), framing);
        let other = format!(
            "{}.{}.c2ln",
            b64(&json!({"alg": "HS256"})),
            b64(&json!({"sub": "u"}))
        );
        assert_eq!(
            reworded(&other, TokenError::BadSignature),
            TokenError::BadSignature
        );
    }
}
