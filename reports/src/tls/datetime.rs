//! RFC 3339 `date-time` to seconds since the epoch, without a date crate.
//!
//! ```abnf
//! date-fullyear   = 4DIGIT
//! date-month      = 2DIGIT  ; 01-12
//! date-mday       = 2DIGIT  ; 01-28, 01-29, 01-30, 01-31 based on month/year
//! time-hour       = 2DIGIT  ; 00-23
//! time-minute     = 2DIGIT  ; 00-59
//! time-second     = 2DIGIT  ; 00-58, 00-59, 00-60 based on leap second rules
//! time-secfrac    = "." 1*DIGIT
//! time-numoffset  = ("+" / "-") time-hour ":" time-minute
//! time-offset     = "Z" / time-numoffset
//! partial-time    = time-hour ":" time-minute ":" time-second [time-secfrac]
//! full-date       = date-fullyear "-" date-month "-" date-mday
//! full-time       = partial-time time-offset
//! date-time       = full-date "T" full-time
//! ```
//! ([RFC 3339 §5.6](https://www.rfc-editor.org/rfc/rfc3339#section-5.6))

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Converts an RFC 3339 `date-time` (`2016-04-01T00:00:00Z`, `2016-04-01T02:00:00.5+02:00`)
/// to seconds since 1970-01-01T00:00:00Z, rounding a fraction of a second down.
///
/// Accepted besides the ABNF: lower-case `t` and `z` and a space instead of `T`, which
/// RFC 3339 §5.6 allows in a note. A leap second (`:60`) is accepted in any minute and counts
/// as the first second of the next minute, as POSIX time has no leap seconds. `-00:00` ("local
/// offset unknown", §4.3) is read as UTC.
///
/// Returns `None` for anything else: a missing offset, one-digit fields, day 31 of a 30-day
/// month, 29 February outside a leap year, hours past 23.
///
/// # Examples
///
/// ```
/// use mailward_reports::tls::rfc3339_to_unix;
///
/// assert_eq!(rfc3339_to_unix("2016-04-01T00:00:00Z"), Some(1_459_468_800));
/// assert_eq!(rfc3339_to_unix("2016-04-01T02:00:00+02:00"), Some(1_459_468_800));
/// assert_eq!(rfc3339_to_unix("2016-04-01"), None);
/// ```
pub fn rfc3339_to_unix(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    // full-date "T" partial-time is at least 19 bytes: 2016-04-01T00:00:00
    let (date, rest) = b.split_at_checked(10)?;
    let (sep, rest) = rest.split_first()?;
    if !matches!(sep, b'T' | b't' | b' ') {
        return None;
    }
    let days = full_date(date)?;
    let (time, rest) = rest.split_at_checked(8)?;
    let seconds = partial_time(time)?;
    let rest = skip_secfrac(rest)?;
    let offset = time_offset(rest)?;
    Some(days * DAY + seconds - offset)
}

/// `full-date = date-fullyear "-" date-month "-" date-mday`, as days since 1970-01-01.
fn full_date(b: &[u8]) -> Option<i64> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *b else {
        return None;
    };
    let year = i64::from(digits(&[y0, y1, y2, y3])?);
    let month = digits(&[m0, m1])?;
    let day = digits(&[d0, d1])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_since_epoch(year, month, day))
}

/// `partial-time` without `time-secfrac`, as seconds since midnight.
fn partial_time(b: &[u8]) -> Option<i64> {
    let [h0, h1, b':', m0, m1, b':', s0, s1] = *b else {
        return None;
    };
    let hour = digits(&[h0, h1])?;
    let minute = digits(&[m0, m1])?;
    let second = digits(&[s0, s1])?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(i64::from(hour * 3600 + minute * 60 + second))
}

/// Skips an optional `time-secfrac = "." 1*DIGIT`.
fn skip_secfrac(b: &[u8]) -> Option<&[u8]> {
    let Some(frac) = b.strip_prefix(b".") else {
        return Some(b);
    };
    let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    frac.get(n..)
}

