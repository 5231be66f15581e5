//! The DNS queries `check_host()` asks ([`DnsQuery`], borrowed as [`QueryRef`]), their answers
//! ([`DnsAnswer`]) and the class of an answer as the trace shows it ([`AnswerSummary`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mailward_types::Domain;
use mailward_types::dns::{DnsResult, Mx, Txt};

/// A DNS query the step machine needs answered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DnsQuery {
    /// TXT records of a name.
    Txt(Domain),
    /// A records of a name.
    A(Domain),
    /// AAAA records of a name.
    Aaaa(Domain),
    /// MX records of a name.
    Mx(Domain),
    /// PTR records of an address.
    Ptr(IpAddr),
}

impl fmt::Display for DnsQuery {
    /// `TXT example.com`, `PTR 192.0.2.1`, …: the borrowed form's text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        QueryRef::from(self).fmt(f)
    }
}

/// The answer to a [`DnsQuery`], of the matching type.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DnsAnswer {
    /// Answer to [`DnsQuery::Txt`].
    Txt(DnsResult<Txt>),
    /// Answer to [`DnsQuery::A`].
    A(DnsResult<Ipv4Addr>),
    /// Answer to [`DnsQuery::Aaaa`].
    Aaaa(DnsResult<Ipv6Addr>),
    /// Answer to [`DnsQuery::Mx`].
    Mx(DnsResult<Mx>),
    /// Answer to [`DnsQuery::Ptr`].
    Ptr(DnsResult<Domain>),
}

/// A DNS query as shown in the trace (a borrowed [`DnsQuery`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryRef<'a> {
    /// TXT records of a name.
    Txt(&'a Domain),
    /// A records of a name.
    A(&'a Domain),
    /// AAAA records of a name.
    Aaaa(&'a Domain),
    /// MX records of a name.
    Mx(&'a Domain),
    /// PTR records of an address.
    Ptr(IpAddr),
}

impl QueryRef<'_> {
    /// The owned query.
    pub fn to_query(self) -> DnsQuery {
        match self {
            Self::Txt(d) => DnsQuery::Txt(d.clone()),
            Self::A(d) => DnsQuery::A(d.clone()),
            Self::Aaaa(d) => DnsQuery::Aaaa(d.clone()),
            Self::Mx(d) => DnsQuery::Mx(d.clone()),
            Self::Ptr(ip) => DnsQuery::Ptr(ip),
        }
    }
}

impl<'a> From<&'a DnsQuery> for QueryRef<'a> {
    fn from(q: &'a DnsQuery) -> Self {
        match q {
            DnsQuery::Txt(d) => Self::Txt(d),
            DnsQuery::A(d) => Self::A(d),
            DnsQuery::Aaaa(d) => Self::Aaaa(d),
            DnsQuery::Mx(d) => Self::Mx(d),
            DnsQuery::Ptr(ip) => Self::Ptr(*ip),
        }
    }
}

impl fmt::Display for QueryRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Txt(d) => write!(f, "TXT {d}"),
            Self::A(d) => write!(f, "A {d}"),
            Self::Aaaa(d) => write!(f, "AAAA {d}"),
            Self::Mx(d) => write!(f, "MX {d}"),
            Self::Ptr(ip) => write!(f, "PTR {ip}"),
        }
    }
}

/// The class of a DNS answer, as recorded in the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerSummary {
    /// This many records.
    Records(usize),
    /// NXDOMAIN.
    NxDomain,
    /// NODATA (or an empty answer).
    NoData,
    /// Timeout.
    Timeout,
    /// SERVFAIL.
    ServFail,
    /// Any other error (including an answer of the wrong type).
    Error,
    /// Not queried: a [`RecordCache`](crate::RecordCache) held the record and its answer's TTL
    /// had not run out.
    Cached,
}

impl fmt::Display for AnswerSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Records(1) => f.write_str("1 record"),
            Self::Records(n) => write!(f, "{n} records"),
            Self::NxDomain => f.write_str("NXDOMAIN"),
            Self::NoData => f.write_str("NODATA"),
            Self::Timeout => f.write_str("TIMEOUT"),
            Self::ServFail => f.write_str("SERVFAIL"),
            Self::Error => f.write_str("ERROR"),
            Self::Cached => f.write_str("cached"),
        }
    }
}
