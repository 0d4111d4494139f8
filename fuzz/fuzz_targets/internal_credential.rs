//! `InternalVerifier::verify`, the tasks service's check of the edge's
//! credential: raw, signed (with the internal secret) and tampered tokens
//! (see `todo_fuzz::token`). A tampered one never verifies; an accepted one
//! is for issuer `todo-edge`, audience `tasks`, and meets every rule.
#![no_main]

use std::sync::OnceLock;

use auth_core::{INTERNAL_AUDIENCE, INTERNAL_ISSUER, InternalVerifier};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use todo_fuzz::token::{Expect, TokenCase, check_verified, sign_hs256};

const SECRET: &str = "fuzz-internal-secret-0123456789-abcdef";

fn verifier() -> &'static InternalVerifier {
    static VERIFIER: OnceLock<InternalVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        InternalVerifier::new(Some(&SecretString::from(SECRET.to_owned()))).expect("verifier")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = TokenCase::parse(data) else {
        return;
    };
    let Some(token) = case.token(|header, payload| sign_hs256(SECRET, header, payload)) else {
        return;
    };
    if let Ok(user) = verifier().verify(&token) {
        let expect = Expect {
            issuer: INTERNAL_ISSUER,
            audience: INTERNAL_AUDIENCE,
            leeway: 5,
            max_lifetime: 60,
            algorithms: &["HS256"],
        };
        check_verified(&case, &token, user.as_str(), &expect);
    }
});
