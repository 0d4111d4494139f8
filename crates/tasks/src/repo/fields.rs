//! The task store's input rules, as types: a [`Title`], a [`Description`]
//! and a [`Page`] exist only once parsed, so the repository cannot be handed
//! a value that breaks a rule.

use super::TaskError;

/// The longest title, in characters (after trimming), and description;
/// shared through `proto` so that gRPC message limits follow from them.
/// The page size when the caller asks for 0, and the largest offset.
pub use proto::limits::{DEFAULT_LIMIT, MAX_DESCRIPTION_CHARS, MAX_OFFSET, MAX_TITLE_CHARS};
/// The largest page size accepted.
pub const MAX_LIMIT: u32 = proto::limits::MAX_PAGE;
// The message limits assume no longer user id than auth-core accepts.
const _: () = assert!(auth_core::MAX_USER_ID_BYTES <= proto::limits::MAX_USER_ID_BYTES);

fn invalid(reason: impl Into<String>) -> TaskError {
    TaskError::Invalid(reason.into())
}

/// A title as stored: trimmed, 1 to 200 characters, no NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(title: &str) -> Result<Self, TaskError> {
        let title = title.trim();
        let len = title.chars().count();
        if len == 0 {
            return Err(invalid("title must not be empty"));
        }
        if len > MAX_TITLE_CHARS {
            return Err(invalid(format!(
                "title must be at most {MAX_TITLE_CHARS} characters (got {len})"
            )));
        }
        no_nul("title", title)?;
        Ok(Self(title.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A description as stored: as given, at most 1000 characters, no NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(description: String) -> Result<Self, TaskError> {
        let len = description.chars().count();
        if len > MAX_DESCRIPTION_CHARS {
            return Err(invalid(format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters (got {len})"
            )));
        }
        no_nul("description", &description)?;
        Ok(Self(description))
    }

    /// An optional description: `None` stays `None`.
    pub fn parse_optional(description: Option<String>) -> Result<Option<Self>, TaskError> {
        description.map(Self::parse).transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// PostgreSQL text cannot hold NUL; refuse it on every backend alike.
fn no_nul(field: &str, value: &str) -> Result<(), TaskError> {
    if value.contains('\0') {
        return Err(invalid(format!("{field} must not contain NUL characters")));
    }
    Ok(())
}

/// One page of a list: a limit of 1 to 1000 (0 asks for the default, 100)
/// and an offset that fits a signed 64-bit SQL integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    limit: u64,
    offset: u64,
}

impl Page {
    pub fn parse(limit: u32, offset: u64) -> Result<Self, TaskError> {
        let limit = match limit {
            0 => DEFAULT_LIMIT,
            n if n > MAX_LIMIT => {
                return Err(invalid(format!(
                    "limit must be at most {MAX_LIMIT} (got {n})"
                )));
            }
            n => n,
        };
        if offset > MAX_OFFSET {
            return Err(invalid("offset is too large"));
        }
        Ok(Self {
            limit: u64::from(limit),
            offset,
        })
    }

    pub fn limit(self) -> u64 {
        self.limit
    }

    pub fn offset(self) -> u64 {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason<T: std::fmt::Debug>(result: Result<T, TaskError>) -> String {
        match result {
            Err(TaskError::Invalid(reason)) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn title_is_trimmed_and_bounded_in_characters() {
        let title = |raw: &str| Title::parse(raw).map(Title::into_string);
        assert_eq!(title("  buy milk \n").ok().as_deref(), Some("buy milk"));
        assert!(reason(title("   ")).contains("empty"));
        let max = "é".repeat(MAX_TITLE_CHARS);
        assert_eq!(title(&format!(" {max} ")).ok(), Some(max.clone()));
        assert!(reason(title(&format!("{max}x"))).contains("at most 200"));
        assert!(reason(title("a\0b")).contains("NUL"));
    }

    #[test]
    fn description_is_optional_and_bounded() {
        assert_eq!(Description::parse_optional(None).ok(), Some(None));
        let max = "ü".repeat(MAX_DESCRIPTION_CHARS);
        let parsed = Description::parse(max.clone()).map(Description::into_string);
        assert_eq!(parsed.ok(), Some(max.clone()));
        assert!(reason(Description::parse(format!("{max}x"))).contains("1000"));
        assert!(reason(Description::parse("a\0".to_owned())).contains("NUL"));
    }

    #[test]
    fn page_defaults_and_limits() {
        let page = |limit, offset| Page::parse(limit, offset).map(|p| (p.limit(), p.offset()));
        assert_eq!(page(0, 0).ok(), Some((100, 0)));
        assert_eq!(page(1000, 5).ok(), Some((1000, 5)));
        assert!(reason(page(1001, 0)).contains("at most 1000"));
        assert!(reason(page(1, u64::MAX)).contains("offset"));
    }
}
