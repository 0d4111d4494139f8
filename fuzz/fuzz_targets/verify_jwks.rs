//! `TokenVerifier::verify` with the JWKS key source: a local JWKS endpoint
//! publishes one key of each algorithm (`TestKey::one_of_each`);
//! prefix[1] picks the signing key. Raw, signed and tampered tokens (see
//! `todo_fuzz::token`): a tampered token never verifies; an accepted one
//! meets every rule.
#![no_main]

use std::sync::OnceLock;

use auth_core::testing::{JwksServer, TestKey};
use auth_core::{AuthSettings, TokenVerifier};
use libfuzzer_sys::fuzz_target;
use todo_fuzz::token::{Expect, TokenCase, check_verified};

const URL: &str = "http://localhost:3000";

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
    let key = &fixture.keys[usize::from(case.key) % fixture.keys.len()];
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
