//! Better Auth's JWKS endpoint against the backend's mode. In `jwks` mode
//! it must answer with keys the backend can use (each read by auth-core's
//! own JWK parser, which says why a key is unusable; a `kid` published twice
//! makes both keys unusable). In `hs256` mode the web app signs through the
//! jwt plugin's `sign` hook and Better Auth answers 404: keys there mean the
//! web app signs with its own key pairs, which an hs256 backend refuses. In
//! `both` mode the backend needs the JWKS too (it is not ready until it has
//! loaded keys), so there a 404 is wrong.

use auth_core::{JwtMode, KeySet};

use crate::report::Check;

/// What a GET of the JWKS URL gave: status and body, or why there was none.
pub type Fetched = Result<(u16, Vec<u8>), String>;

/// The checks for the JWKS fetched from `url`, and the key set when one
/// was read.
pub fn check(mode: JwtMode, url: &str, fetched: Fetched) -> (Vec<Check>, Option<KeySet>) {
    let name = "JWKS";
    let (status, body) = match fetched {
        Ok(answer) => answer,
        Err(error) if mode == JwtMode::Hs256 => {
            return (
                vec![Check::skip(
                    name,
                    format!("not reachable ({error}); not needed in hs256 mode"),
                )],
                None,
            );
        }
        Err(error) => {
            let fix = "start the web app, or point AUTH_JWKS_URL (default ${BETTER_AUTH_URL}/api/auth/jwks) at an address this machine and the backend can reach";
            return (
                vec![Check::fail(name, format!("{url}: {error}"), fix)],
                None,
            );
        }
    };
    match (mode, status) {
        (JwtMode::Hs256, 404) => (
            vec![Check::pass(
                name,
                format!("{url} answers 404, as expected: the web app signs HS256 through jwt.sign"),
            )],
            None,
        ),
        (JwtMode::Hs256, 200) => (vec![published_in_hs256_mode(url, &body)], None),
        (JwtMode::Hs256, status) => (
            vec![Check::warn(
                name,
                format!("{url} answers {status} (expected 404 in hs256 mode)"),
                "check that the web app runs with AUTH_JWT_MODE=hs256",
            )],
            None,
        ),
        (JwtMode::Both, 404) => (
            vec![Check::fail(
                name,
                format!(
                    "{url} answers 404: Better Auth publishes no keys (the web app signs HS256), and in both mode the backend is not ready until it has loaded keys"
                ),
                "set AUTH_JWT_MODE=hs256 on the backend (the web app signs HS256 in both mode), or run the web app with AUTH_JWT_MODE=jwks",
            )],
            None,
        ),
        (JwtMode::Jwks, 404) => (
            vec![Check::fail(
                name,
                format!(
                    "{url} answers 404: Better Auth publishes no keys, so the web app signs HS256 (AUTH_JWT_MODE=hs256 there)"
                ),
                "run the web app with AUTH_JWT_MODE=jwks too, or set AUTH_JWT_MODE=hs256 (with BETTER_AUTH_SECRET) on the backend",
            )],
            None,
        ),
        (_, 200) => keys(url, &body),
        (_, status) => (
            vec![Check::fail(
                name,
                format!("{url} answers {status}"),
                "check AUTH_JWKS_URL / BETTER_AUTH_URL and the web app's logs",
            )],
            None,
        ),
    }
}

/// A 200 in hs256 mode: keys published means the web app is in jwks mode.
fn published_in_hs256_mode(url: &str, body: &[u8]) -> Check {
    let count = KeySet::parse(body)
        .map(|set| set.usable() + set.unsupported().len())
        .unwrap_or(0);
    Check::fail(
        "JWKS",
        format!(
            "{url} publishes {count} key(s): the web app signs with its own key pairs (AUTH_JWT_MODE=jwks there), which this hs256 backend refuses"
        ),
        "set AUTH_JWT_MODE=jwks on the backend (it then needs no BETTER_AUTH_SECRET), or run the web app with AUTH_JWT_MODE=hs256",
    )
}

