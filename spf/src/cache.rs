//! An opt-in cache of parsed records ([`RecordCache`]), keyed by the domain that published them,
//! and of the address and MX answers evaluations ask for.
//!
//! Nothing is cached across evaluations unless the caller hands the same cache to several
//! queries ([`Query::with_record_cache`](crate::Query::with_record_cache)). An entry is found by
//! the domain that published it (a short key, cheap to hash). It is used without a DNS query
//! while the TTL of the answer it came from lasts, counted from the query's timestamp
//! ([`Query::with_timestamp`](crate::Query::with_timestamp); never beyond [`MAX_CACHED_TTL`]);
//! after that, or when the query has no timestamp, the record is queried again and the cached
//! parse is reused only if the answer's text is the same, so a changed record is parsed again.
//! Only successfully parsed records are kept (a syntax error is reported afresh each time).
//!
//! With a timestamp, the positive A, AAAA and MX answers of `a`, `mx`, `exists` and `ptr` terms
//! are kept the same way, by the name queried, while their TTLs last: a warm `v=spf1 mx a -all`
//! makes no DNS query at all, as a caching resolver in front of the evaluator would. Void
//! answers (NXDOMAIN, NODATA) and failures are never kept, so they are asked again, and their
//! void-lookup count is the same as without a cache.
//!
//! One cache stands for one view of DNS: share it only between queries answered by the same
//! resolver (not across split-horizon views or per-tenant test zones), as a DNS cache would be.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use mailward_types::Domain;

use crate::error::ParseError;
use crate::record::{Modifier, Published, SpfRecord, Term};
use crate::target::literal_target;

/// The most records a [`RecordCache`] holds; when full it is emptied and starts over. A record
/// is at most one DNS answer (RFC 7208 §3.4 recommends keeping it under 512 octets), so this
/// bounds the cache to a few MiB for realistic records.
pub const MAX_CACHED_RECORDS: usize = 1024;

/// The longest a cached record is used without asking DNS again, in seconds, whatever TTL its
/// answer had (one day, as many resolvers cap TTLs).
pub const MAX_CACHED_TTL: u32 = 86_400;

/// The most address and MX answers a [`RecordCache`] holds besides its records; when full they
/// are emptied and start over.
pub const MAX_CACHED_ANSWERS: usize = 4096;

/// What a cache holds: records by the domain that published them, and the positive A, AAAA and
/// MX answers that evaluations asked for, by the name queried.
#[derive(Default)]
struct Map {
    records: HashMap<Domain, Slot, KeyedFold>,
    a: HashMap<Domain, Answer<Arc<[IpAddr]>>, KeyedFold>,
    aaaa: HashMap<Domain, Answer<Arc<[IpAddr]>>, KeyedFold>,
    mx: HashMap<Domain, Answer<MxHosts>, KeyedFold>,
}

impl Map {
    fn answers(&self) -> usize {
        self.a.len() + self.aaaa.len() + self.mx.len()
    }
}

/// A cached answer and when it may be used without a DNS query.
struct Answer<T> {
    value: T,
    fresh: Fresh,
}

/// An MX answer as evaluation uses it: how many records it had (for the limit of RFC 7208
/// §4.6.4) and the exchanges by preference, without the null MX of RFC 7505.
#[derive(Debug, Clone)]
pub(crate) struct MxHosts {
    pub(crate) count: usize,
    pub(crate) hosts: Arc<[Domain]>,
}

/// Which cached answers a lookup wants.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AddrKind {
    A,
    Aaaa,
}

/// A cached record with its text, and when it may be used without a DNS query.
struct Slot {
    published: Arc<Published>,
    fresh: Fresh,
}

/// When a record may be used without a DNS query: from the time its answer came (`since`) until
/// `until` (exclusive), seconds since the epoch. Both bounds are checked, so a query with a wrong
/// (future) timestamp cannot make an entry fresh for later queries beyond its TTL, nor can a
/// clock that steps back.
#[derive(Clone, Copy, Default)]
pub(crate) struct Fresh {
    since: u64,
    until: u64,
}

impl Fresh {
    /// An answer with `ttl` (capped at [`MAX_CACHED_TTL`]) that came at `now`; never fresh when
    /// there is no clock reading (`now == 0`).
    pub(crate) fn at(now: u64, ttl: u32) -> Self {
        if now == 0 {
            return Self::default();
        }
        Self {
            since: now,
            until: now.saturating_add(u64::from(ttl.min(MAX_CACHED_TTL))),
        }
    }

    /// Whether the answer came with a clock reading (an entry without one is never kept).
    pub(crate) fn is_set(self) -> bool {
        self.since != 0
    }

