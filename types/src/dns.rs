//! The DNS seam: the one piece of I/O the protocols need.
//!
//! Protocol crates ask a [`Resolver`] for TXT, A, AAAA, MX and PTR records and get either the
//! records or a [`DnsError`]. Negative answers are kept apart because the RFCs treat them
//! differently: SPF counts NXDOMAIN and NODATA as "void lookups" (RFC 7208 §4.6.4) but turns a
//! timeout or server failure into `temperror` (§4.4); DMARC applies `np` only to names that do not
//! exist (RFC 9989 §4.7).
//!
//! The trait is runtime-agnostic (no tokio): implementations live in `mailward-dns` or in the
//! caller's code.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::Domain;

mod dyn_resolver;

pub use dyn_resolver::DynResolver;

/// A successful answer: the records and the time they may be cached for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup<T> {
    /// The records of the answer, in the order the resolver returned them. Never empty when it
    /// comes from a well-behaved resolver (an empty answer is [`DnsError::NoData`]); callers still
    /// treat an empty list as NODATA.
    pub records: Vec<T>,
    /// Seconds the answer may be cached (the smallest TTL of the answer's records).
    pub ttl: u32,
}

impl<T> Lookup<T> {
    /// An answer with the given records and TTL.
    pub fn new(records: Vec<T>, ttl: u32) -> Self {
        Self { records, ttl }
    }

    /// The records, consuming the answer.
    pub fn into_records(self) -> Vec<T> {
        self.records
    }
}

impl<T> std::ops::Deref for Lookup<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.records
    }
}

impl<T> IntoIterator for Lookup<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.records.into_iter()
    }
}

/// One TXT record: its character-strings, each up to 255 octets of any value (RFC 1035 §3.3.14).
///
/// Protocols that store a record across several strings (SPF, DKIM keys, DMARC) join them with
/// [`Txt::concat`] (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Txt {
    /// The character-strings, in order.
    pub strings: Vec<Vec<u8>>,
}

impl Txt {
    /// A TXT record made of the given character-strings.
    pub fn new(strings: Vec<Vec<u8>>) -> Self {
        Self { strings }
    }

    /// The character-strings joined without separator.
    pub fn concat(&self) -> Vec<u8> {
        self.strings.concat()
    }

    /// Total length of the joined strings.
    pub fn len(&self) -> usize {
        self.strings.iter().map(Vec::len).sum()
    }

    /// Whether the record holds no octets at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<&str> for Txt {
    fn from(s: &str) -> Self {
        Self::new(vec![s.as_bytes().to_vec()])
    }
}

impl fmt::Debug for Txt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.strings.iter().map(|s| String::from_utf8_lossy(s)))
            .finish()
    }
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mx {
    /// Lower values are preferred.
    pub preference: u16,
    /// The mail exchanger's host name, or `None` for the null MX of
    /// [RFC 7505](https://www.rfc-editor.org/rfc/rfc7505) (`MX 0 .`: "this domain accepts no
    /// mail"), whose exchange is the root, which no [`Domain`] names.
    pub exchange: Option<Domain>,
}

impl Mx {
    /// An MX record pointing at `exchange`.
    pub fn new(preference: u16, exchange: Domain) -> Self {
        Self {
            preference,
            exchange: Some(exchange),
        }
    }

    /// The RFC 7505 null MX (`MX 0 .`) with the given preference.
    pub fn null(preference: u16) -> Self {
        Self {
            preference,
            exchange: None,
        }
    }

    /// Whether this is an RFC 7505 null MX.
    pub fn is_null(&self) -> bool {
        self.exchange.is_none()
    }
}

/// Why a lookup returned no records.
///
/// NXDOMAIN and NODATA are answers (authoritative "nothing here"); [`Timeout`](Self::Timeout),
/// [`ServFail`](Self::ServFail) and [`Other`](Self::Other) are failures to get an answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DnsError {
    /// The name does not exist (RCODE 3, NXDOMAIN).
    NxDomain {
        /// Seconds the negative answer may be cached (RFC 2308 §5, from the SOA), if known.
        negative_ttl: Option<u32>,
    },
    /// The name exists but has no records of the asked type (NOERROR with an empty answer).
    NoData {
        /// Seconds the negative answer may be cached (RFC 2308 §5, from the SOA), if known.
        negative_ttl: Option<u32>,
    },
    /// No answer arrived in time.
    Timeout,
    /// The server answered SERVFAIL (RCODE 2).
    ServFail,
    /// Any other failure (REFUSED, malformed answer, transport error…); treated as temporary.
    ///
    /// Displays as the wrapped error and returns that error's [`source`](StdError::source), as
    /// [`std::io::Error`] does for a custom error, so a chain of sources prints each cause once.
    Other(Arc<dyn StdError + Send + Sync>),
}

