//! The SPF record AST ([RFC 7208 §4.5, §5, §6, §12](https://www.rfc-editor.org/rfc/rfc7208#section-12))
//! and its canonical text. The parser (`SpfRecord::parse`) is in the `parser` module.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_types::Domain;

use crate::macros::MacroString;

/// RFC 7208 §4.5: "version = "v=spf1"".
pub const VERSION: &str = "v=spf1";

/// A directive's qualifier ([RFC 7208 §4.6.2](https://www.rfc-editor.org/rfc/rfc7208#section-4.6.2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Qualifier {
    /// `+`, the default: pass.
    #[default]
    Pass,
    /// `-`: fail.
    Fail,
    /// `~`: softfail.
    SoftFail,
    /// `?`: neutral.
    Neutral,
}

impl Qualifier {
    /// The qualifier character.
    pub fn as_char(self) -> char {
        match self {
            Self::Pass => '+',
            Self::Fail => '-',
            Self::SoftFail => '~',
            Self::Neutral => '?',
        }
    }
}

/// CIDR prefix lengths of `a` and `mx` (`dual-cidr-length`, RFC 7208 §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DualCidr {
    /// IPv4 prefix length (0–32); `None` means /32.
    pub v4: Option<u8>,
    /// IPv6 prefix length (0–128); `None` means /128.
    pub v6: Option<u8>,
}

impl DualCidr {
    /// The IPv4 prefix length in effect.
    pub fn v4_len(self) -> u8 {
        self.v4.unwrap_or(32)
    }

    /// The IPv6 prefix length in effect.
    pub fn v6_len(self) -> u8 {
        self.v6.unwrap_or(128)
    }
}

impl fmt::Display for DualCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v4) = self.v4 {
            write!(f, "/{v4}")?;
        }
        if let Some(v6) = self.v6 {
            write!(f, "//{v6}")?;
        }
        Ok(())
    }
}

/// A mechanism ([RFC 7208 §5](https://www.rfc-editor.org/rfc/rfc7208#section-5)).
///
/// Complete by definition for `v=spf1` (unknown mechanisms are a syntax error).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `all`.
    All,
    /// `include:<domain-spec>`.
    Include(MacroString),
    /// `a[:<domain-spec>][<dual-cidr-length>]`.
    A(Option<MacroString>, DualCidr),
    /// `mx[:<domain-spec>][<dual-cidr-length>]`.
    Mx(Option<MacroString>, DualCidr),
    /// `ptr[:<domain-spec>]`.
    Ptr(Option<MacroString>),
    /// `ip4:<network>[/<len>]`.
    Ip4(Ipv4Addr, Option<u8>),
    /// `ip6:<network>[/<len>]`.
    Ip6(Ipv6Addr, Option<u8>),
    /// `exists:<domain-spec>`.
    Exists(MacroString),
}

impl Mechanism {
    /// The mechanism name in lower case.
    pub fn name(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Include(_) => "include",
            Self::A(..) => "a",
            Self::Mx(..) => "mx",
            Self::Ptr(_) => "ptr",
            Self::Ip4(..) => "ip4",
            Self::Ip6(..) => "ip6",
            Self::Exists(_) => "exists",
        }
    }

    /// RFC 7208 §4.6.4: "the "include", "a", "mx", "ptr", and "exists" mechanisms, and the
    /// "redirect" modifier" cause DNS queries and count towards the limit of 10.
    pub fn queries_dns(&self) -> bool {
        !matches!(self, Self::All | Self::Ip4(..) | Self::Ip6(..))
    }

    /// The domain-spec argument, if any.
    pub fn domain_spec(&self) -> Option<&MacroString> {
        match self {
            Self::Include(d) | Self::Exists(d) => Some(d),
            Self::A(d, _) | Self::Mx(d, _) | Self::Ptr(d) => d.as_ref(),
            Self::All | Self::Ip4(..) | Self::Ip6(..) => None,
        }
    }

    /// Whether `ip` lies in this `ip4`/`ip6` network (false for other mechanisms).
    pub fn network_contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Self::Ip4(net, len), IpAddr::V4(ip)) => v4_in(ip, *net, len.unwrap_or(32)),
            (Self::Ip6(net, len), IpAddr::V6(ip)) => v6_in(ip, *net, len.unwrap_or(128)),
            _ => false,
        }
    }
}

