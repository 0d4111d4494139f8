//! What auth-core counts, through the `metrics` facade, wherever it runs
//! (in the edge's process and in auth-verify alike): token verifications by
//! outcome, reason and mode, and the JWKS's health. The service that links
//! auth-core installs the recorder and serves `/metrics`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};

use crate::TokenError;

pub const VERIFICATIONS: &str = "auth_token_verifications_total";
pub const VERIFICATION_SECONDS: &str = "auth_token_verification_duration_seconds";
pub const JWKS_FETCHES: &str = "auth_jwks_fetches_total";
pub const JWKS_KEYS: &str = "auth_jwks_keys_loaded";
pub const JWKS_LAST_SUCCESS: &str = "auth_jwks_last_success_timestamp_seconds";
pub const JWKS_SINCE_SUCCESS: &str = "auth_jwks_seconds_since_last_success";

/// Registers the help text of every auth-core metric (once a recorder is
/// installed; calling it again is harmless).
pub fn describe() {
    describe_counter!(
        VERIFICATIONS,
        "Bearer tokens verified, by result (ok, invalid: refused with 401, unavailable: no keys \
         loaded yet, 503), reason (ok, or the rule broken: expired, bad_signature, wrong_audience, \
         unknown_kid, ...) and mode (AUTH_JWT_MODE: hs256, jwks, both)"
    );
    describe_histogram!(
        VERIFICATION_SECONDS,
        Unit::Seconds,
        "Time to verify one bearer token, JWKS refetches on an unknown kid included, by mode"
    );
    describe_counter!(
        JWKS_FETCHES,
        "JWKS fetches by result: ok (a key set was loaded) or failed (unreachable, slow, not 200, \
         too large, not a JWKS; the last good set stays in use)"
    );
    describe_gauge!(
        JWKS_KEYS,
        "Usable keys in the JWKS currently loaded (0 before the first good fetch)"
    );
    describe_gauge!(
        JWKS_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of the last successful JWKS fetch"
    );
    describe_gauge!(
        JWKS_SINCE_SUCCESS,
        Unit::Seconds,
        "Seconds since the last successful JWKS fetch, as of the scrape (absent before the first)"
    );
}

/// One verification's outcome.
pub(crate) fn verification(mode: &'static str, outcome: Result<(), &TokenError>, took: Duration) {
    let (result, reason) = match outcome {
        Ok(()) => ("ok", "ok"),
        Err(error) if error.is_retryable() => ("unavailable", error.reason()),
        Err(error) => ("invalid", error.reason()),
    };
    counter!(VERIFICATIONS, "result" => result, "reason" => reason, "mode" => mode).increment(1);
    histogram!(VERIFICATION_SECONDS, "mode" => mode).record(took.as_secs_f64());
}

/// A JWKS key source starts with no keys.
pub(crate) fn jwks_started() {
    gauge!(JWKS_KEYS).set(0.0);
}

/// One JWKS fetch; `keys` is the usable key count after a good one.
pub(crate) fn jwks_fetch(keys: Option<usize>) {
    match keys {
        Some(keys) => {
            counter!(JWKS_FETCHES, "result" => "ok").increment(1);
            gauge!(JWKS_KEYS).set(keys as f64);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            gauge!(JWKS_LAST_SUCCESS).set(now.as_secs_f64());
        }
        None => counter!(JWKS_FETCHES, "result" => "failed").increment(1),
    }
}

/// The age of the key set, set when a scrape asks.
pub(crate) fn jwks_age(age: Duration) {
    gauge!(JWKS_SINCE_SUCCESS).set(age.as_secs_f64());
}
