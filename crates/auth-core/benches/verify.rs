//! HS256 verification cost (`just bench`): a valid token, and the cheapest
//! refusals (a forged signature; a token over 8 KiB, refused before decoding).

use std::hint::black_box;

use auth_core::AuthSettings;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0123";
const URL: &str = "http://localhost:3000";

fn token(secret: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "sub": "6Yx1pQm2sVb8nK3rT5wZ0aLc", "iss": URL, "aud": URL, "iat": now,
        "exp": now + 900, "email": "someone@example.com", "name": "Some One",
    });
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

criterion_group!(benches, verify);
criterion_main!(benches);
