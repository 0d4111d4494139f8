//! One test per token verification rule (the list in auth-core's crate docs
//! and in the README's "Tokens" section).
//!
//! Every refused token here is correctly signed with the configured secret
//! (HMAC computed over the exact bytes sent, whatever the header says), and
//! breaks exactly one rule, so each test proves its rule and not a signature
//! failure. The shared builders are themselves checked by
//! `valid_token_is_accepted_with_its_claims`.

use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::{
    AuthSettings, Claims, INTERNAL_AUDIENCE, INTERNAL_ISSUER, InternalSigner, InternalVerifier,
    MAX_TOKEN_BYTES, SettingsError, TokenError, TokenVerifier, UserId,
};
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::common::b64;

const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
const URL: &str = "http://localhost:3000";

// ---------------------------------------------------------------- builders

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

fn mac(hash: Hash, secret: &[u8], message: &[u8]) -> Vec<u8> {
    macro_rules! run {
        ($digest:ty) => {{
            let mut mac = Hmac::<$digest>::new_from_slice(secret).expect("any key length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }};
    }
    match hash {
        Hash::Sha256 => run!(sha2::Sha256),
        Hash::Sha384 => run!(sha2::Sha384),
        Hash::Sha512 => run!(sha2::Sha512),
    }
}

/// `header.payload.signature` with the two encoded segments taken as given
/// (so they may be malformed) and a correct HMAC over `header.payload`.
fn sign_segments(hash: Hash, secret: &str, header: &str, payload: &str) -> String {
    let message = format!("{header}.{payload}");
    let signature = b64(mac(hash, secret.as_bytes(), message.as_bytes()));
    format!("{message}.{signature}")
}

/// A token whose header and payload are these exact bytes, HS256-signed
/// with [`SECRET`].
fn sign_raw(header: &str, payload: &str) -> String {
    sign_segments(Hash::Sha256, SECRET, &b64(header), &b64(payload))
}

/// A token with this header and these claims, HMAC-signed with `hash` and
/// `secret`.
fn sign_with(hash: Hash, secret: &str, header: &Value, claims: &Value) -> String {
    sign_segments(
        hash,
        secret,
        &b64(header.to_string()),
        &b64(claims.to_string()),
    )
}

/// A token with this header and these claims, HS256-signed with [`SECRET`].
fn sign(header: &Value, claims: &Value) -> String {
    sign_with(Hash::Sha256, SECRET, header, claims)
}

fn hs256_header() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

/// A token with the usual header and these claims.
fn jwt(claims: &Value) -> String {
    sign(&hs256_header(), claims)
}

/// The claims the web app puts in a token, valid now.
fn claims() -> Value {
    let now = now();
    json!({
        "sub": "user-123",
        "iss": URL,
        "aud": URL,
        "iat": now,
        "exp": now + 600,
        "email": "ada@example.com",
        "name": "Ada Lovelace",
    })
}

/// [`claims`] with one claim set to `value`.
fn claims_with(name: &str, value: Value) -> Value {
    let mut claims = claims();
    claims[name] = value;
    claims
}

/// [`claims`] of a token issued 15 minutes before `exp`, as Better Auth's
/// expired tokens are (an `exp` before `iat` has a rule of its own).
fn expired_at(exp: u64) -> Value {
    let mut claims = claims_with("exp", json!(exp));
    claims["iat"] = json!(exp - 900);
    claims
}

/// [`claims`] without one claim.
fn claims_without(name: &str) -> Value {
    let mut claims = claims();
    claims
        .as_object_mut()
        .expect("claims are an object")
        .remove(name);
    claims
}

/// [`hs256_header`] with one more parameter.
fn header_with(name: &str, value: Value) -> Value {
    let mut header = hs256_header();
    header[name] = value;
    header
}

fn settings() -> AuthSettings {
    AuthSettings::hs256(SECRET, URL)
}

fn verifier() -> TokenVerifier {
    settings().verifier().expect("test settings are valid")
}

async fn verify(token: &str) -> Result<Claims, TokenError> {
    verifier().verify(token).await
}

async fn assert_accepted(token: &str) -> Claims {
    match verify(token).await {
        Ok(claims) => claims,
        Err(error) => panic!("expected the token to be accepted, got {error:?}"),
    }
}

/// The refusal of a token whose `iss` is `received`.
fn wrong_issuer(received: &str) -> TokenError {
    TokenError::WrongIssuer {
        expected: URL.to_owned(),
        received: auth_core::jwt::shown(received),
    }
}

/// The refusal of a token whose `aud` values are `received`.
fn wrong_audience(received: &[&str]) -> TokenError {
    TokenError::WrongAudience {
        expected: vec![URL.to_owned()],
        received: received.iter().map(|a| (*a).to_owned()).collect(),
    }
}

async fn assert_refused(token: &str, expected: TokenError) {
    assert_eq!(verify(token).await, Err(expected));
}

/// A valid token of exactly `len` bytes (padded with an extra claim and,
/// to reach every length, a `kid` of 0 to 3 characters).
fn valid_token_of_len(len: usize) -> String {
    valid_token_of_len_with(len, claims())
}

/// A token of exactly `len` bytes with these claims and a padding claim.
fn valid_token_of_len_with(len: usize, claims: Value) -> String {
    for kid_len in 0..4 {
        let header = if kid_len == 0 {
            hs256_header()
        } else {
            header_with("kid", json!("k".repeat(kid_len)))
        };
        for pad in (len * 3 / 4).saturating_sub(600)..len {
            let mut claims = claims.clone();
            claims["pad"] = json!("x".repeat(pad));
            let token = sign(&header, &claims);
            if token.len() == len {
                return token;
            }
            if token.len() > len {
                break;
            }
        }
    }
    panic!("no valid token of {len} bytes");
}

// ------------------------------------------------------------ valid tokens

#[tokio::test]
async fn valid_token_is_accepted_with_its_claims() {
    let claims = claims();
    let verified = assert_accepted(&jwt(&claims)).await;
    assert_eq!(
        verified,
        Claims {
            user_id: UserId::parse("user-123").expect("a user id"),
            email: Some("ada@example.com".to_owned()),
            name: Some("Ada Lovelace".to_owned()),
            expires_at: i64::try_from(claims["exp"].as_u64().expect("exp")).expect("fits"),
            session_id: None,
        }
    );
}

#[tokio::test]
async fn minimal_token_is_accepted_without_email_or_name() {
    let mut claims = claims_without("email");
    claims.as_object_mut().expect("object").remove("name");
    claims.as_object_mut().expect("object").remove("iat");
    let verified = assert_accepted(&jwt(&claims)).await;
    assert_eq!(verified.user_id, "user-123");
    assert_eq!(verified.email, None);
    assert_eq!(verified.name, None);
}

#[tokio::test]
async fn non_string_email_and_name_are_dropped() {
    let mut claims = claims_with("email", json!(42));
    claims["name"] = json!({"first": "Ada"});
    let verified = assert_accepted(&jwt(&claims)).await;
    assert_eq!(verified.email, None);
    assert_eq!(verified.name, None);
}

// ---------------------------------------------------- signature, algorithm

#[tokio::test]
async fn wrong_secret_is_bad_signature() {
    let other = "another-secret-another-secret-another-secret";
    let token = sign_with(Hash::Sha256, other, &hs256_header(), &claims());
    assert_refused(&token, TokenError::BadSignature).await;
}

#[tokio::test]
async fn tampered_payload_is_bad_signature() {
    let good = jwt(&claims());
    let signature = good.rsplit('.').next().expect("signature");
    let forged = format!(
        "{}.{}.{signature}",
        b64(hs256_header().to_string()),
        b64(claims_with("sub", json!("admin")).to_string())
    );
    assert_refused(&forged, TokenError::BadSignature).await;
}

#[tokio::test]
async fn alg_none_with_empty_signature_is_refused() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT"}).to_string());
        let payload = b64(claims().to_string());
        let token = format!("{header}.{payload}.");
        assert_refused(&token, TokenError::AlgorithmNone).await;
    }
}

#[tokio::test]
async fn alg_none_with_a_signature_is_refused() {
    for alg in ["none", "None", "NONE"] {
        // Signed with the right secret: the header alone must sink it.
        let token = sign(&json!({"alg": alg, "typ": "JWT"}), &claims());
        assert_refused(&token, TokenError::AlgorithmNone).await;
    }
}

#[tokio::test]
async fn hs384_token_is_not_allowed() {
    let token = sign_with(Hash::Sha384, SECRET, &json!({"alg": "HS384"}), &claims());
    assert_refused(&token, TokenError::AlgorithmNotAllowed("HS384".to_owned())).await;
}

#[tokio::test]
async fn hs512_token_is_not_allowed() {
    let token = sign_with(Hash::Sha512, SECRET, &json!({"alg": "HS512"}), &claims());
    assert_refused(&token, TokenError::AlgorithmNotAllowed("HS512".to_owned())).await;
}

#[tokio::test]
async fn hs256_signed_token_under_an_hs384_header_is_not_allowed() {
    let token = sign(&json!({"alg": "HS384"}), &claims());
    assert_refused(&token, TokenError::AlgorithmNotAllowed("HS384".to_owned())).await;
}

#[tokio::test]
async fn asymmetric_alg_header_in_hs256_mode_is_refused_naming_the_mode() {
    // Allowed algorithms in general, but not the HS256 key's algorithm: the
    // classic key-confusion attack (the HMAC key used as a public key), and
    // also a JWKS-signed token sent to a server in hs256 mode.
    for alg in ["RS256", "EdDSA", "ES256", "ES512", "PS256"] {
        let token = sign(&json!({"alg": alg, "typ": "JWT"}), &claims());
        let refusal = verify(&token).await.expect_err("refused");
        assert!(
            matches!(refusal, TokenError::WrongMode { alg: a, mode: "hs256" } if a == alg),
            "{refusal:?}"
        );
        let text = refusal.to_string();
        assert!(
            text.contains("hs256 mode") && text.contains("AUTH_JWT_MODE=jwks"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn algorithms_outside_the_allow_list_are_not_allowed() {
    for (alg, shown) in [
        ("ES384", "ES384"),
        ("RS512", "RS512"),
        ("PS384", "PS384"),
        ("hs256", "hs256"),
        ("HS256 ", "HS256"),
        ("A128KW", "A128KW"),
        ("", ""),
    ] {
        let token = sign(&json!({"alg": alg}), &claims());
        assert_refused(&token, TokenError::AlgorithmNotAllowed(shown.to_owned())).await;
    }
}

#[tokio::test]
async fn missing_or_non_string_alg_is_malformed() {
    let token = sign(&json!({"typ": "JWT"}), &claims());
    assert_refused(&token, TokenError::Malformed("header has no alg")).await;
    for alg in [
        json!(null),
        json!(256),
        json!(["HS256"]),
        json!({"HS256": true}),
    ] {
        let token = sign(&json!({ "alg": alg }), &claims());
        assert_refused(&token, TokenError::Malformed("alg is not a string")).await;
    }
}

// ---------------------------------------------------------------- exp, nbf

#[tokio::test]
async fn expired_beyond_leeway_is_expired() {
    // Default leeway is 10 s.
    let token = jwt(&expired_at(now() - 30));
    assert_refused(&token, TokenError::Expired).await;
}

#[tokio::test]
async fn exp_before_iat_or_in_1970_says_expiration_time_is_absolute() {
    // Better Auth's `expirationTime: 900` (a number) is taken as the
    // absolute time 900 s after the epoch; `expirationTime: iat - 1` lands
    // before the token's own `iat`.
    for exp in [900, 1, now() - 3600] {
        let token = jwt(&claims_with("exp", json!(exp)));
        assert_refused(&token, TokenError::ExpirationNotADuration).await;
    }
    let refusal = TokenError::ExpirationNotADuration.to_string();
    assert!(
        refusal.contains("absolute time") && refusal.contains("'15m'"),
        "{refusal}"
    );
    // Without `iat`, an expired token in this century is just expired.
    let mut claims = claims_with("exp", json!(now() - 3600));
    claims.as_object_mut().expect("object").remove("iat");
    assert_refused(&jwt(&claims), TokenError::Expired).await;
}

#[tokio::test]
async fn expired_within_leeway_is_accepted() {
    let exp = now() - 3;
    let verified = assert_accepted(&jwt(&claims_with("exp", json!(exp)))).await;
    assert_eq!(verified.expires_at, i64::try_from(exp).expect("fits"));
}

#[tokio::test]
async fn nbf_in_the_future_beyond_leeway_is_not_yet_valid() {
    let token = jwt(&claims_with("nbf", json!(now() + 60)));
    assert_refused(&token, TokenError::NotYetValid).await;
}

#[tokio::test]
async fn nbf_in_the_future_within_leeway_is_accepted() {
    assert_accepted(&jwt(&claims_with("nbf", json!(now() + 3)))).await;
}

#[tokio::test]
async fn missing_exp_is_missing_claim() {
    let token = jwt(&claims_without("exp"));
    assert_refused(&token, TokenError::MissingClaim("exp")).await;
}

#[tokio::test]
async fn exp_as_a_string_is_refused() {
    // CVE-2026-25537: a string `exp` must not bypass the expiry check,
    // whether it names a past or a future time.
    for exp in [now() - 3600, now() + 600] {
        let token = jwt(&claims_with("exp", json!(exp.to_string())));
        assert_refused(&token, TokenError::InvalidClaim("exp")).await;
    }
}

#[tokio::test]
async fn nbf_as_a_string_is_refused() {
    // The same CVE for `nbf`.
    let token = jwt(&claims_with("nbf", json!((now() + 3600).to_string())));
    assert_refused(&token, TokenError::InvalidClaim("nbf")).await;
}

#[tokio::test]
async fn exp_that_is_not_a_non_negative_integer_is_refused() {
    // Null is absent; anything but a whole number of seconds is invalid.
    let token = jwt(&claims_with("exp", json!(null)));
    assert_refused(&token, TokenError::MissingClaim("exp")).await;
    for exp in [
        json!((now() + 600) as f64 + 0.5),
        json!(-1),
        json!(true),
        json!([now() + 600]),
        json!({"at": now() + 600}),
    ] {
        let token = jwt(&claims_with("exp", exp));
        assert_refused(&token, TokenError::InvalidClaim("exp")).await;
    }
}

// ------------------------------------------------------------ max lifetime

#[tokio::test]
async fn lifetime_at_the_maximum_is_accepted() {
    // Better Auth's tokens: exp = iat + 15 min = the default maximum.
    assert_accepted(&jwt(&claims_with("exp", json!(now() + 900)))).await;
}

#[tokio::test]
async fn lifetime_beyond_the_maximum_is_refused() {
    let token = jwt(&claims_with("exp", json!(now() + 2 * 3600)));
    assert_refused(&token, TokenError::LifetimeTooLong).await;
}

#[tokio::test]
async fn lifetime_just_beyond_maximum_plus_leeway_is_refused() {
    let token = jwt(&claims_with("exp", json!(now() + 900 + 10 + 5)));
    assert_refused(&token, TokenError::LifetimeTooLong).await;
}

#[tokio::test]
async fn exp_u64_max_is_lifetime_too_long() {
    let token = jwt(&claims_with("exp", json!(u64::MAX)));
    assert_refused(&token, TokenError::LifetimeTooLong).await;
}

#[tokio::test]
async fn max_lifetime_is_configurable() {
    let mut settings = settings();
    settings.auth_max_token_lifetime_secs = 60;
    let verifier = settings.verifier().expect("valid settings");
    let short = jwt(&claims_with("exp", json!(now() + 30)));
    let long = jwt(&claims_with("exp", json!(now() + 600)));
    assert!(verifier.verify(&short).await.is_ok());
    assert_eq!(
        verifier.verify(&long).await,
        Err(TokenError::LifetimeTooLong)
    );
}

// --------------------------------------------------------------------- sub

#[tokio::test]
async fn missing_sub_is_missing_claim() {
    assert_refused(
        &jwt(&claims_without("sub")),
        TokenError::MissingClaim("sub"),
    )
    .await;
}

#[tokio::test]
async fn null_sub_is_missing_claim() {
    // JSON null is treated as absent (RFC 7519 gives null no meaning).
    let token = jwt(&claims_with("sub", Value::Null));
    assert_refused(&token, TokenError::MissingClaim("sub")).await;
}

#[tokio::test]
async fn empty_sub_is_invalid() {
    let token = jwt(&claims_with("sub", json!("")));
    assert_refused(&token, TokenError::InvalidSubject("empty")).await;
}

#[tokio::test]
async fn non_string_sub_is_invalid() {
    for sub in [
        json!(123),
        json!(0),
        json!(1.5),
        json!(true),
        json!({"id": "user-123"}),
        json!(["user-123"]),
        json!({}),
    ] {
        let token = jwt(&claims_with("sub", sub));
        assert_refused(&token, TokenError::InvalidSubject("not a string")).await;
    }
}

#[tokio::test]
async fn sub_over_255_bytes_is_invalid() {
    // 256 ASCII bytes, and 256 bytes in only 128 characters: the limit is
    // on bytes.
    for sub in ["a".repeat(256), "é".repeat(128)] {
        assert_eq!(sub.len(), 256);
        let token = jwt(&claims_with("sub", json!(sub)));
        assert_refused(&token, TokenError::InvalidSubject("longer than 255 bytes")).await;
    }
}

#[tokio::test]
async fn sub_of_exactly_255_bytes_is_accepted() {
    for sub in ["a".repeat(255), format!("{}a", "-".repeat(254))] {
        assert_eq!(sub.len(), 255);
        let verified = assert_accepted(&jwt(&claims_with("sub", json!(sub.clone())))).await;
        assert_eq!(verified.user_id, sub);
    }
}

#[tokio::test]
async fn sub_with_control_characters_is_invalid() {
    for sub in [
        "user\n123",
        "user\r\n123",
        "user\u{0}",
        "\u{7f}user",
        "user\t123",
        "user\u{1b}[31m",
        "user\u{85}",
        "user\u{9f}",
        "user\u{2028}",
        "user\u{202e}321",
        "user\u{200b}",
        "\u{feff}user",
    ] {
        let token = jwt(&claims_with("sub", json!(sub)));
        assert_refused(
            &token,
            TokenError::InvalidSubject("contains control characters"),
        )
        .await;
    }
}

/// Ids travel in gRPC metadata (visible ASCII): anything else is refused
/// here, with the reason, rather than failing at tasks (issue 9, item 4).
#[tokio::test]
async fn sub_outside_visible_ascii_is_invalid() {
    for sub in ["über", "用户", "café-😀", "üser-δ-用户", "user 1", " user"] {
        let token = jwt(&claims_with("sub", json!(sub)));
        assert_refused(
            &token,
            TokenError::InvalidSubject(
                "only visible ASCII (letters, digits, punctuation) is accepted",
            ),
        )
        .await;
    }
}

// ---------------------------------------------------------------- iss, aud

#[tokio::test]
async fn wrong_iss_is_wrong_issuer() {
    let token = jwt(&claims_with("iss", json!("https://evil.example")));
    assert_refused(&token, wrong_issuer("https://evil.example")).await;
}

#[tokio::test]
async fn missing_iss_is_missing_claim() {
    assert_refused(
        &jwt(&claims_without("iss")),
        TokenError::MissingClaim("iss"),
    )
    .await;
}

#[tokio::test]
async fn iss_is_compared_exactly() {
    for iss in [
        "http://localhost:3000/",
        "HTTP://localhost:3000",
        "http://LOCALHOST:3000",
        "http://localhost:3000 ",
        "http://localhost:30000",
        "http://localhost",
        "",
    ] {
        let token = jwt(&claims_with("iss", json!(iss)));
        assert_refused(&token, wrong_issuer(iss)).await;
    }
}

#[tokio::test]
async fn a_wrong_issuer_or_audience_is_named_with_the_expected_one() {
    let refusal = verify(&jwt(&claims_with("iss", json!("https://auth.example"))))
        .await
        .expect_err("refused")
        .to_string();
    assert_eq!(
        refusal,
        "token issuer is not accepted: expected 'http://localhost:3000', received 'https://auth.example'"
    );
    let slash = verify(&jwt(&claims_with("iss", json!(format!("{URL}/")))))
        .await
        .expect_err("refused")
        .to_string();
    assert!(slash.contains("differ only by a trailing slash"), "{slash}");
    let audience = verify(&jwt(&claims_with("aud", json!(["a", "b"]))))
        .await
        .expect_err("refused")
        .to_string();
    assert_eq!(
        audience,
        "token audience is not accepted: expected 'http://localhost:3000', received 'a', 'b'"
    );
    // What was received is quoted only in a harmless form.
    let hostile = verify(&jwt(&claims_with("iss", json!("a b<%s>'\"c"))))
        .await
        .expect_err("refused")
        .to_string();
    assert!(hostile.ends_with("received 'a*b**s***c'"), "{hostile}");
}

#[tokio::test]
async fn configured_issuer_and_audiences_replace_better_auth_url() {
    let mut settings = settings();
    settings.auth_jwt_issuer = Some("https://auth.example.com".to_owned());
    settings.auth_jwt_audience = Some("https://api.example.com, todo-edge".to_owned());
    let verifier = settings.verifier().expect("valid settings");
    let with = |iss: &str, aud: Value| {
        let mut claims = claims_with("iss", json!(iss));
        claims["aud"] = aud;
        jwt(&claims)
    };
    for aud in [
        json!("todo-edge"),
        json!("https://api.example.com"),
        json!(["other", "todo-edge"]),
    ] {
        let token = with("https://auth.example.com", aud);
        assert!(verifier.verify(&token).await.is_ok());
    }
    // The defaults no longer apply.
    assert_eq!(
        verifier.verify(&with(URL, json!("todo-edge"))).await,
        Err(TokenError::WrongIssuer {
            expected: "https://auth.example.com".to_owned(),
            received: URL.to_owned(),
        })
    );
    assert_eq!(
        verifier
            .verify(&with("https://auth.example.com", json!(URL)))
            .await,
        Err(TokenError::WrongAudience {
            expected: vec!["https://api.example.com".to_owned(), "todo-edge".to_owned()],
            received: vec![URL.to_owned()],
        })
    );
    assert!(
        verifier
            .verify(&with("https://auth.example.com", json!(URL)))
            .await
            .expect_err("refused")
            .to_string()
            .contains("expected 'https://api.example.com' or 'todo-edge'")
    );
}

#[tokio::test]
async fn iss_as_an_array_is_refused() {
    // RFC 7519 §4.1.1: `iss` is one StringOrURI, never an array. jsonwebtoken
    // accepts an array containing the expected issuer; auth-core must not.
    for iss in [json!([URL]), json!(["https://evil.example", URL])] {
        let token = jwt(&claims_with("iss", iss));
        assert_refused(&token, TokenError::InvalidClaim("iss")).await;
    }
}

#[tokio::test]
async fn non_string_iss_is_refused() {
    let token = jwt(&claims_with("iss", json!(null)));
    assert_refused(&token, TokenError::MissingClaim("iss")).await;
    for iss in [json!(3000), json!({"url": URL})] {
        let token = jwt(&claims_with("iss", iss));
        assert_refused(&token, TokenError::InvalidClaim("iss")).await;
    }
}

#[tokio::test]
async fn wrong_aud_is_wrong_audience() {
    for aud in [
        "https://evil.example",
        "http://localhost:3000/",
        "tasks",
        "",
    ] {
        let token = jwt(&claims_with("aud", json!(aud)));
        assert_refused(&token, wrong_audience(&[aud])).await;
    }
}

#[tokio::test]
async fn missing_aud_is_missing_claim() {
    assert_refused(
        &jwt(&claims_without("aud")),
        TokenError::MissingClaim("aud"),
    )
    .await;
}

#[tokio::test]
async fn aud_array_containing_the_audience_is_accepted() {
    // RFC 7519 §4.1.3: `aud` may be an array; the recipient must find itself
    // in it. Decision: accepted.
    for aud in [json!([URL]), json!(["https://other.example", URL])] {
        assert_accepted(&jwt(&claims_with("aud", aud))).await;
    }
}

#[tokio::test]
async fn aud_array_without_the_audience_is_wrong_audience() {
    for aud in [
        vec![],
        vec!["https://other.example"],
        vec!["http://localhost:3000/"],
    ] {
        let token = jwt(&claims_with("aud", json!(aud)));
        assert_refused(&token, wrong_audience(&aud)).await;
    }
}

// ----------------------------------------------------------------- headers

#[tokio::test]
async fn crit_header_is_forbidden() {
    let token = sign(&header_with("crit", json!(["exp"])), &claims());
    assert_refused(&token, TokenError::ForbiddenHeader("crit")).await;
}

#[tokio::test]
async fn jku_header_is_forbidden() {
    let token = sign(
        &header_with("jku", json!("https://evil.example/jwks")),
        &claims(),
    );
    assert_refused(&token, TokenError::ForbiddenHeader("jku")).await;
}

#[tokio::test]
async fn x5u_header_is_forbidden() {
    let token = sign(
        &header_with("x5u", json!("https://evil.example/cert")),
        &claims(),
    );
    assert_refused(&token, TokenError::ForbiddenHeader("x5u")).await;
}

#[tokio::test]
async fn jwk_header_is_forbidden() {
    let jwk = json!({"kty": "oct", "k": b64(SECRET)});
    let token = sign(&header_with("jwk", jwk), &claims());
    assert_refused(&token, TokenError::ForbiddenHeader("jwk")).await;
}

#[tokio::test]
async fn x5c_header_is_forbidden() {
    let token = sign(&header_with("x5c", json!(["MIIB"])), &claims());
    assert_refused(&token, TokenError::ForbiddenHeader("x5c")).await;
}

#[tokio::test]
async fn forbidden_headers_are_refused_whatever_their_value() {
    for name in ["crit", "jku", "x5u", "jwk", "x5c"] {
        for value in [json!(null), json!(""), json!([]), json!({})] {
            let token = sign(&header_with(name, value), &claims());
            let Err(TokenError::ForbiddenHeader(refused)) = verify(&token).await else {
                panic!("{name} header was not refused");
            };
            assert_eq!(refused, name);
        }
    }
}

#[tokio::test]
async fn other_header_parameters_are_ignored() {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "any", "cty": "JWT", "x5t": "abc"});
    assert_accepted(&sign(&header, &claims())).await;
}

#[tokio::test]
async fn duplicate_header_or_claim_names_are_not_accepted_ambiguously() {
    // RFC 7515 §4: reject, or take the last value. Here a name twice in the
    // header or the payload is malformed, whatever the values.
    let payload = claims().to_string();
    let last_none = sign_raw(r#"{"alg":"HS256","alg":"none"}"#, &payload);
    assert_refused(
        &last_none,
        TokenError::Malformed("header has a member name twice"),
    )
    .await;
    let last_hs256 = sign_raw(r#"{"alg":"none","alg":"HS256"}"#, &payload);
    assert!(matches!(
        verify(&last_hs256).await,
        Err(TokenError::Malformed(_))
    ));

    let header = hs256_header().to_string();
    let exp = now() + 600;
    let old = now() - 3600;
    let body = |first: &str, second: &str| {
        format!(r#"{{"iss":"{URL}","aud":"{URL}","exp":{exp},"sub":{first},"sub":{second}}}"#)
    };
    let two_subs = sign_raw(&header, &body(r#""user-1""#, r#""user-2""#));
    assert!(matches!(
        verify(&two_subs).await,
        Err(TokenError::Malformed(_))
    ));
    let two_exps = sign_raw(
        &header,
        &format!(r#"{{"iss":"{URL}","aud":"{URL}","sub":"u","exp":{old},"exp":{exp}}}"#),
    );
    assert!(matches!(
        verify(&two_exps).await,
        Err(TokenError::Malformed(_))
    ));
}

// -------------------------------------------------------------------- size

#[tokio::test]
async fn token_over_8_kib_is_too_large() {
    let token = valid_token_of_len(MAX_TOKEN_BYTES + 1);
    assert_refused(&token, TokenError::TooLarge).await;
    // Refused before any decoding: not even three segments needed.
    assert_refused(&"a".repeat(MAX_TOKEN_BYTES + 1), TokenError::TooLarge).await;
    assert_refused(&"a".repeat(1 << 20), TokenError::TooLarge).await;
}

#[tokio::test]
async fn token_of_exactly_8_kib_is_judged_on_its_merits() {
    let token = valid_token_of_len(MAX_TOKEN_BYTES);
    assert_accepted(&token).await;
    // Same size, signed with another secret: refused for the signature.
    let (message, _) = token.rsplit_once('.').expect("three segments");
    let other = b64(mac(
        Hash::Sha256,
        b"another-secret-another-secret-0123",
        message.as_bytes(),
    ));
    let forged = format!("{message}.{other}");
    assert_eq!(forged.len(), MAX_TOKEN_BYTES);
    assert_refused(&forged, TokenError::BadSignature).await;
    // Same size, expired: refused for the expiry.
    let expired = valid_token_of_len_with(MAX_TOKEN_BYTES, expired_at(now() - 3600));
    assert_refused(&expired, TokenError::Expired).await;
}

// --------------------------------------------------------------- malformed

fn assert_malformed(result: &Result<Claims, TokenError>, case: &str) {
    assert!(
        matches!(result, Err(TokenError::Malformed(_))),
        "{case}: expected Malformed, got {result:?}"
    );
}

#[tokio::test]
async fn two_segments_are_malformed() {
    let token = jwt(&claims());
    let (message, _) = token.rsplit_once('.').expect("three segments");
    assert_malformed(&verify(message).await, "two segments");
}

#[tokio::test]
async fn four_segments_are_malformed() {
    let token = jwt(&claims());
    assert_malformed(&verify(&format!("{token}.")).await, "trailing dot");
    let signature = token.rsplit('.').next().expect("signature");
    assert_malformed(
        &verify(&format!("{token}.{signature}")).await,
        "four segments",
    );
}

#[tokio::test]
async fn empty_or_dotless_input_is_malformed() {
    for input in ["", ".", "..", "...", "abc", "Bearer x.y.z", " . . "] {
        assert_malformed(&verify(input).await, input);
    }
}

#[tokio::test]
async fn empty_header_is_malformed() {
    let payload = b64(claims().to_string());
    let token = sign_segments(Hash::Sha256, SECRET, "", &payload);
    assert_malformed(&verify(&token).await, "empty header");
}

#[tokio::test]
async fn empty_payload_is_malformed() {
    let header = b64(hs256_header().to_string());
    let token = sign_segments(Hash::Sha256, SECRET, &header, "");
    assert_malformed(&verify(&token).await, "empty payload");
}

#[tokio::test]
async fn header_not_base64url_is_malformed() {
    let payload = b64(claims().to_string());
    for header in ["eyJ!bGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9*", "e"] {
        let token = sign_segments(Hash::Sha256, SECRET, header, &payload);
        assert_malformed(&verify(&token).await, header);
    }
    // The standard alphabet's `+` and `/` are not base64url.
    let header = b64(r#"{"alg":"HS256","typ":"JWT","kid":"??>>"}"#);
    let standard = header.replace('-', "+").replace('_', "/");
    assert_ne!(header, standard, "the fixture must use - or _");
    let token = sign_segments(Hash::Sha256, SECRET, &standard, &payload);
    assert_malformed(&verify(&token).await, "standard alphabet");
}

#[tokio::test]
async fn header_not_json_is_malformed() {
    let payload = claims().to_string();
    for header in [
        "alg=HS256",
        r#"{"alg":"HS256""#,
        "",
        "\u{feff}{\"alg\":\"HS256\"}",
    ] {
        assert_malformed(&verify(&sign_raw(header, &payload)).await, header);
    }
    // Not UTF-8.
    let token = sign_segments(
        Hash::Sha256,
        SECRET,
        &b64([0xff, 0xfe, b'{']),
        &b64(&payload),
    );
    assert_malformed(&verify(&token).await, "not UTF-8");
}

#[tokio::test]
async fn header_json_not_an_object_is_malformed() {
    let payload = claims().to_string();
    for header in [r#"["alg","HS256"]"#, r#""HS256""#, "null", "256", "true"] {
        assert_malformed(&verify(&sign_raw(header, &payload)).await, header);
    }
}

#[tokio::test]
async fn payload_not_base64url_is_malformed() {
    let header = b64(hs256_header().to_string());
    for payload in ["eyJ!c3ViIjoieCJ9", "a", "e30*"] {
        let token = sign_segments(Hash::Sha256, SECRET, &header, payload);
        assert_malformed(&verify(&token).await, payload);
    }
}

#[tokio::test]
async fn payload_not_json_is_malformed() {
    let header = hs256_header().to_string();
    for payload in [
        "sub=user-123",
        r#"{"sub":"user-123""#,
        r#"["sub"]"#,
        "null",
        "42",
    ] {
        assert_malformed(&verify(&sign_raw(&header, payload)).await, payload);
    }
}

#[tokio::test]
async fn padded_base64_is_malformed() {
    // Both JSON texts are grown with spaces until their encodings need
    // padding; unpadded, the same token is accepted.
    let needing_padding = |mut json: String| {
        while json.len().is_multiple_of(3) {
            json.push(' ');
        }
        let encoded = b64(&json);
        let padded = format!("{encoded}{}", "=".repeat(4 - encoded.len() % 4));
        (encoded, padded)
    };
    let (header, padded_header) = needing_padding(hs256_header().to_string());
    let (payload, padded_payload) = needing_padding(claims().to_string());
    assert_accepted(&sign_segments(Hash::Sha256, SECRET, &header, &payload)).await;

    let token = sign_segments(Hash::Sha256, SECRET, &padded_header, &payload);
    assert_malformed(&verify(&token).await, "padded header");
    let token = sign_segments(Hash::Sha256, SECRET, &header, &padded_payload);
    assert_malformed(&verify(&token).await, "padded payload");

    // An HS256 signature is 32 bytes: 43 characters, one `=` when padded.
    let token = jwt(&claims());
    assert_malformed(&verify(&format!("{token}=")).await, "padded signature");
}

#[tokio::test]
async fn invalid_base64_in_signature_is_malformed() {
    let token = jwt(&claims());
    let (message, signature) = token.rsplit_once('.').expect("three segments");
    // The last of 43 characters carries 4 bits of the 32-byte MAC and 2
    // bits that must be zero: set one of them.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = signature.as_bytes()[signature.len() - 1];
    let index = ALPHABET.iter().position(|c| *c == last).expect("base64url");
    assert_eq!(index % 4, 0, "unused bits are zero in a canonical encoding");
    let non_canonical = format!(
        "{}{}",
        &signature[..signature.len() - 1],
        char::from(ALPHABET[index + 1])
    );
    for bad in [
        format!("+{}", &signature[1..]),
        format!("/{}", &signature[1..]),
        format!("!{}", &signature[1..]),
        format!("{signature}AA"),
        format!("{signature} "),
        non_canonical,
    ] {
        assert_malformed(&verify(&format!("{message}.{bad}")).await, &bad);
    }
}

#[tokio::test]
async fn empty_signature_is_malformed() {
    let token = jwt(&claims());
    let (message, _) = token.rsplit_once('.').expect("three segments");
    assert_refused(
        &format!("{message}."),
        TokenError::Malformed("empty signature"),
    )
    .await;
}

// ---------------------------------------------------------------- settings

fn secret_of(len: usize) -> String {
    "s".repeat(len)
}

#[test]
fn missing_secret_is_refused_naming_better_auth_secret() {
    let mut settings = settings();
    settings.better_auth_secret = None;
    let Err(error) = settings.verifier() else {
        panic!("a missing secret was accepted");
    };
    assert!(matches!(
        error,
        SettingsError::MissingSecret("BETTER_AUTH_SECRET")
    ));
    assert!(error.to_string().contains("BETTER_AUTH_SECRET"), "{error}");
}

#[test]
fn empty_secret_is_refused_naming_better_auth_secret() {
    let Err(error) = AuthSettings::hs256("", URL).verifier() else {
        panic!("an empty secret was accepted");
    };
    assert!(matches!(
        error,
        SettingsError::MissingSecret("BETTER_AUTH_SECRET")
    ));
    assert!(error.to_string().contains("BETTER_AUTH_SECRET"), "{error}");
}

#[test]
fn secret_of_31_bytes_is_refused_naming_better_auth_secret() {
    let secret = "short-secret-of-31-bytes-0123xy";
    assert_eq!(secret.len(), 31);
    let Err(error) = AuthSettings::hs256(secret, URL).verifier() else {
        panic!("a 31-byte secret was accepted");
    };
    assert!(matches!(
        error,
        SettingsError::ShortSecret {
            name: "BETTER_AUTH_SECRET",
            len: 31
        }
    ));
    let message = error.to_string();
    assert!(message.contains("BETTER_AUTH_SECRET"), "{message}");
    assert!(message.contains("32"), "{message}");
    assert!(!message.contains(secret), "{message}");
    assert!(!format!("{error:?}").contains(secret));
}

#[test]
fn secret_length_is_counted_in_bytes() {
    // 16 two-byte characters: 32 bytes, accepted; 15 and a byte: 31, refused.
    assert!(AuthSettings::hs256(&"é".repeat(16), URL).verifier().is_ok());
    let short = format!("{}a", "é".repeat(15));
    assert!(matches!(
        AuthSettings::hs256(&short, URL).verifier(),
        Err(SettingsError::ShortSecret { len: 31, .. })
    ));
}

#[tokio::test]
async fn secret_of_32_bytes_is_accepted() {
    let secret = secret_of(32);
    let verifier = AuthSettings::hs256(&secret, URL)
        .verifier()
        .expect("a 32-byte secret is enough");
    let token = sign_with(Hash::Sha256, &secret, &hs256_header(), &claims());
    assert!(verifier.verify(&token).await.is_ok());
}

#[test]
fn leeway_over_60_seconds_is_refused() {
    let mut settings = settings();
    settings.auth_leeway_secs = 61;
    let Err(error) = settings.verifier() else {
        panic!("a 61 s leeway was accepted");
    };
    assert!(matches!(
        error,
        SettingsError::OutOfRange {
            name: "AUTH_LEEWAY_SECS",
            value: 61,
            ..
        }
    ));
    assert!(error.to_string().contains("AUTH_LEEWAY_SECS"), "{error}");
    settings.auth_leeway_secs = u64::MAX;
    assert!(settings.verifier().is_err());
}

#[tokio::test]
async fn leeway_of_60_seconds_is_accepted_and_applied() {
    let mut settings = settings();
    settings.auth_leeway_secs = 60;
    let verifier = settings.verifier().expect("60 s is allowed");
    let within = jwt(&expired_at(now() - 45));
    let beyond = jwt(&expired_at(now() - 90));
    assert!(verifier.verify(&within).await.is_ok());
    assert_eq!(verifier.verify(&beyond).await, Err(TokenError::Expired));

    settings.auth_leeway_secs = 0;
    let strict = settings.verifier().expect("0 s is allowed");
    let just_expired = jwt(&expired_at(now() - 5));
    assert_eq!(strict.verify(&just_expired).await, Err(TokenError::Expired));
}

#[test]
fn settings_debug_does_not_show_the_secret() {
    let settings = settings();
    let debug = format!("{settings:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains(&SECRET[..16]), "{debug}");
    assert!(
        debug.contains(URL),
        "Debug still shows the non-secret settings"
    );
}

// -------------------------------------------------- internal credentials

fn secret_string(secret: &str) -> SecretString {
    SecretString::from(secret.to_owned())
}

#[tokio::test]
async fn internal_credential_is_not_a_user_token() {
    // Even signed with the same secret, an internal credential is refused by
    // the user-token verifier (its iss is not BETTER_AUTH_URL) ...
    let signer = InternalSigner::new(Some(&secret_string(SECRET))).expect("signer");
    let credential = signer
        .mint(&UserId::parse("user-123").expect("a user id"))
        .expect("mint");
    assert_refused(&credential, wrong_issuer(INTERNAL_ISSUER)).await;
    // ... and a user token is refused by the internal verifier.
    let internal = InternalVerifier::new(Some(&secret_string(SECRET))).expect("verifier");
    assert_eq!(
        internal.verify(&jwt(&claims())),
        Err(TokenError::WrongIssuer {
            expected: INTERNAL_ISSUER.to_owned(),
            received: URL.to_owned(),
        })
    );
    assert_eq!(
        internal.verify(&credential).map(UserId::into_string),
        Ok("user-123".to_owned())
    );
}

#[test]
fn internal_verifier_applies_the_same_rules() {
    let internal = InternalVerifier::new(Some(&secret_string(SECRET))).expect("verifier");
    let claims = |exp: u64| json!({"iss": INTERNAL_ISSUER, "aud": INTERNAL_AUDIENCE, "sub": "u", "exp": exp});
    assert_eq!(
        internal
            .verify(&jwt(&claims(now() + 30)))
            .map(UserId::into_string),
        Ok("u".to_owned())
    );
    assert_eq!(
        internal.verify(&jwt(&claims(now() + 600))),
        Err(TokenError::LifetimeTooLong)
    );
    assert_eq!(
        internal.verify(&sign(&json!({"alg": "RS256"}), &claims(now() + 30))),
        Err(TokenError::AlgorithmMismatch)
    );
    assert_eq!(
        internal.verify(&sign(&json!({"alg": "none"}), &claims(now() + 30))),
        Err(TokenError::AlgorithmNone)
    );
    assert_eq!(
        internal.verify(&sign(&header_with("jku", json!("x")), &claims(now() + 30))),
        Err(TokenError::ForbiddenHeader("jku"))
    );
}

// ----------------------------------------------------------- error display

/// Tokens that break each rule, some carrying attacker-chosen text.
fn refused_tokens() -> Vec<String> {
    let hostile = "HS256\"}\n\r\u{0}<script>alert('x')</script>\u{1b}[2J{{}}%s%n";
    let mut tokens = vec![
        sign(&json!({"alg": hostile}), &claims()),
        sign(&json!({"alg": "x".repeat(4000)}), &claims()),
        sign(&json!({"alg": "none"}), &claims()),
        sign(&json!({"alg": "RS256"}), &claims()),
        sign(&json!({"alg": "HS512"}), &claims()),
        sign(&header_with("jku", json!(hostile)), &claims()),
        sign(&json!({"alg": 5}), &claims()),
        sign_with(
            Hash::Sha256,
            "wrong-wrong-wrong-wrong-wrong-wrong",
            &hs256_header(),
            &claims(),
        ),
        jwt(&expired_at(now() - 3600)),
        jwt(&claims_with("exp", json!(now() + 7200))),
        jwt(&claims_with("exp", json!(hostile))),
        jwt(&claims_with("nbf", json!(hostile))),
        jwt(&claims_with("nbf", json!(now() + 3600))),
        jwt(&claims_without("exp")),
        jwt(&claims_with("iss", json!(hostile))),
        jwt(&claims_with("aud", json!(hostile))),
        jwt(&claims_with("sub", json!(hostile))),
        jwt(&claims_with("sub", json!(hostile.repeat(20)))),
        jwt(&claims_with("sub", json!({"x": hostile}))),
        jwt(&claims_with("sub", json!(""))),
        sign_raw(hostile, &claims().to_string()),
        sign_raw(&hs256_header().to_string(), hostile),
        valid_token_of_len(MAX_TOKEN_BYTES + 1),
    ];
    let good = jwt(&claims());
    let (message, _) = good.rsplit_once('.').expect("three segments");
    tokens.push(format!("{message}.!{hostile}"));
    tokens.push(format!("{good}.{good}"));
    tokens
}

#[tokio::test]
async fn error_text_never_contains_the_token() {
    for token in refused_tokens() {
        let error = verify(&token).await.expect_err("every one is refused");
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(&token), "{text}");
            for segment in token.split('.').filter(|s| s.len() >= 8) {
                assert!(!text.contains(segment), "{text} contains part of the token");
            }
            for forbidden in ["<script>", "%s", "HS256\"", "{{", "\n"] {
                assert!(!text.contains(forbidden), "{text}");
            }
        }
        let display = error.to_string();
        assert!(
            !display.chars().any(|c| c.is_control() || c == '"'),
            "{display:?}"
        );
        // Room for the received issuer or audience and a hint, no more.
        assert!(display.len() < 400, "{display}");
    }
}

#[tokio::test]
async fn attacker_chosen_alg_is_sanitized() {
    let hostile = "HS256\"}\n\u{0}<script>alert(\"x\")</script>";
    let token = sign(&json!({"alg": hostile}), &claims());
    let Err(TokenError::AlgorithmNotAllowed(shown)) = verify(&token).await else {
        panic!("a hostile alg was not refused as not allowed");
    };
    assert!(shown.len() <= 16, "{shown}");
    assert!(
        shown
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{shown:?}"
    );
    let display = TokenError::AlgorithmNotAllowed(shown).to_string();
    assert!(
        !display.contains('"') && !display.contains('\n'),
        "{display:?}"
    );
}

// ------------------------------------------- credentials that are not JWTs

#[tokio::test]
async fn a_better_auth_session_token_is_named_and_not_echoed() {
    // generateId(32), as Better Auth makes session tokens.
    let token = "Kq3vB1yZpR8sT0uWx4aC6dE9fG2hJ5kL";
    assert_refused(token, TokenError::SessionToken { signed: false }).await;
    // The session cookie's value: token.base64(HMAC-SHA-256), URL-encoded.
    let signed = format!("{token}.hT4b6Qm%2BZr%2F0w9c2V1e8XyK3sJ5nL7pA0qD4fG6iH8k%3D");
    assert_refused(&signed, TokenError::SessionToken { signed: true }).await;
    let text = TokenError::SessionToken { signed: true }.to_string();
    assert!(
        text.contains("session token") && text.contains("/api/auth/token"),
        "{text}"
    );
    // Anything else without three segments is still just malformed.
    assert_refused(
        "not-a-token",
        TokenError::Malformed("expected three dot-separated segments"),
    )
    .await;
}

#[tokio::test]
async fn better_auth_cookie_caches_are_never_accepted() {
    // The core `strategy: "jwt"` cookie cache: HS256 with the very same
    // secret, the session and user as claims. Its signature is good.
    let now = now();
    let core = jwt(&json!({
        "session": {"token": "Kq3vB1yZpR8sT0uWx4aC6dE9fG2hJ5kL", "userId": "user-123"},
        "user": {"id": "user-123", "email": "ada@example.com"},
        "iat": now, "exp": now + 300,
    }));
    assert_refused(&core, TokenError::CookieCache).await;
    // The jwt plugin's cookie cache (`sessionCookieCache: true`): its typ
    // and its audience, even with every other claim right.
    let typed = sign(
        &json!({"alg": "HS256", "typ": "better-auth.session-cache+jwt"}),
        &claims(),
    );
    assert_refused(&typed, TokenError::CookieCache).await;
    let audience = jwt(&claims_with("aud", json!("better-auth:session-cache")));
    assert_refused(&audience, TokenError::CookieCache).await;
    assert!(
        TokenError::CookieCache
            .to_string()
            .contains("never accepted as an API token")
    );
}

#[tokio::test]
async fn hs256_tokens_in_jwks_mode_name_the_mode() {
    let verifier = AuthSettings::jwks(URL).verifier().expect("jwks settings");
    let refusal = verifier.verify(&jwt(&claims())).await.expect_err("refused");
    assert_eq!(
        refusal,
        TokenError::WrongMode {
            alg: "HS256",
            mode: "jwks"
        }
    );
    assert!(
        refusal.to_string().contains("AUTH_JWT_MODE=both"),
        "{refusal}"
    );
}
