//! A token looked at claim by claim, before any signature check, so each
//! mismatch gets its own line and fix: what kind of credential it is, its
//! size, algorithm and `kid` against the mode and the JWKS, `iss` and `aud`
//! against what is configured, the shape of `sub`, and its lifetime.

use auth_core::{JwtMode, KeySet, Lookup, MAX_TOKEN_BYTES, TokenError, UserId};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::config::Setup;
use crate::report::Check;

/// Above this many bytes a token is reported as large (the edge refuses
/// tokens over [`MAX_TOKEN_BYTES`]; proxies limit header sizes too).
pub const LARGE_TOKEN_BYTES: usize = 2 * 1024;

/// Better Auth's cookie-cache JWT (`session.cookieCache` with `strategy:
/// "jwt"`): never an API token.
const SESSION_CACHE: &str = "better-auth:session-cache";

/// A JWT's decoded header and payload (not verified).
pub struct Decoded {
    pub header: Map<String, Value>,
    pub payload: Map<String, Value>,
}

/// The header and payload of a JWT, or the line saying what the
/// credential is instead.
pub fn decode(token: &str) -> Result<Decoded, Check> {
    let name = "token format";
    let segments: Vec<&str> = token.split('.').collect();
    let not_a_jwt = |what: &str| {
        Check::fail(
            name,
            format!("not a JWT: {what}"),
            "send the JWT from GET /api/auth/token (or the set-auth-jwt header of /api/auth/get-session), not the session token or cookie",
        )
    };
    let part = |segment: &str| {
        URL_SAFE_NO_PAD
            .decode(segment)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
    };
    match segments.as_slice() {
        [_] => Err(not_a_jwt(
            "no dots, like a Better Auth session token (better-auth.session_token)",
        )),
        [_, _] => Err(not_a_jwt(
            "two parts, like a signed session cookie value (token.signature)",
        )),
        [header, payload, _] => match (part(header), part(payload)) {
            (Some(header), Some(payload)) => Ok(Decoded { header, payload }),
            _ => Err(not_a_jwt("its header or payload is not base64url JSON")),
        },
        _ => Err(not_a_jwt("more than three dot-separated parts")),
    }
}

/// Every claim check for `token`, decoded, at `now` (Unix
/// seconds); `keys` is the JWKS as fetched, when there is one.
pub fn checks(
    token: &str,
    decoded: &Decoded,
    setup: &Setup,
    keys: Option<&KeySet>,
    now: u64,
) -> Vec<Check> {
    let mut checks = vec![size(token.len(), &decoded.payload)];
    if is_session_cache(decoded) {
        checks.push(Check::fail(
            "token type",
            "Better Auth's cookie-cache JWT (better-auth.session_data), not an API token",
            "send the JWT from GET /api/auth/token instead",
        ));
        return checks;
    }
    checks.push(algorithm(
        token,
        &decoded.header,
        setup.auth.auth_jwt_mode,
        keys,
    ));
    checks.push(issuer(decoded.payload.get("iss"), &setup.issuer));
    checks.push(audience(decoded.payload.get("aud"), &setup.audiences));
    checks.push(subject(decoded.payload.get("sub")));
    checks.push(lifetime(
        &decoded.payload,
        now,
        setup.auth.auth_leeway_secs,
        setup.auth.auth_max_token_lifetime_secs,
    ));
    checks
}

fn is_session_cache(decoded: &Decoded) -> bool {
    let text =
        |map: &Map<String, Value>, name| map.get(name).and_then(Value::as_str).map(str::to_owned);
    text(&decoded.payload, "aud").as_deref() == Some(SESSION_CACHE)
        || text(&decoded.header, "typ").is_some_and(|typ| typ.contains("session-cache"))
}

