//! Caller authentication: a tonic interceptor that admits a call only with
//! `authorization: Bearer <internal credential>` that verifies and whose
//! subject equals the `x-user-id` metadata. The verified user goes into the
//! request extensions as [`Caller`]; handlers read it from there only.

use std::sync::Arc;

use auth_core::{InternalVerifier, UserId};
use proto::USER_ID_METADATA;
use tonic::metadata::MetadataMap;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The verified user a call is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub UserId);

impl Caller {
    /// The caller of an admitted request, also recorded as `user_id` on the
    /// current span (a service method's). A request that did not pass
    /// [`InternalAuth`] has none, and is refused.
    pub fn of<T>(request: &Request<T>) -> Result<&UserId, Status> {
        let user_id = request
            .extensions()
            .get::<Caller>()
            .map(|caller| &caller.0)
            .ok_or_else(|| Status::unauthenticated("missing internal credential"))?;
        tracing::Span::current().record("user_id", user_id.as_str());
        Ok(user_id)
    }
}

/// The interceptor; cheap to clone.
#[derive(Clone)]
pub struct InternalAuth {
    verifier: Arc<InternalVerifier>,
}

impl InternalAuth {
    pub fn new(verifier: InternalVerifier) -> Self {
        Self {
            verifier: Arc::new(verifier),
        }
    }

    /// The verified user id, or why the call is refused (never token text).
    fn authenticate(&self, metadata: &MetadataMap) -> Result<UserId, Status> {
        let token = bearer(metadata)?;
        let subject = self.verifier.verify(token).map_err(|err| {
            Status::unauthenticated(format!("invalid internal credential: {err}"))
        })?;
        let user_id = single_ascii(metadata, USER_ID_METADATA)?
            .ok_or_else(|| Status::unauthenticated("missing x-user-id"))?;
        if subject != user_id {
            return Err(Status::unauthenticated(
                "x-user-id does not match the internal credential",
            ));
        }
        Ok(subject)
    }
}

impl Interceptor for InternalAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        match self.authenticate(request.metadata()) {
            Ok(user_id) => {
                // On the call's span (see `server::serve`'s `trace_fn`).
                tracing::Span::current().record("user_id", user_id.as_str());
                request.extensions_mut().insert(Caller(user_id));
                Ok(request)
            }
            Err(status) => {
                tracing::info!(reason = status.message(), "call refused");
                Err(status)
            }
        }
    }
}

/// The token of the one `authorization: Bearer …` entry.
fn bearer(metadata: &MetadataMap) -> Result<&str, Status> {
    let value = single_ascii(metadata, "authorization")?
        .ok_or_else(|| Status::unauthenticated("missing internal credential"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Status::unauthenticated(
            "malformed internal credential: expected `Bearer <token>`",
        ));
    }
    Ok(token)
}

/// The value of a metadata entry that must appear at most once.
fn single_ascii<'a>(metadata: &'a MetadataMap, key: &str) -> Result<Option<&'a str>, Status> {
    let mut values = metadata.get_all(key).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Status::unauthenticated(format!(
            "more than one {key} entry"
        )));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| Status::unauthenticated(format!("{key} is not valid text")))
}

#[cfg(test)]
mod tests {
    use auth_core::InternalSigner;
    use secrecy::SecretString;
    use tonic::Code;

    use super::*;

    const SECRET: &str = "internal-secret-internal-secret-0123";

    fn auth() -> InternalAuth {
        let secret = SecretString::from(SECRET.to_owned());
        InternalAuth::new(InternalVerifier::new(Some(&secret)).expect("verifier"))
    }

    fn token(user: &str) -> String {
        let secret = SecretString::from(SECRET.to_owned());
        InternalSigner::new(Some(&secret))
            .expect("signer")
            .mint(&UserId::parse(user).expect("a user id"))
            .expect("mint")
    }

    fn request(authorization: Option<&str>, user: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(value) = authorization {
            request
                .metadata_mut()
                .insert("authorization", value.parse().expect("ascii"));
        }
        if let Some(user) = user {
            request
                .metadata_mut()
                .insert(USER_ID_METADATA, user.parse().expect("ascii"));
        }
        request
    }

    fn refused(request: Request<()>) -> String {
        let status = auth().call(request).expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated);
        status.message().to_owned()
    }

    #[test]
    fn a_matching_credential_puts_the_caller_into_extensions() {
        let bearer = format!("Bearer {}", token("u1"));
        let request = auth()
            .call(request(Some(&bearer), Some("u1")))
            .expect("admitted");
        assert_eq!(Caller::of(&request).map(UserId::as_str).ok(), Some("u1"));
    }

    #[test]
    fn each_refusal_says_why_without_the_token() {
        let t = token("u1");
        assert_eq!(
            refused(request(None, Some("u1"))),
            "missing internal credential"
        );
        assert!(refused(request(Some(&t), Some("u1"))).starts_with("malformed"));
        let msg = refused(request(Some(&format!("Bearer {t}")), Some("u2")));
        assert_eq!(msg, "x-user-id does not match the internal credential");
        assert_eq!(
            refused(request(Some(&format!("Bearer {t}")), None)),
            "missing x-user-id"
        );
        let msg = refused(request(Some("Bearer not.a.token"), Some("u1")));
        assert!(msg.starts_with("invalid internal credential"), "{msg}");
        assert!(!msg.contains("not.a.token"));
    }

    #[test]
    fn two_user_id_entries_are_refused() {
        let mut request = request(Some(&format!("Bearer {}", token("u1"))), Some("u1"));
        request
            .metadata_mut()
            .append(USER_ID_METADATA, "u1".parse().expect("ascii"));
        assert!(refused(request).contains("more than one"));
    }

    #[test]
    fn a_request_that_skipped_the_interceptor_has_no_caller() {
        let status = Caller::of(&Request::new(())).expect_err("no caller");
        assert_eq!(status.code(), Code::Unauthenticated);
    }
}