/// `time-offset = "Z" / time-numoffset`, as seconds east of UTC; nothing may follow.
fn time_offset(b: &[u8]) -> Option<i64> {
    match *b {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] => {
            let hour = digits(&[h0, h1])?;
            let minute = digits(&[m0, m1])?;
            if hour > 23 || minute > 59 {
                return None;
            }
            let offset = i64::from(hour * 3600 + minute * 60);
            Some(if sign == b'-' { -offset } else { offset })
        }
        _ => None,
    }
}

/// The value of two or four ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar.
///
/// Counts from 0000-03-01 so that the leap day falls at the end of each counted year: a year
/// starting in March has 365 days plus one when the following January belongs to a leap year.
/// The month lengths from March on repeat in the pattern 31 30 31 30 31 / 31 30 31 30 31 / 31
/// 28(29), so the days before a month are `(153 * m + 2) / 5` with March as `m = 0`.
fn days_since_epoch(year: i64, month: u32, day: u32) -> i64 {
    // Years counted from March: January and February belong to the previous one.
    let y = if month <= 2 { year - 1 } else { year };
    let m = i64::from((month + 9) % 12);
    let leap_days = y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400);
    let days_from_0000_03_01 = 365 * y + leap_days + (153 * m + 2) / 5 + i64::from(day) - 1;
    // 0000-03-01 lies 719 468 days before 1970-01-01 (1970 years of 365 days, 478 leap days
    // from 0000 to 1969, less the 60 days of January and February 0000).
    days_from_0000_03_01 - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // Values checked with GNU date: `date -u -d 2016-04-01T00:00:00Z +%s`.
        let cases = [
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59Z", -1),
            ("2016-04-01T00:00:00Z", 1_459_468_800),
            ("2016-04-01T23:59:59Z", 1_459_555_199),
            ("2000-02-29T12:00:00Z", 951_825_600),
            ("2000-03-01T00:00:00Z", 951_868_800),
            ("2100-03-01T00:00:00Z", 4_107_542_400),
            ("0000-01-01T00:00:00Z", -62_167_219_200),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
            ("2038-01-19T03:14:08Z", 2_147_483_648),
        ];
        for (text, unix) in cases {
            assert_eq!(rfc3339_to_unix(text), Some(unix), "{text}");
        }
    }

    #[test]
    fn offsets_fractions_and_spellings() {
        let utc = Some(1_459_468_800);
        for text in [
            "2016-04-01T02:00:00+02:00",
            "2016-03-31T19:30:00-04:30",
            "2016-04-01T00:00:00.999Z",
            "2016-04-01t00:00:00z",
            "2016-04-01 00:00:00Z",
            "2016-04-01T00:00:00-00:00",
            "2016-03-31T23:59:60Z",
        ] {
            assert_eq!(rfc3339_to_unix(text), utc, "{text}");
        }
    }

    #[test]
    fn rejects() {
        for text in [
            "",
            "2016-04-01",
            "2016-04-01T00:00:00",
            "2016-04-01T00:00Z",
            "2016-4-01T00:00:00Z",
            "2016-04-01T00:00:00+0200",
            "2016-04-01T00:00:00+02",
            "2016-04-01T00:00:00.Z",
            "2016-04-01T00:00:00ZZ",
            "2016-04-01T00:00:00Z ",
            " 2016-04-01T00:00:00Z",
            "2016-04-01X00:00:00Z",
            "2016-13-01T00:00:00Z",
            "2016-00-01T00:00:00Z",
            "2016-04-31T00:00:00Z",
            "2016-04-00T00:00:00Z",
            "2015-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2016-04-01T24:00:00Z",
            "2016-04-01T00:60:00Z",
            "2016-04-01T00:00:61Z",
            "2016-04-01T00:00:00+24:00",
            "2016-04-01T00:00:00+00:60",
            "+016-04-01T00:00:00Z",
            "２016-04-01T00:00:00Z",
        ] {
            assert_eq!(rfc3339_to_unix(text), None, "{text:?}");
        }
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // Walk 1600-01-01 .. 2400-12-31 day by day through the calendar rules.
        let mut expected = days_since_epoch(1600, 1, 1);
        for year in 1600..=2400 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(days_since_epoch(year, month, day), expected);
                    expected += 1;
                }
            }
        }
        assert_eq!(days_since_epoch(1970, 1, 1), 0);
    }
}
