//! Sender enrichment: the reverse DNS name of each source IP, looked up once through any
//! [`Resolver`], checked forward, and cached in the store with its TTL.
//!
//! Enrichment is kept off the ingest path: ingest only records that an address exists
//! (status `pending`), and [`Store::enrich`] resolves pending and expired addresses later, in
//! batches, with a bounded number of lookups in flight. A lookup that fails (timeout, server
//! failure) is stored as `unknown` and retried after [`RETRY_AFTER`]; the caller bounds each
//! lookup's time through its resolver (the `mailward` CLI wraps it in a timeout).
//!
//! A reverse name proves nothing by itself: whoever controls an address's reverse zone can
//! name it `mail.google.com`. A name is `verified` only when it resolves forward (A or AAAA)
//! to the same address (forward-confirmed reverse DNS); only verified names group sources
//! under a sending service.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt as _;
use mailward_types::dns::{DnsError, Resolver};
use serde::Serialize;

use crate::db::P;
use crate::error::Error;
use crate::{Store, now};

/// Seconds before a failed lookup is tried again.
pub const RETRY_AFTER: i64 = 3600;
/// Shortest time a name is cached, whatever its TTL.
pub const MIN_TTL: i64 = 300;
/// Longest time a name is cached, whatever its TTL (names move when a sender changes
/// provider).
pub const MAX_TTL: i64 = 7 * 86_400;
/// How long "no reverse name" is cached when the answer carried no negative TTL.
pub const DEFAULT_NEGATIVE_TTL: i64 = 86_400;

/// How enrichment runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnrichOptions {
    /// Lookups in flight at once.
    pub concurrency: usize,
    /// Addresses taken from the store (and written back) per transaction.
    pub batch: usize,
    /// Stop after this many addresses (`None`: until none is pending).
    pub max_addresses: Option<usize>,
}

impl EnrichOptions {
    /// Sets [`concurrency`](Self::concurrency) (at least 1).
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets [`max_addresses`](Self::max_addresses).
    #[must_use]
    pub fn max_addresses(mut self, n: Option<usize>) -> Self {
        self.max_addresses = n;
        self
    }
}

impl Default for EnrichOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            batch: 256,
            max_addresses: None,
        }
    }
}

/// What an enrichment run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnrichStats {
    /// Addresses looked up.
    pub looked_up: u64,
    /// With a reverse name that resolves back to the address.
    pub verified: u64,
    /// With a reverse name that does not resolve back.
    pub unverified: u64,
    /// Without a reverse name (NXDOMAIN / NODATA).
    pub no_name: u64,
    /// Lookups that failed (stored as unknown, retried later).
    pub failed: u64,
}

/// What the store knows of one address's reverse name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NameStatus {
    /// Not looked up yet.
    Pending,
    /// A name that resolves back to the address.
    Verified,
    /// A name that does not resolve back to the address.
    Unverified,
    /// No reverse name.
    None,
    /// The lookup failed; retried later.
    Unknown,
}

impl NameStatus {
    /// The token stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Unverified => "unverified",
            Self::None => "none",
            Self::Unknown => "unknown",
        }
    }

    pub(crate) fn from_token(s: &str) -> Self {
        match s {
            "verified" => Self::Verified,
            "unverified" => Self::Unverified,
            "none" => Self::None,
            "unknown" => Self::Unknown,
            _ => Self::Pending,
        }
    }
}

struct Resolved {
    ip: String,
    name: Option<String>,
    status: NameStatus,
    ttl: i64,
}

fn clamp_ttl(ttl: u32) -> i64 {
    i64::from(ttl).clamp(MIN_TTL, MAX_TTL)
}

