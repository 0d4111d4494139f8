//! Verification cost (`just bench`). HS256: a valid token, and the cheapest
//! refusals (a forged signature; a token over 8 KiB, refused before
//! decoding). JWKS: a valid token per algorithm, with the key set cached,
//! and an unknown `kid` within the refetch cooldown (no fetch). Ended
//! sessions: a valid HS256 token with `sid`, verified without the check (the
//! floor), against 10 000 ended sessions it is not in, and one it is in.

use std::hint::black_box;

use auth_core::testing::{JwksServer, TestKey, claims};
use auth_core::{AuthSettings, RevokedSessions};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const URL: &str = "http://localhost:3000";

fn token(secret: &str) -> String {
    token_in(secret, None)
}

/// A token as [`token`], of session `sid` when given.
fn token_in(secret: &str, sid: Option<&str>) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "sub": "6Yx1pQm2sVb8nK3rT5wZ0aLc", "iss": URL, "aud": URL, "iat": now,
        "exp": now + 900, "email": "someone@example.com", "name": "Some One",
    });
    if let Some(sid) = sid {
        claims["sid"] = json!(sid);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let verifier = AuthSettings::hs256(SECRET, URL)
        .verifier()
        .expect("verifier");
    let valid = token(SECRET);
    let forged = token("another-secret-another-secret-another-0123");
    let oversized = "a".repeat(9 * 1024);
    let mut group = c.benchmark_group("hs256");
    for (name, token) in [
        ("valid", &valid),
        ("forged", &forged),
        ("oversized", &oversized),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(verifier.verify(black_box(token))))
        });
    }
    group.finish();
}

fn verify_jwks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let keys = [
        TestKey::ed25519_a("ed"),
        TestKey::p256("es"),
        TestKey::rs256("rs"),
        TestKey::ps256("ps"),
    ];
    let (_server, verifier, web) = runtime.block_on(async {
        let jwks: Vec<_> = keys.iter().map(TestKey::jwk).collect();
        let server = JwksServer::start(&jwks).await;
        let web = server.base_url();
        let verifier = AuthSettings::jwks(&web).verifier().expect("verifier");
        let mut ready = verifier.watch_ready();
        ready.wait_for(|ready| *ready).await.expect("keys loaded");
        (server, verifier, web)
    });
    let mut group = c.benchmark_group("jwks");
    for key in &keys {
        let token = key.sign(&claims("6Yx1pQm2sVb8nK3rT5wZ0aLc", &web));
        group.bench_function(format!("{:?}", key.alg), |b| {
            b.iter(|| runtime.block_on(verifier.verify(black_box(&token))))
        });
    }
    let unknown = TestKey::ed25519_b("not-published").sign(&claims("someone", &web));
    // The first miss refetches once; the measured ones are within the cooldown.
    let _ = runtime.block_on(verifier.verify(&unknown));
    group.bench_function("unknown-kid", |b| {
        b.iter(|| runtime.block_on(verifier.verify(black_box(&unknown))))
    });
    group.finish();
}

fn verify_revocations(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let plain = AuthSettings::hs256(SECRET, URL)
        .verifier()
        .expect("verifier");
    // Session ids shaped like Better Auth's (32 characters).
    let ended = (0..10_000).map(|i| format!("{i:0>32}"));
    let checked = plain
        .clone()
        .with_revocations(Some(RevokedSessions::fixed(ended)), false);
    let live = token_in(SECRET, Some("Jq3vX8mTz1LpR6nW0bYc5dKs9fHa2gEu"));
    let revoked = token_in(SECRET, Some(&format!("{:0>32}", 4_321)));
    let mut group = c.benchmark_group("revocation");
    for (name, verifier, token) in [
        ("unchecked", &plain, &live),
        ("checked-10k-live", &checked, &live),
        ("checked-10k-revoked", &checked, &revoked),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(verifier.verify(black_box(token))))
        });
    }
    group.finish();
}

criterion_group!(benches, verify, verify_jwks, verify_revocations);
criterion_main!(benches);
