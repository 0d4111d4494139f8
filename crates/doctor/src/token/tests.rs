//! Each claim check with hand-made tokens: only the decoded parts matter
//! here (signatures are the verifier's and the edge's business).

use auth_core::AuthSettings;
use serde_json::json;

use super::*;
use crate::report::Status;

const URL: &str = "http://localhost:3000";
const NOW: u64 = 1_800_000_000;
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn setup(mode: JwtMode) -> Setup {
    let mut auth = AuthSettings::jwks(URL);
    auth.auth_jwt_mode = mode;
    Setup {
        auth,
        issuer: URL.to_owned(),
        audiences: vec![URL.to_owned()],
        edge_url: "http://127.0.0.1:8080".to_owned(),
        edge_admin_url: None,
        tasks_urls: Vec::new(),
        auth_verify_urls: Vec::new(),
    }
}

fn token(header: Value, payload: Value) -> String {
    let part = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}.c2ln", part(header), part(payload))
}

fn good_payload() -> Value {
    json!({"sub": "user-1", "iss": URL, "aud": URL, "iat": NOW - 60, "exp": NOW + 840})
}

fn run(token: &str, mode: JwtMode, keys: Option<&KeySet>) -> Vec<Check> {
    let decoded = decode(token).unwrap_or_else(|check| panic!("decoded: {check}"));
    checks(token, &decoded, &setup(mode), keys, NOW)
}

fn failed(checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| c.status != Status::Pass)
        .map(ToString::to_string)
        .collect()
}

fn jwks(kid: &str) -> KeySet {
    let body =
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": kid, "x": ED_X}]});
    KeySet::parse(body.to_string().as_bytes()).expect("a JWKS")
}

#[test]
fn a_good_hs256_token_passes_every_check() {
    let token = token(json!({"alg": "HS256", "typ": "JWT"}), good_payload());
    let checks = run(&token, JwtMode::Hs256, None);
    assert_eq!(failed(&checks), Vec::<String>::new());
    assert_eq!(checks.len(), 6);
}

#[test]
fn a_good_eddsa_token_passes_when_its_kid_is_published() {
    let token = token(json!({"alg": "EdDSA", "kid": "k1"}), good_payload());
    let keys = jwks("k1");
    assert_eq!(
        failed(&run(&token, JwtMode::Jwks, Some(&keys))),
        Vec::<String>::new()
    );
    let other = jwks("k2");
    let failures = failed(&run(&token, JwtMode::Jwks, Some(&other)));
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("publishes no such key"),
        "{failures:?}"
    );
}

#[test]
fn the_algorithm_must_match_the_mode() {
    let eddsa = token(json!({"alg": "EdDSA", "kid": "k1"}), good_payload());
    let failures = failed(&run(&eddsa, JwtMode::Hs256, None));
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with("✗ token alg: EdDSA, kid \"k1\": this backend is in hs256 mode")
    );
    let hs = token(json!({"alg": "HS256"}), good_payload());
    let failures = failed(&run(&hs, JwtMode::Jwks, None));
    assert!(failures[0].contains("never accepts HS256"), "{failures:?}");
    assert_eq!(failed(&run(&hs, JwtMode::Both, None)), Vec::<String>::new());
}

#[test]
fn an_algorithm_the_backend_cannot_verify_is_named() {
    // ES384: not offered by Better Auth, not on the allow-list.
    let es384 = token(json!({"alg": "ES384", "kid": "p384"}), good_payload());
    let failures = failed(&run(&es384, JwtMode::Jwks, Some(&jwks("k1"))));
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("cannot verify"), "{failures:?}");
}

#[test]
fn issuer_mismatches_show_both_values_and_the_trailing_slash() {
    let check = issuer(Some(&json!("http://localhost:3000/")), URL);
    assert_eq!(check.status, Status::Fail);
    assert!(
        check.found.contains("expected \"http://localhost:3000\""),
        "{check}"
    );
    assert!(check.found.contains("trailing slash"), "{check}");
    let other = issuer(Some(&json!("http://127.0.0.1:3000")), URL);
    assert!(!other.found.contains("trailing slash"), "{other}");
    assert_eq!(issuer(None, URL).status, Status::Fail);
}

