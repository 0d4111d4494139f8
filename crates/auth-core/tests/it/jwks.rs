//! JWKS mode: Better Auth's asymmetric keys fetched from a (test) JWKS
//! endpoint on 127.0.0.1, cached, refetched on unknown `kid`s within limits,
//! and every rule of `jwt.rs` still applied.

use std::time::{Duration, Instant};

use auth_core::jwt::Rules;
use auth_core::testing::{
    JwksServer, PATIENCE, TestKey, claims, eventually, forged_ed25519_token,
    small_order_ed25519_jwk,
};
use auth_core::{
    AuthSettings, Jwks, JwksOptions, JwtMode, KeySource, SettingsError, TokenError, TokenVerifier,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::unsigned;

const SUB: &str = "user-1";
const SECRET: &str = "jwks-test-secret-jwks-test-secret-0123456789";

fn options(server_url: &str, cooldown: Duration) -> JwksOptions {
    JwksOptions {
        refresh_interval: Duration::from_secs(3600),
        refetch_cooldown: cooldown,
        fetch_timeout: Duration::from_secs(2),
        ..JwksOptions::new(server_url)
    }
}

/// A JWKS-mode verifier for tokens issued by `base` (the server's base URL).
fn verifier(base: &str, jwks_url: &str, cooldown: Duration) -> TokenVerifier {
    let jwks = Jwks::start(options(jwks_url, cooldown)).expect("jwks");
    TokenVerifier::new(KeySource::Jwks(jwks), Rules::new(base, &[base], 10, 900))
}

fn for_server(server: &JwksServer, cooldown: Duration) -> TokenVerifier {
    verifier(&server.base_url(), &server.jwks_url(), cooldown)
}

/// Waits on the readiness watch until the keys are loaded.
async fn ready(verifier: &TokenVerifier) {
    let mut watch = verifier.watch_ready();
    tokio::time::timeout(PATIENCE, watch.wait_for(|ready| *ready))
        .await
        .expect("keys loaded in time")
        .expect("watch open");
    assert_eq!(verifier.readiness(), Ok(()));
}

fn fetches(verifier: &TokenVerifier) -> u64 {
    verifier.keys().jwks().expect("jwks mode").fetch_count()
}

/// A JWKS server publishing `keys`, and a verifier with this refetch
/// cooldown that has loaded them.
struct Loaded {
    server: JwksServer,
    base: String,
    verifier: TokenVerifier,
}

impl Loaded {
    async fn start(keys: &[Value], cooldown: Duration) -> Self {
        let server = JwksServer::start(keys).await;
        let verifier = for_server(&server, cooldown);
        ready(&verifier).await;
        Self {
            base: server.base_url(),
            server,
            verifier,
        }
    }

    /// A token for [`SUB`] signed by `key`, as Better Auth issues it.
    fn token(&self, key: &TestKey) -> String {
        key.sign(&claims(SUB, &self.base))
    }

    async fn verify(&self, token: &str) -> Result<auth_core::Claims, TokenError> {
        self.verifier.verify(token).await
    }

    async fn assert_accepted(&self, key: &TestKey) {
        let token = self.token(key);
        if let Err(error) = self.verify(&token).await {
            panic!("{:?} token of {} refused: {error}", key.alg, key.kid);
        }
    }

    /// Sends tokens naming unknown keys until one of them has caused a
    /// refetch (the cooldown has passed); that refetch has completed when
    /// this returns.
    async fn refetch_through_an_unknown_kid(&self) {
        let before = self.server.fetches();
        let unknown = TestKey::ed25519_b("never-published").sign(&claims(SUB, &self.base));
        eventually("an unknown kid causes a refetch", || async {
            assert_eq!(self.verify(&unknown).await, Err(TokenError::UnknownKey));
            (self.server.fetches() > before).then_some(())
        })
        .await;
    }
}

/// An EdDSA token naming a made-up key (its signature is never reached).
fn bogus(kid: &str, base: &str) -> String {
    unsigned(&json!({"alg": "EdDSA", "kid": kid}), &claims(SUB, base))
}

fn hs256(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("sign")
}

#[tokio::test]
async fn eddsa_es256_es512_rs256_ps256_tokens_are_accepted() {
    let keys = TestKey::one_of_each();
    let jwks: Vec<Value> = keys.iter().map(TestKey::jwk).collect();
    let server = JwksServer::start(&jwks).await;
    // Through the public settings, as the services build it.
    let verifier = AuthSettings::jwks(&server.base_url())
        .verifier()
        .expect("jwks mode needs no secret");
    ready(&verifier).await;
    for key in &keys {
        let claims = verifier
            .verify(&key.sign(&claims(SUB, &server.base_url())))
            .await
            .unwrap_or_else(|e| panic!("{:?} token refused: {e}", key.alg));
        assert_eq!(claims.user_id, SUB);
        assert_eq!(claims.email.as_deref(), Some("user-1@example.com"));
    }
    assert_eq!(server.fetches(), 1, "one fetch serves every token");
}

/// A published P-384 key (ES384): Better Auth does not offer it, and it is
/// not on the allow-list, so it stands for any key we will not use.
fn es384_jwk() -> Value {
    let coordinate = URL_SAFE_NO_PAD.encode([7u8; 48]);
    json!({"kty": "EC", "crv": "P-384", "alg": "ES384", "kid": "es384-key",
           "x": coordinate, "y": coordinate})
}

#[tokio::test]
async fn es512_tokens_are_verified_and_forged_or_confused_ones_refused() {
    let es512 = TestKey::p521("p521");
    let es = TestKey::p256("es");
    let loaded = Loaded::start(&[es512.jwk(), es.jwk()], Duration::from_secs(60)).await;
    let (base, verifier) = (&loaded.base, &loaded.verifier);
    assert!(verifier.warnings().is_empty(), "{:?}", verifier.warnings());
    loaded.assert_accepted(&es512).await;

    // Forged: another payload under the same signature, or a made-up signature.
    let token = loaded.token(&es512);
    let (_, signature) = token.rsplit_once('.').expect("three segments");
    let mut other = claims(SUB, base);
    other["sub"] = json!("mallory");
    let forged = es512.sign(&other);
    let (message, _) = forged.rsplit_once('.').expect("three segments");
    for forged in [
        format!("{message}.{signature}"),
        unsigned(&json!({"alg": "ES512", "kid": "p521"}), &claims(SUB, base)),
    ] {
        assert_eq!(
            verifier.verify(&forged).await,
            Err(TokenError::BadSignature)
        );
    }
    // Algorithm confusion: an ES256 signature under an ES512 header naming the
    // P-521 key; either header naming the other curve's key; HS256 keyed
    // with the published P-521 key.
    let header = |alg: &str, kid: &str| json!({"alg": alg, "kid": kid});
    let cases = [
        (
            es.sign_with_json_header(&header("ES512", "p521"), &claims(SUB, base)),
            TokenError::BadSignature,
        ),
        (
            es.sign_with_json_header(&header("ES256", "p521"), &claims(SUB, base)),
            TokenError::AlgorithmMismatch,
        ),
        (
            es512.sign_with_json_header(&header("ES512", "es"), &claims(SUB, base)),
            TokenError::AlgorithmMismatch,
        ),
        (
            hs256(
                es512.jwk().to_string().as_bytes(),
                Some("p521"),
                &claims(SUB, base),
            ),
            TokenError::WrongMode {
                alg: "HS256",
                mode: "jwks",
            },
        ),
    ];
    for (token, refusal) in cases {
        assert_eq!(verifier.verify(&token).await, Err(refusal));
    }
}

#[tokio::test]
async fn an_unusable_key_is_reported_and_its_tokens_refused_with_the_reason() {
    let ed = TestKey::ed25519_a("ed");
    let loaded = Loaded::start(&[es384_jwk(), ed.jwk()], Duration::from_secs(60)).await;
    let warnings = loaded.verifier.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("es384-key") && w.contains("ES384")),
        "{warnings:?}"
    );

    let es384 = unsigned(
        &json!({"alg": "ES384", "kid": "es384-key"}),
        &claims(SUB, &loaded.base),
    );
    match loaded.verify(&es384).await {
        Err(TokenError::UnsupportedKey(reason)) => assert!(reason.contains("ES384"), "{reason}"),
        other => panic!("expected UnsupportedKey, got {other:?}"),
    }
    // Even when the header claims an algorithm we verify.
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("es384-key".into());
    let disguised = ed.sign_with_header(&header, &claims(SUB, &loaded.base));
    assert!(matches!(
        loaded.verify(&disguised).await,
        Err(TokenError::UnsupportedKey(_))
    ));
    let message = loaded
        .verify(&es384)
        .await
        .expect_err("refused")
        .to_string();
    assert!(
        message.contains("cannot verify") && message.contains("ES384"),
        "{message}"
    );
    assert_eq!(
        loaded.server.fetches(),
        1,
        "known-unsupported keys cause no refetch"
    );

    // A set of nothing but unusable keys is not ready, and says why.
    let only = JwksServer::start(&[es384_jwk()]).await;
    let verifier = for_server(&only, Duration::from_secs(60));
    let detail = eventually("the ES384-only set is fetched", || async {
        let detail = verifier.readiness().expect_err("no usable key");
        (!detail.contains("not loaded yet")).then_some(detail)
    })
    .await;
    assert!(
        detail.contains("no usable key") && detail.contains("ES384"),
        "{detail}"
    );
}

