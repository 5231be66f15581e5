//! Organizational Domains from the Public Suffix List, as RFC 7489 §3.2 defined them: the
//! public suffix of the name plus one label. Used by
//! [`DiscoveryMode::PublicSuffixList`](crate::evaluate::DiscoveryMode::PublicSuffixList).

use mailward_types::Domain;

/// The RFC 7489 Organizational Domain of `domain`: its registrable domain by the Public Suffix
/// List compiled into the `psl` crate. A name that is itself a public suffix (or has no
/// registrable part) is its own Organizational Domain.
///
/// # Examples
///
/// ```
/// use mailward_dmarc::psl_mode::organizational_domain;
/// use mailward_types::Domain;
///
/// let d = Domain::new("a.b.example.co.uk").unwrap();
/// assert_eq!(organizational_domain(&d).as_str(), "example.co.uk");
/// ```
pub fn organizational_domain(domain: &Domain) -> Domain {
    psl::domain(domain.as_str().as_bytes())
        .and_then(|d| std::str::from_utf8(d.as_bytes()).ok().map(str::to_owned))
        .and_then(|s| Domain::new(&s).ok())
        .unwrap_or_else(|| domain.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(s: &str) -> String {
        organizational_domain(&Domain::new(s).unwrap()).to_string()
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(org("mail.example.com"), "example.com");
        assert_eq!(org("example.com"), "example.com");
        assert_eq!(org("com"), "com");
        assert_eq!(org("x.y.example.org.uk"), "example.org.uk");
    }
}
