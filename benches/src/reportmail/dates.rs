//! Dates: proleptic Gregorian (Howard Hinnant's civil-from-days algorithms), RFC 5322 and
//! asctime formats, and the US Pacific offset.

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// 0 = Sunday.
fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// `(year, month, day, hour, minute, second)` of a UTC timestamp.
pub(super) fn civil_time(ts: u64) -> (i64, i64, i64, i64, i64, i64) {
    let t = i64::try_from(ts).unwrap_or(i64::MAX);
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let secs = t.rem_euclid(86_400);
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn name_of(names: &'static [&'static str], i: i64) -> &'static str {
    names
        .get(usize::try_from(i).unwrap_or(0))
        .copied()
        .unwrap_or("")
}

/// RFC 5322 §3.3 `date-time` of `ts` shown at `offset_minutes` east of UTC.
pub(super) fn rfc5322_date(ts: u64, offset_minutes: i64, pad_day: bool) -> String {
    let local = i64::try_from(ts)
        .unwrap_or(i64::MAX)
        .saturating_add(offset_minutes * 60);
    let days = local.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let secs = local.rem_euclid(86_400);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.abs();
    let day = if pad_day {
        format!("{d:02}")
    } else {
        d.to_string()
    };
    format!(
        "{}, {day} {} {y} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        name_of(&DAY_NAMES, weekday(days)),
        name_of(&MONTH_NAMES, m - 1),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// The C `asctime` form used on mbox `From ` lines: `Tue Jan  2 16:59:59 2024`.
pub(super) fn asctime(ts: u64) -> String {
    let t = i64::try_from(ts).unwrap_or(i64::MAX);
    let days = t.div_euclid(86_400);
    let (y, m, d, h, mi, s) = civil_time(ts);
    format!(
        "{} {} {d:>2} {h:02}:{mi:02}:{s:02} {y}",
        name_of(&DAY_NAMES, weekday(days)),
        name_of(&MONTH_NAMES, m - 1)
    )
}

/// `2024-01-02 00:00:00`.
pub(super) fn iso_time(ts: u64) -> String {
    let (y, m, d, h, mi, s) = civil_time(ts);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// US Pacific time's offset at `ts` in minutes (Google's report `Date:`): daylight time from the
/// second Sunday of March 10:00 UTC to the first Sunday of November 09:00 UTC.
pub(super) fn pacific_offset(ts: u64) -> i64 {
    let t = i64::try_from(ts).unwrap_or(i64::MAX);
    let (y, _, _) = civil_from_days(t.div_euclid(86_400));
    let first_sunday = |month: i64| {
        let first = days_from_civil(y, month, 1);
        first + (7 - weekday(first)) % 7
    };
    let start = (first_sunday(3) + 7) * 86_400 + 10 * 3600;
    let end = first_sunday(11) * 86_400 + 9 * 3600;
    if (start..end).contains(&t) {
        -420
    } else {
        -480
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0, 0, false), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_704_153_599, -480, true),
            "Mon, 01 Jan 2024 15:59:59 -0800"
        );
        assert_eq!(asctime(1_704_240_000), "Wed Jan  3 00:00:00 2024");
        assert_eq!(iso_time(1_709_251_200), "2024-03-01 00:00:00");
        // 2024: daylight time from 10 March to 3 November.
        assert_eq!(pacific_offset(1_710_064_800 - 1), -480);
        assert_eq!(pacific_offset(1_710_064_800), -420);
        assert_eq!(pacific_offset(1_730_624_400 - 1), -420);
        assert_eq!(pacific_offset(1_730_624_400), -480);
        for days in [-1000, 0, 19_723, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