/// A small-order Ed25519 key (the identity point) in the JWKS would verify a
/// forged token (`R` = identity, `S` = 0) on any claims: it is refused when
/// the set is read and reported like ES512, and the forgery is refused with
/// that reason (issue 9, item 8).
#[tokio::test]
async fn a_small_order_ed25519_key_is_refused_and_its_forgeries_too() {
    let ed = TestKey::ed25519_a("ed");
    let weak = small_order_ed25519_jwk("weak");
    let loaded = Loaded::start(&[weak, ed.jwk()], Duration::from_secs(60)).await;
    let warnings = loaded.verifier.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("weak") && w.contains("small-order")),
        "{warnings:?}"
    );
    let forged = forged_ed25519_token("weak", &claims(SUB, &loaded.base));
    match loaded.verify(&forged).await {
        Err(TokenError::UnsupportedKey(reason)) => {
            assert!(reason.contains("small-order"), "{reason}");
        }
        other => panic!("expected UnsupportedKey, got {other:?}"),
    }
    // Without a kid the weak key is not a candidate either.
    let kidless = forged.replacen(
        &URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": "weak"}).to_string()),
        &URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA"}).to_string()),
        1,
    );
    assert_eq!(
        loaded.verify(&kidless).await.map(|c| c.user_id),
        Err(TokenError::BadSignature)
    );
    loaded.assert_accepted(&ed).await;
}

