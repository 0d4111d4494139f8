//! Fixed test keys (from `testdata/`, never used outside tests) that sign
//! tokens the way Better Auth does, and the claims it puts in them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p521::ecdsa::signature::Signer as _;
use serde_json::{Value, json};

use crate::jwt::Alg;

/// A private test key and the public JWK Better Auth would publish for it.
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    pub alg: Alg,
    signer: Signer,
    jwk: Value,
}

#[derive(Clone)]
enum Signer {
    Jwt(Algorithm, EncodingKey),
    P521(p521::ecdsa::SigningKey),
}

fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("test PEM is base64")
}

impl TestKey {
    fn new(kid: &str, alg: Algorithm, encoding: EncodingKey) -> Self {
        let jwk = Jwk::from_encoding_key(&encoding, alg).expect("public JWK of a test key");
        let jwk = serde_json::to_value(jwk).expect("JWK as JSON");
        let ours = Alg::from_name(&format!("{alg:?}")).expect("an algorithm we verify");
        Self::published(kid, ours, Signer::Jwt(alg, encoding), jwk)
    }

    /// As Better Auth publishes keys: `alg` and `kid`, no `use`.
    fn published(kid: &str, alg: Alg, signer: Signer, mut jwk: Value) -> Self {
        let object = jwk.as_object_mut().expect("JWK is an object");
        object.retain(|_, v| !v.is_null());
        object.insert("alg".into(), json!(alg.name()));
        object.insert("kid".into(), json!(kid));
        object.remove("use");
        Self {
            kid: kid.to_owned(),
            alg,
            signer,
            jwk,
        }
    }

    /// P-521 (ES512), which jsonwebtoken cannot sign: the `p521` crate does.
    pub fn p521(kid: &str) -> Self {
        let private: Value = serde_json::from_str(include_str!("../../testdata/p521.jwk.json"))
            .expect("P-521 test JWK");
        let d = URL_SAFE_NO_PAD
            .decode(private["d"].as_str().expect("d"))
            .expect("d is base64url");
        let signing = p521::ecdsa::SigningKey::from_slice(&d).expect("a P-521 scalar");
        let public = json!({"kty": "EC", "crv": "P-521", "x": private["x"], "y": private["y"]});
        Self::published(kid, Alg::ES512, Signer::P521(signing), public)
    }

    /// Ed25519 (EdDSA, Better Auth's default), first key.
    pub fn ed25519_a(kid: &str) -> Self {
        let der = der(include_str!("../../testdata/ed25519-a.pem"));
        Self::new(kid, Algorithm::EdDSA, EncodingKey::from_ed_der(&der))
    }

    /// Ed25519, a second key (for rotation).
    pub fn ed25519_b(kid: &str) -> Self {
        let der = der(include_str!("../../testdata/ed25519-b.pem"));
        Self::new(kid, Algorithm::EdDSA, EncodingKey::from_ed_der(&der))
    }

    /// P-256 (ES256).
    pub fn p256(kid: &str) -> Self {
        let der = der(include_str!("../../testdata/p256.pem"));
        Self::new(kid, Algorithm::ES256, EncodingKey::from_ec_der(&der))
    }

    /// RSA 2048 for RS256.
    pub fn rs256(kid: &str) -> Self {
        let der = der(include_str!("../../testdata/rsa-rs256.pem"));
        Self::new(kid, Algorithm::RS256, EncodingKey::from_rsa_der(&der))
    }

    /// Another RSA 2048 key, for PS256.
    pub fn ps256(kid: &str) -> Self {
        let der = der(include_str!("../../testdata/rsa-ps256.pem"));
        Self::new(kid, Algorithm::PS256, EncodingKey::from_rsa_der(&der))
    }

    /// One key of each algorithm the backend verifies: EdDSA, ES256, ES512,
    /// RS256 and PS256 (kids `ed`, `es`, `es512`, `rs`, `ps`).
    pub fn one_of_each() -> [Self; 5] {
        [
            Self::ed25519_a("ed"),
            Self::p256("es"),
            Self::p521("es512"),
            Self::rs256("rs"),
            Self::ps256("ps"),
        ]
    }

    /// The public JWK, as published.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// A token with header `{"alg", "kid"}` (as Better Auth's) and these claims.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_json_header(&json!({"alg": self.alg.name(), "kid": self.kid}), claims)
    }

    /// A token whose header and payload are these exact bytes (any JSON, or
    /// none), signed with this key: for rules about malformed claims.
    pub fn sign_bytes(&self, header: &[u8], payload: &[u8]) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.signature(&message);
        format!("{message}.{signature}")
    }

    /// A token with any header, signed with this key.
    pub fn sign_with_header(&self, header: &Header, claims: &Value) -> String {
        let header = serde_json::to_value(header).expect("header as JSON");
        let mut header = header.as_object().cloned().expect("header is an object");
        header.retain(|_, v| !v.is_null());
        self.sign_with_json_header(&Value::Object(header), claims)
    }

    /// A token with exactly this JSON header (whatever its `alg` says),
    /// signed with this key's own algorithm.
    pub fn sign_with_json_header(&self, header: &Value, claims: &Value) -> String {
        self.sign_bytes(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// The base64url signature of `message` (`header.payload`) with this key.
    fn signature(&self, message: &str) -> String {
        match &self.signer {
            Signer::Jwt(alg, key) => jsonwebtoken::crypto::sign(message.as_bytes(), key, *alg)
                .expect("sign with a test key"),
            Signer::P521(key) => {
                let signature: p521::ecdsa::Signature = key.sign(message.as_bytes());
                URL_SAFE_NO_PAD.encode(signature.to_bytes())
            }
        }
    }
}

/// The P-521 (ES512) test key's public JWK, with kid `es512-key`.
pub fn es512_jwk() -> Value {
    TestKey::p521("es512-key").jwk()
}

/// The Ed25519 identity point (y = 1), the weakest small-order key.
pub const ED25519_IDENTITY: [u8; 32] = {
    let mut point = [0u8; 32];
    point[0] = 1;
    point
};

/// An Ed25519 JWK whose key is the identity point: plain RFC 8032
/// verification accepts [`forged_ed25519_token`] under it.
pub fn small_order_ed25519_jwk(kid: &str) -> Value {
    serde_json::json!({
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(ED25519_IDENTITY),
    })
}

/// A token for these claims "signed" with `R` = the identity point and
/// `S` = 0, which verifies under a small-order key unless verification is
/// strict.
pub fn forged_ed25519_token(kid: &str, claims: &Value) -> String {
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&ED25519_IDENTITY);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": "EdDSA", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// A token with this header and these claims and `signature_len` junk
/// bytes as its signature: for refusals decided before any signature check
/// (an unknown `kid`, an unsupported key, a forbidden header).
pub fn unsigned_token(header: &Value, claims: &Value, signature_len: usize) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(vec![7u8; signature_len])
    )
}

/// A JWKS document of these keys.
pub fn jwks_document(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// The claims Better Auth puts in a token for `sub`, valid now, for `url`.
pub fn claims(sub: &str, url: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "sub": sub, "iss": url, "aud": url, "iat": now, "exp": now + 900,
        "id": sub, "email": format!("{sub}@example.com"), "name": sub,
        "emailVerified": false, "image": null,
    })
}