impl DnsError {
    /// NXDOMAIN with no negative-caching TTL.
    pub const NXDOMAIN: Self = Self::NxDomain { negative_ttl: None };
    /// NODATA with no negative-caching TTL.
    pub const NODATA: Self = Self::NoData { negative_ttl: None };

    /// Wraps any other error.
    pub fn other(e: impl StdError + Send + Sync + 'static) -> Self {
        Self::Other(Arc::new(e))
    }

    /// NXDOMAIN or NODATA: an authoritative answer that there is nothing (an RFC 7208 §4.6.4
    /// "void lookup").
    pub fn is_void(&self) -> bool {
        matches!(self, Self::NxDomain { .. } | Self::NoData { .. })
    }

    /// NXDOMAIN only.
    pub fn is_nxdomain(&self) -> bool {
        matches!(self, Self::NxDomain { .. })
    }

    /// A failure to get an answer (timeout, server failure, anything else): the RFCs' `temperror`.
    pub fn is_temporary(&self) -> bool {
        !self.is_void()
    }

    /// The answer class as a short upper-case word: `NXDOMAIN`, `NODATA`, `TIMEOUT`, `SERVFAIL`,
    /// `ERROR`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NxDomain { .. } => "NXDOMAIN",
            Self::NoData { .. } => "NODATA",
            Self::Timeout => "TIMEOUT",
            Self::ServFail => "SERVFAIL",
            Self::Other(_) => "ERROR",
        }
    }
}

impl PartialEq for DnsError {
    /// Compares the answer class (and the source message for `Other`); TTLs are ignored.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Other(a), Self::Other(b)) => a.to_string() == b.to_string(),
            _ => self.as_str() == other.as_str(),
        }
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NxDomain { .. } => f.write_str("name does not exist (NXDOMAIN)"),
            Self::NoData { .. } => f.write_str("no records of the requested type (NODATA)"),
            Self::Timeout => f.write_str("DNS query timed out"),
            Self::ServFail => f.write_str("DNS server failure (SERVFAIL)"),
            // Transparent: the wrapped error is the message, its source the source.
            Self::Other(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl StdError for DnsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Other(e) => e.source(),
            _ => None,
        }
    }
}

/// The result of one lookup.
pub type DnsResult<T> = Result<Lookup<T>, DnsError>;

/// Asynchronous DNS lookups for the record types the protocols use.
///
/// Implementations map "no such name" to [`DnsError::NxDomain`], "no records of this type" to
/// [`DnsError::NoData`], and must not return an empty [`Lookup`]. CNAMEs are followed by the
/// implementation. Timeouts are the implementation's job: protocol crates never sleep.
///
/// The methods return `impl Future`, so there is no `dyn Resolver`: for a resolver chosen at run
/// time, box it as a [`DynResolver`] (`Box<dyn DynResolver>` is a `Resolver`).
///
/// # Examples
///
/// A resolver for tests that knows one TXT record:
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};
/// use mailward_types::Domain;
///
/// struct One;
///
/// impl Resolver for One {
///     async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
///         if name.as_str() == "example.com" {
///             Ok(Lookup::new(vec![Txt::from("v=spf1 -all")], 300))
///         } else {
///             Err(DnsError::NXDOMAIN)
///         }
///     }
///     async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::NXDOMAIN) }
///     async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::NXDOMAIN) }
///     async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::NXDOMAIN) }
///     async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::NXDOMAIN) }
/// }
/// ```
pub trait Resolver: Send + Sync {
    /// TXT records at `name`.
    fn txt(&self, name: &Domain) -> impl Future<Output = DnsResult<Txt>> + Send;
    /// A records at `name`.
    fn a(&self, name: &Domain) -> impl Future<Output = DnsResult<Ipv4Addr>> + Send;
    /// AAAA records at `name`.
    fn aaaa(&self, name: &Domain) -> impl Future<Output = DnsResult<Ipv6Addr>> + Send;
    /// MX records at `name`.
    fn mx(&self, name: &Domain) -> impl Future<Output = DnsResult<Mx>> + Send;
    /// PTR records of `ip` (at its `in-addr.arpa` / `ip6.arpa` name).
    fn ptr(&self, ip: IpAddr) -> impl Future<Output = DnsResult<Domain>> + Send;
}