/// ES256 signatures with a high `S` are accepted, by decision (README,
/// Security): WebCrypto does not normalise `S`, so refusing them would refuse
/// about half of Better Auth's genuine ES256 tokens. Both strings verify.
#[tokio::test]
async fn es256_high_s_signatures_are_accepted_as_documented() {
    use p256::ecdsa::Signature;
    use p256::elliptic_curve::ff::PrimeField;

    let key = TestKey::p256("p256");
    let loaded = Loaded::start(&[key.jwk()], Duration::from_secs(60)).await;
    let token = loaded.token(&key);
    let (message, signature) = token.rsplit_once('.').expect("three segments");
    let bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let signature = Signature::from_slice(&bytes).expect("r and s");
    let (r, s) = signature.split_scalars();
    let other = Signature::from_scalars(r.to_repr(), (-*s).to_repr()).expect("n - s");
    assert_ne!(
        signature.normalize_s().is_some(),
        other.normalize_s().is_some(),
        "one of the two is high-S"
    );
    let twin = format!("{message}.{}", URL_SAFE_NO_PAD.encode(other.to_bytes()));
    for token in [&token, &twin] {
        assert_eq!(
            loaded.verify(token).await.map(|c| c.user_id),
            Ok(auth_core::UserId::parse(SUB).expect("id"))
        );
    }
}

