//! Sender enrichment: the reverse DNS name of each source IP, looked up once through any
//! [`Resolver`], checked forward, and cached in the store with its TTL.
//!
//! Enrichment is kept off the ingest path: ingest writes nothing for it. [`Store::enrich`]
//! first queues the addresses of reports stored since its last run (reading outside any
//! transaction, writing briefly), then resolves pending and expired addresses with a bounded
//! number of lookups in flight, writing results as they come. A lookup that fails (timeout,
//! server failure) is stored as `unknown` and retried after [`RETRY_AFTER`]; the caller
//! bounds each lookup's time through its resolver (the `mailward` CLI wraps it in a
//! timeout).
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

use crate::db::{ColumnType, Conn, Param, Table};
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
    /// Addresses taken from the store per round (their results are written back as they
    /// come, [`WRITE_CHUNK`] at a time).
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
            concurrency: 64,
            batch: 2048,
            max_addresses: None,
        }
    }
}

/// Lookup results written per transaction while lookups stream.
pub const WRITE_CHUNK: usize = 128;

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

/// Reports scanned for new source addresses per transaction of [`Store::discover_addresses`]
/// (bounds the memory of one step: their distinct addresses).
const DISCOVER_REPORTS: i64 = 200;

/// Discovery steps between two batches of lookups in [`Store::enrich`].
const DISCOVER_STEPS_PER_TURN: usize = 4;

/// On PostgreSQL, ids are taken at insert and committed in any order, so a report with a
/// lower id than the last scanned may appear later; each discovery looks this many ids back
/// again (inserting an address twice does nothing).
#[cfg(feature = "postgres")]
const RESCAN_IDS: i64 = 2_000;

impl Store {
    async fn write_names(&self, results: &[Resolved]) -> Result<(), Error> {
        let mut conn = self.conn().await?;
        conn.begin().await?;
        let written = async {
            let t = now();
            for r in results {
                conn.execute(
                    "UPDATE source_ips SET name = $1, status = $2, resolved_at = $3,
                        expires_at = $4 WHERE ip = $5",
                    &[
                        Param::from(r.name.as_deref()),
                        Param::from(r.status.as_str()),
                        Param::int(t),
                        Param::int(t.saturating_add(r.ttl)),
                        Param::from(&r.ip),
                    ],
                )
                .await?;
            }
            Ok::<(), Error>(())
        }
        .await;
        conn.commit_or_rollback(written).await
    }

    /// Queues the source addresses of reports stored since the last call for reverse lookup
    /// (kept off the ingest path: one sorted insert per few hundred reports instead of one
    /// random insert per record). Returns the number of addresses new to the cache.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn discover_addresses(&self) -> Result<u64, Error> {
        self.discover_steps(usize::MAX)
            .await
            .map(|(added, _)| added)
    }

    /// Up to `steps` steps of discovery; returns the addresses added and whether every
    /// stored report has been scanned. Reading happens outside any transaction (a WAL
    /// snapshot never blocks a writer); only the insert of the addresses found takes the
    /// write lock, briefly, so a running ingest is not held up.
    async fn discover_steps(&self, steps: usize) -> Result<(u64, bool), Error> {
        let mut conn = self.conn().await?;
        let mut added = 0u64;
        #[allow(unused_mut)]
        let mut look_back = 0i64;
        #[cfg(feature = "postgres")]
        if conn.dialect() == crate::db::Dialect::Postgres {
            look_back = RESCAN_IDS;
        }
        for _ in 0..steps {
            let scanned = conn
                .collect(
                    "SELECT value FROM mailward_meta WHERE key = 'addresses_scanned_to'",
                    &[],
                    |r| Ok(r.text(0)?.and_then(|v| v.parse::<i64>().ok())),
                )
                .await?
                .into_iter()
                .next()
                .flatten()
                .unwrap_or(0);
            let top = conn
                .int_opt("SELECT MAX(id) FROM reports", &[])
                .await?
                .unwrap_or(0);
            if scanned >= top {
                return Ok((added, true));
            }
            let upto = scanned.saturating_add(DISCOVER_REPORTS).min(top);
            let from = scanned
                .saturating_sub(std::mem::take(&mut look_back))
                .max(0);
            let ips = conn
                .collect(
                    "SELECT DISTINCT source_ip FROM records WHERE report > $1 AND report <= $2
                     ORDER BY source_ip",
                    &[Param::int(from), Param::int(upto)],
                    |r| r.req_text(0),
                )
                .await?;
            let mark = upto.to_string();
            conn.begin().await?;
            let written = async {
                let new = queue(&mut conn, &ips).await?;
                conn.execute(
                    "INSERT INTO mailward_meta (key, value) VALUES ('addresses_scanned_to', $1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[Param::from(mark.as_str())],
                )
                .await?;
                Ok::<u64, Error>(new)
            }
            .await;
            added += conn.commit_or_rollback(written).await?;
        }
        Ok((added, false))
    }

    /// Addresses whose reverse name is not known or has expired (after queuing the
    /// addresses of new reports, see [`discover_addresses`](Self::discover_addresses)).
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn pending_addresses(&self) -> Result<u64, Error> {
        self.discover_addresses().await?;
        let mut conn = self.conn().await?;
        let n = conn
            .int_opt(
                "SELECT COUNT(*) FROM source_ips WHERE expires_at <= $1",
                &[Param::int(now())],
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
        let mut caught_up = false;
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            // Discovery and lookups take turns, so names of the first reports come while
            // later ones are still being scanned.
            if !caught_up {
                caught_up = self.discover_steps(DISCOVER_STEPS_PER_TURN).await?.1;
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
                    &[Param::int(t), Param::int(limit)],
                    |r| r.req_text(0),
                )
                .await?
            };
            if ips.is_empty() {
                if caught_up {
                    break;
                }
                continue;
            }
            // Lookups stream through `concurrency` slots; results are written as they come,
            // a chunk at a time, so a slow (timing out) lookup holds one slot, not the batch.
            let mut results = futures_util::stream::iter(ips)
                .map(|ip| resolve(resolver, ip))
                .buffer_unordered(concurrency)
                .ready_chunks(WRITE_CHUNK);
            while let Some(chunk) = results.next().await {
                self.write_names(&chunk).await?;
                for r in &chunk {
                    stats.looked_up += 1;
                    match r.status {
                        NameStatus::Verified => stats.verified += 1,
                        NameStatus::Unverified => stats.unverified += 1,
                        NameStatus::None => stats.no_name += 1,
                        _ => stats.failed += 1,
                    }
                }
            }
        }
        Ok(stats)
    }
}

/// Queues source addresses for reverse lookup: a `pending` row of [`SOURCE_IPS`] for each
/// address that has none; returns how many were new.
pub(crate) async fn queue<'a>(
    conn: &mut Conn,
    ips: impl IntoIterator<Item = &'a String>,
) -> Result<u64, Error> {
    let rows: Vec<Vec<Param<'_>>> = ips
        .into_iter()
        .map(|ip| {
            vec![
                Param::from(ip),
                Param::from("pending"),
                Param::int(0),
                Param::int(0),
            ]
        })
        .collect();
    conn.insert_rows(&SOURCE_IPS, &rows).await
}

/// The enrichment queue and cache: one row per source address.
const SOURCE_IPS: Table = Table {
    name: "source_ips",
    columns: &[
        ("ip", ColumnType::Text),
        ("status", ColumnType::Text),
        ("resolved_at", ColumnType::Int),
        ("expires_at", ColumnType::Int),
    ],
    on_conflict: " ON CONFLICT (ip) DO NOTHING",
};
