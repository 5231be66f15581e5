//! Asking a query: a fresh answer in the [`RecordCache`](crate::RecordCache) is taken at once
//! (traced as `cached`), anything else waits for the resolver; a positive answer the resolver
//! gives is kept in the cache while its TTL lasts.

use super::answer::{AddrList, NormalAnswer};
use super::{CheckHost, Pending, frame_ref};
use crate::cache::{self, AddrKind};
use crate::dns::{DnsQuery, QueryRef};
use crate::trace::{Answer, Item, NameKind, TracedQuery};

impl CheckHost<'_> {
    pub(super) fn query(&mut self, q: DnsQuery) {
        if let Some(ans) = self.cached_answer(QueryRef::from(&q)) {
            // Answered from the cache: the next step takes it as if the resolver had.
            if self.tracing {
                self.trace_query(TracedQuery::Owned(q), Answer::Cached);
            }
            self.answer = Some(ans);
            return;
        }
        self.outgoing = Some(Pending::Query(q));
        self.awaiting = true;
    }

    /// Asks for the addresses of exchange `next` of the MX answer being evaluated
    /// ([`Self::mx_names`]). The name is not copied: the query and its trace line name the
    /// exchange by its place in the answer.
    pub(super) fn query_mx_host(&mut self, next: usize) {
        let v6 = self.ip.is_ipv6();
        let Some(host) = self.mx_names.as_ref().and_then(|h| h.get(next)) else {
            return self.internal_error();
        };
        let q = if v6 {
            QueryRef::Aaaa(host)
        } else {
            QueryRef::A(host)
        };
        match self.cached_answer(q) {
            Some(ans) => {
                if self.tracing {
                    self.trace_mx_host(next, v6, Answer::Cached);
                }
                self.answer = Some(ans);
            }
            None => {
                self.outgoing = Some(Pending::MxHost { index: next, v6 });
                self.awaiting = true;
            }
        }
    }

    /// Asks for `kind` records of the current frame's own domain (`a` or `mx` without a
    /// domain-spec): the name is not copied, the query and its trace line name the frame.
    pub(super) fn query_frame_domain(&mut self, kind: NameKind) {
        let Some(id) = self.stack.last().map(|f| f.id) else {
            return self.internal_error();
        };
        let Some(info) = self.trace.frames.get(id) else {
            return self.internal_error();
        };
        match self.cached_answer(kind.of(&info.domain)) {
            Some(ans) => {
                self.trace(Item::FrameQuery {
                    frame: frame_ref(id),
                    kind,
                    answer: Answer::Cached,
                });
                self.answer = Some(ans);
            }
            None => {
                self.outgoing = Some(Pending::Frame { id, kind });
                self.awaiting = true;
            }
        }
    }

    /// A fresh answer to `q` from the [`RecordCache`] (A, AAAA and MX only), when the query has
    /// a clock reading.
    fn cached_answer(&self, q: QueryRef<'_>) -> Option<NormalAnswer> {
        let cache = self.cache()?;
        let now = self.timestamp;
        match q {
            QueryRef::A(name) => cache
                .addrs_fresh(AddrKind::A, name, now)
                .map(|a| NormalAnswer::Addrs(AddrList::Shared(a))),
            QueryRef::Aaaa(name) => cache
                .addrs_fresh(AddrKind::Aaaa, name, now)
                .map(|a| NormalAnswer::Addrs(AddrList::Shared(a))),
            QueryRef::Mx(name) => cache.mx_fresh(name, now).map(NormalAnswer::Mx),
            QueryRef::Txt(_) | QueryRef::Ptr(_) => None,
        }
    }

    /// Keeps a positive A, AAAA or MX answer to the pending query in the [`RecordCache`] while
    /// its TTL lasts.
    pub(super) fn keep_answer(&self, ans: &NormalAnswer, ttl: u32) {
        let (Some(cache), Some(q)) = (self.cache(), self.pending_query()) else {
            return;
        };
        let fresh = cache::Fresh::at(self.timestamp, ttl);
        if !fresh.is_set() {
            return;
        }
        match (q, ans) {
            (QueryRef::A(name), NormalAnswer::Addrs(a)) => {
                cache.insert_addrs(AddrKind::A, name, a.to_shared(), fresh);
            }
            (QueryRef::Aaaa(name), NormalAnswer::Addrs(a)) => {
                cache.insert_addrs(AddrKind::Aaaa, name, a.to_shared(), fresh);
            }
            (QueryRef::Mx(name), NormalAnswer::Mx(mx)) => cache.insert_mx(name, mx, fresh),
            _ => {}
        }
    }
}
