//! TTLs in a master file: seconds, or the BIND unit form.

use super::lex::Token;

/// A TTL: decimal seconds (RFC 1035 §5.1, RFC 2308 §4), or the BIND unit form (`1h30m`,
/// `2d`, `1w`) that nsd and BIND also accept. At most 2^31 - 1 (RFC 2181 §8).
pub(super) fn parse_ttl(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut digits = 0usize;
    for &c in s {
        if c.is_ascii_digit() {
            current = current.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            digits += 1;
            if current > u64::from(u32::MAX) {
                return None;
            }
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return None,
        };
        if digits == 0 {
            return None;
        }
        total = total.checked_add(current.checked_mul(mult)?)?;
        current = 0;
        digits = 0;
    }
    // A trailing number after units counts as seconds (`1h30`), as BIND does.
    if digits > 0 {
        total = total.checked_add(current)?;
    }
    // RFC 2181 §8: TTLs are "unsigned number[s], with a minimum value of 0, and a maximum
    // value of 2147483647".
    u32::try_from(total).ok().filter(|&t| t <= 0x7fff_ffff)
}

pub(super) fn is_ttl_token(tok: &Token<'_>) -> bool {
    !tok.quoted && tok.raw.first().is_some_and(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl(b"3600"), Some(3600));
        assert_eq!(parse_ttl(b"1h30m"), Some(5400));
        assert_eq!(parse_ttl(b"1W"), Some(604_800));
        assert_eq!(parse_ttl(b"2147483647"), Some(2_147_483_647));
        assert_eq!(parse_ttl(b"2147483648"), None);
        assert_eq!(parse_ttl(b"99999999999999999999"), None);
        assert_eq!(parse_ttl(b"1x"), None);
        assert_eq!(parse_ttl(b"h"), None);
    }
}
