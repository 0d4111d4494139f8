//! The bearer token of a request (RFC 6750 §2.1), from plain strings: one
//! `Authorization` header with the `Bearer` scheme, and never a token in the
//! query string. The edge (its HTTP headers) and auth-verify's ext_authz
//! (Envoy's `CheckRequest`) take tokens through here, so both refuse alike.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::problem::Refusal;

/// The query parameter RFC 6750 §2.3 defines; we never accept it.
const QUERY_TOKEN: &str = "access_token";

/// The token of the single `Authorization: Bearer …` value. `values` are
/// every `Authorization` header value of the request, as sent; `query` is
/// its raw query string (without `?`), if any.
///
/// Refused: a token in the query string, two or more headers, a value that
/// is not visible ASCII and an empty token (400 `invalid_request`); no
/// header, or another scheme (401 without `error`).
pub fn bearer_token<'a, I>(values: I, query: Option<&str>) -> Result<&'a str, Refusal>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    if query.is_some_and(has_query_token) {
        return Err(Refusal::InvalidRequest(
            "tokens are accepted only in the Authorization header",
        ));
    }
    let mut values = values.into_iter();
    let value = match (values.next(), values.next()) {
        (Some(value), None) => value,
        (None, _) => return Err(Refusal::MissingToken),
        (Some(_), Some(_)) => {
            return Err(Refusal::InvalidRequest(
                "more than one Authorization header",
            ));
        }
    };
    let value =
        visible_ascii(value).ok_or(Refusal::InvalidRequest("Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::MissingToken);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(Refusal::InvalidRequest("empty bearer token"));
    }
    Ok(token)
}

/// The value as text when every byte is visible ASCII, space or tab (what
/// HTTP libraries accept as a text header value).
fn visible_ascii(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// True when a parameter of the query is named `access_token`, however its
/// name is percent-encoded.
fn has_query_token(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        let name: Cow<'_, [u8]> = percent_decode_str(name).into();
        name.as_ref() == QUERY_TOKEN.as_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token<'a>(values: &[&'a str], query: Option<&str>) -> Result<&'a str, Refusal> {
        bearer_token(values.iter().map(|v| v.as_bytes()), query)
    }

    #[test]
    fn takes_the_token_from_a_single_bearer_header() {
        assert_eq!(token(&["Bearer abc.def.ghi"], None), Ok("abc.def.ghi"));
        assert_eq!(
            token(&["bearer abc.def.ghi "], Some("a=1")),
            Ok("abc.def.ghi")
        );
    }

    #[test]
    fn refuses_malformed_credentials() {
        for (values, query) in [
            (&["Bearer a.b.c", "Bearer d.e.f"][..], None),
            (&[][..], Some("access_token=a.b.c")),
            (&["Bearer a.b.c"][..], Some("x=1&access_token=a.b.c")),
            (&[][..], Some("access%5Ftoken=a.b.c")),
            (&["Bearer  "][..], None),
            (&["Bearer a.b.c\u{e9}"][..], None),
        ] {
            assert!(
                matches!(token(values, query), Err(Refusal::InvalidRequest(_))),
                "{values:?} {query:?}"
            );
        }
    }

    #[test]
    fn other_schemes_count_as_no_token() {
        assert_eq!(
            token(&["Basic dXNlcjpwYXNz"], None),
            Err(Refusal::MissingToken)
        );
        assert_eq!(token(&[], None), Err(Refusal::MissingToken));
        assert_eq!(token(&[], Some("token=a.b.c")), Err(Refusal::MissingToken));
    }

    #[test]
    fn control_bytes_are_not_ascii_text() {
        let values: [&[u8]; 1] = [b"Bearer a.b\x01c"];
        assert!(matches!(
            bearer_token(values, None),
            Err(Refusal::InvalidRequest(_))
        ));
    }
}