async fn resolve<R: Resolver>(resolver: &R, ip_text: String) -> Resolved {
    let Ok(ip) = ip_text.parse::<IpAddr>() else {
        return Resolved {
            ip: ip_text,
            name: None,
            status: NameStatus::None,
            ttl: MAX_TTL,
        };
    };
    match resolver.ptr(ip).await {
        Ok(lookup) => {
            let ttl = clamp_ttl(lookup.ttl);
            let Some(name) = lookup.records.into_iter().next() else {
                return Resolved {
                    ip: ip_text,
                    name: None,
                    status: NameStatus::None,
                    ttl: DEFAULT_NEGATIVE_TTL,
                };
            };
            let confirmed = match ip {
                IpAddr::V4(v4) => resolver.a(&name).await.map(|l| l.records.contains(&v4)),
                IpAddr::V6(v6) => resolver.aaaa(&name).await.map(|l| l.records.contains(&v6)),
            };
            let status = match confirmed {
                Ok(true) => NameStatus::Verified,
                Ok(false) => NameStatus::Unverified,
                Err(e) if e.is_void() => NameStatus::Unverified,
                Err(_) => NameStatus::Unknown,
            };
            Resolved {
                ip: ip_text,
                name: Some(name.as_str().to_owned()),
                status,
                ttl: if status == NameStatus::Unknown {
                    RETRY_AFTER
                } else {
                    ttl
                },
            }
        }
        Err(DnsError::NxDomain { negative_ttl } | DnsError::NoData { negative_ttl }) => Resolved {
            ip: ip_text,
            name: None,
            status: NameStatus::None,
            ttl: negative_ttl.map_or(DEFAULT_NEGATIVE_TTL, clamp_ttl),
        },
        Err(_) => Resolved {
            ip: ip_text,
            name: None,
            status: NameStatus::Unknown,
            ttl: RETRY_AFTER,
        },
    }
}

impl Store {
    /// Addresses whose reverse name is not known or has expired.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn pending_addresses(&self) -> Result<u64, Error> {
        let mut conn = self.conn().await?;
        let n = conn
            .int_opt(
                "SELECT COUNT(*) FROM source_ips WHERE expires_at <= $1",
                &[P::int(now())],
            )
            .await?;
        Ok(n.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
    }

    /// Looks up the reverse names of pending and expired addresses until none is left,
    /// `options.max_addresses` is reached, or `stop` is set (checked between batches).
    ///
    /// # Errors
    ///
    /// Database errors; DNS failures are results, stored as `unknown`.
    pub async fn enrich<R: Resolver>(
        &self,
        resolver: &R,
        options: &EnrichOptions,
        stop: &AtomicBool,
    ) -> Result<EnrichStats, Error> {
        let mut stats = EnrichStats::default();
        let batch = options.batch.max(1);
        let concurrency = options.concurrency.max(1);
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let left = options.max_addresses.map_or(batch, |m| {
                m.saturating_sub(usize::try_from(stats.looked_up).unwrap_or(usize::MAX))
            });
            if left == 0 {
                break;
            }
            let t = now();
            let limit = i64::try_from(batch.min(left)).unwrap_or(i64::MAX);
            let ips = {
                let mut conn = self.conn().await?;
                conn.collect(
                    "SELECT ip FROM source_ips WHERE expires_at <= $1 ORDER BY expires_at, ip
                     LIMIT $2",
                    &[P::int(t), P::int(limit)],
                    |r| r.req_text(0),
                )
                .await?
            };
            if ips.is_empty() {
                break;
            }
            let results: Vec<Resolved> = futures_util::stream::iter(ips)
                .map(|ip| resolve(resolver, ip))
                .buffer_unordered(concurrency)
                .collect()
                .await;
            let mut conn = self.conn().await?;
            conn.begin().await?;
            let written = async {
                let t = now();
                for r in &results {
                    conn.execute(
                        "UPDATE source_ips SET name = $1, status = $2, resolved_at = $3,
                            expires_at = $4 WHERE ip = $5",
                        &[
                            P::from(r.name.as_deref()),
                            P::from(r.status.as_str()),
                            P::int(t),
                            P::int(t.saturating_add(r.ttl)),
                            P::from(&r.ip),
                        ],
                    )
                    .await?;
                }
                Ok::<(), Error>(())
            }
            .await;
            match written {
                Ok(()) => conn.commit().await?,
                Err(e) => {
                    let _ = conn.rollback().await;
                    return Err(e);
                }
            }
            for r in &results {
                stats.looked_up += 1;
                match r.status {
                    NameStatus::Verified => stats.verified += 1,
                    NameStatus::Unverified => stats.unverified += 1,
                    NameStatus::None => stats.no_name += 1,
                    _ => stats.failed += 1,
                }
            }
        }
        Ok(stats)
    }
}
