//! `TokenVerifier::verify` with the HS256 secret key source (the default
//! mode): raw, signed and tampered tokens (see `todo_fuzz::token`). A
//! tampered token never verifies; an accepted one meets every rule.
#![no_main]

use std::sync::OnceLock;

use auth_core::{AuthSettings, TokenVerifier};
use jsonwebtoken::{Algorithm, EncodingKey};
use libfuzzer_sys::fuzz_target;
use todo_fuzz::token::{Expect, Kind, TokenCase, check_accepted};

const SECRET: &str = "fuzz-better-auth-secret-0123456789-abcdef";
const URL: &str = "http://localhost:3000";

fn verifier() -> &'static TokenVerifier {
    static VERIFIER: OnceLock<TokenVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        AuthSettings::hs256(SECRET, URL)
            .verifier()
            .expect("verifier")
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
    let verified = todo_fuzz::runtime().block_on(verifier().verify(&token));
    if let Ok(claims) = verified {
        assert!(
            case.kind != Kind::Tampered || case.unchanged(),
            "a tampered token verified: {token}"
        );
        let expect = Expect {
            issuer: URL,
            audience: URL,
            leeway: 10,
            max_lifetime: 900,
            algorithms: &["HS256"],
        };
        check_accepted(&token, claims.user_id.as_str(), &expect);
    }
});
