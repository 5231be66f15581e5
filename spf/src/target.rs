//! The `<domain>` and `<target-name>` checks of RFC 7208 §4.3, §4.8 and §7.3: names taken from
//! the identity or from a `domain-spec`, validated before they are queried.

use mailward_types::Domain;

/// RFC 7208 §7.3: "if the expanded domain name exceeds 253 characters … the left side is
/// truncated to fit".
pub const MAX_TARGET_LEN: usize = 253;

/// RFC 7208 §4.3: the `<domain>` must be a well-formed, multi-label, fully qualified name; a
/// domain literal or a name whose last label is not a `toplabel` (§7.1; e.g. `[192.0.2.1]` or a
/// dotted quad) is not a domain.
pub(crate) fn check_host_domain(name: &str) -> Result<Domain, String> {
    let d = Domain::new(name).map_err(|e| format!("invalid domain {name:?}: {e}"))?;
    check_domain(d)
}

/// The checks of [`check_host_domain`] on an already valid [`Domain`].
pub(crate) fn check_domain(d: Domain) -> Result<Domain, String> {
    // Labels of a `Domain` never contain '.', so the last dot starts the top label.
    let name = d.as_str();
    let Some(dot) = name.bytes().rposition(|b| b == b'.') else {
        return Err(format!("{d} is not a multi-label domain name"));
    };
    let top = name.as_bytes().get(dot + 1..).unwrap_or_default();
    // One pass: only letters, digits and hyphens; then either a hyphen inside (not first or
    // last) or at least one letter.
    let (mut alpha, mut hyphen, mut other) = (false, false, false);
    for b in top {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => alpha = true,
            b'-' => hyphen = true,
            b'0'..=b'9' => {}
            _ => other = true,
        }
    }
    let toplabel_ok = !top.is_empty()
        && !other
        && if hyphen {
            top.first() != Some(&b'-') && top.last() != Some(&b'-')
        } else {
            alpha
        };
    if !toplabel_ok {
        return Err(format!("{d} does not end in a valid top-level label"));
    }
    Ok(d)
}

/// RFC 7208 §7.3 / §4.8: the `<target-name>` from an expanded domain-spec. One trailing dot is
/// accepted; names over 253 octets lose labels on the left.
pub(crate) fn target_name(expanded: &str) -> Result<Domain, String> {
    let mut name = expanded.strip_suffix('.').unwrap_or(expanded);
    // RFC 7208 §7.3: "the left side is truncated to fit, by removing successive domain labels
    // (and their following dots) until the total length does not exceed 253 characters".
    while name.len() > MAX_TARGET_LEN {
        match name.split_once('.') {
            Some((_, rest)) => name = rest,
            None => return Err(format!("{expanded:?} is too long")),
        }
    }
    Domain::new(name).map_err(|e| format!("invalid target name {expanded:?}: {e}"))
}

/// The `<target-name>` (§7.3) of a macro-free `domain-spec` of a parsed record, checked as a
/// §4.3 `<domain>` like [`target_name`] + [`check_domain`]. The parser's `domain-end` rule (§7.1)
/// already ends such a spec in `"." toplabel`, so unless labels must be cut off on the left (over
/// 253 octets) the name needs only [`Domain`]'s own checks. Records are only ever evaluated
/// after [`SpfRecord::parse`](crate::SpfRecord::parse) (from DNS text), never as built by a
/// caller, so the rule holds.
pub(crate) fn literal_target(lit: &str) -> Result<Domain, String> {
    let name = lit.strip_suffix('.').unwrap_or(lit);
    if name.len() <= MAX_TARGET_LEN {
        Domain::new(name).map_err(|e| format!("invalid target name {lit:?}: {e}"))
    } else {
        target_name(lit).and_then(check_domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SpfRecord;

    #[test]
    fn initial_processing_domains() {
        assert!(check_host_domain("example.com").is_ok());
        assert!(check_host_domain("example.com.").is_ok());
        assert!(check_host_domain("A2345678").is_err());
        assert!(check_host_domain("[192.0.2.1]").is_err());
        assert!(check_host_domain("192.0.2.1").is_err());
        assert!(check_host_domain("a..example.com").is_err());
        assert!(check_host_domain(&format!("{}.example.com", "a".repeat(64))).is_err());
        assert!(check_host_domain(&format!("{}.example.com", "a".repeat(63))).is_ok());
    }

    #[test]
    fn target_truncation() {
        // RFC 7208 §7.3: labels are removed from the left until the name fits in 253.
        let long = format!(
            "{}.{}.{}.{}.example.com",
            "a".repeat(60),
            "b".repeat(60),
            "c".repeat(60),
            "d".repeat(60)
        );
        assert!(long.len() > 253);
        let t = target_name(&long).unwrap();
        assert!(t.as_str().len() <= 253);
        assert_eq!(t.as_str(), &long[61..]);
        assert!(target_name("x.example.com.").is_ok());
        assert!(target_name("x..example.com").is_err());
    }

    #[test]
    fn literal_targets_are_checked_domains() {
        // What `literal_target` skips must agree with target_name + check_domain for every
        // literal the parser accepts; the difference shows only after truncation: a 250-octet
        // label (never validated: truncation removes it) leaves the single label "com", a valid
        // target name but not a multi-label <domain> (§4.3).
        let cut = format!("{}.com", "a".repeat(250));
        assert_eq!(target_name(&cut).unwrap().as_str(), "com");
        assert!(literal_target(&cut).is_err());
        for lit in [
            "_spf.Example.COM.",
            "x.example.com",
            "a-b.c-d",
            &format!("{}.example.com", "a".repeat(63)),
            &format!("{}.example.com", "a".repeat(64)),
            &format!(
                "{}.{}.{}.{}.example.com",
                "a".repeat(60),
                "b".repeat(60),
                "c".repeat(60),
                "d".repeat(60)
            ),
        ] {
            assert!(
                SpfRecord::parse(&format!("v=spf1 include:{lit}")).is_ok(),
                "{lit}"
            );
            let slow = target_name(lit).and_then(check_domain);
            assert_eq!(literal_target(lit), slow, "{lit}");
        }
    }
}
