//! A stored instant as microseconds since the Unix epoch, the precision
//! both backends keep, written as RFC 3339 straight from that number: a
//! list writes two per task, and PostgreSQL sends each as one integer, so
//! no calendar type is built on the way from the row to the reply.

use chrono::{DateTime, SecondsFormat, Utc};

/// PostgreSQL counts `timestamptz` from 2000-01-01T00:00:00Z, in
/// microseconds.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the years RFC 3339's
/// four digits hold, which [`Timestamp::rfc3339`] writes by hand.
const FIXED_FROM: i64 = -62_167_219_200_000_000;
const FIXED_UNTIL: i64 = 253_402_300_800_000_000;

/// An instant, in microseconds since 1970-01-01T00:00:00Z, that chrono can
/// also represent (every constructor checks), so [`Timestamp::rfc3339`]
/// always has an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// `micros` since the Unix epoch, if chrono can represent it.
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        if (FIXED_FROM..FIXED_UNTIL).contains(&micros)
            || DateTime::from_timestamp_micros(micros).is_some()
        {
            Some(Self(micros))
        } else {
            None
        }
    }

    /// A PostgreSQL `timestamptz` as sent in binary: microseconds since
    /// 2000-01-01 (`infinity` and its like are refused).
    pub fn from_postgres(micros: i64) -> Option<Self> {
        Self::from_unix_micros(micros.checked_add(POSTGRES_EPOCH_MICROS)?)
    }

    pub fn unix_micros(self) -> i64 {
        self.0
    }

    /// RFC 3339 in UTC with a `Z` and six fraction digits, e.g.
    /// `2026-11-25T10:00:00.123456Z`: what chrono's
    /// `to_rfc3339_opts(SecondsFormat::Micros, true)` writes, two digits at
    /// a time into a fixed buffer; chrono's own answer for the years outside
    /// 0000–9999, which this layout does not hold.
    pub fn rfc3339(self) -> String {
        if !(FIXED_FROM..FIXED_UNTIL).contains(&self.0) {
            return DateTime::from_timestamp_micros(self.0)
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Micros, true))
                .unwrap_or_default();
        }
        let days = self.0.div_euclid(MICROS_PER_DAY);
        let micros_of_day = self.0.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil(days);
        // In range: every part below fits a u32.
        let seconds = (micros_of_day / 1_000_000) as u32;
        let micros = (micros_of_day % 1_000_000) as u32;
        let year = year as u32;
        let mut out = *b"0000-00-00T00:00:00.000000Z";
        let pairs = [
            (0, year / 100),
            (2, year % 100),
            (5, month),
            (8, day),
            (11, seconds / 3600),
            (14, seconds / 60 % 60),
            (17, seconds % 60),
            (20, micros / 10_000),
            (22, micros / 100 % 100),
            (24, micros % 100),
        ];
        for (at, value) in pairs {
            out[at] = b'0' + (value / 10) as u8;
            out[at + 1] = b'0' + (value % 10) as u8;
        }
        // ASCII digits and separators only.
        String::from_utf8(out.to_vec()).unwrap_or_default()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    /// Whole microseconds (both backends store no finer).
    fn from(at: DateTime<Utc>) -> Self {
        Self(at.timestamp_micros())
    }
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn chrono(micros: i64) -> String {
        DateTime::from_timestamp_micros(micros)
            .expect("in range")
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(Timestamp::from(at).rfc3339(), "2026-11-25T10:00:00.000000Z");
    }

    #[test]
    fn timestamps_match_chronos_rfc3339_everywhere() {
        // From year 0 to 9999 in uneven steps, and the edges around it.
        let mut micros = FIXED_FROM;
        while micros < FIXED_UNTIL {
            let at = Timestamp::from_unix_micros(micros).expect("in range");
            assert_eq!(at.rfc3339(), chrono(micros), "{micros}");
            micros += 7_777_777_000_001 + micros.rem_euclid(1_000_003) * 997;
        }
        for micros in [
            FIXED_FROM - 1,
            FIXED_FROM,
            -1,
            0,
            1,
            FIXED_UNTIL - 1,
            FIXED_UNTIL,
            FIXED_UNTIL + 86_400_000_001,
        ] {
            let at = Timestamp::from_unix_micros(micros).expect("in range");
            assert_eq!(at.rfc3339(), chrono(micros), "{micros}");
        }
    }

    #[test]
    fn postgres_counts_from_2000_and_its_infinities_are_refused() {
        let at = Timestamp::from_postgres(0).expect("in range");
        assert_eq!(at.rfc3339(), "2000-01-01T00:00:00.000000Z");
        assert_eq!(
            Timestamp::from_postgres(-1)
                .map(Timestamp::rfc3339)
                .as_deref(),
            Some("1999-12-31T23:59:59.999999Z")
        );
        assert_eq!(Timestamp::from_postgres(i64::MAX), None);
        assert_eq!(Timestamp::from_postgres(i64::MIN), None);
    }
}
