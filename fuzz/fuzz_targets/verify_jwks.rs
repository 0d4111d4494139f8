//! `TokenVerifier::verify` with the JWKS key source: a local JWKS endpoint
//! publishes one key of each algorithm (`TestKey::one_of_each`);
//! prefix[1] picks the signing key. Raw, signed and tampered tokens (see
//! `todo_fuzz::token`): a tampered token never verifies; an accepted one
//! meets every rule.
//!
//! Signing with RSA (RS256, PS256) or P-521 (ES512) costs milliseconds, a
//! hundred times an Ed25519 or P-256 signature: signing with them for every
//! input they are picked for held the target to ~80 inputs a second. So
//! they sign only one input in [`SLOW_KEY_SHARE`] of theirs (chosen by a
//! hash of the input, so that an input always runs the same way); the rest
//! are signed with Ed25519, the cheapest, instead. The claim and header rules are
//! the same whatever the key, and every key still signs often enough for
//! the fuzzer to reach its verification code.
#![no_main]

use std::sync::OnceLock;

use auth_core::jwt::Alg;
use auth_core::testing::{JwksServer, TestKey};
use auth_core::{AuthSettings, TokenVerifier};
use libfuzzer_sys::fuzz_target;
use todo_fuzz::token::{Expect, Kind, TokenCase, check_verified};

const URL: &str = "http://localhost:3000";

/// A slow key signs one in this many of the inputs that pick it.
const SLOW_KEY_SHARE: u64 = 256;

struct Fixture {
    verifier: TokenVerifier,
    keys: Vec<TestKey>,
    _server: JwksServer,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = todo_fuzz::runtime();
        let keys = TestKey::one_of_each().to_vec();
        let jwks: Vec<_> = keys.iter().map(TestKey::jwk).collect();
        let server = runtime.block_on(JwksServer::start(&jwks));
        let settings = AuthSettings {
            auth_jwks_url: Some(server.jwks_url()),
            ..AuthSettings::jwks(URL)
        };
        let verifier = runtime.block_on(async {
            let verifier = settings.verifier().expect("verifier");
            let mut ready = verifier.watch_ready();
            ready
                .wait_for(|ready| *ready)
                .await
                .expect("the JWKS loads");
            verifier
        });
        Fixture {
            verifier,
            keys,
            _server: server,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = TokenCase::parse(data) else {
        return;
    };
    let fixture = fixture();
    let key = signing_key(&case, data, &fixture.keys);
    let Some(token) = case.token(|header, payload| key.sign_bytes(header, payload)) else {
        return;
    };
    let verified = todo_fuzz::runtime().block_on(fixture.verifier.verify(&token));
    if let Ok(claims) = verified {
        let expect = Expect {
            issuer: URL,
            audience: URL,
            leeway: 10,
            max_lifetime: 900,
            algorithms: &["EdDSA", "ES256", "ES512", "RS256", "PS256"],
        };
        check_verified(&case, &token, claims.user_id.as_str(), &expect);
    }
});

/// The key that signs this input: prefix[1] modulo the number of keys; a
/// slow key only for one input in [`SLOW_KEY_SHARE`] (by the input's hash),
/// else the first of `one_of_each` (Ed25519).
fn signing_key<'k>(case: &TokenCase, data: &[u8], keys: &'k [TestKey]) -> &'k TestKey {
    let picked = usize::from(case.key) % keys.len();
    let slow = matches!(keys[picked].alg, Alg::RS256 | Alg::PS256 | Alg::ES512);
    if !slow || case.kind == Kind::Raw || fnv1a(data) % SLOW_KEY_SHARE == 0 {
        &keys[picked]
    } else {
        &keys[0]
    }
}

/// 64-bit FNV-1a (`fuzz/make_seeds.py` computes the same, to make seeds
/// that do sign with the slow keys).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash: u64, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}
