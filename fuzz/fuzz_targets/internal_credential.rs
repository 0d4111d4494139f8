//! `InternalVerifier::verify`, the tasks service's check of the edge's
//! credential: raw, signed (with the internal secret) and tampered tokens
//! (see `todo_fuzz::token`). A tampered one never verifies; an accepted one
//! is for issuer `edge`, audience `tasks`, and meets every rule.
#![no_main]

use std::sync::OnceLock;

use auth_core::{INTERNAL_AUDIENCE, INTERNAL_ISSUER, InternalVerifier};
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use todo_fuzz::token::{Expect, Kind, TokenCase, check_accepted};

const SECRET: &str = "fuzz-internal-secret-0123456789-abcdef";

fn verifier() -> &'static InternalVerifier {
    static VERIFIER: OnceLock<InternalVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        InternalVerifier::new(Some(&SecretString::from(SECRET.to_owned()))).expect("verifier")
    })
}

fn sign(header: &[u8], payload: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let message = format!("{}.{}", b64.encode(header), b64.encode(payload));
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).expect("HMAC");
    format!("{message}.{signature}")
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = TokenCase::parse(data) else {
        return;
    };
    let Some(token) = case.token(sign) else {
        return;
    };
    if let Ok(user) = verifier().verify(&token) {
        assert!(
            case.kind != Kind::Tampered || case.unchanged(),
            "a tampered credential verified: {token}"
        );
        let expect = Expect {
            issuer: INTERNAL_ISSUER,
            audience: INTERNAL_AUDIENCE,
            leeway: 5,
            max_lifetime: 60,
            algorithms: &["HS256"],
        };
        check_accepted(&token, user.as_str(), &expect);
    }
});
