//! The error answers a client gets, as plain data: an
//! `application/problem+json` body (RFC 9457) and, when credentials are
//! refused, the RFC 6750 `WWW-Authenticate` challenge. The edge turns a
//! [`Problem`] into an HTTP response, auth-verify's ext_authz into Envoy's
//! `DeniedHttpResponse`, so both answer a refused request alike.

use serde::Serialize;

use crate::TokenError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The realm named in every bearer challenge.
pub const REALM: &str = "todo";

/// An error answer: its status, its headers (lower-case names) and its
/// JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

// With the `openapi` feature, also the schema `Problem` of the edge's
// OpenAPI document.
/// The `application/problem+json` body (RFC 9457) of every error answer.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Problem))]
pub struct ProblemBody<'a> {
    /// Always `about:blank`: the status says what happened.
    #[cfg_attr(feature = "openapi", schema(example = "about:blank"))]
    pub r#type: &'static str,
    /// The status's reason phrase.
    #[cfg_attr(feature = "openapi", schema(example = "Unauthorized"))]
    pub title: &'a str,
    /// The HTTP status code.
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 400, maximum = 599, example = 401)
    )]
    pub status: u16,
    /// What went wrong, for a person (generic for 5xx).
    #[cfg_attr(feature = "openapi", schema(example = "missing bearer token"))]
    pub detail: &'a str,
}

impl Problem {
    /// A problem+json answer with this status and `detail`; the title is the
    /// status's reason phrase.
    pub fn new(status: u16, detail: &str) -> Self {
        let title = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("Error");
        let body = ProblemBody {
            r#type: "about:blank",
            title,
            status,
            detail,
        };
        Self {
            status,
            headers: vec![("content-type", PROBLEM_JSON.to_owned())],
            // A struct of strings and a number always serializes.
            body: serde_json::to_string(&body).unwrap_or_default(),
        }
    }

    /// The value of the header `name`, if the answer has one.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request's credentials did not let it through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No bearer credentials at all (a challenge without `error`).
    #[error("missing bearer token")]
    MissingToken,
    /// Credentials that were presented and refused.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// Malformed credentials (RFC 6750 `invalid_request`).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// A valid token for another user than the path names.
    #[error("the token does not grant access to this user's tasks")]
    Forbidden,
    /// [`Refusal::Forbidden`], where the token's `sub` looks like an e-mail
    /// address and the path's user does not: Better Auth's `jwt.getSubject`
    /// returns the e-mail instead of the user id.
    #[error(
        "the token does not grant access to this user's tasks: its sub looks like an e-mail address while the path names a user id (Better Auth's jwt.getSubject must return the user's id)"
    )]
    ForbiddenEmailSubject,
    /// The token could not be judged: the signing keys are not loaded yet.
    #[error("signing keys are not loaded yet, try again shortly")]
    KeysUnavailable,
    /// The token could not be judged: the list of ended sessions is not
    /// loaded, or not current.
    #[error("the list of ended sessions is not loaded, try again shortly")]
    SessionsUnavailable,
}

impl From<TokenError> for Refusal {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::KeysUnavailable => Self::KeysUnavailable,
            TokenError::RevocationsUnavailable => Self::SessionsUnavailable,
            error => Self::InvalidToken(error.to_string()),
        }
    }
}

impl Refusal {
    /// The refusal of a valid token whose subject is not the path's user
    /// (`path_user`, as sent): [`Refusal::Forbidden`], with the `getSubject`
    /// hint when the subject looks like an e-mail address and the path's
    /// user does not.
    pub fn forbidden(subject: &str, path_user: Option<&[u8]>) -> Self {
        let email = |text: &[u8]| {
            text.iter()
                .position(|b| *b == b'@')
                .is_some_and(|at| at > 0 && text[at + 1..].contains(&b'.') && !text.contains(&b'/'))
        };
        if email(subject.as_bytes()) && !path_user.is_some_and(email) {
            Self::ForbiddenEmailSubject
        } else {
            Self::Forbidden
        }
    }

