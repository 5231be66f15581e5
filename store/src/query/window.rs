//! Windows of whole UTC days, and the calendar arithmetic behind them (days since
//! 1970-01-01 to and from `YYYY-MM-DD`).

use serde::Serialize;

use crate::now;
use crate::spread::SECONDS_PER_DAY;

/// Longest window, in days (ten years).
pub const MAX_WINDOW_DAYS: i64 = 3650;

/// A range of whole UTC days (days since 1970-01-01), both ends included; open ends mean
/// "since the beginning" and "until now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Window {
    /// First day, if bounded.
    pub first_day: Option<i64>,
    /// Last day, if bounded.
    pub last_day: Option<i64>,
}

/// A window that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// `--days` outside 1..=3650.
    #[error("the number of days must be between 1 and {MAX_WINDOW_DAYS}, not {0}")]
    Days(i64),
    /// A date that is not `YYYY-MM-DD`.
    #[error("not a date in YYYY-MM-DD form: {0:?}")]
    Date(String),
}

impl Window {
    /// Everything.
    pub fn all() -> Self {
        Self::default()
    }

    /// The last `days` days up to and including `today`.
    ///
    /// # Errors
    ///
    /// [`WindowError::Days`] outside 1..=[`MAX_WINDOW_DAYS`].
    pub fn last_days(days: i64, today: i64) -> Result<Self, WindowError> {
        if !(1..=MAX_WINDOW_DAYS).contains(&days) {
            return Err(WindowError::Days(days));
        }
        Ok(Self {
            first_day: Some(today - days + 1),
            last_day: Some(today),
        })
    }

    /// From `date` (`YYYY-MM-DD`) up to and including `today`.
    ///
    /// # Errors
    ///
    /// [`WindowError::Date`] for anything but a valid date.
    pub fn since(date: &str, today: i64) -> Result<Self, WindowError> {
        let first = parse_date(date).ok_or_else(|| WindowError::Date(date.to_owned()))?;
        Ok(Self {
            first_day: Some(first),
            last_day: Some(today.max(first)),
        })
    }

    /// The same number of days just before this window (for trends); `None` for an open
    /// window.
    pub fn previous(&self) -> Option<Self> {
        let (first, last) = (self.first_day?, self.last_day?);
        let len = last - first + 1;
        Some(Self {
            first_day: Some(first - len),
            last_day: Some(first - 1),
        })
    }

    pub(crate) fn days(&self) -> (i64, i64) {
        (
            self.first_day.unwrap_or(i64::MIN / 2),
            self.last_day.unwrap_or(i64::MAX / 2),
        )
    }

    /// The window in seconds: `[lo, hi)`.
    pub(super) fn seconds(&self) -> (i64, i64) {
        let day = i64::try_from(SECONDS_PER_DAY).unwrap_or(86_400);
        let (first, last) = self.days();
        (
            first.saturating_mul(day).max(0),
            last.saturating_add(1).saturating_mul(day).max(0),
        )
    }
}

/// Today as a day number (UTC).
pub fn today() -> i64 {
    now() / 86_400
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian calendar).
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date: the era-based algorithm (400-year cycles of
/// 146 097 days; March-based years so the leap day ends the year).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::spread;

    #[test]
    fn civil_dates() {
        // Day numbers from `date -u -d YYYY-MM-DD +%s` / 86400.
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2026-12-06"), Some(20_793));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-1-1"), None);
        assert_eq!(format_day(20_793), "2026-12-06");
        assert_eq!(format_day(19_782), "2024-02-29");
        for d in -1000..30_000 {
            assert_eq!(parse_date(&format_day(d)), Some(d));
        }
    }

    #[test]
    fn windows() {
        let w = Window::last_days(7, 100).unwrap();
        assert_eq!((w.first_day, w.last_day), (Some(94), Some(100)));
        let p = w.previous().unwrap();
        assert_eq!((p.first_day, p.last_day), (Some(87), Some(93)));
        assert!(Window::last_days(0, 100).is_err());
        assert!(Window::last_days(3651, 100).is_err());
        assert!(Window::last_days(3650, 100).is_ok());
        // A one-day report of day 94 counts; one of day 93 does not.
        assert!(spread::overlaps(94 * 86_400, 95 * 86_400 - 1, 94, 100));
        assert!(!spread::overlaps(93 * 86_400, 94 * 86_400, 94, 100));
    }
}