#[test]
fn any_accepted_audience_matches_in_a_string_or_a_list() {
    let accepted = ["api".to_owned(), URL.to_owned()];
    assert_eq!(audience(Some(&json!(URL)), &accepted).status, Status::Pass);
    assert_eq!(
        audience(Some(&json!(["x", "api"])), &accepted).status,
        Status::Pass
    );
    let miss = audience(Some(&json!(["x", "y"])), &accepted);
    assert_eq!(miss.status, Status::Fail);
    assert!(miss.to_string().contains("AUTH_JWT_AUDIENCE"), "{miss}");
    assert_eq!(audience(None, &accepted).status, Status::Fail);
}

#[test]
fn subjects_must_be_user_ids_and_emails_get_a_hint() {
    assert_eq!(subject(Some(&json!("Ab12"))).status, Status::Pass);
    let email = subject(Some(&json!("ann@example.com")));
    assert_eq!(email.status, Status::Warn);
    assert!(email.to_string().contains("getSubject"));
    assert_eq!(subject(Some(&json!(""))).status, Status::Fail);
    assert_eq!(subject(Some(&json!(7))).status, Status::Fail);
    assert_eq!(subject(None).status, Status::Fail);
}

#[test]
fn lifetimes_are_checked_against_now_iat_and_the_maximum() {
    let at = |iat: u64, exp: u64| {
        let payload = json!({"iat": iat, "exp": exp});
        lifetime(payload.as_object().expect("object"), NOW, 10, 900)
    };
    let good = at(NOW - 60, NOW + 840);
    assert_eq!(good.status, Status::Pass);
    assert_eq!(good.found, "expires in 840s, issued for 900s");
    let expired = at(NOW - 1000, NOW - 100);
    assert!(expired.found.starts_with("expired 100s ago"), "{expired}");
    let absolute = at(NOW, 900);
    assert!(
        absolute
            .to_string()
            .contains("duration string such as '15m'"),
        "{absolute}"
    );
    let long = at(NOW, NOW + 86_400);
    assert!(
        long.found
            .contains("more than AUTH_MAX_TOKEN_LIFETIME_SECS=900"),
        "{long}"
    );
    let none = lifetime(&Map::new(), NOW, 10, 900);
    assert_eq!(none.status, Status::Fail);
}

#[test]
fn large_tokens_warn_and_name_their_largest_claims() {
    let mut payload = good_payload();
    payload["image"] = json!(format!("data:image/png;base64,{}", "A".repeat(3000)));
    let token = token(json!({"alg": "HS256"}), payload);
    let failures = failed(&run(&token, JwtMode::Hs256, None));
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].starts_with("! token size: "), "{failures:?}");
    assert!(
        failures[0].contains("largest claims: image"),
        "{failures:?}"
    );
    let payload = json!({"image": "A".repeat(9000)});
    assert_eq!(
        size(9000, payload.as_object().expect("object")).status,
        Status::Fail
    );
}

#[test]
fn session_tokens_cookies_and_cookie_cache_jwts_are_named() {
    let opaque = decode("bG9uZ3Nlc3Npb250b2tlbg").err().expect("refused");
    assert!(opaque.found.contains("session token"), "{opaque}");
    let cookie = decode("abc.def").err().expect("refused");
    assert!(cookie.found.contains("signed session cookie"), "{cookie}");
    let cache = token(
        json!({"alg": "HS256"}),
        json!({"aud": "better-auth:session-cache", "exp": NOW + 60}),
    );
    let failures = failed(&run(&cache, JwtMode::Hs256, None));
    assert!(failures[0].contains("cookie-cache JWT"), "{failures:?}");
}
