//! Reading a JWKS document (RFC 7517) into a [`KeySet`], in two steps:
//! each JWK is pinned to one algorithm ([`pin`]), then the set is checked as
//! a whole (at most [`MAX_KEYS`] keys, no `kid` twice) and answers lookups
//! by a token's header. Keys we cannot or will not verify are kept aside
//! with the reason, so they can be reported and tokens under them refused
//! with that reason.

mod pin;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::jwt::{PinnedKey, TokenHeader};
use pin::pin;

/// The most keys read from one JWKS; any beyond are reported and ignored.
pub const MAX_KEYS: usize = 64;

/// A published key that will not verify anything, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedKey {
    /// The key's `kid`, when it has one (exact, for matching tokens).
    pub kid: Option<String>,
    /// The key's `alg`, cleaned for display, when it has one.
    pub alg: Option<String>,
    /// Why it is not used; safe to log and to send to clients.
    pub reason: String,
}

impl UnsupportedKey {
    /// One line for logs and readiness details.
    pub fn describe(&self) -> String {
        let kid = self.kid.as_deref().map_or_else(
            || "without kid".to_owned(),
            |kid| format!("kid {:?}", printable(kid, 64)),
        );
        format!("JWKS key {kid} is not used: {}", self.reason)
    }
}

/// One usable key.
struct Entry {
    kid: Option<String>,
    key: Arc<PinnedKey>,
}

/// The keys of one JWKS document.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<Entry>,
    unsupported: Vec<UnsupportedKey>,
}

/// What a key set holds for one token header.
pub enum Lookup {
    Found(Arc<PinnedKey>),
    /// The token's key is published but not usable: the reason.
    Unsupported(String),
    /// No `kid`, and several keys of the token's algorithm.
    Ambiguous,
    /// Nothing matches: the set may be out of date.
    Missing,
}

impl KeySet {
    /// Reads a JWKS document. Only a document that is not a JWKS at all is an
    /// error; individual keys that cannot be used are kept as
    /// [`UnsupportedKey`]s.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let document: Value =
            serde_json::from_slice(body).map_err(|_| "the JWKS is not JSON".to_owned())?;
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| "the JWKS has no \"keys\" array".to_owned())?;
        let mut set = Self::default();
        for (index, jwk) in keys.iter().enumerate() {
            if index == MAX_KEYS {
                set.unsupported.push(UnsupportedKey {
                    kid: None,
                    alg: None,
                    reason: format!(
                        "the JWKS has {} keys; only the first {MAX_KEYS} are read",
                        keys.len()
                    ),
                });
                break;
            }
            let Some(jwk) = jwk.as_object() else {
                set.unsupported.push(UnsupportedKey {
                    kid: None,
                    alg: None,
                    reason: "a key is not a JSON object".to_owned(),
                });
                continue;
            };
            let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_owned);
            let alg = jwk
                .get("alg")
                .and_then(Value::as_str)
                .map(|alg| printable(alg, 16));
            match pin(jwk) {
                Ok(key) => set.keys.push(Entry {
                    kid,
                    key: Arc::new(key),
                }),
                Err(reason) => set.unsupported.push(UnsupportedKey { kid, alg, reason }),
            }
        }
        set.drop_duplicate_kids();
        Ok(set)
    }

    /// A `kid` published twice is ambiguous: neither key is used.
    fn drop_duplicate_kids(&mut self) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let kids = self.keys.iter().filter_map(|e| e.kid.as_deref());
        let others = self.unsupported.iter().filter_map(|u| u.kid.as_deref());
        for kid in kids.chain(others) {
            *seen.entry(kid).or_default() += 1;
        }
        let duplicates: Vec<String> = seen
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(kid, _)| kid.to_owned())
            .collect();
        if duplicates.is_empty() {
            return;
        }
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.keys)
            .into_iter()
            .partition(|e| !e.kid.as_ref().is_some_and(|k| duplicates.contains(k)));
        self.keys = kept;
        for entry in dropped {
            self.unsupported.push(UnsupportedKey {
                kid: entry.kid,
                alg: Some(entry.key.alg().to_string()),
                reason: "its kid appears more than once in the JWKS".to_owned(),
            });
        }
        for key in &mut self.unsupported {
            if key.kid.as_ref().is_some_and(|k| duplicates.contains(k)) {
                key.reason = "its kid appears more than once in the JWKS".to_owned();
            }
        }
    }

    /// The key for a token with this header. With a `kid`, the key of that
    /// `kid`; without one, the only key of the token's algorithm, if there is
    /// exactly one.
    pub fn lookup(&self, header: &TokenHeader) -> Lookup {
        match &header.kid {
            Some(kid) => {
                if let Some(entry) = self.keys.iter().find(|e| e.kid.as_ref() == Some(kid)) {
                    Lookup::Found(Arc::clone(&entry.key))
                } else if let Some(key) = self
                    .unsupported
                    .iter()
                    .find(|u| u.kid.as_ref() == Some(kid))
                {
                    Lookup::Unsupported(key.reason.clone())
                } else {
                    Lookup::Missing
                }
            }
            None => {
                let mut candidates = self.keys.iter().filter(|e| e.key.alg() == header.alg);
                match (candidates.next(), candidates.next()) {
                    (Some(entry), None) => Lookup::Found(Arc::clone(&entry.key)),
                    (Some(_), Some(_)) => Lookup::Ambiguous,
                    (None, _) => Lookup::Missing,
                }
            }
        }
    }

    /// Why a token whose header names an algorithm we refuse (e.g. ES384)
    /// cannot be verified, when the set publishes a key of that algorithm.
    pub fn unsupported_algorithm(&self, alg: &str) -> Option<String> {
        self.unsupported
            .iter()
            .find(|u| u.alg.as_deref() == Some(alg))
            .map(|u| u.reason.clone())
    }

    /// How many keys can verify tokens.
    pub fn usable(&self) -> usize {
        self.keys.len()
    }

    /// The keys that are published but not used.
    pub fn unsupported(&self) -> &[UnsupportedKey] {
        &self.unsupported
    }

    /// `kid:alg` of every usable key, for logs.
    pub fn summary(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|e| {
                let kid = e.kid.as_deref().map_or("-".into(), |k| printable(k, 64));
                format!("{kid}:{}", e.key.alg())
            })
            .collect()
    }
}

