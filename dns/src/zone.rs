//! [`ZoneResolver`]: answers from RFC 1035 master files held in memory, with fault injection.
//!
//! The reader follows [RFC 1035 §5](https://www.rfc-editor.org/rfc/rfc1035#section-5):
//! `$ORIGIN`, `$TTL` ([RFC 2308 §4](https://www.rfc-editor.org/rfc/rfc2308#section-4)), relative
//! and absolute names, `@`, a blank owner meaning "the previous owner", the class `IN` and the
//! TTL optional and in either order, `\DDD` and `\X` escapes, quoted and unquoted
//! character-strings, `;` comments and `( … )` spanning lines. Record types: A, AAAA, MX, TXT,
//! SPF (type 99: loaded, never answered for TXT), PTR, CNAME, NS and SOA, plus any type in the
//! generic form `TYPEnnn \# len hex` of [RFC 3597 §5](https://www.rfc-editor.org/rfc/rfc3597#section-5).
//! The other data types of the IANA registry (CAA, SRV, DS, TLSA, HINFO, RRSIG, DNSKEY, NAPTR,
//! SSHFP, HTTPS, SVCB, URI, LOC, …) are accepted by mnemonic and loaded as
//! [`RecordData::Opaque`]: their data is not decoded, they are never answered, but their owners
//! exist. DNAME redirection is not performed and NS records below an SOA do not delegate: names
//! there are answered from the records held. The null MX `MX 0 .` of RFC 7505 is answered as
//! an [`Mx`] without exchange.
//! `$INCLUDE` is rejected: load several files instead ([`ZoneResolver::from_files`]).
//!
//! Answers follow [RFC 1034 §4.3.2](https://www.rfc-editor.org/rfc/rfc1034#section-4.3.2) for
//! the data held: CNAMEs are chased (loops and chains longer than [`MAX_CNAME_CHAIN`] give
//! SERVFAIL), a name that is absent is NXDOMAIN, a name that exists without the asked type is
//! NODATA, and a name that exists only because names below it exist (an "empty non-terminal") is
//! NODATA too ([RFC 8020](https://www.rfc-editor.org/rfc/rfc8020)). Wildcard owners `*.name`
//! synthesise answers for names that do not exist below `name`
//! ([RFC 4592 §3.3.1](https://www.rfc-editor.org/rfc/rfc4592#section-3.3.1)). Negative answers
//! carry the negative TTL of the closest enclosing SOA, the smaller of its TTL and its MINIMUM
//! ([RFC 2308 §5](https://www.rfc-editor.org/rfc/rfc2308#section-5)).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Bound;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt, reverse_name};

mod error;
mod limits;
mod parse;
mod record;

pub use self::error::{ZoneError, ZoneErrorKind};
pub use self::limits::{
    MAX_CHARACTER_STRING, MAX_CNAME_CHAIN, MAX_RDATA_LEN, MAX_RECORDS, MAX_TOKENS_PER_ENTRY,
    MAX_ZONE_FILE_SIZE,
};
#[allow(deprecated)]
pub use self::record::Record;
pub use self::record::{QueryType, RecordData, Soa, ZoneRecord};

/// The injected fault at a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Timeout,
    ServFail,
}

/// A [`Resolver`] over records held in memory, loaded from RFC 1035 master files or added one
/// by one, with fault injection: a name can be marked so that queries for the types it has no
/// records of time out ([`ZoneResolver::mark_timeout`]) or fail with SERVFAIL
/// ([`ZoneResolver::mark_servfail`]), whether or not the name exists.
///
/// # Examples
///
/// ```
/// use mailward_dns::ZoneResolver;
/// use mailward_types::dns::{DnsError, Resolver};
/// use mailward_types::Domain;
///
/// let zone = ZoneResolver::parse(
///     r#"
/// $TTL 300
/// @        TXT  "v=spf1 " "ip4:192.0.2.0/24 -all"
///          MX   10 mail
/// mail     A    192.0.2.25
/// "#,
///     "example.com",
/// )?
/// .with_timeout("slow.example.com".parse()?);
///
/// # pollster::block_on(async {
/// let txt = zone.txt(&"example.com".parse()?).await?;
/// assert_eq!(txt[0].concat(), b"v=spf1 ip4:192.0.2.0/24 -all");
/// assert_eq!(txt.ttl, 300);
/// let nodata = zone.a(&"example.com".parse()?).await;
/// assert_eq!(nodata, Err(DnsError::NODATA));
/// assert_eq!(zone.a(&"nope.example.com".parse()?).await, Err(DnsError::NXDOMAIN));
/// assert_eq!(zone.txt(&"slow.example.com".parse()?).await, Err(DnsError::Timeout));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ZoneResolver {
    /// The owners, by [`node_key`]: the names at or below a name are one range of keys, so an
    /// empty non-terminal (RFC 8020) is found with one range query and no name is held but the
    /// owners.
    nodes: BTreeMap<String, Node>,
    faults: BTreeMap<Domain, Fault>,
    record_count: usize,
}

