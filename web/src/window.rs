//! The window every page takes: `?days=N` (1 to 3650) or `?since=YYYY-MM-DD`, 30 days when
//! neither is given, kept in every link of the page.

use mailward_store::query::{Window, format_day, parse_date, today};
use serde::Deserialize;

/// The default window, in days.
pub const DEFAULT_DAYS: i64 = 30;

/// The longest window, in days (`days=` or `since=`): every page fills a series of its days.
pub const MAX_DAYS: i64 = 3650;

/// The query parameters that choose a window.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WindowQuery {
    /// `days=N`.
    pub days: Option<String>,
    /// `since=YYYY-MM-DD`.
    pub since: Option<String>,
}

/// A window as chosen on a page: the days, how to write it in a link, and how to name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The days.
    pub window: Window,
    /// `days=30` or `since=2026-11-01`, for links.
    pub query: String,
    /// "the last 30 days" or "since 2026-11-01".
    pub label: String,
    /// The number of days, when chosen by `days`.
    pub days: Option<i64>,
}

impl Chosen {
    /// `path` with this window's query appended.
    pub fn link(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{path}{sep}{}", self.query)
    }
}

impl WindowQuery {
    /// The window these parameters choose, relative to `today` (days since 1970).
    ///
    /// # Errors
    ///
    /// A message for people when `days` is not a number from 1 to 3650 or `since` not a date
    /// on or before today.
    pub fn choose_at(&self, today: i64) -> Result<Chosen, String> {
        let days = self
            .days
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let since = self
            .since
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(since) = since {
            let Some(first) = parse_date(since) else {
                return Err(format!("since={since:?} is not a date (YYYY-MM-DD)"));
            };
            if first > today {
                return Err(format!("since={since} is in the future"));
            }
            if today - first >= MAX_DAYS {
                return Err(format!("since={since} is more than {MAX_DAYS} days ago"));
            }
            let window = Window::since(since, today).map_err(|e| e.to_string())?;
            return Ok(Chosen {
                window,
                query: format!("since={}", format_day(first)),
                label: format!("the days since {}", format_day(first)),
                days: None,
            });
        }
        let n = match days {
            None => DEFAULT_DAYS,
            Some(d) => match d.parse::<i64>() {
                Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
                _ => return Err(format!("days={d:?} is not a number from 1 to 3650")),
            },
        };
        let window = Window::last_days(n, today).map_err(|e| e.to_string())?;
        Ok(Chosen {
            window,
            query: format!("days={n}"),
            label: if n == 1 {
                "today".into()
            } else {
                format!("the last {n} days")
            },
            days: Some(n),
        })
    }

    /// [`choose_at`](Self::choose_at) today (UTC).
    ///
    /// # Errors
    ///
    /// As [`choose_at`](Self::choose_at).
    pub fn choose(&self) -> Result<Chosen, String> {
        self.choose_at(today())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(days: Option<&str>, since: Option<&str>) -> WindowQuery {
        WindowQuery {
            days: days.map(Into::into),
            since: since.map(Into::into),
        }
    }

    #[test]
    fn choices() {
        // Day 20 788 is 2026-12-01 (20 758 is 2026-11-01, plus 30).
        let today = 20_788;
        let c = q(None, None).choose_at(today).unwrap();
        assert_eq!(
            (c.window.first_day, c.window.last_day),
            (Some(20_759), Some(today))
        );
        assert_eq!(c.query, "days=30");
        assert_eq!(
            c.link("/domains/example.com"),
            "/domains/example.com?days=30"
        );
        let c = q(Some("3650"), None).choose_at(today).unwrap();
        assert_eq!(c.window.first_day, Some(today - 3649));
        let c = q(Some("7"), Some("2026-11-01")).choose_at(today).unwrap();
        assert_eq!(c.window.first_day, Some(20_758));
        assert_eq!(c.query, "since=2026-11-01");
        for bad in ["0", "3651", "-1", "x", "1e3"] {
            assert!(q(Some(bad), None).choose_at(today).is_err(), "{bad}");
        }
        assert!(q(None, Some("2026-13-01")).choose_at(today).is_err());
        assert!(q(None, Some("2026-12-02")).choose_at(today).is_err());
        // 3650 days at most, as days= (found by review: since=0000-01-01 built 740 000 days).
        assert!(q(None, Some("0000-01-01")).choose_at(today).is_err());
        assert!(q(None, Some("2016-12-04")).choose_at(today).is_ok());
        assert!(q(None, Some("2016-12-03")).choose_at(today).is_err());
    }
}
