//! One JWK to one verification key, pinned to the algorithm its own `alg`
//! names (or, without `alg`, the only one its key type allows), after
//! checking `kty`, `crv`, `use`, `key_ops` and the key material: EdDSA needs
//! OKP/Ed25519, ES256 EC/P-256, ES512 EC/P-521, RS256 and PS256 RSA of 2048
//! to 4096 bits.
//! Everything else is refused with a reason that is safe to log and quote.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};

use super::printable;
use crate::jwt::{Alg, PinnedKey};

/// RSA modulus sizes accepted, in bits.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;
/// What to sign with instead, in every refusal that names an algorithm.
const SUPPORTED: &str = "use EdDSA, ES256, ES512, RS256 or PS256";

/// The verification key a JWK describes, pinned to its algorithm.
pub fn pin(jwk: &Map<String, Value>) -> Result<PinnedKey, String> {
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
    // used: an Ed25519 key can only be EdDSA, a P-256 key only ES256, a
    // P-521 key only ES512.
    let alg = match (text(jwk, "alg")?, kty, crv) {
        (Some(alg), _, _) => alg,
        (None, "OKP", Some("Ed25519")) => "EdDSA",
        (None, "EC", Some("P-256")) => "ES256",
        (None, "EC", Some("P-521")) => "ES512",
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
            ed25519_key(x).map(PinnedKey::ed25519)
        }
        "ES256" => {
            expect(kty, "EC", alg)?;
            if crv != Some("P-256") {
                return Err("an ES256 key must have crv P-256".to_owned());
            }
            let x = coordinate(jwk, "x", 32)?;
            let y = coordinate(jwk, "y", 32)?;
            let key = DecodingKey::from_ec_components(x, y).map_err(|_| "x or y is invalid")?;
            jsonwebtoken_key(Alg::ES256, key)
        }
        "ES512" => {
            expect(kty, "EC", alg)?;
            if crv != Some("P-521") {
                return Err("an ES512 key must have crv P-521".to_owned());
            }
            let x = decoded(coordinate(jwk, "x", 66)?)?;
            let y = decoded(coordinate(jwk, "y", 66)?)?;
            PinnedKey::es512(&x, &y).ok_or_else(|| "x and y are not a point on P-521".to_owned())
        }
        "RS256" | "PS256" => {
            expect(kty, "RSA", alg)?;
            let (n, e) = rsa_components(jwk)?;
            let alg = if alg == "RS256" {
                Alg::RS256
            } else {
                Alg::PS256
            };
            jsonwebtoken_key(alg, DecodingKey::from_rsa_raw_components(&n, &e))
        }
        "HS256" | "HS384" | "HS512" => Err("symmetric keys are never taken from a JWKS".to_owned()),
        other => Err(format!(
            "algorithm {} is not on the allow-list ({SUPPORTED})",
            printable(other, 16)
        )),
    }
}

/// An Ed25519 public key that is a point of the curve and not of small
/// order: a weak key (the identity, or another of the 8 small-order points)
/// verifies forged signatures under plain RFC 8032 verification, so it is
/// refused when the set is read, and reported like any unusable key.
fn ed25519_key(x: &str) -> Result<ed25519_dalek::VerifyingKey, String> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(x)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or("its x is not 32 bytes of base64url")?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| "its x is not a point of Ed25519")?;
    if key.is_weak() {
        return Err(
            "its x is a weak (small-order) Ed25519 key, which would verify forged signatures"
                .to_owned(),
        );
    }
    Ok(key)
}

fn jsonwebtoken_key(alg: Alg, key: DecodingKey) -> Result<PinnedKey, String> {
    PinnedKey::jsonwebtoken(alg, key).ok_or_else(|| format!("{alg} keys are not verified here"))
}

/// A coordinate [`coordinate`] has checked, as bytes.
fn decoded(value: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| "a coordinate is not base64url".to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn pinned(jwk: Value) -> Result<Alg, String> {
        let Value::Object(jwk) = jwk else {
            panic!("a JWK is a JSON object");
        };
        pin(&jwk).map(|key| key.alg())
    }

    #[test]
    fn pins_keys_to_their_own_alg_and_checks_kty_and_crv() {
        assert_eq!(
            pinned(json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": ED_X})),
            Ok(Alg::EdDSA)
        );
        for (jwk, reason) in [
            (
                json!({"kty": "EC", "crv": "P-256", "alg": "EdDSA", "x": ED_X, "y": ED_X}),
                "its alg EdDSA needs kty OKP, not EC",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "alg": "ES256", "x": ED_X}),
                "needs kty EC",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed448", "alg": "EdDSA", "x": ED_X}),
                "Ed448 keys cannot be verified",
            ),
            (
                json!({"kty": "oct", "alg": "HS256", "k": "c2VjcmV0"}),
                "symmetric keys are never taken from a JWKS",
            ),
            (
                json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
                "it has no alg",
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "enc", "x": ED_X}),
                r#"not "sig""#,
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "key_ops": ["sign"], "x": ED_X}),
                "key_ops",
            ),
        ] {
            let refused = pinned(jwk).expect_err(reason);
            assert!(refused.contains(reason), "{refused}");
        }
    }

    #[test]
    fn infers_alg_only_where_the_key_type_allows_one() {
        assert_eq!(
            pinned(json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X})),
            Ok(Alg::EdDSA)
        );
    }

    #[test]
    fn small_rsa_keys_are_refused_with_the_reason() {
        let small = json!({"kty": "RSA", "alg": "RS256", "n": URL_SAFE_NO_PAD.encode([0xff; 128]), "e": "AQAB"});
        assert!(pinned(small).expect_err("small").contains("1024 bits"));
    }

    #[test]
    fn es512_keys_need_p521_and_a_point_on_the_curve() {
        let p521: Value =
            serde_json::from_str(include_str!("../../testdata/p521.jwk.json")).expect("JWK");
        let public = json!({"kty": "EC", "crv": "P-521", "x": p521["x"], "y": p521["y"]});
        assert_eq!(
            pinned(public.clone()),
            Ok(Alg::ES512),
            "alg inferred from P-521"
        );
        let mut with_alg = public.clone();
        with_alg["alg"] = json!("ES512");
        assert_eq!(pinned(with_alg.clone()), Ok(Alg::ES512));
        for (name, value, reason) in [
            ("crv", json!("P-256"), "an ES512 key must have crv P-521"),
            ("kty", json!("OKP"), "its alg ES512 needs kty EC"),
            ("x", json!(ED_X), "its x is not 66 bytes long"),
            ("y", p521["x"].clone(), "not a point on P-521"),
        ] {
            let mut jwk = with_alg.clone();
            jwk[name] = value;
            let refused = pinned(jwk).expect_err(reason);
            assert!(refused.contains(reason), "{refused}");
        }
    }
}