    fn covers(self, now: u64) -> bool {
        now != 0 && self.since <= now && now < self.until
    }
}

/// A hash for the cache's short keys (domain names) that costs a fraction of SipHash: 16
/// octets per step folded through a 64×64→128-bit multiply with a per-cache random key (the
/// scheme of foldhash/wyhash). It is not a cryptographic MAC; the key keeps collisions from
/// being precomputed, and a cache holds at most [`MAX_CACHED_RECORDS`] entries anyway.
#[derive(Clone, Copy)]
struct KeyedFold {
    key: [u64; 2],
}

impl Default for KeyedFold {
    fn default() -> Self {
        // Two random words from the standard library's randomly keyed hasher.
        let random = std::collections::hash_map::RandomState::new();
        Self {
            key: [random.hash_one(1u8), random.hash_one(2u8)],
        }
    }
}

impl BuildHasher for KeyedFold {
    type Hasher = FoldHasher;

    fn build_hasher(&self) -> FoldHasher {
        FoldHasher {
            key: self.key,
            acc: self.key[0],
        }
    }
}

/// The state of [`KeyedFold`].
struct FoldHasher {
    key: [u64; 2],
    acc: u64,
}

/// The high and low halves of the 128-bit product, xored.
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    // Truncation keeps the low 64 bits of each half, as intended.
    #[allow(clippy::cast_possible_truncation)]
    let (lo, hi) = (p as u64, (p >> 64) as u64);
    lo ^ hi
}

/// Two words covering every octet of a 1–15 octet tail, read as whole words where they can be
/// (the first and the last eight, overlapping; or the first and the last four; or the first,
/// middle and last octet), the scheme of wyhash: the length is mixed in separately, so the
/// overlap cannot make two inputs of the same length collide by construction.
fn tail_words(t: &[u8]) -> (u64, u64) {
    let n = t.len();
    let word = |at: usize| {
        t.get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes)
    };
    let half = |at: usize| {
        t.get(at..at + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    };
    let octet = |at: usize| t.get(at).map_or(0, |o| u64::from(*o));
    match n {
        8.. => (word(0), word(n - 8)),
        4.. => (half(0), half(n - 4)),
        1.. => (octet(0) | octet(n / 2) << 8 | octet(n - 1) << 16, 0),
        0 => (0, 0),
    }
}

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut blocks = bytes.chunks_exact(16);
        for block in &mut blocks {
            let (a, b) = block.split_at(8);
            // Whole 8-octet halves: plain loads (no copy loop).
            let a = <[u8; 8]>::try_from(a).map_or(0, u64::from_le_bytes);
            let b = <[u8; 8]>::try_from(b).map_or(0, u64::from_le_bytes);
            self.acc = fold_mul(a ^ self.key[0] ^ self.acc, b ^ self.key[1]);
        }
        let tail = blocks.remainder();
        if !tail.is_empty() {
            let (a, b) = tail_words(tail);
            self.acc = fold_mul(a ^ self.key[0] ^ self.acc, b ^ self.key[1]);
        }
        // The length, so "ab" + "" and "a" + "b" differ (str hashing adds a 0xff octet too).
        self.acc = self.acc.rotate_left(7) ^ u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    }

    /// `str` hashing ends with one `0xff` octet after the text: mixed in without another
    /// multiply (the text's own `write` already folded its octets and its length).
    fn write_u8(&mut self, i: u8) {
        self.acc = self.acc.rotate_left(8) ^ u64::from(i);
    }

    fn finish(&self) -> u64 {
        fold_mul(self.acc ^ self.key[1], self.key[0] | 1)
    }
}

/// Parsed SPF records, and the address and MX answers that evaluations asked for, shared between
/// evaluations (cheap to clone: clones share the cache).
///
/// A record or answer is used without a DNS query while the TTL of its answer lasts, counted
/// from the query's [timestamp](crate::Query::with_timestamp) (never beyond
/// [`MAX_CACHED_TTL`]). Without a timestamp a record is queried again and its cached parse
/// reused only if the text is the same, and address and MX answers are not kept. Void answers
/// (NXDOMAIN, NODATA) and failures are never kept. Share a cache only between queries answered
/// by the same resolver (one view of DNS).
///
/// # Examples
///
/// ```
/// use mailward_spf::{Query, RecordCache};
///
/// let cache = RecordCache::new();
/// let q = Query::mail_from("192.0.2.1".parse()?, "a@example.com", "mx.example.com")
///     .with_record_cache(cache.clone());
/// assert!(cache.is_empty());
/// # let _ = q;
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Clone, Default)]
pub struct RecordCache(Arc<Mutex<Map>>);

