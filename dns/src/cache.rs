//! [`CachingResolver`]: a TTL-respecting cache in front of any [`Resolver`].
//!
//! Positive answers are kept for their TTL (capped by [`CacheConfig::max_ttl`]). NXDOMAIN and
//! NODATA are kept for their negative TTL, bounded by [`CacheConfig::max_negative_ttl`]
//! ([RFC 2308 §5](https://www.rfc-editor.org/rfc/rfc2308#section-5)). Timeouts, server
//! failures and other errors are never cached: they say nothing about the data. The number of
//! entries is bounded ([`CacheConfig::max_entries`]); when full, expired entries go first, then
//! the one closest to expiry. Entries are indexed by expiry, so eviction costs O(log n) and
//! never scans the cache.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};

/// A source of the current time, injectable so tests can move time forward.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock ([`Instant::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that only moves when told to (for tests). Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    start: Instant,
    offset: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// A clock standing at the moment it is created.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            offset: Arc::new(Mutex::new(Duration::ZERO)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut offset = lock(&self.offset);
        *offset = offset.saturating_add(by);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let offset = *lock(&self.offset);
        self.start.checked_add(offset).unwrap_or(self.start)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// Locks a mutex, taking the data even if another thread panicked while holding it (every
/// update here leaves the data consistent).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Limits of a [`CachingResolver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Most entries held (default 10 000).
    pub max_entries: usize,
    /// Longest time a positive answer is kept, in seconds (default one day, 86 400).
    pub max_ttl: u32,
    /// Longest time a negative answer is kept, in seconds (default three hours, 10 800: RFC
    /// 2308 §5 "Values of one to three hours have been found to work well").
    pub max_negative_ttl: u32,
    /// Time a negative answer without a negative TTL (no SOA) is kept, in seconds. Default 0,
    /// not cached: RFC 2308 §5 "Negative responses without SOA records SHOULD NOT be cached".
    pub default_negative_ttl: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_ttl: 86_400,
            max_negative_ttl: 10_800,
            default_negative_ttl: 0,
        }
    }
}

impl CacheConfig {
    /// Sets [`max_entries`](Self::max_entries).
    #[must_use]
    pub fn with_max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// Sets [`max_ttl`](Self::max_ttl).
    #[must_use]
    pub fn with_max_ttl(mut self, secs: u32) -> Self {
        self.max_ttl = secs;
        self
    }

    /// Sets [`max_negative_ttl`](Self::max_negative_ttl).
    #[must_use]
    pub fn with_max_negative_ttl(mut self, secs: u32) -> Self {
        self.max_negative_ttl = secs;
        self
    }

    /// Sets [`default_negative_ttl`](Self::default_negative_ttl).
    #[must_use]
    pub fn with_default_negative_ttl(mut self, secs: u32) -> Self {
        self.default_negative_ttl = secs;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Txt(Domain),
    A(Domain),
    Aaaa(Domain),
    Mx(Domain),
    Ptr(IpAddr),
}

#[derive(Debug, Clone)]
enum Value {
    Txt(Vec<Txt>),
    A(Vec<Ipv4Addr>),
    Aaaa(Vec<Ipv6Addr>),
    Mx(Vec<Mx>),
    Ptr(Vec<Domain>),
    /// NXDOMAIN or NODATA.
    Negative(DnsError),
}

#[derive(Debug)]
struct Entry {
    value: Value,
    expires: Instant,
    /// Insertion number, telling apart entries that expire at the same instant.
    seq: u64,
}

/// The entries, and their keys ordered by expiry: the first one in `by_expiry` is the next to
/// expire. Both always hold the same keys.
#[derive(Debug, Default)]
struct Store {
    entries: HashMap<Key, Entry>,
    by_expiry: BTreeMap<(Instant, u64), Key>,
    next_seq: u64,
}

impl Store {
    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.entries.remove(key) {
            self.by_expiry.remove(&(old.expires, old.seq));
        }
    }

    /// Removes the entry closest to expiry (an expired one if any).
    fn evict_first(&mut self) {
        if let Some((_, key)) = self.by_expiry.pop_first() {
            self.entries.remove(&key);
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.by_expiry.clear();
    }
}

/// A [`Resolver`] that caches the answers of another one. Thread-safe; cheap lookups hold a
/// lock only to read or write the map, never across a query.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use mailward_dns::cache::{CacheConfig, CachingResolver, ManualClock};
/// use mailward_dns::ZoneResolver;
/// use mailward_types::dns::Resolver;
///
/// let zone = ZoneResolver::parse("$TTL 60\n@ A 192.0.2.1\n", "example.com")?;
/// let clock = ManualClock::new();
/// let cache = CachingResolver::with_clock(zone, CacheConfig::default(), clock.clone());
/// let name = "example.com".parse()?;
/// # pollster::block_on(async {
/// assert_eq!(cache.a(&name).await?.ttl, 60);
/// clock.advance(Duration::from_secs(20));
/// assert_eq!(cache.a(&name).await?.ttl, 40); // from the cache, 20 s older
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CachingResolver<R, C = SystemClock> {
    inner: R,
    clock: C,
    config: CacheConfig,
    store: Mutex<Store>,
}

impl<R, C> fmt::Debug for CachingResolver<R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingResolver")
            .field("config", &self.config)
            .field("entries", &lock(&self.store).entries.len())
            .finish_non_exhaustive()
    }
}

impl<R: Resolver> CachingResolver<R> {
    /// A cache with the default [`CacheConfig`] and the system clock.
    pub fn new(inner: R) -> Self {
        Self::with_clock(inner, CacheConfig::default(), SystemClock)
    }

