//! [`HickoryResolver`]: real DNS through [hickory-resolver](https://docs.rs/hickory-resolver)
//! on tokio (feature `hickory`).
//!
//! Queries go to the system's resolvers (`/etc/resolv.conf`) or to one explicit server over UDP
//! with TCP fallback. DNSSEC validation is off and hickory's own answer cache is disabled
//! (wrap the resolver in a [`CachingResolver`](crate::CachingResolver) for caching). The hosts
//! file is never consulted: mail authentication asks DNS.
//!
//! Every hickory outcome is mapped to a [`DnsError`]: NXDOMAIN and "no records found" with
//! NOERROR (NODATA) keep the negative TTL hickory derives from the SOA of the authority
//! section; timeouts are [`DnsError::Timeout`]; a SERVFAIL response is
//! [`DnsError::ServFail`]; everything else (REFUSED, malformed answers, I/O errors) is
//! [`DnsError::Other`].
//!
//! MX and PTR records whose name a [`Domain`] cannot hold (a label with a `.` or a non-ASCII
//! octet inside) are skipped, not failed on: the other records are returned, and when none is
//! left the answer is NODATA. The RFC 7505 null MX (`MX 0 .`) is an [`Mx`] without exchange.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt, reverse_name};

/// How a [`HickoryResolver`] reaches DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HickoryOptions {
    /// One server to ask (UDP, then TCP for truncated answers); `None` reads the system
    /// configuration.
    pub server: Option<SocketAddr>,
    /// How long to wait for one answer (default 5 s).
    pub timeout: Duration,
    /// How many times a query is tried (default 2).
    pub attempts: usize,
}

impl Default for HickoryOptions {
    fn default() -> Self {
        Self {
            server: None,
            timeout: Duration::from_secs(5),
            attempts: 2,
        }
    }
}

impl HickoryOptions {
    /// Sets [`server`](Self::server).
    #[must_use]
    pub fn with_server(mut self, server: SocketAddr) -> Self {
        self.server = Some(server);
        self
    }

    /// Sets [`timeout`](Self::timeout).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`attempts`](Self::attempts) (at least 1).
    #[must_use]
    pub fn with_attempts(mut self, attempts: usize) -> Self {
        self.attempts = attempts.max(1);
        self
    }
}

/// The resolver could not be set up (unreadable system configuration).
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the DNS resolver")]
#[non_exhaustive]
pub struct HickorySetupError {
    #[source]
    source: NetError,
}

/// A [`Resolver`] that asks real DNS servers through hickory-resolver. Needs a tokio runtime
/// when queried.
///
/// # Examples
///
/// ```no_run
/// use mailward_dns::hickory::{HickoryOptions, HickoryResolver};
/// use mailward_types::dns::Resolver;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let resolver = HickoryResolver::new(
///     HickoryOptions::default().with_server("127.0.0.1:5353".parse()?),
/// )?;
/// let txt = resolver.txt(&"example.com".parse()?).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct HickoryResolver {
    inner: TokioResolver,
}

impl fmt::Debug for HickoryResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HickoryResolver")
            .field("options", self.inner.options())
            .finish_non_exhaustive()
    }
}

impl HickoryResolver {
    /// A resolver with the given options.
    ///
    /// # Errors
    ///
    /// When no server is given and the system configuration cannot be read.
    pub fn new(options: HickoryOptions) -> Result<Self, HickorySetupError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match options.server {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let ns = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    provider,
                )
            }
            None => {
                TokioResolver::builder(provider).map_err(|source| HickorySetupError { source })?
            }
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.timeout = options.timeout;
        opts.attempts = options.attempts.max(1);
        // hickory's cache would hide TTL decay and negative TTLs; CachingResolver does that job.
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.preserve_intermediates = true;
        let inner = builder
            .build()
            .map_err(|source| HickorySetupError { source })?;
        Ok(Self { inner })
    }

    /// A resolver using the system configuration.
    ///
    /// # Errors
    ///
    /// When the system configuration cannot be read.
    pub fn system() -> Result<Self, HickorySetupError> {
        Self::new(HickoryOptions::default())
    }

    /// A resolver asking only `server`.
    ///
    /// # Errors
    ///
    /// Never in practice; kept fallible like [`HickoryResolver::new`].
    pub fn with_server(server: SocketAddr) -> Result<Self, HickorySetupError> {
        Self::new(HickoryOptions::default().with_server(server))
    }

    /// Queries `name` for `rtype` and keeps the answers `pick` accepts (CNAMEs on the way are
    /// skipped but count for the TTL). Records `pick` refuses (other types, names a [`Domain`]
    /// cannot hold) are skipped; when none is left the answer is NODATA.
    async fn query<T>(
        &self,
        name: &Domain,
        rtype: RecordType,
        pick: impl Fn(&RData) -> Option<T>,
    ) -> DnsResult<T> {
        let qname = to_name(name)?;
        let lookup = self.inner.lookup(qname, rtype).await.map_err(map_error)?;
        let mut ttl = u32::MAX;
        let mut records = Vec::new();
        for record in lookup.answers() {
            if let Some(item) = pick(&record.data) {
                records.push(item);
                ttl = ttl.min(record.ttl);
            } else if matches!(record.data, RData::CNAME(_)) {
                ttl = ttl.min(record.ttl);
            }
        }
        if records.is_empty() {
            return Err(DnsError::NODATA);
        }
        Ok(Lookup::new(records, ttl))
    }
}

