//! Reading a JWKS document (RFC 7517) into verification keys. Each usable
//! key is pinned to the one algorithm its own JWK names in `alg`, checked
//! against its `kty` and `crv`; the token's header never chooses it. Keys we
//! cannot or will not verify are kept aside with the reason, so they can be
//! reported and tokens under them refused with that reason.

use std::collections::HashMap;
use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::jwt::{PinnedKey, TokenHeader};

/// The most keys read from one JWKS; any beyond are reported and ignored.
pub const MAX_KEYS: usize = 64;
/// RSA modulus sizes accepted, in bits.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;
/// What to sign with instead, in every refusal that names an algorithm.
const SUPPORTED: &str = "use EdDSA, ES256, RS256 or PS256";

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
                alg: Some(format!("{:?}", entry.key.alg)),
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
                let mut candidates = self.keys.iter().filter(|e| e.key.alg == header.alg);
                match (candidates.next(), candidates.next()) {
                    (Some(entry), None) => Lookup::Found(Arc::clone(&entry.key)),
                    (Some(_), Some(_)) => Lookup::Ambiguous,
                    (None, _) => Lookup::Missing,
                }
            }
        }
    }

    /// Why a token whose header names an algorithm we refuse (e.g. ES512)
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
                format!("{kid}:{:?}", e.key.alg)
            })
            .collect()
    }
}

/// The verification key a JWK describes, pinned to its algorithm.
fn pin(jwk: &Map<String, Value>) -> Result<PinnedKey, String> {
    let kty = text(jwk, "kty")?.ok_or("it has no kty")?;
    if let Some(usage) = text(jwk, "use")?
        && usage != "sig"
    {
        return Err(format!(
            "its use is {:?}, not \"sig\"",
            printable(usage, 16)
        ));
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Err("its key_ops do not include \"verify\"".to_owned());
        }
    }
    let crv = text(jwk, "crv")?;
    // Without `alg`, only key types that allow a single JWS algorithm are
    // used: an Ed25519 key can only be EdDSA, a P-256 key only ES256.
    let alg = match (text(jwk, "alg")?, kty, crv) {
        (Some(alg), _, _) => alg,
        (None, "OKP", Some("Ed25519")) => "EdDSA",
        (None, "EC", Some("P-256")) => "ES256",
        (None, _, _) => {
            return Err("it has no alg, and its key type allows several algorithms".to_owned());
        }
    };
    match alg {
        "EdDSA" => {
            expect(kty, "OKP", alg)?;
            match crv {
                Some("Ed25519") => {}
                Some("Ed448") => {
                    return Err(format!("Ed448 keys cannot be verified here ({SUPPORTED})"));
                }
                _ => return Err("an EdDSA key must have crv Ed25519".to_owned()),
            }
            let x = coordinate(jwk, "x", 32)?;
            Ok(PinnedKey {
                alg: Algorithm::EdDSA,
                key: DecodingKey::from_ed_components(x).map_err(|_| "x is invalid")?,
            })
        }
        "ES256" => {
            expect(kty, "EC", alg)?;
            if crv != Some("P-256") {
                return Err("an ES256 key must have crv P-256".to_owned());
            }
            let x = coordinate(jwk, "x", 32)?;
            let y = coordinate(jwk, "y", 32)?;
            Ok(PinnedKey {
                alg: Algorithm::ES256,
                key: DecodingKey::from_ec_components(x, y).map_err(|_| "x or y is invalid")?,
            })
        }
        "RS256" | "PS256" => {
            expect(kty, "RSA", alg)?;
            let (n, e) = rsa_components(jwk)?;
            Ok(PinnedKey {
                alg: if alg == "RS256" {
                    Algorithm::RS256
                } else {
                    Algorithm::PS256
                },
                key: DecodingKey::from_rsa_raw_components(&n, &e),
            })
        }
        "ES512" => Err(format!(
            "ES512 (P-521) is not supported: the JWT library has no ES512 ({SUPPORTED})"
        )),
        "HS256" | "HS384" | "HS512" => Err("symmetric keys are never taken from a JWKS".to_owned()),
        other => Err(format!(
            "algorithm {} is not on the allow-list ({SUPPORTED})",
            printable(other, 16)
        )),
    }
}

