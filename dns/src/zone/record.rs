//! The records a [`ZoneResolver`](super::ZoneResolver) holds, and the types it answers.

use std::net::{Ipv4Addr, Ipv6Addr};

use mailward_types::Domain;
use mailward_types::dns::{Mx, Txt};

/// The data of one resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordData {
    /// An IPv4 address (RFC 1035 §3.4.1).
    A(Ipv4Addr),
    /// An IPv6 address (RFC 3596).
    Aaaa(Ipv6Addr),
    /// A mail exchanger (RFC 1035 §3.3.9).
    Mx(Mx),
    /// Character-strings (RFC 1035 §3.3.14).
    Txt(Txt),
    /// The retired SPF type 99 (RFC 7208 §3.1 / §14.1): loaded, never used for TXT answers.
    Spf(Txt),
    /// A pointer, usually in a reverse zone (RFC 1035 §3.3.12).
    Ptr(Domain),
    /// An alias (RFC 1035 §3.3.1).
    Cname(Domain),
    /// A name server (RFC 1035 §3.3.11): stored, not used for answers.
    Ns(Domain),
    /// The start of a zone of authority (RFC 1035 §3.3.13): gives negative answers their TTL.
    Soa(Soa),
    /// A record of a type known by its mnemonic but not decoded by this reader (CAA, SRV, DS,
    /// TLSA, HINFO, RRSIG, …): its data is dropped. It makes its owner exist (queries for the types
    /// answered are NODATA there) and is never answered itself.
    Opaque {
        /// The type number.
        rtype: u16,
    },
    /// Any other type, in the RFC 3597 generic form: stored, not used for answers.
    Unknown {
        /// The type number.
        rtype: u16,
        /// The raw RDATA.
        data: Vec<u8>,
    },
}

impl RecordData {
    /// The record type number (A = 1, TXT = 16, …).
    pub fn rtype(&self) -> u16 {
        match self {
            Self::A(_) => 1,
            Self::Ns(_) => 2,
            Self::Cname(_) => 5,
            Self::Soa(_) => 6,
            Self::Ptr(_) => 12,
            Self::Mx(_) => 15,
            Self::Txt(_) => 16,
            Self::Aaaa(_) => 28,
            Self::Spf(_) => 99,
            Self::Opaque { rtype } | Self::Unknown { rtype, .. } => *rtype,
        }
    }
}

/// The fields of an SOA record (RFC 1035 §3.3.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// The primary name server.
    pub mname: Domain,
    /// The mailbox of the person responsible, as a name.
    pub rname: Domain,
    /// The version number of the zone.
    pub serial: u32,
    /// Seconds between refreshes by secondaries.
    pub refresh: u32,
    /// Seconds before a failed refresh is retried.
    pub retry: u32,
    /// Seconds after which a secondary stops answering.
    pub expire: u32,
    /// The negative-caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

/// One record held at a name of a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRecord {
    /// Seconds the record may be cached.
    pub ttl: u32,
    /// The data.
    pub data: RecordData,
}

/// The old name of [`ZoneRecord`], which reads like `mailward-reports`' `Record` (a record of
/// an aggregate report).
#[deprecated(note = "renamed to `ZoneRecord`")]
pub type Record = ZoneRecord;

/// The record types a [`ZoneResolver`](super::ZoneResolver) answers (those of the
/// [`Resolver`](mailward_types::dns::Resolver) trait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Mail exchangers.
    Mx,
    /// Text records (never SPF type 99).
    Txt,
    /// Pointers.
    Ptr,
}

impl QueryType {
    /// Whether `data` answers a query of this type.
    pub(super) fn matches(self, data: &RecordData) -> bool {
        matches!(
            (self, data),
            (Self::A, RecordData::A(_))
                | (Self::Aaaa, RecordData::Aaaa(_))
                | (Self::Mx, RecordData::Mx(_))
                | (Self::Txt, RecordData::Txt(_))
                | (Self::Ptr, RecordData::Ptr(_))
        )
    }
}
