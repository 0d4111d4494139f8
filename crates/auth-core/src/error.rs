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
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token lifetime exceeds the maximum allowed")]
    LifetimeTooLong,
    #[error("token is missing the {0} claim")]
    MissingClaim(&'static str),
    #[error("token claim {0} has an invalid format")]
    InvalidClaim(&'static str),
    #[error("token issuer is not accepted")]
    WrongIssuer,
    #[error("token audience is not accepted")]
    WrongAudience,
    #[error("token subject is invalid: {0}")]
    InvalidSubject(&'static str),
}

impl TokenError {
    /// True when the token was not judged at all because our own keys are
    /// missing: the caller should answer "unavailable, retry", not
    /// "unauthenticated", so clients keep a token that may well be good.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::KeysUnavailable)
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
    #[error(
        "BETTER_AUTH_URL is empty: set it to the web app's base URL, e.g. http://localhost:3000"
    )]
    MissingUrl,
    #[error(
        "the JWKS URL {0:?} is not usable ({1}): set BETTER_AUTH_URL, or AUTH_JWKS_URL, to an http(s) URL"
    )]
    InvalidJwksUrl(String, String),
    #[error("the JWKS refresh interval and refetch cooldown must not be zero")]
    JwksIntervalZero,
    #[error("could not set up the HTTP client for the JWKS: {0}")]
    HttpClient(String),
    #[error("JWKS mode needs a Tokio runtime: build the verifier inside one")]
    NoRuntime,
}