/// The source name used in errors for text given directly.
const STRING_SOURCE: &str = "<string>";

impl ZoneResolver {
    /// An empty resolver: every name is NXDOMAIN.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads master-file text; relative names are completed with `origin` until a `$ORIGIN`
    /// (pass `""` for no origin: then every name must be absolute or follow a `$ORIGIN`).
    ///
    /// # Errors
    ///
    /// A [`ZoneError`] with the line and what is wrong.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ZoneError> {
        let origin = if origin.is_empty() || origin == "." {
            None
        } else {
            Some(Domain::new(origin).map_err(|_| ZoneError {
                file: STRING_SOURCE.into(),
                line: 0,
                kind: ZoneErrorKind::InvalidName {
                    name: origin.into(),
                    reason: "invalid origin",
                },
            })?)
        };
        let mut zone = Self::new();
        zone.load_bytes(text.as_bytes(), origin.as_ref(), STRING_SOURCE)?;
        Ok(zone)
    }

    /// Reads one master file (no origin until its first `$ORIGIN`).
    ///
    /// # Errors
    ///
    /// A [`ZoneError`] naming the file, with the line and what is wrong.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ZoneError> {
        let mut zone = Self::new();
        zone.load_file(path)?;
        Ok(zone)
    }

    /// Reads several master files into one resolver.
    ///
    /// # Errors
    ///
    /// The first file's [`ZoneError`].
    pub fn from_files<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
    ) -> Result<Self, ZoneError> {
        let mut zone = Self::new();
        for path in paths {
            zone.load_file(path)?;
        }
        Ok(zone)
    }

    /// Adds the records of one master file; returns how many were read. On error the records
    /// read before the failing entry stay loaded.
    ///
    /// # Errors
    ///
    /// A [`ZoneError`] naming the file, with the line and what is wrong.
    pub fn load_file(&mut self, path: impl AsRef<Path>) -> Result<usize, ZoneError> {
        let path = path.as_ref();
        let file_name = path.display().to_string();
        let io_err = |e: std::io::Error| ZoneError {
            file: file_name.clone(),
            line: 0,
            kind: ZoneErrorKind::Io(Arc::new(e)),
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        let mut bytes = Vec::new();
        // Read one octet past the limit to tell "at the limit" from "over it".
        let cap = u64::try_from(MAX_ZONE_FILE_SIZE)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        file.take(cap).read_to_end(&mut bytes).map_err(io_err)?;
        self.load_bytes(&bytes, None, &file_name)
    }

    /// Adds the records of master-file text given as bytes (it need not be UTF-8); `source`
    /// names it in errors. Returns how many records were read. On error the records read
    /// before the failing entry stay loaded.
    ///
    /// # Errors
    ///
    /// A [`ZoneError`] with the line and what is wrong.
    pub fn load_bytes(
        &mut self,
        input: &[u8],
        origin: Option<&Domain>,
        source: &str,
    ) -> Result<usize, ZoneError> {
        let err = |line, kind| ZoneError {
            file: source.into(),
            line,
            kind,
        };
        if input.len() > MAX_ZONE_FILE_SIZE {
            return Err(err(
                0,
                ZoneErrorKind::FileTooLarge {
                    limit: MAX_ZONE_FILE_SIZE,
                },
            ));
        }
        let mut reader = parse::Reader::new(input, origin.cloned());
        let mut count = 0;
        while let Some(rec) = reader
            .next_record()
            .map_err(|(line, kind)| err(line, kind))?
        {
            self.insert(rec.owner, rec.ttl, rec.data)
                .map_err(|kind| err(rec.line, kind))?;
            count += 1;
        }
        Ok(count)
    }

    /// Adds one record. A record identical to one already held at the name is ignored (an
    /// RRset is a set).
    ///
    /// # Errors
    ///
    /// [`ZoneErrorKind::CnameAndOtherData`] when a CNAME would sit next to other data,
    /// [`ZoneErrorKind::TooManyRecords`] past [`MAX_RECORDS`].
    pub fn insert(
        &mut self,
        name: Domain,
        ttl: u32,
        data: RecordData,
    ) -> Result<(), ZoneErrorKind> {
        let key = node_key(&name);
        let existing = self
            .nodes
            .get(key.as_str())
            .map(|n| n.records.as_slice())
            .unwrap_or_default();
        if existing.iter().any(|r| r.data == data) {
            return Ok(());
        }
        let is_cname = matches!(data, RecordData::Cname(_));
        // RFC 2181 §10.1: "If a CNAME RR is present at a node, no other data should be present;
        // this ensures that the data for a canonical name and its aliases cannot be different.
        // This rule also applies to [...] DNSSEC records", which RFC 4035 §2.5 lists as RRSIG and
        // NSEC (SIG, NXT and KEY before them, RFC 2535 §2.3.5).
        let conflict = !is_dnssec(&data)
            && existing.iter().any(|r| {
                !is_dnssec(&r.data) && (is_cname || matches!(r.data, RecordData::Cname(_)))
            });
        if conflict {
            return Err(ZoneErrorKind::CnameAndOtherData { name });
        }
        if self.record_count >= MAX_RECORDS {
            return Err(ZoneErrorKind::TooManyRecords { limit: MAX_RECORDS });
        }
        self.nodes
            .entry(key)
            .or_insert_with(|| Node {
                name,
                records: Vec::new(),
            })
            .records
            .push(ZoneRecord { ttl, data });
        self.record_count += 1;
        Ok(())
    }

    /// Marks `name`: queries at it for types it has no records of time out
    /// ([`DnsError::Timeout`]) instead of NXDOMAIN / NODATA. The name need not exist.
    pub fn mark_timeout(&mut self, name: Domain) {
        self.faults.insert(name, Fault::Timeout);
    }

    /// Marks `name`: queries at it for types it has no records of fail with
    /// [`DnsError::ServFail`]. The name need not exist.
    pub fn mark_servfail(&mut self, name: Domain) {
        self.faults.insert(name, Fault::ServFail);
    }

    /// [`mark_timeout`](Self::mark_timeout), builder style.
    #[must_use]
    pub fn with_timeout(mut self, name: Domain) -> Self {
        self.mark_timeout(name);
        self
    }

    /// [`mark_servfail`](Self::mark_servfail), builder style.
    #[must_use]
    pub fn with_servfail(mut self, name: Domain) -> Self {
        self.mark_servfail(name);
        self
    }

    /// The owner names holding records, ordered label by label from the root: a name comes
    /// right before the names below it (`example.com`, `a.example.com`, `b.a.example.com`,
    /// `b.example.com`).
    pub fn names(&self) -> impl Iterator<Item = &Domain> {
        self.nodes.values().map(|n| &n.name)
    }

    /// The records held at exactly `name` (no CNAME or wildcard processing).
    pub fn records(&self, name: &Domain) -> &[ZoneRecord] {
        self.nodes
            .get(node_key(name).as_str())
            .map(|n| n.records.as_slice())
            .unwrap_or_default()
    }

    /// Number of records held.
    pub fn len(&self) -> usize {
        self.record_count
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.record_count == 0
    }

    /// Answers a query synchronously, the way the [`Resolver`] methods do: the matching records
    /// (after CNAMEs and wildcards) with the smallest TTL met on the way.
    ///
    /// # Errors
    ///
    /// NXDOMAIN, NODATA (with the SOA negative TTL when a SOA encloses the name), SERVFAIL for
    /// CNAME loops and chains longer than [`MAX_CNAME_CHAIN`], or the injected fault.
    pub fn lookup(&self, name: &Domain, qtype: QueryType) -> DnsResult<RecordData> {
        let mut current = name.clone();
        let mut seen: Vec<Domain> = Vec::new();
        let mut ttl = u32::MAX;
        loop {
            let fault = self.faults.get(&current).map(|f| match f {
                Fault::Timeout => DnsError::Timeout,
                Fault::ServFail => DnsError::ServFail,
            });
            let records = match self.find(&current) {
                Found::Records(r) => r,
                Found::EmptyNonTerminal => {
                    return Err(fault.unwrap_or(DnsError::NoData {
                        negative_ttl: self.negative_ttl(&current),
                    }));
                }
                Found::Nothing => {
                    return Err(fault.unwrap_or(DnsError::NxDomain {
                        negative_ttl: self.negative_ttl(&current),
                    }));
                }
            };
            let answers: Vec<RecordData> = records
                .iter()
                .filter(|r| qtype.matches(&r.data))
                .map(|r| {
                    ttl = ttl.min(r.ttl);
                    r.data.clone()
                })
                .collect();
            if !answers.is_empty() {
                return Ok(Lookup::new(answers, ttl));
            }
            let cname = records.iter().find_map(|r| match &r.data {
                RecordData::Cname(target) => Some((target, r.ttl)),
                _ => None,
            });
            let Some((target, cname_ttl)) = cname else {
                return Err(fault.unwrap_or(DnsError::NoData {
                    negative_ttl: self.negative_ttl(&current),
                }));
            };
            ttl = ttl.min(cname_ttl);
            seen.push(current);
            if seen.contains(target) || seen.len() > MAX_CNAME_CHAIN {
                return Err(DnsError::ServFail);
            }
            current = target.clone();
        }
    }

    /// The node at `name`, or the wildcard that covers it (RFC 4592 §3.3.1).
    fn find(&self, name: &Domain) -> Found<'_> {
        let key = node_key(name);
        if let Some(node) = self.nodes.get(key.as_str()) {
            return Found::Records(&node.records);
        }
        if self.exists(&key) {
            return Found::EmptyNonTerminal;
        }
        // The closest encloser is the nearest ancestor that exists; only `*.<closest encloser>`
        // may synthesise an answer.
        let mut parent = parent_key(&key);
        while let Some(p) = parent {
            if self.exists(p) {
                let wildcard = format!("{p}*.");
                return match self.nodes.get(wildcard.as_str()) {
                    Some(node) => Found::Records(&node.records),
                    None => Found::Nothing,
                };
            }
            parent = parent_key(p);
        }
        Found::Nothing
    }

    /// Whether the name with this key exists: it holds records or a name below it does (RFC
    /// 8020). The keys starting with `key` sort together right from `key` on, so the first
    /// key at or after it tells.
    fn exists(&self, key: &str) -> bool {
        self.nodes
            .range::<str, _>((Bound::Included(key), Bound::Unbounded))
            .next()
            .is_some_and(|(k, _)| k.starts_with(key))
    }

    /// RFC 2308 §5: the negative TTL is "the minimum of the MINIMUM field of the SOA record and
    /// the TTL of the SOA itself", from the closest enclosing SOA.
    fn negative_ttl(&self, name: &Domain) -> Option<u32> {
        let key = node_key(name);
        let mut current = Some(key.as_str());
        while let Some(k) = current {
            if let Some(node) = self.nodes.get(k) {
                for r in &node.records {
                    if let RecordData::Soa(soa) = &r.data {
                        return Some(r.ttl.min(soa.minimum));
                    }
                }
            }
            current = parent_key(k);
        }
        None
    }

    fn typed<T>(
        &self,
        name: &Domain,
        qtype: QueryType,
        pick: impl Fn(RecordData) -> Option<T>,
    ) -> DnsResult<T> {
        let lookup = self.lookup(name, qtype)?;
        let ttl = lookup.ttl;
        let records: Vec<T> = lookup.into_iter().filter_map(pick).collect();
        if records.is_empty() {
            return Err(DnsError::NODATA);
        }
        Ok(Lookup::new(records, ttl))
    }
}

