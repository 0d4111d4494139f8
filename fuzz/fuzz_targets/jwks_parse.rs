//! `KeySet::parse`, reading a JWKS document as fetched (any bytes), then
//! lookups by every algorithm, with and without a `kid`: no panic, never
//! more than 64 usable keys, never an HMAC key from a JWKS, and a lookup
//! without `kid` only finds a key of the token's algorithm.
#![no_main]

use auth_core::jwt::{ALLOWED_ALGORITHMS, Alg, TokenHeader};
use auth_core::{KeySet, Lookup};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(set) = KeySet::parse(data) else {
        return;
    };
    assert!(set.usable() <= 64, "{} usable keys", set.usable());
    let _ = set.summary();
    let mut kids: Vec<Option<String>> = vec![None];
    for key in set.unsupported() {
        let _ = key.describe();
        kids.push(key.kid.clone());
    }
    if let Ok(serde_json::Value::Object(document)) = serde_json::from_slice(data) {
        for jwk in document
            .get("keys")
            .and_then(|k| k.as_array())
            .into_iter()
            .flatten()
        {
            kids.push(jwk.get("kid").and_then(|k| k.as_str()).map(str::to_owned));
        }
    }
    for alg in ALLOWED_ALGORITHMS {
        let _ = set.unsupported_algorithm(&format!("{alg:?}"));
        for kid in &kids {
            let header = TokenHeader {
                alg,
                kid: kid.clone(),
            };
            if let Lookup::Found(key) = set.lookup(&header) {
                assert_ne!(key.alg(), Alg::HS256, "a JWKS supplied an HMAC key");
                if kid.is_none() {
                    assert_eq!(
                        key.alg(),
                        alg,
                        "a kid-less lookup found another algorithm's key"
                    );
                }
            }
        }
    }
});
