//! Which request paths name a user: the templates of
//! `AUTH_VERIFY_USER_PATHS` (default `/api/{user_id}`, the project's
//! routes). For a path under a template, the segment at `{user_id}` must be
//! the token's subject.
//!
//! Paths are read as an upstream might read them, erring towards checking:
//! a template's literal segments match percent-decoded, ASCII
//! case-insensitively and without `;parameters`. A path that is not in
//! normal form (dot segments, empty segments, encoded or back slashes) is
//! refused rather than guessed at: an upstream that resolves
//! `/x/../api/{other}/tasks` would otherwise get a path nobody checked.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The placeholder that ends every template.
pub const USER_ID: &str = "{user_id}";

/// The default `AUTH_VERIFY_USER_PATHS`: the edge's `/api/{user_id}/…` routes.
pub const DEFAULT_USER_PATHS: &str = "/api/{user_id}";

/// The parsed templates; none means no path is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPaths {
    /// For each template, its literal segments before `{user_id}`, lower-cased.
    templates: Vec<Vec<String>>,
}

/// A path that is not in normal form, with what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request path is not in normal form: {0}")]
pub struct NotNormal(pub &'static str);

impl UserPaths {
    /// Parses a comma-separated list of templates such as
    /// `/api/{user_id}, /v2/users/{user_id}`; an empty list turns the
    /// check off. Each template starts with `/` and ends with the segment
    /// `{user_id}`; its other segments are plain text.
    pub fn parse(setting: &str) -> Result<Self, String> {
        let mut templates = Vec::new();
        for template in setting.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let invalid = |why: &str| {
                format!("AUTH_VERIFY_USER_PATHS: {template:?} {why} (e.g. /api/{USER_ID})")
            };
            let Some(rest) = template.strip_prefix('/') else {
                return Err(invalid("does not start with /"));
            };
            let mut segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
            if segments.pop() != Some(USER_ID) {
                return Err(invalid("does not end with the segment {user_id}"));
            }
            if segments
                .iter()
                .any(|s| s.is_empty() || s.contains(['{', '}', '%', ';', '?', '\\']))
            {
                return Err(invalid(
                    "has an empty segment or one that is not plain text",
                ));
            }
            templates.push(segments.iter().map(|s| s.to_ascii_lowercase()).collect());
        }
        Ok(Self { templates })
    }

    /// True when no path is checked.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The user the path names (its `{user_id}` segment, percent-decoded),
    /// or `None` when no template covers it. `path` is without the query.
    pub fn user_in<'p>(&self, path: &'p str) -> Result<Option<Cow<'p, [u8]>>, NotNormal> {
        if self.is_empty() {
            return Ok(None);
        }
        let segments = normal_segments(path)?;
        for literals in &self.templates {
            let Some(user) = segments.get(literals.len()) else {
                continue;
            };
            let covered = literals.iter().zip(&segments).all(|(literal, segment)| {
                without_parameters(&decode(segment)).eq_ignore_ascii_case(literal.as_bytes())
            });
            if covered {
                return Ok(Some(decode(user)));
            }
        }
        Ok(None)
    }
}

/// The path's segments, once it is known to be in normal form.
fn normal_segments(path: &str) -> Result<Vec<&str>, NotNormal> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(NotNormal("it does not start with /"));
    };
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        if segment.is_empty() && index != last {
            return Err(NotNormal("it has an empty segment (//)"));
        }
        let decoded = decode(segment);
        if decoded.contains(&b'/') || decoded.contains(&b'\\') {
            return Err(NotNormal("it has an encoded slash or a backslash"));
        }
        if matches!(without_parameters(&decoded), b"." | b"..") {
            return Err(NotNormal("it has a dot segment (. or ..)"));
        }
    }
    Ok(segments)
}

fn decode(segment: &str) -> Cow<'_, [u8]> {
    percent_decode_str(segment).into()
}

/// A segment without its `;parameters` (as some servers read paths),
/// percent-decoded.
fn without_parameters<S: AsRef<[u8]> + ?Sized>(segment: &S) -> &[u8] {
    let segment = segment.as_ref();
    let end = segment
        .iter()
        .position(|&b| b == b';')
        .unwrap_or(segment.len());
    &segment[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> UserPaths {
        UserPaths::parse(DEFAULT_USER_PATHS).expect("default templates")
    }

    fn user(paths: &UserPaths, path: &str) -> Result<Option<String>, NotNormal> {
        paths
            .user_in(path)
            .map(|user| user.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    #[test]
    fn the_default_covers_the_projects_routes() {
        let paths = default();
        for (path, expected) in [
            ("/api/u1/tasks", Some("u1")),
            ("/api/u1/tasks/7/complete", Some("u1")),
            ("/api/u1", Some("u1")),
            ("/api/u1/", Some("u1")),
            ("/api/", Some("")),
            ("/api", None),
            ("/healthz", None),
            ("/", None),
            ("/apix/u1/tasks", None),
        ] {
            assert_eq!(
                user(&paths, path),
                Ok(expected.map(str::to_owned)),
                "{path}"
            );
        }
    }

    #[test]
    fn literal_segments_match_as_lenient_upstreams_read_them() {
        let paths = default();
        for path in ["/API/u1/tasks", "/%61pi/u1/tasks", "/api;v=1/u1/tasks"] {
            assert_eq!(user(&paths, path), Ok(Some("u1".to_owned())), "{path}");
        }
        // The user segment itself is compared whole, only percent-decoded.
        assert_eq!(user(&paths, "/api/u%31/tasks"), Ok(Some("u1".to_owned())));
        assert_eq!(user(&paths, "/api/u1;x/tasks"), Ok(Some("u1;x".to_owned())));
    }

    #[test]
    fn paths_not_in_normal_form_are_refused() {
        let paths = default();
        for path in [
            "/x/../api/u2/tasks",
            "/api/u1/../u2/tasks",
            "/api/./u2/tasks",
            "/api/%2e%2E/u2",
            "/api/..;/u2/tasks",
            "//api/u2/tasks",
            "/api//u2/tasks",
            "/api%2fu2/tasks",
            "/api/u1%5c..%5cu2/tasks",
            "/api\\u2/tasks",
            "api/u2/tasks",
            "*",
        ] {
            assert!(user(&paths, path).is_err(), "{path}");
        }
    }

    #[test]
    fn several_templates_or_none() {
        let paths = UserPaths::parse(" /api/{user_id}/ , /v2/users/{user_id}").expect("parse");
        assert_eq!(user(&paths, "/v2/users/u3/x"), Ok(Some("u3".to_owned())));
        assert_eq!(user(&paths, "/api/u4"), Ok(Some("u4".to_owned())));
        assert_eq!(user(&paths, "/v2/other/u3"), Ok(None));

        let off = UserPaths::parse("").expect("empty");
        assert!(off.is_empty());
        assert_eq!(
            user(&off, "/x/../api/u2"),
            Ok(None),
            "no template, no check"
        );
    }

    #[test]
    fn bad_templates_are_refused_at_start_up() {
        for template in [
            "api/{user_id}",
            "/api/{user_id}/tasks",
            "/api/{user}",
            "/api//{user_id}",
            "/a{b}/{user_id}",
            "/api;x/{user_id}",
        ] {
            assert!(UserPaths::parse(template).is_err(), "{template}");
        }
        let root = UserPaths::parse("/{user_id}").expect("a template without literals");
        assert_eq!(user(&root, "/u5/x"), Ok(Some("u5".to_owned())));
    }
}
