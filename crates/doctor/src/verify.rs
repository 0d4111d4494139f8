//! The token verified as the backend would verify it: with the verifier
//! auth-core builds from these very settings (the secret in hs256 mode, the
//! JWKS in jwks mode), so a signature made with another secret or key shows
//! here even when the edge is down.

use std::time::Duration;

use auth_core::{AuthSettings, TokenError};

use crate::report::Check;

/// How long to wait for the verifier's first JWKS fetch.
const KEYS_TIMEOUT: Duration = Duration::from_secs(5);

/// `hs256`: the token's header names HS256 (checked with the secret, not a
/// published key).
pub async fn verify(auth: &AuthSettings, token: &str, hs256: bool) -> Check {
    let name = "token signature";
    let Ok(verifier) = auth.verifier() else {
        return Check::skip(
            name,
            "not checked: the configuration is refused (see above)",
        );
    };
    let mut ready = verifier.watch_ready();
    if tokio::time::timeout(KEYS_TIMEOUT, ready.wait_for(|ready| *ready))
        .await
        .is_err()
    {
        return Check::skip(
            name,
            "not checked: no keys could be loaded from the JWKS (see above)",
        );
    }
    match verifier.verify(token).await {
        Ok(_) => Check::pass(
            name,
            "signature and every rule check out with this configuration, as the backend verifies",
        ),
        Err(TokenError::BadSignature) if hs256 => Check::fail(
            name,
            "does not verify with BETTER_AUTH_SECRET",
            "the web app signs with another BETTER_AUTH_SECRET: give the web app, the edge and auth-verify the same value",
        ),
        Err(TokenError::BadSignature) => Check::fail(
            name,
            "does not verify with the published key of its kid",
            "the token was signed by another Better Auth instance whose key has the same kid",
        ),
        Err(error) => Check::fail(
            name,
            format!("refused: {error}"),
            "see the token lines above for the claim that disagrees",
        ),
    }
}