/// The DNSSEC types that may sit next to a CNAME: SIG (24), KEY (25), NXT (30), RRSIG (46),
/// NSEC (47).
fn is_dnssec(data: &RecordData) -> bool {
    matches!(data.rtype(), 24 | 25 | 30 | 46 | 47)
}

/// The records at one owner name.
#[derive(Debug, Clone)]
struct Node {
    name: Domain,
    records: Vec<ZoneRecord>,
}

/// The key of `name` in [`ZoneResolver`]'s map: its labels from the root down, each followed by
/// `.` (`www.example.com` → `com.example.www.`). No label holds a `.`, so the names at or below
/// a name are exactly those whose key starts with its key.
fn node_key(name: &Domain) -> String {
    let mut key = String::with_capacity(name.as_str().len() + 1);
    for label in name.labels().rev() {
        key.push_str(label);
        key.push('.');
    }
    key
}

/// The key of the parent name: `key` without its last label; `None` for a top-level name.
fn parent_key(key: &str) -> Option<&str> {
    let cut = key.strip_suffix('.')?.rfind('.')?;
    key.get(..=cut)
}

enum Found<'a> {
    Records(&'a [ZoneRecord]),
    EmptyNonTerminal,
    Nothing,
}

impl FromStr for ZoneResolver {
    type Err = ZoneError;