/// Whether the first `len` bits of `a` and `b` are equal (`len` above 32 compares all bits).
pub(crate) fn v4_in(a: Ipv4Addr, b: Ipv4Addr, len: u8) -> bool {
    let len = u32::from(len.min(32));
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    u32::from(a) & mask == u32::from(b) & mask
}

/// Whether the first `len` bits of `a` and `b` are equal (`len` above 128 compares all bits).
pub(crate) fn v6_in(a: Ipv6Addr, b: Ipv6Addr, len: u8) -> bool {
    let len = u32::from(len.min(128));
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    u128::from(a) & mask == u128::from(b) & mask
}

fn write_opt_spec(f: &mut fmt::Formatter<'_>, spec: Option<&MacroString>) -> fmt::Result {
    match spec {
        Some(s) => write!(f, ":{s}"),
        None => Ok(()),
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Self::All => Ok(()),
            Self::Include(d) | Self::Exists(d) => write!(f, ":{d}"),
            Self::A(d, c) | Self::Mx(d, c) => {
                write_opt_spec(f, d.as_ref())?;
                write!(f, "{c}")
            }
            Self::Ptr(d) => write_opt_spec(f, d.as_ref()),
            Self::Ip4(ip, len) => {
                write!(f, ":{ip}")?;
                len.map_or(Ok(()), |l| write!(f, "/{l}"))
            }
            Self::Ip6(ip, len) => {
                write!(f, ":{ip}")?;
                len.map_or(Ok(()), |l| write!(f, "/{l}"))
            }
        }
    }
}

/// A qualified mechanism (`directive`, RFC 7208 §4.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Directive {
    /// The qualifier (`+` when omitted).
    pub qualifier: Qualifier,
    /// The mechanism.
    pub mechanism: Mechanism,
}

impl fmt::Display for Directive {
    /// Canonical form: the `+` qualifier is omitted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.qualifier != Qualifier::Pass {
            write!(f, "{}", self.qualifier.as_char())?;
        }
        self.mechanism.fmt(f)
    }
}

/// A modifier ([RFC 7208 §6](https://www.rfc-editor.org/rfc/rfc7208#section-6)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Modifier {
    /// `redirect=<domain-spec>`.
    Redirect(MacroString),
    /// `exp=<domain-spec>`.
    Explanation(MacroString),
    /// Any other `name=macro-string`; ignored during evaluation (RFC 7208 §6).
    Unknown {
        /// The name as written.
        name: String,
        /// The value.
        value: MacroString,
    },
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redirect(d) => write!(f, "redirect={d}"),
            Self::Explanation(d) => write!(f, "exp={d}"),
            Self::Unknown { name, value } => write!(f, "{name}={value}"),
        }
    }
}

/// One term of a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    /// A directive (a qualified mechanism).
    Directive(Directive),
    /// A modifier.
    Modifier(Modifier),
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Directive(d) => d.fmt(f),
            Self::Modifier(m) => m.fmt(f),
        }
    }
}

