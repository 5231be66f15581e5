//! How a report's messages are spread over days.
//!
//! A report stays one report whatever its period, but daily views (the series, a 7-day
//! window) need messages per UTC day. Each record's `count` is split over the UTC days its
//! report's period `[begin, end)` overlaps, in proportion to the seconds of overlap, by the
//! largest-remainder method: every day first gets the whole part of its share, then the
//! messages left over (fewer than the number of days) go one each to the days with the
//! largest remainders. A record's parts always add up to its `count`, so any window that
//! covers whole reports sums exactly, and a one-day report (the usual `00:00:00`–`23:59:59`
//! or `00:00:00`–next `00:00:00`) lands on its day whole.
//!
//! Ties between equal remainders (a 2-day period split evenly) are broken by rotating with
//! the record's position, so a report of many one-message records does not pile them all on
//! its first day.

/// Seconds in a UTC day (POSIX time has no leap seconds).
pub const SECONDS_PER_DAY: u64 = 86_400;

/// Longest period spread over its days. RFC 9990 §3.2 expects daily reports; a longer period
/// is implausible, so all its messages count on the day its period ends instead of being
/// spread over an arbitrary number of days.
pub const MAX_SPREAD_DAYS: u64 = 62;

/// The UTC day (days since 1970-01-01) of a Unix time.
pub fn day_of(t: u64) -> i64 {
    i64::try_from(t / SECONDS_PER_DAY).unwrap_or(i64::MAX)
}

/// The days of the period `[begin, end)` with their weights (seconds of overlap), in day
/// order. A period whose end is not after its begin counts on the day of its begin.
pub fn days_of(begin: u64, end: u64) -> Vec<(i64, u64)> {
    if end <= begin {
        return vec![(day_of(begin), 1)];
    }
    let first = begin / SECONDS_PER_DAY;
    // The last second of the period is end - 1.
    let last = (end - 1) / SECONDS_PER_DAY;
    if last - first >= MAX_SPREAD_DAYS {
        return vec![(day_of(end - 1), 1)];
    }
    (first..=last)
        .map(|d| {
            let lo = begin.max(d * SECONDS_PER_DAY);
            let hi = end.min((d + 1) * SECONDS_PER_DAY);
            (i64::try_from(d).unwrap_or(i64::MAX), hi - lo)
        })
        .collect()
}

/// Splits `count` over `days` (as returned by [`days_of`]) by the largest-remainder method;
/// `rotation` (the record's position) breaks ties. Returns `(day, part)` for parts above 0;
/// the parts add up to `count`.
pub fn split(count: u64, days: &[(i64, u64)], rotation: u64) -> Vec<(i64, u64)> {
    let total: u128 = days.iter().map(|(_, w)| u128::from(*w)).sum();
    if days.len() <= 1 || total == 0 {
        return days
            .first()
            .map(|(d, _)| vec![(*d, count)])
            .unwrap_or_default();
    }
    let n = days.len() as u64;
    let mut parts: Vec<(i64, u64, u128, u64)> = days
        .iter()
        .enumerate()
        .map(|(i, (day, w))| {
            let exact = u128::from(count) * u128::from(*w);
            // exact / total <= count, so it fits in u64.
            let whole = u64::try_from(exact / total).unwrap_or(count);
            let order = (i as u64 + n - rotation % n) % n;
            (*day, whole, exact % total, order)
        })
        .collect();
    let given: u64 = parts.iter().map(|p| p.1).sum();
    let mut left = count.saturating_sub(given);
    let mut order: Vec<(u128, u64, usize)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.2, p.3, i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, i) in order {
        if left == 0 {
            break;
        }
        if let Some(p) = parts.get_mut(i) {
            p.1 += 1;
            left -= 1;
        }
    }
    parts
        .into_iter()
        .filter(|p| p.1 > 0)
        .map(|p| (p.0, p.1))
        .collect()
}

/// Whether the period `[begin, end)` has a day inside the inclusive window of days
/// `first..=last` (the same rule [`days_of`] uses).
pub fn overlaps(begin: u64, end: u64, first: i64, last: i64) -> bool {
    days_of(begin, end)
        .iter()
        .any(|(d, _)| (first..=last).contains(d))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DAY: u64 = SECONDS_PER_DAY;

    #[test]
    fn usual_daily_periods_land_on_one_day() {
        // 2026-01-01 is day 20454 (1767225600 / 86400).
        let d = 1_767_225_600;
        assert_eq!(days_of(d, d + DAY - 1), vec![(20454, DAY - 1)]);
        assert_eq!(days_of(d, d + DAY), vec![(20454, DAY)]);
        assert_eq!(split(7, &days_of(d, d + DAY), 0), vec![(20454, 7)]);
    }

    #[test]
    fn two_day_period_splits_by_overlap() {
        // 06:00 to 06:00 next day: 18 hours on the first day, 6 on the second.
        let d = 20454 * DAY;
        let days = days_of(d + 6 * 3600, d + DAY + 6 * 3600);
        assert_eq!(days, vec![(20454, 18 * 3600), (20455, 6 * 3600)]);
        // 100 messages: 75 and 25 exactly.
        assert_eq!(split(100, &days, 0), vec![(20454, 75), (20455, 25)]);
        // 3 messages: 2.25 and 0.75 → whole parts 2 and 0, the one left goes to the larger
        // remainder (0.75).
        assert_eq!(split(3, &days, 0), vec![(20454, 2), (20455, 1)]);
    }

    #[test]
    fn ties_rotate_with_the_record() {
        let days = days_of(0, 2 * DAY);
        assert_eq!(split(1, &days, 0), vec![(0, 1)]);
        assert_eq!(split(1, &days, 1), vec![(1, 1)]);
    }

    #[test]
    fn degenerate_and_huge_periods() {
        assert_eq!(days_of(5 * DAY, 5 * DAY), vec![(5, 1)]);
        assert_eq!(days_of(5 * DAY, DAY), vec![(5, 1)]);
        // Longer than MAX_SPREAD_DAYS: all on the last day.
        assert_eq!(days_of(0, 100 * DAY), vec![(99, 1)]);
        assert_eq!(days_of(0, u64::MAX).len(), 1);
        assert!(overlaps(0, DAY, 0, 0));
        assert!(!overlaps(0, DAY, 1, 5));
    }

    proptest! {
        #[test]
        fn parts_add_up(count in 0u64..1_000_000_000, begin in 0u64..4_000_000_000,
                        len in 0u64..(70 * DAY), rotation in any::<u64>()) {
            let days = days_of(begin, begin + len);
            let parts = split(count, &days, rotation);
            prop_assert_eq!(parts.iter().map(|p| p.1).sum::<u64>(), count);
            prop_assert!(parts.len() <= days.len());
            prop_assert!(parts.iter().all(|p| days.iter().any(|d| d.0 == p.0)));
        }
    }
}
