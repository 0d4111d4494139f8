//! Every input rule of the task store, in one place.

use super::TaskError;

/// The longest title, in characters, after trimming.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// The page size when the caller asks for 0.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page size accepted.
pub const MAX_LIMIT: u32 = 1000;

fn invalid(reason: impl Into<String>) -> TaskError {
    TaskError::Invalid(reason.into())
}

/// The owner's id: non-empty (the caller's authentication guarantees more).
pub fn user_id(user_id: &str) -> Result<&str, TaskError> {
    if user_id.is_empty() {
        return Err(invalid("user id is required"));
    }
    Ok(user_id)
}

/// The title as stored: trimmed, 1 to 200 characters.
pub fn title(title: &str) -> Result<String, TaskError> {
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
    Ok(title.to_owned())
}

/// The description as stored: as given, at most 1000 characters.
pub fn description(description: Option<String>) -> Result<Option<String>, TaskError> {
    let Some(description) = description else {
        return Ok(None);
    };
    let len = description.chars().count();
    if len > MAX_DESCRIPTION_CHARS {
        return Err(invalid(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters (got {len})"
        )));
    }
    no_nul("description", &description)?;
    Ok(Some(description))
}

/// PostgreSQL text cannot hold NUL; refuse it on every backend alike.
fn no_nul(field: &str, value: &str) -> Result<(), TaskError> {
    if value.contains('\0') {
        return Err(invalid(format!("{field} must not contain NUL characters")));
    }
    Ok(())
}

/// The page: limit 0 means the default, more than 1000 is refused; the
/// offset must fit a signed 64-bit SQL integer.
pub fn page(limit: u32, offset: u64) -> Result<(u64, u64), TaskError> {
    let limit = match limit {
        0 => DEFAULT_LIMIT,
        n if n > MAX_LIMIT => {
            return Err(invalid(format!(
                "limit must be at most {MAX_LIMIT} (got {n})"
            )));
        }
        n => n,
    };
    if i64::try_from(offset).is_err() {
        return Err(invalid("offset is too large"));
    }
    Ok((u64::from(limit), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(err: TaskError) -> String {
        match err {
            TaskError::Invalid(reason) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn title_is_trimmed_and_bounded_in_characters() {
        assert_eq!(title("  buy milk \n").ok(), Some("buy milk".to_owned()));
        assert!(reason(title("   ").expect_err("refused")).contains("empty"));
        let max = "é".repeat(MAX_TITLE_CHARS);
        assert_eq!(title(&format!(" {max} ")).ok(), Some(max.clone()));
        assert!(reason(title(&format!("{max}x")).expect_err("refused")).contains("at most 200"));
        assert!(reason(title("a\0b").expect_err("refused")).contains("NUL"));
    }

    #[test]
    fn description_is_optional_and_bounded() {
        assert_eq!(description(None).ok(), Some(None));
        let max = "ü".repeat(MAX_DESCRIPTION_CHARS);
        assert_eq!(description(Some(max.clone())).ok(), Some(Some(max.clone())));
        assert!(
            reason(description(Some(format!("{max}x"))).expect_err("refused")).contains("1000")
        );
    }

    #[test]
    fn page_defaults_and_limits() {
        assert_eq!(page(0, 0).ok(), Some((100, 0)));
        assert_eq!(page(1000, 5).ok(), Some((1000, 5)));
        assert!(reason(page(1001, 0).expect_err("refused")).contains("at most 1000"));
        assert!(reason(page(1, u64::MAX).expect_err("refused")).contains("offset"));
    }

    #[test]
    fn empty_user_id_is_refused() {
        assert!(user_id("").is_err());
        assert_eq!(user_id("u1").ok(), Some("u1"));
    }
}
