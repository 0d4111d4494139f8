//! Why a token was refused, and why a setting keeps a service from
//! starting. The text of each variant is safe to send back (tokens, in
//! `error_description`) and to log: it never contains a token or a secret.

/// A refused token, with the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is larger than 8 KiB")]
    TooLarge,
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("token header parameter {0} is not accepted")]
    ForbiddenHeader(&'static str),
    #[error("unsigned tokens (alg none) are not accepted")]
    AlgorithmNone,
    #[error("token algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    #[error("token algorithm does not match the key's algorithm")]
    AlgorithmMismatch,
    /// The token's algorithm is one the server's `AUTH_JWT_MODE` never
    /// verifies (HS256 in `jwks` mode, an asymmetric one in `hs256` mode).
    #[error("{}", wrong_mode(.alg, .mode))]
    WrongMode {
        alg: &'static str,
        mode: &'static str,
    },
    #[error(
        "this is a Better Auth session token{}, not a JWT: get a JWT from /api/auth/token (or the set-auth-jwt header of /api/auth/get-session)",
        if *.signed { " (the signed session cookie value, token.signature)" } else { "" }
    )]
    SessionToken { signed: bool },
    #[error(
        "this is Better Auth's session cookie cache (better-auth.session_data), which is never accepted as an API token: get a JWT from /api/auth/token (or the set-auth-jwt header)"
    )]
    CookieCache,
    #[error(
        "this is an encrypted token (JWE, such as Better Auth's session cookie cache with strategy jwe), not a signed JWT: get a JWT from /api/auth/token"
    )]
    Encrypted,
    #[error("no key matches the token's key id")]
    UnknownKey,
    #[error("token has no key id and several keys could verify it")]
    AmbiguousKey,
    #[error("token is signed with a key this service cannot verify: {0}")]
    UnsupportedKey(String),
    #[error("signing keys are not loaded yet, try again shortly")]
    KeysUnavailable,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error(
        "token has expired: its exp is before its iat or in 1970; a numeric expirationTime in Better Auth is an absolute time: use a duration string such as '15m'"
    )]
    ExpirationNotADuration,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token lifetime exceeds the maximum allowed")]
    LifetimeTooLong,
    #[error("token is missing the {0} claim")]
    MissingClaim(&'static str),
    #[error("token claim {0} has an invalid format")]
    InvalidClaim(&'static str),
    /// `received` is cleaned for display ([`crate::jwt::shown`]).
    #[error("{}", wrong_issuer(.expected, .received))]
    WrongIssuer { expected: String, received: String },
    /// `received` is cleaned for display, at most four values.
    #[error(
        "token audience is not accepted: expected {}, received {}",
        quoted(.expected, " or "),
        quoted(.received, ", ")
    )]
    WrongAudience {
        expected: Vec<String>,
        received: Vec<String>,
    },
    #[error("token subject is invalid: {0}")]
    InvalidSubject(&'static str),
    #[error("the session was ended (signed out or revoked)")]
    SessionEnded,
    #[error("the list of ended sessions is not loaded, try again shortly")]
    RevocationsUnavailable,
}

fn quoted(values: &[String], separator: &str) -> String {
    if values.is_empty() {
        return "none".to_owned();
    }
    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    quoted.join(separator)
}

fn wrong_issuer(expected: &str, received: &str) -> String {
    let mut text =
        format!("token issuer is not accepted: expected '{expected}', received '{received}'");
    if expected.trim_end_matches('/') == received.trim_end_matches('/') {
        text.push_str(
            " (they differ only by a trailing slash: the issuer is compared exactly; make AUTH_JWT_ISSUER and Better Auth's jwt.issuer the same string)",
        );
    }
    text
}