/// A pointer to a resolver is a resolver: each method asks the resolver pointed to.
macro_rules! resolver_through_pointer {
    ($($pointer:ty),+) => {$(
        impl<R: Resolver + ?Sized> Resolver for $pointer {
            fn txt(&self, name: &Domain) -> impl Future<Output = DnsResult<Txt>> + Send {
                (**self).txt(name)
            }
            fn a(&self, name: &Domain) -> impl Future<Output = DnsResult<Ipv4Addr>> + Send {
                (**self).a(name)
            }
            fn aaaa(&self, name: &Domain) -> impl Future<Output = DnsResult<Ipv6Addr>> + Send {
                (**self).aaaa(name)
            }
            fn mx(&self, name: &Domain) -> impl Future<Output = DnsResult<Mx>> + Send {
                (**self).mx(name)
            }
            fn ptr(&self, ip: IpAddr) -> impl Future<Output = DnsResult<Domain>> + Send {
                (**self).ptr(ip)
            }
        }
    )+};
}

resolver_through_pointer!(&R, Box<R>, Arc<R>);

/// The reverse-lookup name of an address: `4.3.2.1.in-addr.arpa` for `1.2.3.4`, the nibble
/// form under `ip6.arpa` for IPv6 (RFC 3596 §2.5).
pub fn reverse_name(ip: IpAddr) -> Domain {
    let text = match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                s.push(nibble(byte & 0x0f));
                s.push('.');
                s.push(nibble(byte >> 4));
                s.push('.');
            }
            s.push_str("ip6.arpa");
            s
        }
    };
    // Only digits, hex letters and dots in labels of one to three octets: always a valid name.
    Domain::from_valid_ascii(text)
}

fn nibble(n: u8) -> char {
    char::from_digit(u32::from(n), 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names_follow_rfc_3596() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()).as_str(),
            "1.2.0.192.in-addr.arpa"
        );
        // RFC 3596 §2.5 example: 4321:0:1:2:3:4:567:89ab
        assert_eq!(
            reverse_name("4321:0:1:2:3:4:567:89ab".parse().unwrap()).as_str(),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"
        );
    }

    #[test]
    fn error_classes() {
        assert!(DnsError::NXDOMAIN.is_void());
        assert!(DnsError::NODATA.is_void());
        assert!(!DnsError::NODATA.is_nxdomain());
        assert!(DnsError::Timeout.is_temporary());
        assert!(DnsError::ServFail.is_temporary());
        assert!(DnsError::other(std::io::Error::other("refused")).is_temporary());
        assert_eq!(
            DnsError::NxDomain {
                negative_ttl: Some(5)
            },
            DnsError::NXDOMAIN
        );
        assert_ne!(DnsError::NXDOMAIN, DnsError::NODATA);
    }

    #[test]
    fn other_errors_are_transparent() {
        // Display is the wrapped error's; source is its source: a chain prints each once.
        let inner = std::io::Error::other("connection refused");
        let e = DnsError::other(inner);
        assert_eq!(e.to_string(), "connection refused");
        assert!(e.source().is_none());
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("query failed")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let e = DnsError::other(Outer(std::io::Error::other("refused")));
        assert_eq!(e.to_string(), "query failed");
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("refused")
        );
    }

    #[test]
    fn txt_concat_keeps_every_octet() {
        let t = Txt::new(vec![b"v=spf1 ".to_vec(), vec![0, 0xff, b'\n']]);
        assert_eq!(t.concat(), b"v=spf1 \0\xff\n");
        assert_eq!(t.len(), 10);
    }
}