/// A string member, if present.
fn text<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match jwk.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(format!("its {name} is not a string")),
    }
}

fn expect(kty: &str, wanted: &str, alg: &str) -> Result<(), String> {
    if kty == wanted {
        Ok(())
    } else {
        Err(format!(
            "its alg {alg} needs kty {wanted}, not {}",
            printable(kty, 16)
        ))
    }
}

/// A base64url member of exactly `len` bytes, still encoded.
fn coordinate<'a>(jwk: &'a Map<String, Value>, name: &str, len: usize) -> Result<&'a str, String> {
    let value = text(jwk, name)?.ok_or_else(|| format!("it has no {name}"))?;
    match URL_SAFE_NO_PAD.decode(value) {
        Ok(bytes) if bytes.len() == len => Ok(value),
        Ok(_) => Err(format!("its {name} is not {len} bytes long")),
        Err(_) => Err(format!("its {name} is not base64url")),
    }
}

/// `n` and `e` of an RSA key of an accepted size, without leading zeros.
fn rsa_components(jwk: &Map<String, Value>) -> Result<(Vec<u8>, Vec<u8>), String> {
    let decode = |name: &str| -> Result<Vec<u8>, String> {
        let value = text(jwk, name)?.ok_or_else(|| format!("it has no {name}"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| format!("its {name} is not base64url"))?;
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Ok(bytes[start..].to_vec())
    };
    let n = decode("n")?;
    let e = decode("e")?;
    let bits = n
        .first()
        .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
    if !RSA_BITS.contains(&bits) {
        return Err(format!(
            "its modulus has {bits} bits; RSA keys of 2048 to 4096 bits are accepted"
        ));
    }
    let odd = e.last().is_some_and(|low| low & 1 == 1);
    if e.is_empty() || e.len() > 4 || !odd || e == [1] {
        return Err("its public exponent is not acceptable".to_owned());
    }
    Ok((n, e))
}

/// A value from a JWKS, cut and cleaned so it is safe to log and to quote.
fn printable(value: &str, max: usize) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn pins_keys_to_their_own_alg_and_checks_kty_and_crv() {
        let set = parse(json!([
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "ed", "x": ED_X},
            {"kty": "EC", "crv": "P-256", "alg": "EdDSA", "kid": "bad-kty", "x": ED_X, "y": ED_X},
            {"kty": "OKP", "crv": "Ed25519", "alg": "ES256", "kid": "bad-alg", "x": ED_X},
            {"kty": "OKP", "crv": "Ed448", "alg": "EdDSA", "kid": "ed448", "x": ED_X},
            {"kty": "oct", "alg": "HS256", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "rsa-no-alg", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "enc", "use": "enc", "x": ED_X},
        ]));
        assert_eq!(set.usable(), 1);
        assert!(
            matches!(set.lookup(&header(Algorithm::EdDSA, Some("ed"))), Lookup::Found(k) if k.alg == Algorithm::EdDSA)
        );
        for kid in ["bad-kty", "bad-alg", "ed448", "hmac", "rsa-no-alg", "enc"] {
            assert!(
                matches!(
                    set.lookup(&header(Algorithm::EdDSA, Some(kid))),
                    Lookup::Unsupported(_)
                ),
                "{kid} must not be usable"
            );
        }
        assert!(matches!(
            set.lookup(&header(Algorithm::EdDSA, Some("other"))),
            Lookup::Missing
        ));
    }

    #[test]
    fn infers_alg_only_where_the_key_type_allows_one() {
        let set = parse(json!([{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": ED_X}]));
        assert!(
            matches!(set.lookup(&header(Algorithm::EdDSA, Some("ed"))), Lookup::Found(k) if k.alg == Algorithm::EdDSA)
        );
    }

    #[test]
    fn small_rsa_keys_and_es512_are_reported() {
        let set = parse(json!([
            {"kty": "RSA", "alg": "RS256", "kid": "small", "n": URL_SAFE_NO_PAD.encode([0xff; 128]), "e": "AQAB"},
            {"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "p521", "x": ED_X, "y": ED_X},
        ]));
        assert_eq!(set.usable(), 0);
        assert!(set.unsupported()[0].reason.contains("1024 bits"));
        assert!(set.unsupported()[1].reason.contains("ES512"));
        assert!(set.unsupported_algorithm("ES512").is_some());
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
