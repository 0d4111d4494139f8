//! The claim rules, on a payload whose signature is already verified:
//! `exp` (required, a whole number of seconds), `nbf`, `iss` (one string,
//! equal to the configured issuer), `aud` (a string or an array of strings,
//! one of them a configured audience), the maximum lifetime, and `sub`.
//! Each refusal says what was expected and, where it helps, what was
//! received and the likely cause on Better Auth's side.

use serde_json::{Map, Value};

use super::Rules;
use crate::{Claims, TokenError, UserId};

/// An `exp` before this (one year after the epoch) is a duration that
/// Better Auth took as an absolute time.
const IN_1970: u64 = 365 * 24 * 3600;

/// The verified claims, or the first rule they break.
pub fn check(claims: &Map<String, Value>, rules: &Rules, now: u64) -> Result<Claims, TokenError> {
    let present = |name: &'static str| match claims.get(name) {
        None | Some(Value::Null) => Err(TokenError::MissingClaim(name)),
        Some(value) => Ok(value),
    };
    let exp = present("exp")?;
    let iss = present("iss")?;
    let aud = present("aud")?;
    let exp = exp.as_u64().ok_or(TokenError::InvalidClaim("exp"))?;
    let nbf = match claims.get("nbf") {
        None | Some(Value::Null) => None,
        Some(nbf) => Some(nbf.as_u64().ok_or(TokenError::InvalidClaim("nbf"))?),
    };

    if exp < now.saturating_sub(rules.leeway_secs) {
        let iat = claims.get("iat").and_then(Value::as_u64);
        let absolute = exp < IN_1970 || iat.is_some_and(|iat| exp < iat);
        return Err(if absolute {
            TokenError::ExpirationNotADuration
        } else {
            TokenError::Expired
        });
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(rules.leeway_secs)) {
        return Err(TokenError::NotYetValid);
    }

    // RFC 7519 §4.1.1: `iss` is one string, compared exactly.
    let iss = iss.as_str().ok_or(TokenError::InvalidClaim("iss"))?;
    if iss != rules.issuer {
        return Err(TokenError::WrongIssuer {
            expected: rules.issuer.clone(),
            received: shown(iss),
        });
    }
    // RFC 7519 §4.1.3: `aud` is one string or an array of them; we must be
    // one of them.
    let audiences: Vec<&str> = match aud {
        Value::String(aud) => vec![aud.as_str()],
        Value::Array(values) => values
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or(TokenError::InvalidClaim("aud"))?,
        _ => return Err(TokenError::InvalidClaim("aud")),
    };
    if !audiences
        .iter()
        .any(|aud| rules.audiences.iter().any(|a| a == aud))
    {
        return Err(TokenError::WrongAudience {
            expected: rules.audiences.clone(),
            received: audiences.iter().take(4).map(|aud| shown(aud)).collect(),
        });
    }

    if exp.saturating_sub(now) > rules.max_lifetime_secs.saturating_add(rules.leeway_secs) {
        return Err(TokenError::LifetimeTooLong);
    }
    let expires_at = i64::try_from(exp).map_err(|_| TokenError::LifetimeTooLong)?;
    let user_id = subject(claims.get("sub"))?;
    let session_id = session(claims.get("sid"))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(Claims {
        user_id,
        email: text("email"),
        name: text("name"),
        expires_at,
        session_id,
    })
}

/// The `sid` claim (Better Auth's session id), when present: a non-empty
/// string of at most 255 bytes.
fn session(sid: Option<&Value>) -> Result<Option<String>, TokenError> {
    match sid {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(sid)) if !sid.is_empty() && sid.len() <= super::MAX_SUBJECT_BYTES => {
            Ok(Some(sid.clone()))
        }
        Some(_) => Err(TokenError::InvalidClaim("sid")),
    }
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

/// A claim value from the token, safe to quote in a log line, a problem
/// body and `error_description`: letters, digits and the URL punctuation
/// that cannot start markup or a format directive; every other character
/// (a space, `%`, `<`, a quote…) shows as `*`, so a difference stays
/// visible. At most 100 characters (then `...`).
pub fn shown(value: &str) -> String {
    const MAX: usize = 100;
    let mut kept: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._~:/@+,;=?&#!$()".contains(c) {
                c
            } else {
                '*'
            }
        })
        .take(MAX + 1)
        .collect();
    if kept.len() > MAX {
        kept.truncate(MAX);
        kept.push_str("...");
    }
    kept
}