    /// A cache with the given limits and the system clock.
    pub fn with_config(inner: R, config: CacheConfig) -> Self {
        Self::with_clock(inner, config, SystemClock)
    }
}

impl<R: Resolver, C: Clock> CachingResolver<R, C> {
    /// A cache with the given limits and clock.
    pub fn with_clock(inner: R, config: CacheConfig, clock: C) -> Self {
        Self {
            inner,
            clock,
            config,
            store: Mutex::new(Store::default()),
        }
    }

    /// The wrapped resolver.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// Number of entries held (expired ones included until they are evicted or read).
    pub fn len(&self) -> usize {
        lock(&self.store).entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        lock(&self.store).clear();
    }

    /// The cached answer for `key`, with its remaining TTL, if any and not expired.
    fn get(&self, key: &Key) -> Option<(Value, u32)> {
        let now = self.clock.now();
        let mut store = lock(&self.store);
        let entry = store.entries.get(key)?;
        if now >= entry.expires {
            store.remove(key);
            return None;
        }
        let remaining = entry.expires.saturating_duration_since(now).as_secs();
        Some((
            entry.value.clone(),
            u32::try_from(remaining).unwrap_or(u32::MAX),
        ))
    }

    fn put(&self, key: Key, value: Value, ttl: u32) {
        if ttl == 0 || self.config.max_entries == 0 {
            return;
        }
        let now = self.clock.now();
        let Some(expires) = now.checked_add(Duration::from_secs(u64::from(ttl))) else {
            return;
        };
        let mut store = lock(&self.store);
        store.remove(&key);
        // Expired entries are the first in expiry order: drop them all (each entry is dropped
        // once, so this is O(log n) per insert amortised), then, if still full, the entry
        // closest to expiry.
        while store
            .by_expiry
            .first_key_value()
            .is_some_and(|((expires, _), _)| *expires <= now)
        {
            store.evict_first();
        }
        while store.entries.len() >= self.config.max_entries {
            store.evict_first();
        }
        let seq = store.next_seq;
        store.next_seq = seq.wrapping_add(1);
        store.by_expiry.insert((expires, seq), key.clone());
        store.entries.insert(
            key,
            Entry {
                value,
                expires,
                seq,
            },
        );
    }

    async fn cached<T: Clone>(
        &self,
        key: Key,
        wrap: fn(Vec<T>) -> Value,
        unwrap: fn(Value) -> Option<Vec<T>>,
        query: impl Future<Output = DnsResult<T>>,
    ) -> DnsResult<T> {
        if let Some((value, remaining)) = self.get(&key) {
            match value {
                Value::Negative(e) => return Err(with_negative_ttl(e, remaining)),
                other => {
                    if let Some(records) = unwrap(other) {
                        return Ok(Lookup::new(records, remaining));
                    }
                }
            }
        }
        let result = query.await;
        match &result {
            Ok(lookup) if !lookup.records.is_empty() => {
                let ttl = lookup.ttl.min(self.config.max_ttl);
                self.put(key, wrap(lookup.records.clone()), ttl);
            }
            Ok(_) => {}
            Err(e @ (DnsError::NxDomain { negative_ttl } | DnsError::NoData { negative_ttl })) => {
                let ttl = negative_ttl
                    .unwrap_or(self.config.default_negative_ttl)
                    .min(self.config.max_negative_ttl);
                self.put(key, Value::Negative(e.clone()), ttl);
            }
            // RFC 2308 §7 allows caching server failures for up to five minutes; this cache
            // does not: a retry may well succeed, and SPF/DMARC turn them into temperror.
            Err(_) => {}
        }
        result
    }
}

fn with_negative_ttl(e: DnsError, remaining: u32) -> DnsError {
    match e {
        DnsError::NxDomain { .. } => DnsError::NxDomain {
            negative_ttl: Some(remaining),
        },
        DnsError::NoData { .. } => DnsError::NoData {
            negative_ttl: Some(remaining),
        },
        other => other,
    }
}

impl<R: Resolver, C: Clock> Resolver for CachingResolver<R, C> {
    async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
        self.cached(
            Key::Txt(name.clone()),
            Value::Txt,
            |v| match v {
                Value::Txt(r) => Some(r),
                _ => None,
            },
            self.inner.txt(name),
        )
        .await
    }

    async fn a(&self, name: &Domain) -> DnsResult<Ipv4Addr> {
        self.cached(
            Key::A(name.clone()),
            Value::A,
            |v| match v {
                Value::A(r) => Some(r),
                _ => None,
            },
            self.inner.a(name),
        )
        .await
    }

    async fn aaaa(&self, name: &Domain) -> DnsResult<Ipv6Addr> {
        self.cached(
            Key::Aaaa(name.clone()),
            Value::Aaaa,
            |v| match v {
                Value::Aaaa(r) => Some(r),
                _ => None,
            },
            self.inner.aaaa(name),
        )
        .await
    }

    async fn mx(&self, name: &Domain) -> DnsResult<Mx> {
        self.cached(
            Key::Mx(name.clone()),
            Value::Mx,
            |v| match v {
                Value::Mx(r) => Some(r),
                _ => None,
            },
            self.inner.mx(name),
        )
        .await
    }

    async fn ptr(&self, ip: IpAddr) -> DnsResult<Domain> {
        self.cached(
            Key::Ptr(ip),
            Value::Ptr,
            |v| match v {
                Value::Ptr(r) => Some(r),
                _ => None,
            },
            self.inner.ptr(ip),
        )
        .await
    }
}