    /// The HTTP status: 401, 400, 403 or 503.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => 401,
            Self::InvalidRequest(_) => 400,
            Self::Forbidden | Self::ForbiddenEmailSubject => 403,
            Self::KeysUnavailable | Self::SessionsUnavailable => 503,
        }
    }

    /// The RFC 6750 challenge, for the refusals that carry one.
    pub fn challenge(&self) -> Option<String> {
        let (error, reason) = match self {
            Self::MissingToken => return Some(format!(r#"Bearer realm="{REALM}""#)),
            Self::InvalidToken(reason) => ("invalid_token", reason.as_str()),
            Self::InvalidRequest(reason) => ("invalid_request", *reason),
            Self::Forbidden
            | Self::ForbiddenEmailSubject
            | Self::KeysUnavailable
            | Self::SessionsUnavailable => return None,
        };
        Some(format!(
            r#"Bearer realm="{REALM}", error="{error}", error_description="{}""#,
            quoted_string_safe(reason)
        ))
    }

    /// The whole answer: status, challenge, problem+json body.
    pub fn problem(&self) -> Problem {
        let mut problem = Problem::new(self.status(), &self.to_string());
        if let Some(challenge) = self.challenge() {
            problem.headers.push(("www-authenticate", challenge));
        }
        problem
    }
}

/// Keeps only characters RFC 6750 allows inside `error_description`.
fn quoted_string_safe(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, ' '..='~') && *c != '"' && *c != '\\')
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn body(problem: &Problem) -> Value {
        serde_json::from_str(&problem.body).expect("JSON body")
    }

    #[test]
    fn a_missing_token_gets_a_challenge_without_error() {
        let problem = Refusal::MissingToken.problem();
        assert_eq!(problem.status, 401);
        assert_eq!(
            problem.header("WWW-Authenticate"),
            Some(r#"Bearer realm="todo""#)
        );
        assert_eq!(problem.header("content-type"), Some(PROBLEM_JSON));
        assert_eq!(
            body(&problem),
            json!({"type": "about:blank", "title": "Unauthorized", "status": 401,
                   "detail": "missing bearer token"})
        );
    }

    #[test]
    fn a_refused_token_gets_invalid_token_with_a_safe_description() {
        let problem = Refusal::InvalidToken("bad \"quote\" \\ and \u{e9}\n".to_owned()).problem();
        assert_eq!(problem.status, 401);
        assert_eq!(
            problem.header("www-authenticate"),
            Some(
                r#"Bearer realm="todo", error="invalid_token", error_description="bad quote  and ""#
            )
        );
        assert_eq!(body(&problem)["title"], "Unauthorized");
    }

    #[test]
    fn malformed_credentials_are_400_invalid_request() {
        let problem = Refusal::InvalidRequest("more than one Authorization header").problem();
        assert_eq!(problem.status, 400);
        assert!(
            problem
                .header("www-authenticate")
                .is_some_and(|c| c.contains(r#"error="invalid_request""#))
        );
        assert_eq!(body(&problem)["title"], "Bad Request");
    }

    #[test]
    fn forbidden_and_unavailable_carry_no_challenge() {
        for (refusal, status, title) in [
            (Refusal::Forbidden, 403, "Forbidden"),
            (Refusal::KeysUnavailable, 503, "Service Unavailable"),
            (Refusal::SessionsUnavailable, 503, "Service Unavailable"),
        ] {
            let problem = refusal.problem();
            assert_eq!(problem.status, status);
            assert_eq!(problem.header("www-authenticate"), None);
            assert_eq!(body(&problem)["title"], title);
        }
    }

    #[test]
    fn an_email_subject_on_an_id_path_hints_at_get_subject() {
        let hinted = Refusal::forbidden("ada@example.com", Some(b"Kq3vB1yZpR8sT0uW"));
        assert_eq!(hinted, Refusal::ForbiddenEmailSubject);
        assert_eq!(hinted.status(), 403);
        assert!(hinted.to_string().contains("getSubject"));
        for (subject, path) in [
            ("user-1", Some(&b"user-2"[..])),
            ("ada@example.com", Some(&b"bob@example.com"[..])),
            ("ada@localhost", None),
        ] {
            assert_eq!(Refusal::forbidden(subject, path), Refusal::Forbidden);
        }
        assert_eq!(
            Refusal::forbidden("ada@example.com", None),
            Refusal::ForbiddenEmailSubject
        );
    }

    #[test]
    fn token_errors_map_to_invalid_token_except_missing_keys() {
        assert_eq!(
            Refusal::from(TokenError::Expired),
            Refusal::InvalidToken("token has expired".to_owned())
        );
        assert_eq!(
            Refusal::from(TokenError::KeysUnavailable),
            Refusal::KeysUnavailable
        );
        assert_eq!(
            Refusal::from(TokenError::RevocationsUnavailable),
            Refusal::SessionsUnavailable
        );
        assert_eq!(
            Refusal::from(TokenError::SessionEnded),
            Refusal::InvalidToken("the session was ended (signed out or revoked)".to_owned())
        );
    }
}
