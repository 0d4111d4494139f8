//! Clock skew between this machine and Better Auth, from the `Date` header
//! of one of its answers. Better Auth stamps `iat` and `exp` with its clock
//! and the backend checks them with its own: a backend behind by more than
//! the leeway sees every fresh token as living too long, one ahead sees
//! tokens expire early.

use chrono::{DateTime, Utc};

use crate::report::Check;

/// The check for a `Date` header value seen at `now` (this machine's
/// clock), allowing `leeway_secs` (`AUTH_LEEWAY_SECS`). `Date` has whole
/// seconds, so one second of difference is normal.
pub fn skew(date: Option<&str>, now: DateTime<Utc>, leeway_secs: u64) -> Check {
    let name = "clock skew";
    let Some(date) = date else {
        return Check::skip(name, "Better Auth's answer had no Date header");
    };
    let Ok(theirs) = DateTime::parse_from_rfc2822(date.trim()) else {
        return Check::skip(
            name,
            format!("Better Auth's Date header {date:?} is not a date"),
        );
    };
    let skew = theirs
        .with_timezone(&Utc)
        .signed_duration_since(now)
        .num_seconds();
    let direction = if skew > 0 { "behind" } else { "ahead of" };
    let found = format!(
        "this machine is {}s {direction} Better Auth",
        skew.unsigned_abs()
    );
    if skew.unsigned_abs() <= 1 {
        Check::pass(name, "this machine and Better Auth agree (within 1 s)")
    } else if skew.unsigned_abs() <= leeway_secs {
        Check::pass(
            name,
            format!("{found} (AUTH_LEEWAY_SECS allows {leeway_secs}s)"),
        )
    } else {
        Check::fail(
            name,
            format!("{found}, more than AUTH_LEEWAY_SECS={leeway_secs}"),
            "synchronise the clocks (NTP, e.g. systemd-timesyncd or chrony) on the web app's and the backend's machines",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T14:16:55Z")
            .expect("a date")
            .with_timezone(&Utc)
    }

    #[test]
    fn agreeing_clocks_pass() {
        let check = skew(Some("Thu, 26 Nov 2026 14:16:56 GMT"), now(), 10);
        assert_eq!(check.status, Status::Pass);
        assert!(check.found.contains("agree"), "{check}");
    }

    #[test]
    fn skew_within_the_leeway_passes_and_says_how_much() {
        let check = skew(Some("Thu, 26 Nov 2026 14:16:50 GMT"), now(), 10);
        assert_eq!(check.status, Status::Pass);
        assert!(
            check.found.starts_with("this machine is 5s ahead of"),
            "{check}"
        );
    }

    #[test]
    fn skew_beyond_the_leeway_fails_with_the_fix() {
        let check = skew(Some("Thu, 26 Nov 2026 14:20:00 GMT"), now(), 10);
        assert_eq!(check.status, Status::Fail);
        assert!(check.found.contains("185s behind"), "{check}");
        assert!(check.to_string().contains("NTP"));
    }

    #[test]
    fn a_missing_or_broken_date_is_not_a_failure() {
        assert_eq!(skew(None, now(), 10).status, Status::Skip);
        assert_eq!(skew(Some("yesterday"), now(), 10).status, Status::Skip);
    }
}
