//! `TokenVerifier::verify` with the HS256 secret key source (the default
//! mode): raw, signed and tampered tokens (see `todo_fuzz::token`). A
//! tampered token never verifies; an accepted one meets every rule.
#![no_main]

use std::sync::OnceLock;

use auth_core::{AuthSettings, TokenVerifier};
use libfuzzer_sys::fuzz_target;
use todo_fuzz::token::{Expect, TokenCase, check_verified, sign_hs256};

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

fuzz_target!(|data: &[u8]| {
    let Some(case) = TokenCase::parse(data) else {
        return;
    };
    let Some(token) = case.token(|header, payload| sign_hs256(SECRET, header, payload)) else {
        return;
    };
    let verified = todo_fuzz::runtime().block_on(verifier().verify(&token));
    if let Ok(claims) = verified {
        let expect = Expect {
            issuer: URL,
            audience: URL,
            leeway: 10,
            max_lifetime: 900,
            algorithms: &["HS256"],
        };
        check_verified(&case, &token, claims.user_id.as_str(), &expect);
    }
});