/// A value from a JWKS, cut and cleaned so it is safe to log and to quote.
pub(crate) fn printable(value: &str, max: usize) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::jwt::Alg as Algorithm;
    use serde_json::json;

    use super::*;

    fn parse(keys: Value) -> KeySet {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes()).expect("a JWKS")
    }

    fn header(alg: Algorithm, kid: Option<&str>) -> TokenHeader {
        TokenHeader {
            alg,
            kid: kid.map(str::to_owned),
        }
    }

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn unusable_keys_are_found_by_kid_with_their_reason() {
        let set = parse(json!([
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "ed", "x": ED_X},
            {"kty": "OKP", "crv": "Ed448", "alg": "EdDSA", "kid": "ed448", "x": ED_X},
            {"kty": "EC", "crv": "P-384", "alg": "ES384", "kid": "p384", "x": ED_X, "y": ED_X},
        ]));
        assert_eq!(set.usable(), 1);
        assert!(
            matches!(set.lookup(&header(Algorithm::EdDSA, Some("ed"))), Lookup::Found(k) if k.alg() == Algorithm::EdDSA)
        );
        assert!(matches!(
            set.lookup(&header(Algorithm::EdDSA, Some("ed448"))),
            Lookup::Unsupported(reason) if reason.contains("Ed448")
        ));
        assert!(matches!(
            set.lookup(&header(Algorithm::EdDSA, Some("other"))),
            Lookup::Missing
        ));
        assert!(set.unsupported_algorithm("ES384").is_some());
        assert_eq!(set.unsupported().len(), 2);
    }

    #[test]
    fn duplicate_kids_and_kidless_tokens() {
        let set = parse(json!([
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "same", "x": ED_X},
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "same", "x": ED_X},
        ]));
        assert_eq!(set.usable(), 0);
        let one =
            parse(json!([{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "a", "x": ED_X}]));
        assert!(matches!(
            one.lookup(&header(Algorithm::EdDSA, None)),
            Lookup::Found(_)
        ));
        assert!(matches!(
            one.lookup(&header(Algorithm::ES256, None)),
            Lookup::Missing
        ));
        let two = parse(json!([
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "a", "x": ED_X},
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "b", "x": ED_X},
        ]));
        assert!(matches!(
            two.lookup(&header(Algorithm::EdDSA, None)),
            Lookup::Ambiguous
        ));
    }

    #[test]
    fn documents_that_are_not_a_jwks_are_errors() {
        assert!(KeySet::parse(b"<html>").is_err());
        assert!(KeySet::parse(b"{\"keys\": 1}").is_err());
        assert_eq!(KeySet::parse(b"{\"keys\": []}").map(|s| s.usable()), Ok(0));
    }
}
