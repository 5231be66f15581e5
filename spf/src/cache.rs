//! An opt-in cache of parsed records ([`RecordCache`]), keyed by the domain and the record text.
//!
//! Nothing is cached across evaluations unless the caller hands the same cache to several
//! queries ([`Query::with_record_cache`](crate::Query::with_record_cache)). An entry is found by
//! the domain that published it (a short key, cheap to hash) and used only if its text is the
//! whole published text, so a changed record is parsed again; only successfully parsed records
//! are kept (a syntax error is reported afresh each time).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use mailward_types::Domain;

use crate::record::{ParseError, SpfRecord};

/// The most records a [`RecordCache`] holds; when full it is emptied and starts over. A record
/// is at most one DNS answer (RFC 7208 §3.4 recommends keeping it under 512 octets), so this
/// bounds the cache to a few MiB for realistic records.
pub const MAX_CACHED_RECORDS: usize = 1024;

/// Domain → (record text, parsed record).
type Map = HashMap<Domain, (Box<str>, Arc<SpfRecord>)>;

/// Parsed SPF records shared between evaluations (cheap to clone: clones share the cache).
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

    /// How many records are cached.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every record.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        // A panic elsewhere while holding the lock leaves a consistent map (every operation is a
        // single insert, get or clear), so a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The parsed record for `text` published at `domain`, from the cache or parsed (and then
    /// cached).
    pub(crate) fn get_or_parse(
        &self,
        domain: &Domain,
        text: &str,
    ) -> Result<Arc<SpfRecord>, ParseError> {
        if let Some((t, r)) = self.lock().get(domain)
            && **t == *text
        {
            return Ok(Arc::clone(r));
        }
        let mut parsed = SpfRecord::parse(text)?;
        parsed.prepare_targets();
        let parsed = Arc::new(parsed);
        let mut map = self.lock();
        if map.len() >= MAX_CACHED_RECORDS {
            map.clear();
        }
        map.insert(domain.clone(), (text.into(), Arc::clone(&parsed)));
        Ok(parsed)
    }
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
        assert_eq!(e.to_string(), "v=spf1 ip4:192.0.2.0/25 -all");
        assert_eq!(c.len(), 1);
        assert_eq!(c, c.clone());
        assert_ne!(c, RecordCache::new());
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
