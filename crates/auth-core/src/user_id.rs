//! [`UserId`]: the id of the user a request is made for, parsed once (from
//! a verified token's `sub`, or, at tasks, from the internal credential)
//! and passed on typed, so no layer below has to check it again.

use std::fmt;

/// The longest user id accepted, in bytes.
pub const MAX_USER_ID_BYTES: usize = 255;

/// A user id: a non-empty string of at most 255 bytes of visible ASCII
/// (letters, digits, punctuation; no space, control or other character).
///
/// Better Auth's ids are ASCII (random alphanumerics or UUIDs), and the id
/// travels between services in gRPC metadata, which carries visible ASCII
/// only; so a subject outside that is refused when the token is verified
/// (401, "token subject is invalid: …") rather than failing later. Carrying
/// other ids would need `x-user-id-bin` end to end: not done, see the
/// README's Security section.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

/// Why a string is not a user id (safe to quote: it never repeats the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid user id: {0}")]
pub struct InvalidUserId(pub &'static str);

impl UserId {
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidUserId> {
        let value = value.into();
        if value.is_empty() {
            return Err(InvalidUserId("empty"));
        }
        if value.len() > MAX_USER_ID_BYTES {
            return Err(InvalidUserId("longer than 255 bytes"));
        }
        if value.chars().any(is_invisible) {
            return Err(InvalidUserId("contains control characters"));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidUserId(
                "only visible ASCII (letters, digits, punctuation) is accepted",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Control characters, and the Unicode line separators and bidirectional
/// overrides that would let an id display as another.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for UserId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for UserId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for UserId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for UserId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_non_empty_bounded_and_visible() {
        assert_eq!(
            UserId::parse("user-1").map(|id| id.to_string()),
            Ok("user-1".to_owned())
        );
        for foreign in ["über", "用户", "café-😀", "a b", " a", "a\u{a0}"] {
            assert_eq!(
                UserId::parse(foreign),
                Err(InvalidUserId(
                    "only visible ASCII (letters, digits, punctuation) is accepted"
                )),
                "{foreign:?}"
            );
        }
        assert!(UserId::parse("x-9_Az.~!@#$%^&*()=+[]{}|;:'\",<>/?`").is_ok());
        assert_eq!(UserId::parse(""), Err(InvalidUserId("empty")));
        assert!(UserId::parse("a".repeat(MAX_USER_ID_BYTES)).is_ok());
        assert_eq!(
            UserId::parse("a".repeat(MAX_USER_ID_BYTES + 1)),
            Err(InvalidUserId("longer than 255 bytes"))
        );
        for sneaky in ["a\nb", "a\u{202E}b", "a\u{200B}", "\u{FEFF}a"] {
            assert_eq!(
                UserId::parse(sneaky),
                Err(InvalidUserId("contains control characters")),
                "{sneaky:?}"
            );
        }
    }
}
