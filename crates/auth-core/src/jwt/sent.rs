//! What a refused credential is, when it is one of Better Auth's that is not
//! a bearer JWT: the session token (opaque, no dots), the signed session
//! cookie value (`token.signature`, URL-encoded), or the session cookie
//! cache (`better-auth.session_data`). Checked from the shape only, never
//! echoed, and only ever to refuse with a better reason.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::TokenError;

/// The `typ` of the cookie-cache JWT the jwt plugin signs with its JWKS key
/// (`jwt({ sessionCookieCache: true })`; better-auth `cookies/jwt.ts`).
pub const COOKIE_CACHE_TYP: &str = "better-auth.session-cache+jwt";
/// The `aud` of that cookie-cache JWT.
pub const COOKIE_CACHE_AUDIENCE: &str = "better-auth:session-cache";

/// Why `token` is not a JWT at all, when it is a credential Better Auth
/// issues for something else.
pub fn not_a_jwt(token: &str) -> Option<TokenError> {
    match token.split('.').collect::<Vec<_>>().as_slice() {
        [whole] if is_compact_cookie_cache(whole) => Some(TokenError::CookieCache),
        [whole] if is_session_token(whole) => Some(TokenError::SessionToken { signed: false }),
        [value, signature] if is_session_token(value) && is_cookie_signature(signature) => {
            Some(TokenError::SessionToken { signed: true })
        }
        // Better Auth's `strategy: "jwe"` cookie cache (and any JWE) has five.
        [header, _, _, _, _] if has_enc(header) => Some(TokenError::Encrypted),
        _ => None,
    }
}

/// Whether a JWT's header is that of the jwt plugin's cookie cache (its `typ`).
pub fn is_cookie_cache_header(header: &Map<String, Value>) -> bool {
    header.get("typ").and_then(Value::as_str) == Some(COOKIE_CACHE_TYP)
}

/// Whether a JWT's claims are Better Auth's session cookie cache: the jwt
/// plugin's (its `aud`), or the core `strategy: "jwt"` one (HS256 with the
/// secret, the whole session and user as claims, no `sub`).
pub fn is_cookie_cache_claims(claims: &Map<String, Value>) -> bool {
    let audience = match claims.get("aud") {
        Some(Value::String(aud)) => aud == COOKIE_CACHE_AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a == COOKIE_CACHE_AUDIENCE),
        _ => false,
    };
    audience || is_session_data(claims)
}

/// [`is_cookie_cache_claims`] of a payload segment that was NOT verified:
/// only ever read to word a refusal ([`crate::jwt::reworded`]).
pub fn is_cookie_cache_payload(payload: &str) -> bool {
    decoded(payload).is_some_and(|claims| is_cookie_cache_claims(&claims))
}

/// `generateId(32)`: letters and digits. Other lengths are accepted too (a
/// custom generator), within reason.
fn is_session_token(value: &str) -> bool {
    (16..=128).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// better-call's `signCookieValue`: standard base64 of an HMAC-SHA-256 (44
/// characters, `=`-padded), as sent in the cookie (URL-encoded) or decoded.
fn is_cookie_signature(value: &str) -> bool {
    let decoded = value
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    decoded.len() == 44
        && decoded.ends_with('=')
        && decoded[..43]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The default (`strategy: "compact"`) cookie cache: base64url of
/// `{"session": …, "expiresAt": …, "signature": …}`.
fn is_compact_cookie_cache(value: &str) -> bool {
    decoded(value)
        .is_some_and(|data| data.contains_key("session") && data.contains_key("signature"))
}

/// A session-and-user claim set, as the cookie cache carries.
fn is_session_data(claims: &Map<String, Value>) -> bool {
    claims.get("session").is_some_and(Value::is_object)
        && claims.get("user").is_some_and(Value::is_object)
}

fn has_enc(header: &str) -> bool {
    decoded(header).is_some_and(|header| header.contains_key("enc"))
}

fn decoded(segment: &str) -> Option<Map<String, Value>> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn session_tokens_plain_and_signed() {
        let token = "Kq3vB1yZpR8sT0uWx4aC6dE9fG2hJ5kL";
        assert_eq!(
            not_a_jwt(token),
            Some(TokenError::SessionToken { signed: false })
        );
        let signature = "hT4b6Qm+Zr/0w9c2V1e8XyK3sJ5nL7pA0qD4fG6iH8k=";
        for cookie in [
            format!("{token}.{signature}"),
            format!("{token}.{}", urlencode(signature)),
        ] {
            assert_eq!(
                not_a_jwt(&cookie),
                Some(TokenError::SessionToken { signed: true }),
                "{cookie}"
            );
        }
        for other in [
            "short",
            "has spaces in it and is long enough",
            "a.b",
            "a.b.c",
        ] {
            assert_eq!(not_a_jwt(other), None, "{other}");
        }
    }

    fn urlencode(value: &str) -> String {
        value
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    }

    #[test]
    fn cookie_caches_of_each_strategy() {
        let compact = b64(&json!({"session": {}, "expiresAt": 1, "signature": "x"}));
        assert_eq!(not_a_jwt(&compact), Some(TokenError::CookieCache));
        let jwe = format!(
            "{}.a.b.c.d",
            b64(&json!({"alg": "dir", "enc": "A256CBC-HS512"}))
        );
        assert_eq!(not_a_jwt(&jwe), Some(TokenError::Encrypted));

        let object = |value: Value| value.as_object().cloned().expect("an object");
        assert!(is_cookie_cache_header(&object(
            json!({"alg": "EdDSA", "typ": COOKIE_CACHE_TYP})
        )));
        assert!(!is_cookie_cache_header(&object(json!({"alg": "HS256"}))));
        for (claims, cache) in [
            (json!({"aud": [COOKIE_CACHE_AUDIENCE]}), true),
            (json!({"aud": COOKIE_CACHE_AUDIENCE}), true),
            (
                json!({"session": {"token": "t"}, "user": {"id": "u"}}),
                true,
            ),
            (json!({"sub": "u", "aud": "http://localhost:3000"}), false),
        ] {
            assert_eq!(
                is_cookie_cache_claims(&object(claims.clone())),
                cache,
                "{claims}"
            );
            assert_eq!(is_cookie_cache_payload(&b64(&claims)), cache, "{claims}");
        }
        assert!(!is_cookie_cache_payload("not base64 JSON"));
    }
}
