//! Calendar dates (`allow … until 2027-06-30`): proleptic Gregorian, no time zone.

use std::fmt;

/// A calendar day. Orders as dates do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

fn leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// A valid date, or `None` (month 13, 31 April, 29 February of a common year).
    pub(crate) fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month) && year >= 1).then_some(Date {
            year,
            month,
            day,
        })
    }

    /// `YYYY-MM-DD`, exactly (ISO 8601 calendar date).
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        Date::new(digits(0..4)?, u8::try_from(digits(5..7)?).ok()?, u8::try_from(digits(8..10)?).ok()?)
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's civil-from-days).
    pub(crate) fn from_unix_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date { year: year.clamp(1, 9999) as u16, month, day }
    }

    /// Today in UTC, by the system clock.
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Date::from_unix_days(secs / 86_400)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::Date;

    #[test]
    fn parses_only_real_dates() {
        assert_eq!(Date::parse("2027-06-30"), Some(Date { year: 2027, month: 6, day: 30 }));
        assert_eq!(Date::parse("2028-02-29").map(|d| d.to_string()), Some("2028-02-29".into()));
        for bad in ["2027-02-29", "2027-13-01", "2027-04-31", "2027-6-30", "27-06-30", "2027-06-3x", "0000-01-01", ""] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn unix_days_round_trip_the_calendar() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(11_016).to_string(), "2000-02-29");
        assert_eq!(Date::from_unix_days(20_635).to_string(), "2026-07-01");
        let mut prev = Date::from_unix_days(-1);
        for d in 0..80_000 {
            let next = Date::from_unix_days(d);
            assert!(next > prev, "{next} after {prev}");
            assert_eq!(Date::parse(&next.to_string()), Some(next));
            prev = next;
        }
    }
}