impl RecordCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are cached (not counting address and MX answers).
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every record and answer.
    pub fn clear(&self) {
        *self.lock() = Map::default();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        // A panic elsewhere while holding the lock leaves a consistent map (every operation is a
        // single insert, get or clear), so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cache's own copy of the domain `name` (its exact text: lower case, no final dot) when
    /// a record published there is cached, fresh or not, with the record if it is fresh at
    /// `now` (as [`get_fresh`](Self::get_fresh) gives it: one lookup for both). Every key is a
    /// frame's `<domain>`, checked by RFC 7208 §4.3 when it was evaluated, so `name` is one too.
    pub(crate) fn known_domain(
        &self,
        name: &str,
        now: u64,
    ) -> Option<(Domain, Option<Arc<Published>>)> {
        let map = self.lock();
        let (domain, slot) = map.records.get_key_value(name)?;
        let entry = slot.fresh.covers(now).then(|| Arc::clone(&slot.published));
        Some((domain.clone(), entry))
    }

    /// The record published at `domain` if its answer is still fresh at `now` (seconds since
    /// the epoch; never when `now` is 0).
    pub(crate) fn get_fresh(&self, domain: &Domain, now: u64) -> Option<Arc<Published>> {
        if now == 0 {
            return None;
        }
        let map = self.lock();
        let slot = map.records.get(domain)?;
        slot.fresh.covers(now).then(|| Arc::clone(&slot.published))
    }

    /// The cached record published at `domain` when its text is exactly `text` (compared as
    /// octets, before any UTF-8 check: a cached text is valid ASCII); the answer that brought
    /// `text` again sets the entry's freshness (kept as it was when the answer has no clock
    /// reading).
    pub(crate) fn get(&self, domain: &Domain, text: &[u8], fresh: Fresh) -> Option<Arc<Published>> {
        let mut map = self.lock();
        let slot = map.records.get_mut(domain)?;
        if slot.published.text.as_bytes() != text {
            return None;
        }
        if fresh.is_set() {
            slot.fresh = fresh;
        }
        Some(Arc::clone(&slot.published))
    }

    /// Parses `text` published at `domain` and caches it, with the freshness of the answer that
    /// brought it, when it is a valid record; a syntax error gives the text back with it.
    pub(crate) fn parse_and_insert(
        &self,
        domain: &Domain,
        text: String,
        fresh: Fresh,
    ) -> Result<Arc<Published>, (String, ParseError)> {
        let mut record = match SpfRecord::parse(&text) {
            Ok(r) => r,
            Err(e) => return Err((text, e)),
        };
        prepare_targets(&mut record);
        let published = Arc::new(Published { text, record });
        let mut map = self.lock();
        if map.records.len() >= MAX_CACHED_RECORDS {
            map.records.clear();
        }
        let slot = Slot {
            published: Arc::clone(&published),
            fresh,
        };
        map.records.insert(domain.clone(), slot);
        Ok(published)
    }

    /// The lock, with the answers emptied when they are at [`MAX_CACHED_ANSWERS`] (so one more
    /// fits; the records are kept).
    fn lock_with_answer_room(&self) -> std::sync::MutexGuard<'_, Map> {
        let mut map = self.lock();
        if map.answers() >= MAX_CACHED_ANSWERS {
            map.a.clear();
            map.aaaa.clear();
            map.mx.clear();
        }
        map
    }

    /// The addresses of `name` if an answer for them is still fresh at `now`.
    pub(crate) fn addrs_fresh(
        &self,
        kind: AddrKind,
        name: &Domain,
        now: u64,
    ) -> Option<Arc<[IpAddr]>> {
        if now == 0 {
            return None;
        }
        let map = self.lock();
        let answers = match kind {
            AddrKind::A => &map.a,
            AddrKind::Aaaa => &map.aaaa,
        };
        let slot = answers.get(name)?;
        slot.fresh.covers(now).then(|| Arc::clone(&slot.value))
    }

    /// The exchanges of `name` if an MX answer for them is still fresh at `now`.
    pub(crate) fn mx_fresh(&self, name: &Domain, now: u64) -> Option<MxHosts> {
        if now == 0 {
            return None;
        }
        let map = self.lock();
        let slot = map.mx.get(name)?;
        slot.fresh.covers(now).then(|| slot.value.clone())
    }

    /// Keeps a positive address answer for `name` while `fresh` lasts (never without a clock
    /// reading).
    pub(crate) fn insert_addrs(
        &self,
        kind: AddrKind,
        name: &Domain,
        addrs: Arc<[IpAddr]>,
        fresh: Fresh,
    ) {
        if !fresh.is_set() {
            return;
        }
        let mut map = self.lock_with_answer_room();
        let answers = match kind {
            AddrKind::A => &mut map.a,
            AddrKind::Aaaa => &mut map.aaaa,
        };
        answers.insert(
            name.clone(),
            Answer {
                value: addrs,
                fresh,
            },
        );
    }

    /// Keeps a positive MX answer for `name` while `fresh` lasts (never without a clock
    /// reading).
    pub(crate) fn insert_mx(&self, name: &Domain, mx: &MxHosts, fresh: Fresh) {
        if !fresh.is_set() {
            return;
        }
        let mut map = self.lock_with_answer_room();
        let value = mx.clone();
        map.mx.insert(name.clone(), Answer { value, fresh });
    }

    /// The parsed record for `text` published at `domain`, from the cache or parsed (and then
    /// cached).
    #[cfg(test)]
    fn get_or_parse(&self, domain: &Domain, text: &str) -> Result<Arc<Published>, ParseError> {
        match self.get(domain, text.as_bytes(), Fresh::default()) {
            Some(p) => Ok(p),
            None => self
                .parse_and_insert(domain, text.to_owned(), Fresh::default())
                .map_err(|(_, e)| e),
        }
    }
}

