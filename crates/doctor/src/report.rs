//! What a check found, one line each: `✓` passed, `!` worth knowing but not
//! wrong, `✗` wrong (with the fix), `–` not checked (and why). The doctor
//! exits non-zero when any line is `✗`.

use std::fmt;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

/// One check's line: what was checked, what was found, and for a failure or
/// a warning, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub status: Status,
    /// Short name of what was checked, e.g. `token iss`.
    pub name: String,
    /// What was found.
    pub found: String,
    /// What to change, for `Fail` and `Warn`.
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(name: impl Into<String>, found: impl Into<String>) -> Self {
        Self::new(Status::Pass, name, found, None)
    }

    pub fn fail(name: impl Into<String>, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Status::Fail, name, found, Some(fix.into()))
    }

    pub fn warn(name: impl Into<String>, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Status::Warn, name, found, Some(fix.into()))
    }

    pub fn skip(name: impl Into<String>, why: impl Into<String>) -> Self {
        Self::new(Status::Skip, name, why, None)
    }

    fn new(
        status: Status,
        name: impl Into<String>,
        found: impl Into<String>,
        fix: Option<String>,
    ) -> Self {
        Self {
            status,
            name: name.into(),
            found: found.into(),
            fix,
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = match self.status {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "–",
        };
        // One line per check, whatever the values contain; no control
        // characters (an answer's text could carry terminal escapes).
        let one_line = |text: &str| -> String {
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        write!(f, "{mark} {}: {}", self.name, one_line(&self.found))?;
        if let Some(fix) = &self.fix {
            write!(f, " → {}", one_line(fix))?;
        }
        Ok(())
    }
}

/// Every check, in the order they ran.
#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn push(&mut self, check: Check) {
        self.checks.push(check);
    }

    pub fn extend(&mut self, checks: impl IntoIterator<Item = Check>) {
        self.checks.extend(checks);
    }

    /// 0 when nothing failed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.checks.iter().any(|c| c.status == Status::Fail))
    }

    /// The closing line: how many checks failed and warned.
    pub fn summary(&self) -> String {
        let count = |status| self.checks.iter().filter(|c| c.status == status).count();
        match (count(Status::Fail), count(Status::Warn)) {
            (0, 0) => "all checks passed".to_owned(),
            (0, warnings) => format!("no problems; {warnings} warning(s)"),
            (failures, warnings) => {
                format!("{failures} problem(s), {warnings} warning(s): fix the ✗ lines above")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_has_its_mark_and_a_failure_its_fix_on_the_same_line() {
        assert_eq!(Check::pass("edge", "up").to_string(), "✓ edge: up");
        assert_eq!(
            Check::fail("token iss", "\"a\"\nnot \"b\"", "set X").to_string(),
            "✗ token iss: \"a\" not \"b\" → set X"
        );
        assert_eq!(
            Check::warn("size", "big", "trim").to_string(),
            "! size: big → trim"
        );
        assert_eq!(
            Check::fail("edge", "401: \u{1b}[2Jgone", "x").to_string(),
            "✗ edge: 401:  [2Jgone → x"
        );
        assert_eq!(
            Check::skip("auth-verify", "unused").to_string(),
            "– auth-verify: unused"
        );
    }

    #[test]
    fn only_a_failure_makes_the_exit_code_non_zero() {
        let mut report = Report::default();
        report.push(Check::pass("a", "ok"));
        report.push(Check::warn("b", "meh", "fix"));
        report.push(Check::skip("c", "n/a"));
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.summary(), "no problems; 1 warning(s)");
        report.push(Check::fail("d", "bad", "fix"));
        assert_eq!(report.exit_code(), 1);
        assert!(report.summary().starts_with("1 problem(s)"));
    }
}