/// One line for the usable keys, one per key that cannot be used.
fn keys(url: &str, body: &[u8]) -> (Vec<Check>, Option<KeySet>) {
    let set = match KeySet::parse(body) {
        Ok(set) => set,
        Err(error) => {
            return (
                vec![Check::fail(
                    "JWKS",
                    format!("{url}: {error}"),
                    "AUTH_JWKS_URL must point at Better Auth's /api/auth/jwks",
                )],
                None,
            );
        }
    };
    let mut checks = vec![if set.usable() == 0 {
        Check::fail(
            "JWKS",
            format!("{url} has no key the backend can use"),
            "Better Auth creates its first key pair with the first token: sign in once, then see the lines below for keys that cannot be used",
        )
    } else {
        Check::pass(
            "JWKS",
            format!(
                "{url}: {} usable key(s) [{}]",
                set.usable(),
                set.summary().join(", ")
            ),
        )
    }];
    checks.extend(set.unsupported().iter().map(|key| {
        Check::fail(
            "JWKS",
            key.describe(),
            "tokens signed with it are refused: change Better Auth's jwks.keyPairConfig.alg to one the backend verifies (EdDSA, ES256, ES512, RS256, PS256) and rotate, or give each key its own kid",
        )
    }));
    (checks, Some(set))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::report::Status;

    const URL: &str = "http://localhost:3000/api/auth/jwks";
    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn ok(body: serde_json::Value) -> Fetched {
        Ok((200, body.to_string().into_bytes()))
    }

    fn statuses(checks: &[Check]) -> Vec<Status> {
        checks.iter().map(|c| c.status).collect()
    }

    #[test]
    fn usable_keys_pass_with_their_kids() {
        let body = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1", "x": ED_X}]});
        let (checks, set) = check(JwtMode::Jwks, URL, ok(body));
        assert_eq!(statuses(&checks), [Status::Pass]);
        assert!(
            checks[0].found.contains("1 usable key(s) [k1:EdDSA]"),
            "{}",
            checks[0]
        );
        assert_eq!(set.map(|s| s.usable()), Some(1));
    }

    #[test]
    fn each_unusable_key_and_duplicate_kid_gets_a_failing_line_with_the_reason() {
        let body = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "ok", "x": ED_X},
            {"kty": "OKP", "crv": "Ed448", "alg": "EdDSA", "kid": "ed448", "x": ED_X},
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "twice", "x": ED_X},
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "twice", "x": ED_X},
        ]});
        let (checks, _) = check(JwtMode::Jwks, URL, ok(body));
        assert_eq!(
            statuses(&checks),
            [Status::Pass, Status::Fail, Status::Fail, Status::Fail]
        );
        let text: Vec<String> = checks.iter().map(ToString::to_string).collect();
        assert!(
            text[1].contains("kid \"ed448\"") && text[1].contains("Ed448"),
            "{text:?}"
        );
        assert!(text[2].contains("more than once"), "{text:?}");
    }

    #[test]
    fn no_usable_key_fails() {
        let (checks, _) = check(JwtMode::Jwks, URL, ok(json!({"keys": []})));
        assert_eq!(statuses(&checks), [Status::Fail]);
    }

    #[test]
    fn a_404_is_right_in_hs256_mode_only() {
        let (checks, _) = check(JwtMode::Hs256, URL, Ok((404, b"".to_vec())));
        assert_eq!(statuses(&checks), [Status::Pass]);
        let (checks, _) = check(JwtMode::Jwks, URL, Ok((404, b"".to_vec())));
        assert_eq!(statuses(&checks), [Status::Fail]);
        assert!(checks[0].to_string().contains("AUTH_JWT_MODE=jwks"));
        // In both mode the backend waits for keys (not ready without them).
        let (checks, _) = check(JwtMode::Both, URL, Ok((404, b"".to_vec())));
        assert_eq!(statuses(&checks), [Status::Fail]);
    }

    #[test]
    fn published_keys_in_hs256_mode_mean_the_modes_disagree() {
        let body = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1", "x": ED_X}]});
        let (checks, _) = check(JwtMode::Hs256, URL, ok(body));
        assert_eq!(statuses(&checks), [Status::Fail]);
        assert!(
            checks[0].found.contains("publishes 1 key(s)"),
            "{}",
            checks[0]
        );
    }

    #[test]
    fn unreachable_fails_in_jwks_mode_only_and_non_jwks_bodies_fail() {
        let down = || Err("connection refused".to_owned());
        assert_eq!(
            statuses(&check(JwtMode::Jwks, URL, down()).0),
            [Status::Fail]
        );
        assert_eq!(
            statuses(&check(JwtMode::Hs256, URL, down()).0),
            [Status::Skip]
        );
        let html = Ok((200, b"<html>".to_vec()));
        assert_eq!(statuses(&check(JwtMode::Jwks, URL, html).0), [Status::Fail]);
        let error = Ok((500, b"".to_vec()));
        assert_eq!(
            statuses(&check(JwtMode::Jwks, URL, error).0),
            [Status::Fail]
        );
    }
}