/// The token's size, and its largest claims when it is large.
pub fn size(bytes: usize, payload: &Map<String, Value>) -> Check {
    let name = "token size";
    let largest = || {
        let mut claims: Vec<(usize, &String)> = payload
            .iter()
            .map(|(name, value)| (value.to_string().len(), name))
            .collect();
        claims.sort_by(|a, b| b.cmp(a));
        claims
            .iter()
            .take(3)
            .map(|(len, name)| format!("{name} {len} B"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fix = "keep the payload small with Better Auth's jwt.definePayload (the default payload carries the whole user row, image included, which can be a large data: URI)";
    if bytes > MAX_TOKEN_BYTES {
        Check::fail(
            name,
            format!(
                "{bytes} bytes, over the backend's 8 KiB limit (largest claims: {})",
                largest()
            ),
            fix,
        )
    } else if bytes > LARGE_TOKEN_BYTES {
        Check::warn(
            name,
            format!(
                "{bytes} bytes, large for a header sent with every call (largest claims: {})",
                largest()
            ),
            fix,
        )
    } else {
        Check::pass(name, format!("{bytes} bytes"))
    }
}

/// The header's `alg` (and `kid`) against the mode and the published keys.
pub fn algorithm(
    token: &str,
    header: &Map<String, Value>,
    mode: JwtMode,
    keys: Option<&KeySet>,
) -> Check {
    let name = "token alg";
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("(none)");
    let kid = header.get("kid").and_then(Value::as_str);
    let shown = kid.map_or_else(
        || format!("{alg}, no kid"),
        |kid| format!("{alg}, kid {kid:?}"),
    );
    let hs256 = alg == "HS256";
    match mode {
        JwtMode::Hs256 if !hs256 => {
            return Check::fail(
                name,
                format!("{shown}: this backend is in hs256 mode and accepts only HS256"),
                "the web app signs with its own key pairs: set AUTH_JWT_MODE=jwks on the backend, or hs256 in the web app",
            );
        }
        JwtMode::Jwks if hs256 => {
            return Check::fail(
                name,
                format!("{shown}: this backend is in jwks mode and never accepts HS256"),
                "the web app signs HS256: run it with AUTH_JWT_MODE=jwks, or set AUTH_JWT_MODE=hs256 (with BETTER_AUTH_SECRET) on the backend",
            );
        }
        _ if hs256 => return Check::pass(name, shown),
        _ => {}
    }
    let Some(keys) = keys else {
        return Check::pass(name, format!("{shown} (no JWKS to compare with)"));
    };
    let lookup = match auth_core::jwt::inspect(token) {
        Ok(header) => keys.lookup(&header),
        Err(TokenError::AlgorithmNotAllowed(alg)) => {
            let reason = keys
                .unsupported_algorithm(&alg)
                .unwrap_or_else(|| format!("the backend does not verify {alg}"));
            Lookup::Unsupported(reason)
        }
        Err(error) => {
            return Check::fail(
                name,
                format!("{shown}: {error}"),
                "Better Auth does not make such tokens: this one comes from somewhere else",
            );
        }
    };
    match lookup {
        Lookup::Found(_) => Check::pass(name, format!("{shown}: a key the JWKS publishes")),
        Lookup::Unsupported(reason) => Check::fail(
            name,
            format!("{shown}: the backend cannot verify it: {reason}"),
            "configure Better Auth's jwks.keyPairConfig with an algorithm the backend verifies, and rotate",
        ),
        Lookup::Ambiguous => Check::fail(
            name,
            format!("{shown}: no kid, and the JWKS has several {alg} keys"),
            "Better Auth always sets kid: this token comes from somewhere else",
        ),
        Lookup::Missing => Check::fail(
            name,
            format!("{shown}: the JWKS publishes no such key"),
            "the token comes from another Better Auth instance (another database or secret), or AUTH_JWKS_URL points at another one",
        ),
    }
}

/// `iss` compared exactly with the configured issuer.
pub fn issuer(iss: Option<&Value>, expected: &str) -> Check {
    let name = "token iss";
    match iss {
        Some(Value::String(iss)) if iss == expected => Check::pass(name, format!("{iss:?}")),
        Some(Value::String(iss)) => Check::fail(
            name,
            format!(
                "{iss:?}, expected {expected:?}{}",
                slash_hint(iss, expected)
            ),
            "set AUTH_JWT_ISSUER (default BETTER_AUTH_URL) on the backend to the value Better Auth puts in iss (its jwt.issuer, default its baseURL), or change Better Auth's",
        ),
        _ => Check::fail(
            name,
            "missing or not a string",
            "Better Auth always sets iss: this token comes from somewhere else",
        ),
    }
}

/// `aud` (a string or a list) must name one of the accepted audiences.
pub fn audience(aud: Option<&Value>, accepted: &[String]) -> Check {
    let name = "token aud";
    let received: Vec<&str> = match aud {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if received.is_empty() {
        return Check::fail(
            name,
            "missing",
            "Better Auth always sets aud: this token comes from somewhere else",
        );
    }
    if received.iter().any(|aud| accepted.iter().any(|a| a == aud)) {
        return Check::pass(name, format!("{received:?}"));
    }
    let hint = received
        .iter()
        .flat_map(|r| accepted.iter().map(move |a| slash_hint(r, a)))
        .find(|hint| !hint.is_empty())
        .unwrap_or_default();
    Check::fail(
        name,
        format!("{received:?}, none of the accepted {accepted:?}{hint}"),
        "set AUTH_JWT_AUDIENCE (default BETTER_AUTH_URL) on the backend to include Better Auth's audience (its jwt.audience, default its baseURL), or change Better Auth's",
    )
}

/// The common near-miss: the same URL with and without a trailing slash.
fn slash_hint(received: &str, expected: &str) -> &'static str {
    if received.trim_end_matches('/') == expected.trim_end_matches('/') {
        " (they differ only by a trailing slash, and iss/aud are compared exactly)"
    } else {
        ""
    }
}

/// `sub` must be a user id the edge's paths can carry.
pub fn subject(sub: Option<&Value>) -> Check {
    let name = "token sub";
    let Some(Value::String(sub)) = sub else {
        return Check::fail(
            name,
            "missing or not a string",
            "Better Auth sets sub to the user id: check jwt.getSubject",
        );
    };
    match UserId::parse(sub.as_str()) {
        Err(invalid) => Check::fail(
            name,
            invalid.to_string(),
            "sub must be the user id: check Better Auth's jwt.getSubject",
        ),
        Ok(_) if sub.contains('@') => Check::warn(
            name,
            format!(
                "{sub:?} looks like an e-mail address, while the edge's paths are /api/{{user id}}/tasks"
            ),
            "unless the web app builds its paths from the same value, remove jwt.getSubject so sub is the user id",
        ),
        Ok(_) => Check::pass(name, format!("{sub:?}")),
    }
}

/// `exp` against `iat`, now, and the longest lifetime the backend accepts.
pub fn lifetime(payload: &Map<String, Value>, now: u64, leeway: u64, max_lifetime: u64) -> Check {
    let name = "token lifetime";
    let number = |claim| payload.get(claim).and_then(Value::as_u64);
    let Some(exp) = number("exp") else {
        return Check::fail(
            name,
            "no numeric exp",
            "Better Auth always sets exp: this token comes from somewhere else",
        );
    };
    let absolute_hint = "a numeric expirationTime in Better Auth is an absolute time: use a duration string such as '15m'";
    // Before 2001-09-09: nobody issues such a token on purpose.
    if exp < 1_000_000_000 || number("iat").is_some_and(|iat| exp < iat) {
        return Check::fail(
            name,
            format!("exp {exp} is before iat {}", number("iat").unwrap_or(0)),
            absolute_hint,
        );
    }
    if exp + leeway <= now {
        return Check::fail(
            name,
            format!("expired {}s ago", now - exp),
            "get a fresh token (GET /api/auth/token); if fresh tokens are expired, check the clocks",
        );
    }
    let left = exp.saturating_sub(now);
    let issued = number("iat").map_or_else(String::new, |iat| {
        format!(", issued for {}s", exp.saturating_sub(iat))
    });
    if left > max_lifetime + leeway {
        return Check::fail(
            name,
            format!(
                "expires in {left}s{issued}, more than AUTH_MAX_TOKEN_LIFETIME_SECS={max_lifetime}"
            ),
            "shorten Better Auth's jwt.expirationTime (e.g. '15m'), or raise AUTH_MAX_TOKEN_LIFETIME_SECS; if the lifetime is right, this machine's clock is behind",
        );
    }
    Check::pass(name, format!("expires in {left}s{issued}"))
}

#[cfg(test)]
mod tests;