/// A parsed `v=spf1` record.
///
/// # Examples
///
/// ```
/// use mailward_spf::SpfRecord;
///
/// let r: SpfRecord = "v=spf1  +MX a:colo.example.com/28 -all ".parse()?;
/// assert_eq!(r.to_string(), "v=spf1 mx a:colo.example.com/28 -all");
/// assert!(SpfRecord::parse("v=spf1 ip4:192.0.2.0/33").is_err());
/// # Ok::<(), mailward_spf::ParseError>(())
/// ```
#[derive(Clone, Default)]
pub struct SpfRecord {
    /// The terms in record order.
    pub terms: Vec<Term>,
    /// Only for a record kept by a [`RecordCache`](crate::RecordCache) (empty otherwise): per
    /// term, the `<target-name>` (RFC 7208 §7.3, §4.8) of its `domain-spec` when that has no
    /// macros and names a valid `<domain>` (§4.3), checked once when the record is cached
    /// instead of at every evaluation. Not part of the value: equality, hashing and `Debug`
    /// look at the terms only.
    pub(crate) targets: Vec<Option<Domain>>,
}

/// A selected record as published and its parse, in one allocation shared by an evaluation's
/// frame table, a [`RecordCache`](crate::RecordCache) entry and the outcome's
/// [`MatchedDirective`](crate::MatchedDirective).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Published {
    pub(crate) text: String,
    pub(crate) record: SpfRecord,
}

impl PartialEq for SpfRecord {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms
    }
}

impl Eq for SpfRecord {}

impl std::hash::Hash for SpfRecord {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.terms.hash(state);
    }
}

impl fmt::Debug for SpfRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpfRecord")
            .field("terms", &self.terms)
            .finish()
    }
}

impl From<Vec<Term>> for SpfRecord {
    /// A record of these terms (not checked: [`SpfRecord::parse`] validates records).
    fn from(terms: Vec<Term>) -> Self {
        Self {
            terms,
            targets: Vec::new(),
        }
    }
}

impl SpfRecord {
    /// The directives, in order.
    pub fn directives(&self) -> impl Iterator<Item = &Directive> {
        self.terms.iter().filter_map(|t| match t {
            Term::Directive(d) => Some(d),
            Term::Modifier(_) => None,
        })
    }

    /// The `redirect=` modifier.
    pub fn redirect(&self) -> Option<&MacroString> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Redirect(d)) => Some(d),
            _ => None,
        })
    }

    /// The `exp=` modifier.
    pub fn explanation(&self) -> Option<&MacroString> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Explanation(d)) => Some(d),
            _ => None,
        })
    }

    /// Whether the record has an `all` mechanism (which makes `redirect=` ignored, §5.1).
    pub fn has_all(&self) -> bool {
        self.directives().any(|d| d.mechanism == Mechanism::All)
    }

    /// The target name of term `index` checked when the record was cached.
    pub(crate) fn target(&self, index: usize) -> Option<&Domain> {
        self.targets.get(index)?.as_ref()
    }

    /// The index of the `redirect=` modifier.
    pub(crate) fn redirect_index(&self) -> Option<usize> {
        self.terms
            .iter()
            .position(|t| matches!(t, Term::Modifier(Modifier::Redirect(_))))
    }
}

impl fmt::Display for SpfRecord {
    /// Canonical text: `v=spf1`, then each term after one space, lower-case names, no `+`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(VERSION)?;
        for t in &self.terms {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let a: Ipv4Addr = "192.0.2.129".parse().unwrap();
        assert!(v4_in(a, "192.0.2.128".parse().unwrap(), 30));
        assert!(!v4_in(a, "192.0.2.128".parse().unwrap(), 32));
        assert!(v4_in(a, "10.0.0.0".parse().unwrap(), 0));
        let b: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert!(v6_in(b, "2001:db8::".parse().unwrap(), 64));
        assert!(!v6_in(b, "2001:db9::".parse().unwrap(), 32));
        assert!(v6_in(b, "::".parse().unwrap(), 0));
    }

    #[test]
    fn canonical_display() {
        let r = SpfRecord::parse("V=SPF1 +IP4:192.0.2.1/24 ~A:Foo.com//64 ?Mx/0 EXP=x.%{D}.com")
            .unwrap();
        assert_eq!(
            r.to_string(),
            "v=spf1 ip4:192.0.2.1/24 ~a:Foo.com//64 ?mx/0 exp=x.%{D}.com"
        );
    }
}
