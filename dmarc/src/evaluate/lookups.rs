//! The DNS lookups of one evaluation: every TXT answer cached, so that the walks for the Author
//! Domain and for the identifiers share their queries (RFC 9989 Appendix B.4.1 reuses a walk
//! the same way), every query recorded, and their number bounded.

use std::collections::HashMap;

use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Resolver, Txt};

use crate::walk::{CompletedWalk, TreeWalk, WalkError, WalkStep};

/// Most DKIM results whose alignment is checked in one evaluation; the rest is ignored. Each
/// check may cost a Tree Walk of up to eight queries (RFC 9989 §4.10), so this bounds the DNS
/// work a message can cause. RFC 6376 sets no limit on signatures; 16 covers real mail.
pub const MAX_DKIM_RESULTS: usize = 16;

/// Every DNS query one evaluation may make: a walk for the Author Domain, one per SPF and DKIM
/// identifier, and the existence query for `np`.
pub const MAX_EVALUATION_QUERIES: usize =
    crate::walk::MAX_WALK_QUERIES * (2 + MAX_DKIM_RESULTS) + 1;

/// One DNS query made during an evaluation, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LoggedQuery {
    /// The name queried.
    pub name: Domain,
    /// `TXT` or `A`.
    pub rtype: &'static str,
    /// `records`, `nxdomain`, `nodata`, `timeout`, `servfail`, ...
    pub outcome: String,
}

/// The old name of [`LoggedQuery`], which reads like `mailward-spf`'s `DnsQuery` (a query the
/// SPF step machine asks for, not one made).
#[deprecated(note = "renamed to `LoggedQuery`")]
pub type DnsQuery = LoggedQuery;

/// A resolver wrapper for one evaluation: it caches TXT answers, records every query and
/// refuses TXT queries beyond [`MAX_EVALUATION_QUERIES`].
pub(super) struct RecordingResolver<'r, R> {
    resolver: &'r R,
    txt_cache: HashMap<Domain, DnsResult<Txt>>,
    queries: Vec<LoggedQuery>,
}

/// How a query ended, as [`LoggedQuery::outcome`] writes it.
fn outcome_token<T>(r: &DnsResult<T>) -> String {
    match r {
        Ok(_) => "records".to_owned(),
        Err(e) => e.as_str().to_ascii_lowercase(),
    }
}

impl<'r, R: Resolver> RecordingResolver<'r, R> {
    pub(super) fn new(resolver: &'r R) -> Self {
        Self {
            resolver,
            txt_cache: HashMap::new(),
            queries: Vec::new(),
        }
    }

    /// Every query made, in order.
    pub(super) fn into_queries(self) -> Vec<LoggedQuery> {
        self.queries
    }

    pub(super) async fn txt(&mut self, name: &Domain) -> DnsResult<Txt> {
        if let Some(hit) = self.txt_cache.get(name) {
            return hit.clone();
        }
        let answer = if self.queries.len() >= MAX_EVALUATION_QUERIES {
            Err(DnsError::ServFail)
        } else {
            let a = self.resolver.txt(name).await;
            self.queries.push(LoggedQuery {
                name: name.clone(),
                rtype: "TXT",
                outcome: outcome_token(&a),
            });
            a
        };
        self.txt_cache.insert(name.clone(), answer.clone());
        answer
    }

    /// Whether `domain` exists: NXDOMAIN means no (RFC 9989 §3.2.13, Appendix A.4: "if any RR
    /// exists for a domain, then the domain exists"), NODATA or records mean yes.
    pub(super) async fn exists(&mut self, domain: &Domain) -> Result<bool, DnsError> {
        let a = self.resolver.a(domain).await;
        self.queries.push(LoggedQuery {
            name: domain.clone(),
            rtype: "A",
            outcome: outcome_token(&a),
        });
        match a {
            Ok(_) => Ok(true),
            Err(e) if e.is_nxdomain() => Ok(false),
            Err(e) if e.is_void() => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Runs a Tree Walk to its end through this resolver.
    pub(super) async fn walk(&mut self, mut walk: TreeWalk) -> Result<CompletedWalk, WalkError> {
        while let WalkStep::Query(name) = walk.step() {
            let answer = self.txt(&name).await;
            walk.answer(answer);
        }
        walk.finish()
    }
}