    /// Master-file text without an origin: names must be absolute or follow a `$ORIGIN`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s, "")
    }
}

impl Resolver for ZoneResolver {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.typed(name, QueryType::Txt, |d| match d {
            RecordData::Txt(t) => Some(t),
            _ => None,
        })
    }

    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.typed(name, QueryType::A, |d| match d {
            RecordData::A(a) => Some(a),
            _ => None,
        })
    }

    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.typed(name, QueryType::Aaaa, |d| match d {
            RecordData::Aaaa(a) => Some(a),
            _ => None,
        })
    }

    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.typed(name, QueryType::Mx, |d| match d {
            RecordData::Mx(m) => Some(m),
            _ => None,
        })
    }

    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        self.typed(&reverse_name(ip), QueryType::Ptr, |d| match d {
            RecordData::Ptr(p) => Some(p),
            _ => None,
        })
    }
}

/// Parses one domain name in master-file syntax (`\DDD` and `\X` escapes, optional trailing
/// dot), for names given on a command line.
///
/// # Errors
///
/// The [`ZoneErrorKind`] saying why the name is not valid.
///
/// # Examples
///
/// ```
/// let d = mailward_dns::zone::parse_name("a\\032b.Example.")?;
/// assert_eq!(d.as_str(), "a b.example");
/// # Ok::<(), mailward_dns::zone::ZoneErrorKind>(())
/// ```
pub fn parse_name(text: &str) -> Result<Domain, ZoneErrorKind> {
    // The final `.` ends the name only when it is not escaped, that is when an even number of
    // `\` precede it (`a\\.` is the label `a\` then the root; `a\.` ends in a dot inside
    // a label).
    let absolute = match text.strip_suffix('.') {
        Some(head) => head.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 0,
        None => false,
    };
    let absolute = if absolute {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    parse::parse_name_token(absolute.as_bytes(), 0, None).map_err(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hostile zone: many owners of ~120 labels that share nothing but their last two
    /// labels, so every one of them has ~118 ancestors no other owner has. The names held in
    /// memory must stay one per owner, not one per ancestor.
    #[test]
    fn deep_distinct_owners_do_not_multiply_stored_names() {
        const OWNERS: usize = 2_000;
        let deep = "a.".repeat(117);
        let mut text = String::from("$TTL 60\n");
        for i in 0..OWNERS {
            text.push_str(&format!("{deep}n{i}.example. TXT x\n"));
        }
        let z = ZoneResolver::parse(&text, "").unwrap();
        let some = Domain::new(&format!("{deep}n7.example")).unwrap();
        assert!(some.label_count() >= 119);
        assert_eq!(z.len(), OWNERS);
        assert_eq!(z.names().count(), OWNERS);
        // `nodes` is the only map keyed by name: one entry per owner, none per ancestor.
        assert_eq!(z.nodes.len(), OWNERS);
        // The ancestors still exist as empty non-terminals (RFC 8020); siblings do not.
        let ent = Domain::new(&format!("{}n7.example", "a.".repeat(60))).unwrap();
        assert_eq!(z.lookup(&ent, QueryType::Txt), Err(DnsError::NODATA));
        assert_eq!(
            z.lookup(&Domain::new("n7.example").unwrap(), QueryType::Txt),
            Err(DnsError::NODATA)
        );
        assert_eq!(
            z.lookup(&Domain::new("b.n7.example").unwrap(), QueryType::Txt),
            Err(DnsError::NXDOMAIN)
        );
        assert!(z.lookup(&some, QueryType::Txt).is_ok());
    }
}
