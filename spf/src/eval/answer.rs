//! DNS answers as the step machine uses them: normalised into records, void or error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Mx, Txt};

use crate::cache::MxHosts;
use crate::dns::{AnswerSummary, DnsAnswer, QueryRef};

/// An MX answer as evaluation uses it: the exchanges by preference (a stable sort: equal
/// preferences keep the answer's order), without the null MX of RFC 7505 (`MX 0 .`), whose root
/// has no address to look up; the answer's size is kept for the limit of RFC 7208 §4.6.4.
fn mx_hosts(mut mxs: Vec<Mx>) -> MxHosts {
    let count = mxs.len();
    mxs.sort_by_key(|m| m.preference);
    MxHosts {
        count,
        hosts: mxs.into_iter().filter_map(|m| m.exchange).collect(),
    }
}

/// The TTL of a positive answer (0 for an error).
pub(super) fn answer_ttl(answer: &DnsAnswer) -> u32 {
    match answer {
        DnsAnswer::Txt(Ok(l)) => l.ttl,
        DnsAnswer::A(Ok(l)) => l.ttl,
        DnsAnswer::Aaaa(Ok(l)) => l.ttl,
        DnsAnswer::Mx(Ok(l)) => l.ttl,
        DnsAnswer::Ptr(Ok(l)) => l.ttl,
        _ => 0,
    }
}

/// Why an answer could not be used: the caller answered a different query type.
#[derive(Debug, thiserror::Error)]
#[error("the answer does not match the query")]
pub(super) struct MismatchedAnswer;

/// The addresses of an A or AAAA answer: as the resolver gave them, or shared with a
/// [`RecordCache`](crate::RecordCache) entry. Only an answer that is kept in the cache is
/// turned into the shared form.
#[derive(Debug)]
pub(super) enum AddrList {
    V4(Vec<Ipv4Addr>),
    V6(Vec<Ipv6Addr>),
    Shared(Arc<[IpAddr]>),
}

impl AddrList {
    pub(super) fn len(&self) -> usize {
        match self {
            Self::V4(v) => v.len(),
            Self::V6(v) => v.len(),
            Self::Shared(v) => v.len(),
        }
    }

    /// Whether `test` holds for any of the addresses.
    pub(super) fn any(&self, mut test: impl FnMut(IpAddr) -> bool) -> bool {
        match self {
            Self::V4(v) => v.iter().any(|a| test(IpAddr::V4(*a))),
            Self::V6(v) => v.iter().any(|a| test(IpAddr::V6(*a))),
            Self::Shared(v) => v.iter().any(|a| test(*a)),
        }
    }

    /// The addresses in the form a cache entry shares.
    pub(super) fn to_shared(&self) -> Arc<[IpAddr]> {
        match self {
            Self::V4(v) => v.iter().map(|a| IpAddr::V4(*a)).collect(),
            Self::V6(v) => v.iter().map(|a| IpAddr::V6(*a)).collect(),
            Self::Shared(v) => Arc::clone(v),
        }
    }
}

/// A DNS answer, normalised: its records, void, or an error.
#[derive(Debug)]
pub(super) enum NormalAnswer {
    /// The records and their TTL.
    Txt(Vec<Txt>, u32),
    Addrs(AddrList),
    Mx(MxHosts),
    Ptr(Vec<Domain>),
    /// NXDOMAIN or NODATA (or an empty record list).
    Void(DnsError),
    /// Timeout, SERVFAIL, anything else.
    Error(DnsError),
}

impl NormalAnswer {
    #[inline]
    pub(super) fn from(query: QueryRef<'_>, answer: DnsAnswer) -> Self {
        fn norm<T>(r: DnsResult<T>, f: impl FnOnce(Vec<T>) -> NormalAnswer) -> NormalAnswer {
            match r {
                Ok(l) if l.records.is_empty() => NormalAnswer::Void(DnsError::NODATA),
                Ok(l) => f(l.records),
                Err(e) if e.is_void() => NormalAnswer::Void(e),
                Err(e) => NormalAnswer::Error(e),
            }
        }
        match (query, answer) {
            (QueryRef::Txt(_), DnsAnswer::Txt(r)) => {
                let ttl = r.as_ref().map_or(0, |l| l.ttl);
                norm(r, |v| Self::Txt(v, ttl))
            }
            (QueryRef::A(_), DnsAnswer::A(r)) => norm(r, |v| Self::Addrs(AddrList::V4(v))),
            (QueryRef::Aaaa(_), DnsAnswer::Aaaa(r)) => norm(r, |v| Self::Addrs(AddrList::V6(v))),
            (QueryRef::Mx(_), DnsAnswer::Mx(r)) => norm(r, |v| Self::Mx(mx_hosts(v))),
            (QueryRef::Ptr(_), DnsAnswer::Ptr(r)) => norm(r, NormalAnswer::Ptr),
            _ => Self::Error(DnsError::other(MismatchedAnswer)),
        }
    }

    pub(super) fn summary(&self) -> AnswerSummary {
        match self {
            Self::Txt(v, _) => AnswerSummary::Records(v.len()),
            Self::Addrs(v) => AnswerSummary::Records(v.len()),
            Self::Mx(v) => AnswerSummary::Records(v.count),
            Self::Ptr(v) => AnswerSummary::Records(v.len()),
            Self::Void(e) | Self::Error(e) => match e {
                DnsError::NxDomain { .. } => AnswerSummary::NxDomain,
                DnsError::NoData { .. } => AnswerSummary::NoData,
                DnsError::Timeout => AnswerSummary::Timeout,
                DnsError::ServFail => AnswerSummary::ServFail,
                _ => AnswerSummary::Error,
            },
        }
    }
}