fn wrong_mode(alg: &str, mode: &str) -> String {
    if alg == "HS256" {
        format!(
            "token is HS256 (signed with a shared secret), but this server is in {mode} mode and verifies only Better Auth's JWKS keys: sign with Better Auth's key pairs, or set AUTH_JWT_MODE=both"
        )
    } else {
        format!(
            "token is {alg} (signed with a Better Auth JWKS key), but this server is in {mode} mode and verifies only HS256 tokens signed with BETTER_AUTH_SECRET: set AUTH_JWT_MODE=jwks (or both)"
        )
    }
}

impl TokenError {
    /// True when the token was not judged at all because our own keys (or
    /// the list of ended sessions) are missing: the caller should answer
    /// "unavailable, retry", not "unauthenticated", so clients keep a token
    /// that may well be good.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::KeysUnavailable | Self::RevocationsUnavailable)
    }

    /// The rule broken, as a short fixed name: the `reason` label of the
    /// verification metrics (never anything from the token itself).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::Malformed(_) => "malformed",
            Self::ForbiddenHeader(_) => "forbidden_header",
            Self::AlgorithmNone => "alg_none",
            Self::AlgorithmNotAllowed(_) => "alg_not_allowed",
            Self::AlgorithmMismatch => "alg_mismatch",
            Self::WrongMode { .. } => "wrong_mode",
            Self::SessionToken { .. } => "session_token",
            Self::CookieCache => "cookie_cache",
            Self::Encrypted => "encrypted",
            Self::UnknownKey => "unknown_kid",
            Self::AmbiguousKey => "ambiguous_kid",
            Self::UnsupportedKey(_) => "unsupported_key",
            Self::KeysUnavailable => "keys_unavailable",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::ExpirationNotADuration => "exp_before_iat",
            Self::NotYetValid => "not_yet_valid",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidClaim(_) => "invalid_claim",
            Self::WrongIssuer { .. } => "wrong_issuer",
            Self::WrongAudience { .. } => "wrong_audience",
            Self::InvalidSubject(_) => "invalid_subject",
            Self::SessionEnded => "session_ended",
            Self::RevocationsUnavailable => "revocations_unavailable",
        }
    }
}

/// A setting that keeps a service from starting; the text says what to set.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "{0} is not set: set it to a random string of at least 32 bytes (`just secret` prints one)"
    )]
    MissingSecret(&'static str),
    #[error(
        "{name} is only {len} bytes long: set it to a random string of at least 32 bytes (`just secret` prints one)"
    )]
    ShortSecret { name: &'static str, len: usize },
    #[error("{name} is {value}: set it to a whole number from {min} to {max} (seconds)")]
    OutOfRange {
        name: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
    #[error("{name} is {value}: set it to a whole number from {min} to {max} (milliseconds)")]
    OutOfRangeMillis {
        name: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
    #[error(
        "BETTER_AUTH_URL is empty: set it to the web app's base URL, e.g. http://localhost:3000"
    )]
    MissingUrl,
    #[error(
        "the JWKS URL {0:?} is not usable ({1}): set BETTER_AUTH_URL, or AUTH_JWKS_URL, to an http(s) URL"
    )]
    InvalidJwksUrl(String, String),
    #[error("{0} is not usable: {1}")]
    InvalidClaimSetting(&'static str, &'static str),
    #[error("the JWKS refresh interval and refetch cooldown must not be zero")]
    JwksIntervalZero,
    #[error("could not set up the HTTP client for the JWKS: {0}")]
    HttpClient(String),
    #[error(
        "JWKS mode and the revocation feed need a Tokio runtime: build the verifier inside one"
    )]
    NoRuntime,
    #[error(
        "the revocation feed URL {0:?} is not usable ({1}): set BETTER_AUTH_URL, or AUTH_REVOCATION_URL, to an http(s) URL"
    )]
    InvalidRevocationUrl(String, String),
    #[error(
        "AUTH_REQUIRE_SID is on but AUTH_REVOCATION_SECRET is not set: requiring a session id is only useful when ended sessions are checked"
    )]
    SidWithoutRevocations,
}
