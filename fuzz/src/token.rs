//! Token inputs. A fuzz input is a 5-byte prefix, then a header and a
//! payload separated by one `0xFF` byte:
//!
//! - prefix[0] % 3: `0` the rest is the token itself (raw); `1` header and
//!   payload signed with a real key; `2` the same, then one byte of the
//!   token XOR-ed with prefix[4] at position prefix[2..4] (tampered);
//! - prefix[1]: which key signs (the targets with several keys);
//! - in the payload, `NOW` is replaced by the current Unix time, so a seed
//!   stays valid however old it is.
//!
//! Signed cases put the fuzzer behind the signature: it explores the claim
//! and header rules with tokens whose signature is good.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// How the token was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Raw,
    Signed,
    /// Signed, then changed: must never verify.
    Tampered,
}

/// A decoded fuzz input.
pub struct TokenCase<'a> {
    pub kind: Kind,
    pub key: u8,
    position: usize,
    xor: u8,
    pub header: &'a [u8],
    pub payload: Vec<u8>,
    pub raw: &'a [u8],
}

impl<'a> TokenCase<'a> {
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (prefix, rest) = data.split_at_checked(5)?;
        let kind = match prefix[0] % 3 {
            0 => Kind::Raw,
            1 => Kind::Signed,
            _ => Kind::Tampered,
        };
        let (header, payload) = match rest.iter().position(|b| *b == 0xFF) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        Some(Self {
            kind,
            key: prefix[1],
            position: usize::from(u16::from_be_bytes([prefix[2], prefix[3]])),
            xor: prefix[4],
            header,
            payload: with_now(payload),
            raw: rest,
        })
    }

    /// The token to verify, given how to sign `header.payload`; `None` when
    /// a raw input is not UTF-8 (a header value never is anything else).
    pub fn token(&self, sign: impl FnOnce(&[u8], &[u8]) -> String) -> Option<String> {
        match self.kind {
            Kind::Raw => std::str::from_utf8(self.raw).ok().map(str::to_owned),
            Kind::Signed => Some(sign(self.header, &self.payload)),
            Kind::Tampered => {
                let mut token = sign(self.header, &self.payload).into_bytes();
                let at = self.position % token.len().max(1);
                if let Some(byte) = token.get_mut(at) {
                    *byte ^= self.xor;
                }
                String::from_utf8(token).ok()
            }
        }
    }

    /// For a tampered case: whether the change left the token as it was
    /// signed (XOR with 0).
    pub fn unchanged(&self) -> bool {
        self.xor == 0
    }
}

/// `header.payload` signed with HS256 and `secret`, as the web app (and the
/// edge, for the internal credential) sign.
pub fn sign_hs256(secret: &str, header: &[u8], payload: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
            .expect("HMAC");
    format!("{message}.{signature}")
}

/// What a target checks once `token` (made from `case`) verified as
/// `user_id`: it was not tampered with, and it meets every rule.
pub fn check_verified(case: &TokenCase, token: &str, user_id: &str, expect: &Expect) {
    assert!(
        case.kind != Kind::Tampered || case.unchanged(),
        "a tampered token verified: {token}"
    );
    check_accepted(token, user_id, expect);
}

/// `NOW` → the current Unix time.
fn with_now(payload: &[u8]) -> Vec<u8> {
    let now = jsonwebtoken::get_current_timestamp().to_string();
    let mut out = Vec::with_capacity(payload.len() + 8);
    let mut rest = payload;
    while let Some(i) = rest.windows(3).position(|w| w == b"NOW") {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(now.as_bytes());
        rest = &rest[i + 3..];
    }
    out.extend_from_slice(rest);
    out
}

/// What the verifier was configured with.
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway: u64,
    pub max_lifetime: u64,
    /// The algorithm names of the keys that may have signed (`"HS256"` …).
    pub algorithms: &'a [&'a str],
}

/// Slack for the clock moving between signing and this check.
const SLACK_SECS: u64 = 5;

/// Panics (a fuzz finding) unless an accepted token meets every rule of
/// DESIGN.md, read here independently of auth-core: size, header, `alg`,
/// `iss`, `aud`, `exp`, `nbf`, lifetime, `sub`.
pub fn check_accepted(token: &str, user_id: &str, expect: &Expect) {
    assert!(
        token.len() <= auth_core::MAX_TOKEN_BYTES,
        "accepted an oversized token"
    );
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "accepted a token without three segments");
    let object = |segment: &str, what: &str| -> Map<String, Value> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .unwrap_or_else(|_| panic!("accepted a token whose {what} is not base64url"));
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("accepted a token whose {what} is not a JSON object"))
    };
    let header = object(segments[0], "header");
    let claims = object(segments[1], "payload");

    for name in ["crit", "jku", "x5u", "jwk", "x5c"] {
        assert!(
            !header.contains_key(name),
            "accepted a token with header {name}"
        );
    }
    let alg = header.get("alg").and_then(Value::as_str);
    assert!(
        alg.is_some_and(|alg| expect.algorithms.contains(&alg)),
        "accepted alg {alg:?}, expected one of {:?}",
        expect.algorithms
    );

    assert_eq!(
        claims.get("iss").and_then(Value::as_str),
        Some(expect.issuer),
        "accepted a wrong iss"
    );
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expect.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expect.audience)),
        _ => false,
    };
    assert!(audience_ok, "accepted a wrong aud: {:?}", claims.get("aud"));

    let now = jsonwebtoken::get_current_timestamp();
    let exp = claims.get("exp").and_then(Value::as_u64);
    let exp = exp.unwrap_or_else(|| panic!("accepted exp {:?}", claims.get("exp")));
    assert!(
        exp + expect.leeway + SLACK_SECS >= now,
        "accepted an expired token"
    );
    assert!(
        exp.saturating_sub(now) <= expect.max_lifetime + expect.leeway,
        "accepted a lifetime over the maximum"
    );
    match claims.get("nbf") {
        None => {}
        Some(nbf) => {
            let nbf = nbf
                .as_u64()
                .unwrap_or_else(|| panic!("accepted nbf {nbf:?}"));
            assert!(
                nbf <= now + expect.leeway + SLACK_SECS,
                "accepted a token not yet valid"
            );
        }
    }

    let sub = claims.get("sub").and_then(Value::as_str);
    assert_eq!(sub, Some(user_id), "the user id is not the token's sub");
    let sub = sub.unwrap_or_default();
    assert!(
        !sub.is_empty() && sub.len() <= 255,
        "accepted a sub of {} bytes",
        sub.len()
    );
    assert!(
        !sub.chars().any(char::is_control),
        "accepted a sub with control characters"
    );
}
