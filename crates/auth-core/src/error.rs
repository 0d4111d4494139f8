//! Why a token was refused. The text of each variant is safe to send back in
//! `error_description` and to log: it never contains the token or a secret.

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