/// A caller that stops waiting (a client hanging up, a gRPC deadline) while
/// its unknown `kid` is being refetched does not cancel the refetch: the
/// rotated key is picked up all the same, within the cooldown.
#[tokio::test]
async fn a_refetch_completes_when_its_caller_gives_up() {
    let old = TestKey::ed25519_a("old");
    let new = TestKey::ed25519_b("new");
    let loaded = Loaded::start(&[old.jwk()], Duration::from_secs(3600)).await;
    loaded.server.set_keys(&[old.jwk(), new.jwk()]);
    loaded.server.set_delay(Duration::from_millis(500));
    let token = loaded.token(&new);
    let before = loaded.server.fetches();
    let gave_up = tokio::time::timeout(Duration::from_millis(100), loaded.verify(&token)).await;
    assert!(gave_up.is_err(), "the caller gave up during the refetch");
    eventually("the refetch has started", || async {
        (loaded.server.fetches() > before).then_some(())
    })
    .await;
    eventually("the rotated key is picked up", || async {
        loaded.verify(&token).await.ok()
    })
    .await;
}

#[tokio::test]
async fn rotated_keys_are_picked_up_by_one_refetch_and_old_ones_kept_while_published() {
    let old = TestKey::ed25519_a("key-1");
    let new = TestKey::ed25519_b("key-2");
    let loaded = Loaded::start(&[old.jwk()], Duration::from_millis(300)).await;
    let server = &loaded.server;
    loaded.assert_accepted(&old).await;

    // Better Auth rotates: both keys are published, new tokens use key-2.
    server.set_keys(&[old.jwk(), new.jwk()]);
    let before = server.fetches();
    loaded.assert_accepted(&new).await;
    assert_eq!(server.fetches(), before + 1, "exactly one refetch");
    loaded.assert_accepted(&new).await;
    loaded.assert_accepted(&old).await;
    assert_eq!(server.fetches(), before + 1);

    // Once key-1 is withdrawn and the set refetched, its tokens are refused.
    server.set_keys(&[new.jwk()]);
    loaded.refetch_through_an_unknown_kid().await;
    let unknown = loaded.token(&TestKey::ed25519_b("key-3"));
    assert_eq!(loaded.verify(&unknown).await, Err(TokenError::UnknownKey));
    assert_eq!(
        loaded.verify(&loaded.token(&old)).await,
        Err(TokenError::UnknownKey)
    );
    loaded.assert_accepted(&new).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_costs_at_most_one_fetch_per_cooldown() {
    let key = TestKey::ed25519_a("real");
    let loaded = Loaded::start(&[key.jwk()], Duration::from_secs(3600)).await;
    let base = &loaded.base;
    assert_eq!(loaded.server.fetches(), 1);

    // 300 concurrent tokens with made-up kids: one shared refetch.
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..300 {
        let verifier = loaded.verifier.clone();
        let token = bogus(&format!("bogus-{i}"), base);
        flood.spawn(async move { verifier.verify(&token).await });
    }
    while let Some(result) = flood.join_next().await {
        assert_eq!(result.expect("task"), Err(TokenError::UnknownKey));
    }
    // And 300 more, one after another, within the cooldown: no fetch at all.
    for i in 0..300 {
        let token = bogus(&format!("later-{i}"), base);
        assert_eq!(loaded.verify(&token).await, Err(TokenError::UnknownKey));
    }
    assert_eq!(loaded.server.fetches(), 2, "start-up fetch + one refetch");
    assert_eq!(fetches(&loaded.verifier), 2);
    loaded.assert_accepted(&key).await;
}

#[tokio::test]
async fn refetches_are_spaced_by_the_cooldown() {
    let key = TestKey::ed25519_a("real");
    let cooldown = Duration::from_millis(200);
    let loaded = Loaded::start(&[key.jwk()], cooldown).await;
    // Unknown kids one after another until three of them caused a refetch.
    let started = Instant::now();
    let mut i = 0;
    while loaded.server.fetches() < 1 + 3 {
        assert!(started.elapsed() < PATIENCE, "fewer than 3 refetches");
        i += 1;
        let token = bogus(&format!("bogus-{i}"), &loaded.base);
        assert_eq!(loaded.verify(&token).await, Err(TokenError::UnknownKey));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The first came at once; each later one waited a whole cooldown. (A
    // slow machine only makes this longer, never shorter.)
    let elapsed = started.elapsed();
    assert!(
        elapsed >= 2 * cooldown,
        "3 refetches for {i} tokens within {elapsed:?}: closer than {cooldown:?} apart"
    );
}

#[tokio::test]
async fn known_keys_keep_working_when_the_jwks_endpoint_goes_down() {
    let key = TestKey::ed25519_a("real");
    let mut loaded = Loaded::start(&[key.jwk()], Duration::from_millis(50)).await;
    loaded.server.stop().await;

    let unknown = loaded.token(&TestKey::ed25519_a("new-kid"));
    assert_eq!(loaded.verify(&unknown).await, Err(TokenError::UnknownKey));
    loaded.assert_accepted(&key).await;
    assert_eq!(
        loaded.verifier.readiness(),
        Ok(()),
        "the last good set stays in use"
    );
    let warnings = loaded.verifier.warnings();
    assert!(
        warnings.iter().any(|w| w.contains("refresh failed")),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn bad_answers_keep_the_last_good_set() {
    let key = TestKey::ed25519_a("real");
    let loaded = Loaded::start(&[key.jwk()], Duration::from_millis(50)).await;
    let huge = format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(300 * 1024));
    for (status, body) in [
        (500, "oops".to_owned()),
        (200, "<html>not json</html>".to_owned()),
        (200, huge),
    ] {
        loaded.server.set_reply(status, body);
        loaded.refetch_through_an_unknown_kid().await;
        let unknown = loaded.token(&TestKey::ed25519_a("other"));
        assert_eq!(loaded.verify(&unknown).await, Err(TokenError::UnknownKey));
        loaded.assert_accepted(&key).await;
    }
    let warnings = loaded.verifier.warnings().join(" ");
    assert!(warnings.contains("larger than 256 KiB"), "{warnings}");
}

#[tokio::test]
async fn readiness_flips_when_the_jwks_endpoint_comes_up_late() {
    let key = TestKey::ed25519_a("late");
    let addr = JwksServer::reserve();
    let base = format!("http://{addr}");
    let verifier = verifier(
        &base,
        &format!("{base}/api/auth/jwks"),
        Duration::from_millis(300),
    );
    // The first fetch has failed (nothing listens yet).
    let detail = eventually("a failed first fetch", || async {
        let detail = verifier
            .readiness()
            .expect_err("not ready before the web app is up");
        detail.contains("last fetch").then_some(detail)
    })
    .await;
    assert!(detail.contains("not loaded yet"), "{detail}");
    assert_eq!(
        verifier.verify(&key.sign(&claims(SUB, &base))).await,
        Err(TokenError::KeysUnavailable)
    );
    let _server = JwksServer::start_at(addr, &[key.jwk()]).await;
    ready(&verifier).await;
    assert!(
        verifier
            .verify(&key.sign(&claims(SUB, &base)))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn hs256_tokens_signed_with_public_key_bytes_are_refused() {
    let ed = TestKey::ed25519_a("ed");
    let rs = TestKey::rs256("rs");
    let server = JwksServer::start(&[ed.jwk(), rs.jwk()]).await;
    let base = server.base_url();
    let mut both = AuthSettings::jwks(&base);
    both.auth_jwt_mode = JwtMode::Both;
    both.better_auth_secret = Some(SECRET.to_owned().into());
    let both = both.verifier().expect("both mode");
    let jwks = for_server(&server, Duration::from_secs(60));
    ready(&both).await;
    ready(&jwks).await;

    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for jwk in [ed.jwk(), rs.jwk()] {
        secrets.push(jwk.to_string().into_bytes());
        for member in ["x", "n"] {
            if let Some(text) = jwk[member].as_str() {
                secrets.push(text.as_bytes().to_vec());
                secrets.push(URL_SAFE_NO_PAD.decode(text).expect("b64"));
            }
        }
    }
    for secret in &secrets {
        for kid in [None, Some("ed"), Some("rs")] {
            let token = hs256(secret, kid, &claims(SUB, &base));
            assert_eq!(
                jwks.verify(&token).await,
                Err(TokenError::WrongMode {
                    alg: "HS256",
                    mode: "jwks"
                }),
                "jwks mode"
            );
            assert_eq!(
                both.verify(&token).await,
                Err(TokenError::BadSignature),
                "both mode"
            );
        }
    }
    // In `both` mode HS256 with the secret and EdDSA with the JWKS both work.
    assert!(
        both.verify(&hs256(SECRET.as_bytes(), None, &claims(SUB, &base)))
            .await
            .is_ok()
    );
    assert!(both.verify(&ed.sign(&claims(SUB, &base))).await.is_ok());
}

#[tokio::test]
async fn a_token_whose_alg_differs_from_its_keys_is_refused() {
    let ed = TestKey::ed25519_a("ed");
    let es = TestKey::p256("es");
    let rs = TestKey::rs256("rs");
    let loaded = Loaded::start(&[ed.jwk(), es.jwk(), rs.jwk()], Duration::from_secs(60)).await;
    let (base, verifier) = (&loaded.base, &loaded.verifier);

    // ES256-signed, naming the EdDSA key.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("ed".into());
    let token = es.sign_with_header(&header, &claims(SUB, base));
    assert_eq!(
        verifier.verify(&token).await,
        Err(TokenError::AlgorithmMismatch)
    );
    // The RS256 key used for PS256 (same key type, another algorithm).
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some("rs".into());
    let token = rs.sign_with_header(&header, &claims(SUB, base));
    assert_eq!(
        verifier.verify(&token).await,
        Err(TokenError::AlgorithmMismatch)
    );
    // `none`, whatever the kid.
    let none = unsigned(&json!({"alg": "none", "kid": "ed"}), &claims(SUB, base));
    assert_eq!(verifier.verify(&none).await, Err(TokenError::AlgorithmNone));
}

#[tokio::test]
async fn kidless_tokens_need_exactly_one_key_of_their_algorithm() {
    let a = TestKey::ed25519_a("a");
    let b = TestKey::ed25519_b("b");
    let es = TestKey::p256("es");
    let kidless = |loaded: &Loaded, key: &TestKey| {
        key.sign_with_json_header(&json!({"alg": key.alg.name()}), &claims(SUB, &loaded.base))
    };
    let one_each = Loaded::start(&[a.jwk(), es.jwk()], Duration::from_secs(60)).await;
    assert!(one_each.verify(&kidless(&one_each, &a)).await.is_ok());
    assert!(one_each.verify(&kidless(&one_each, &es)).await.is_ok());

    let two_ed25519 = Loaded::start(&[a.jwk(), b.jwk()], Duration::from_secs(60)).await;
    assert_eq!(
        two_ed25519.verify(&kidless(&two_ed25519, &a)).await,
        Err(TokenError::AmbiguousKey)
    );
}

#[tokio::test]
async fn every_rule_applies_to_jwks_tokens() {
    let key = TestKey::ed25519_a("ed");
    let loaded = Loaded::start(&[key.jwk()], Duration::from_secs(60)).await;
    let (base, verifier) = (&loaded.base, &loaded.verifier);
    let now = jsonwebtoken::get_current_timestamp();
    let with = |name: &str, value: Value| {
        let mut claims = claims(SUB, base);
        claims[name] = value;
        key.sign(&claims)
    };
    let without = |name: &str| {
        let mut claims = claims(SUB, base);
        claims.as_object_mut().expect("object").remove(name);
        key.sign(&claims)
    };
    let cases = [
        (
            key.sign(&json!({"sub": SUB, "iss": base, "aud": base, "iat": now - 4500, "exp": now - 3600})),
            TokenError::Expired,
        ),
        (with("nbf", json!(now + 3600)), TokenError::NotYetValid),
        (
            with("exp", json!(now + 86_400)),
            TokenError::LifetimeTooLong,
        ),
        (without("exp"), TokenError::MissingClaim("exp")),
        (
            with("iss", json!("http://evil.example")),
            TokenError::WrongIssuer {
                expected: base.clone(),
                received: "http://evil.example".to_owned(),
            },
        ),
        (
            with("aud", json!("http://evil.example")),
            TokenError::WrongAudience {
                expected: vec![base.clone()],
                received: vec!["http://evil.example".to_owned()],
            },
        ),
        (without("sub"), TokenError::MissingClaim("sub")),
        (with("sub", json!("")), TokenError::InvalidSubject("empty")),
        (
            with("sub", json!("a\u{202E}b")),
            TokenError::InvalidSubject("contains control characters"),
        ),
        (with("name", json!("x".repeat(9000))), TokenError::TooLarge),
    ];
    for (token, expected) in cases {
        assert_eq!(verifier.verify(&token).await, Err(expected));
    }
    for name in ["jku", "x5u", "jwk", "x5c", "crit"] {
        let mut header = json!({"alg": "EdDSA", "kid": "ed"});
        header[name] = json!("https://evil.example/jwks");
        let token = unsigned(&header, &claims(SUB, base));
        assert!(matches!(
            verifier.verify(&token).await,
            Err(TokenError::ForbiddenHeader(_))
        ));
    }
    // A forged signature under a known kid.
    let forged = TestKey::ed25519_b("ed").sign(&claims(SUB, base));
    assert_eq!(
        verifier.verify(&forged).await,
        Err(TokenError::BadSignature)
    );
}

#[tokio::test]
async fn settings_select_the_mode_and_check_the_jwks_settings() {
    let jwks = AuthSettings::jwks("http://localhost:3000/");
    assert_eq!(jwks.jwks_url(), "http://localhost:3000/api/auth/jwks");
    let mut custom = AuthSettings::jwks("http://localhost:3000");
    custom.auth_jwks_url = Some("http://web:3000/keys".into());
    assert_eq!(custom.jwks_url(), "http://web:3000/keys");
    let options = AuthSettings::jwks("http://localhost:3000").jwks_options();
    assert_eq!(options.refetch_cooldown, Duration::from_secs(30));
    assert_eq!(options.refresh_interval, Duration::from_secs(300));
    assert_eq!(options.max_response_bytes, 256 * 1024);

    let mut both = AuthSettings::jwks("http://localhost:3000");
    both.auth_jwt_mode = JwtMode::Both;
    assert!(matches!(
        both.verifier(),
        Err(SettingsError::MissingSecret(_))
    ));
    let mut bad = AuthSettings::jwks("http://localhost:3000");
    bad.auth_jwks_url = Some("file:///etc/passwd".into());
    assert!(matches!(
        bad.verifier(),
        Err(SettingsError::InvalidJwksUrl(..))
    ));
    let mut zero = AuthSettings::jwks("http://localhost:3000");
    zero.auth_jwks_refetch_cooldown_secs = 0;
    assert!(matches!(
        zero.verifier(),
        Err(SettingsError::OutOfRange {
            name: "AUTH_JWKS_REFETCH_COOLDOWN_SECS",
            ..
        })
    ));
    // HS256 mode never fetches anything and is ready at once.
    let hs = AuthSettings::hs256(SECRET, "http://localhost:3000")
        .verifier()
        .expect("hs256");
    assert_eq!(hs.readiness(), Ok(()));
    assert!(hs.keys().jwks().is_none());
}

#[tokio::test]
async fn a_cached_token_is_checked_again_once_its_key_is_withdrawn() {
    let old = TestKey::ed25519_a("key-1");
    let loaded = Loaded::start(&[old.jwk()], Duration::from_millis(300)).await;
    let token = loaded.token(&old);
    assert!(loaded.verify(&token).await.is_ok());
    assert!(loaded.verify(&token).await.is_ok(), "a cache hit");
    let before = loaded.server.fetches();
    assert!(loaded.verify(&token).await.is_ok());
    assert_eq!(loaded.server.fetches(), before, "hits fetch nothing");

    loaded.server.set_keys(&[TestKey::ed25519_b("key-2").jwk()]);
    loaded.refetch_through_an_unknown_kid().await;
    assert_eq!(loaded.verify(&token).await, Err(TokenError::UnknownKey));
}

#[tokio::test]
async fn a_token_refused_for_an_unknown_key_is_accepted_once_the_key_is_published() {
    let old = TestKey::ed25519_a("key-1");
    let new = TestKey::ed25519_b("key-2");
    let loaded = Loaded::start(&[old.jwk()], Duration::from_millis(300)).await;
    let token = loaded.token(&new);
    assert_eq!(loaded.verify(&token).await, Err(TokenError::UnknownKey));

    loaded.server.set_keys(&[old.jwk(), new.jwk()]);
    eventually("the refused token is accepted after a refetch", || async {
        loaded.verify(&token).await.ok()
    })
    .await;
}