/// A [`Domain`] as an absolute hickory name, label by label (labels may hold any octet).
fn to_name(domain: &Domain) -> Result<Name, DnsError> {
    let mut name =
        Name::from_labels(domain.labels().map(str::as_bytes)).map_err(DnsError::other)?;
    name.set_fqdn(true);
    Ok(name)
}

/// A name from an answer as a [`Domain`], or `None` when it cannot be one: a label holding a
/// `.` or a non-ASCII octet (legal in DNS, RFC 2181 §11), or the root name.
fn from_name(name: &Name) -> Option<Domain> {
    let mut text = String::new();
    for label in name.iter() {
        if !text.is_empty() {
            text.push('.');
        }
        if label.contains(&b'.') || !label.is_ascii() {
            return None;
        }
        // ASCII checked above: every octet is one char.
        text.extend(label.iter().map(|&b| char::from(b)));
    }
    Domain::new(&text).ok()
}

/// Maps a hickory failure to the [`DnsError`] class the protocols need.
fn map_error(e: NetError) -> DnsError {
    match &e {
        NetError::Timeout => DnsError::Timeout,
        NetError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => DnsError::Timeout,
        NetError::Dns(HickoryDnsError::NoRecordsFound(no)) => match no.response_code {
            ResponseCode::NXDomain => DnsError::NxDomain {
                negative_ttl: no.negative_ttl,
            },
            ResponseCode::NoError => DnsError::NoData {
                negative_ttl: no.negative_ttl,
            },
            ResponseCode::ServFail => DnsError::ServFail,
            _ => DnsError::other(e),
        },
        NetError::Dns(HickoryDnsError::ResponseCode(ResponseCode::ServFail)) => DnsError::ServFail,
        _ => DnsError::other(e),
    }
}

impl Resolver for HickoryResolver {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.query(name, RecordType::TXT, |d| match d {
            RData::TXT(t) => Some(Txt::new(t.txt_data.iter().map(|s| s.to_vec()).collect())),
            _ => None,
        })
        .await
    }

    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.query(name, RecordType::A, |d| match d {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.query(name, RecordType::AAAA, |d| match d {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.query(name, RecordType::MX, |d| match d {
            // RFC 7505 null MX: the exchange is the root.
            RData::MX(mx) if mx.exchange.is_root() => Some(Mx::null(mx.preference)),
            // An exchange that cannot be a `Domain` is skipped.
            RData::MX(mx) => {
                from_name(&mx.exchange).map(|exchange| Mx::new(mx.preference, exchange))
            }
            _ => None,
        })
        .await
    }

    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        self.query(&reverse_name(ip), RecordType::PTR, |d| match d {
            RData::PTR(p) => from_name(&p.0),
            _ => None,
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_with_odd_octets() {
        for text in [
            "example.com",
            "sp ace.example",
            "a:b/c%d.example",
            "*.wild.example",
        ] {
            let d = Domain::new(text).unwrap();
            let n = to_name(&d).unwrap();
            assert!(n.is_fqdn());
            assert_eq!(from_name(&n).unwrap(), d);
        }
    }

    #[test]
    fn errors_map_to_classes() {
        assert_eq!(map_error(NetError::Timeout), DnsError::Timeout);
        assert_eq!(
            map_error(NetError::Dns(HickoryDnsError::ResponseCode(
                ResponseCode::ServFail
            ))),
            DnsError::ServFail
        );
        assert!(matches!(
            map_error(NetError::Dns(HickoryDnsError::ResponseCode(
                ResponseCode::Refused
            ))),
            DnsError::Other(_)
        ));
        assert!(matches!(
            map_error(NetError::NoConnections),
            DnsError::Other(_)
        ));
    }

    #[test]
    fn setup_error_names_its_cause_once() {
        let e = HickorySetupError {
            source: NetError::NoConnections,
        };
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(cause, Some(NetError::NoConnections.to_string()));
        assert_eq!(e.to_string(), "cannot set up the DNS resolver");
    }
}