/// Checks the target names of the macro-free `domain-spec`s of the mechanisms and of
/// `redirect=` once, for a record that is evaluated many times (see the `targets` field of
/// [`SpfRecord`]).
fn prepare_targets(record: &mut SpfRecord) {
    record.targets = record
        .terms
        .iter()
        .map(|t| {
            let spec = match t {
                Term::Directive(d) => d.mechanism.domain_spec(),
                Term::Modifier(Modifier::Redirect(d)) => Some(d),
                Term::Modifier(_) => None,
            }?;
            let lit = spec.as_literal()?;
            literal_target(lit).ok()
        })
        .collect();
}

impl fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordCache")
            .field("len", &self.len())
            .finish()
    }
}

/// Two handles are equal when they share the same cache.
impl PartialEq for RecordCache {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RecordCache {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_parsed_records_only() {
        let c = RecordCache::new();
        let d = Domain::new("example.com").unwrap();
        let a = c.get_or_parse(&d, "v=spf1 ip4:192.0.2.0/24 -all").unwrap();
        let b = c.get_or_parse(&d, "v=spf1 ip4:192.0.2.0/24 -all").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(c.len(), 1);
        assert!(c.get_or_parse(&d, "v=spf1 ip4:192.0.2.0/33").is_err());
        assert_eq!(c.len(), 1);
        // A changed record at the same domain is parsed again and replaces the entry.
        let e = c.get_or_parse(&d, "v=spf1 ip4:192.0.2.0/25 -all").unwrap();
        assert_eq!(e.record.to_string(), "v=spf1 ip4:192.0.2.0/25 -all");
        assert_eq!(c.len(), 1);
        assert_eq!(c, c.clone());
        assert_ne!(c, RecordCache::new());
    }

    #[test]
    fn keyed_fold_hash() {
        let h = KeyedFold::default();
        let hash = |parts: &[&[u8]]| {
            let mut s = h.build_hasher();
            for p in parts {
                s.write(p);
            }
            s.finish()
        };
        let long = b"_netblocks3.provider.example.and.some.more.labels".as_slice();
        assert_eq!(hash(&[long]), hash(&[long]));
        // Any single changed octet (in the first, a middle or the last 16-octet block)
        // changes the hash; so do the order of the octets and where writes split them.
        for i in [0, 7, 8, 15, 16, 31, long.len() - 1] {
            let mut other = long.to_vec();
            other[i] ^= 0x20;
            assert_ne!(hash(&[long]), hash(&[&other]), "octet {i}");
        }
        // Every tail length (whole words, overlapping words, half words, single octets):
        // changing any one octet changes the hash.
        for n in 1..=40 {
            let base = &long[..n];
            for i in 0..n {
                let mut other = base.to_vec();
                other[i] ^= 0x01;
                assert_ne!(hash(&[base]), hash(&[&other]), "length {n}, octet {i}");
            }
        }
        assert_ne!(hash(&[b"ab"]), hash(&[b"ba"]));
        assert_ne!(hash(&[b"ab", b""]), hash(&[b"a", b"b"]));
        assert_ne!(hash(&[b""]), hash(&[b"\0"]));
        // Another cache has another key.
        let k = KeyedFold::default();
        assert_ne!(h.key, k.key);
    }

    #[test]
    fn bounded() {
        let c = RecordCache::new();
        for i in 0..=MAX_CACHED_RECORDS {
            let d = Domain::new(&format!("d{i}.example.com")).unwrap();
            c.get_or_parse(&d, "v=spf1 -all").unwrap();
        }
        assert!(c.len() <= MAX_CACHED_RECORDS);
    }
}
