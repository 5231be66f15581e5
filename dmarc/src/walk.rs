//! The DNS Tree Walk ([RFC 9989 §4.10](https://www.rfc-editor.org/rfc/rfc9989#section-4.10))
//! as a sans-I/O step machine, and the Organizational Domain selection of §4.10.2.
//!
//! ```
//! use mailward_dmarc::walk::{TreeWalk, WalkStep};
//! use mailward_types::{Domain, dns::{DnsError, Lookup, Txt}};
//!
//! let mut walk = TreeWalk::new(Domain::new("a.mail.example.com").unwrap());
//! while let WalkStep::Query(name) = walk.step() {
//!     let answer = if name.as_str() == "_dmarc.example.com" {
//!         Ok(Lookup::new(vec![Txt::from("v=DMARC1; p=reject")], 300))
//!     } else {
//!         Err(DnsError::NXDOMAIN)
//!     };
//!     walk.answer(answer);
//! }
//! let done = walk.finish().unwrap();
//! assert_eq!(done.organizational_domain.as_str(), "example.com");
//! assert_eq!(done.queries.len(), 4);
//! ```

use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Txt};

use crate::record::{DmarcRecord, PsdFlag, RecordWarning};

/// "Author Domains with more than eight labels do not result in more than eight DNS queries"
/// (RFC 9989 §4.10).
pub const MAX_WALK_QUERIES: usize = 8;

/// "If x >= 8, remove the left-most (highest-numbered) labels from the subject domain until 7
/// labels remain" (RFC 9989 §4.10 step 4).
pub const SHORTCUT_LABELS: usize = 7;

/// TXT records looked at in one answer; a name with more is treated like any name with several
/// records. Bounds work on hostile answers.
pub const MAX_TXT_RECORDS: usize = 64;

/// A DMARC Policy Record found during a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FoundRecord {
    /// The domain the record applies to (the query name without `_dmarc.`).
    pub domain: Domain,
    /// The TXT data as published (strings concatenated).
    pub text: String,
    /// The parsed record.
    pub record: DmarcRecord,
    /// What the parser ignored.
    pub warnings: Vec<RecordWarning>,
}

/// What one query of the walk returned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "kind"))]
#[non_exhaustive]
pub enum QueryOutcome {
    /// Exactly one DMARC Policy Record.
    Record,
    /// TXT records exist but none starts with `v=DMARC1`.
    NoDmarcRecord,
    /// Several DMARC Policy Records: "they are all discarded" (RFC 9989 §4.10 step 2).
    MultipleRecords {
        /// How many.
        count: usize,
    },
    /// NXDOMAIN.
    #[cfg_attr(feature = "serde", serde(rename = "nxdomain"))]
    NxDomain,
    /// NODATA (the name exists, no TXT).
    #[cfg_attr(feature = "serde", serde(rename = "nodata"))]
    NoData,
    /// The `_dmarc` name would be longer than a DNS name can be; not queried.
    NameTooLong,
    /// A transient or server error: the walk stops with a temporary error.
    Error {
        /// `DnsError::as_str()` of the error.
        error: String,
    },
}

/// One query made by a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct WalkQuery {
    /// The domain whose `_dmarc` name was queried.
    pub domain: Domain,
    /// What came back.
    pub outcome: QueryOutcome,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkStep {
    /// Query TXT at this name (already prefixed with `_dmarc.`), then call
    /// [`TreeWalk::answer`].
    Query(Domain),
    /// The walk is over; call [`TreeWalk::finish`].
    Done,
}

/// A DNS Tree Walk in progress.
#[derive(Debug, Clone)]
pub struct TreeWalk {
    start: Domain,
    /// The domain whose `_dmarc` name is queried next.
    next: Option<Domain>,
    queries: Vec<WalkQuery>,
    found: Vec<FoundRecord>,
    stop_after_first: bool,
    error: Option<DnsError>,
}

/// A finished walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedWalk {
    /// Where the walk started.
    pub start: Domain,
    /// Every query in order (at most [`MAX_WALK_QUERIES`]).
    pub queries: Vec<WalkQuery>,
    /// The single valid records found, longest name first.
    pub found: Vec<FoundRecord>,
    /// The Organizational Domain of `start` by RFC 9989 §4.10.2.
    pub organizational_domain: Domain,
}

/// A walk that could not complete because a query failed (RFC 9989 §5.3.6).
///
/// Displayed as the name that failed; the [`DnsError`] is the [`source`](std::error::Error::source).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("DNS error while querying _dmarc.{domain}")]
#[non_exhaustive]
pub struct WalkError {
    /// The domain whose `_dmarc` name failed.
    pub domain: Domain,
    /// The error.
    #[source]
    pub error: DnsError,
    /// The queries made up to and including the failing one.
    pub queries: Vec<WalkQuery>,
}

impl TreeWalk {
    /// A full walk starting at `start` (for Organizational Domain discovery, §4.10.2).
    pub fn new(start: Domain) -> Self {
        let mut walk = Self {
            next: Some(start.clone()),
            start,
            queries: Vec::new(),
            found: Vec::new(),
            stop_after_first: false,
            error: None,
        };
        walk.skip_unqueryable();
        walk
    }

    /// A walk that stops after the first query if it finds a record there. Policy discovery
    /// (§4.10.1) only walks when the Author Domain has no valid record.
    pub fn new_policy_discovery(author: Domain) -> Self {
        Self {
            stop_after_first: true,
            ..Self::new(author)
        }
    }

    /// The next thing to do.
    pub fn step(&self) -> WalkStep {
        match &self.next {
            Some(d) if self.error.is_none() && self.queries.len() < MAX_WALK_QUERIES => {
                match dmarc_name(d) {
                    Some(name) => WalkStep::Query(name),
                    // Unreachable: answer() skips such names. Stop rather than loop.
                    None => WalkStep::Done,
                }
            }
            _ => WalkStep::Done,
        }
    }

    /// Feeds the answer to the query [`TreeWalk::step`] asked for.
    pub fn answer(&mut self, answer: DnsResult<Txt>) {
        let Some(domain) = self.next.take() else {
            return;
        };
        let outcome = match answer {
            Ok(lookup) => {
                let dmarc: Vec<&Txt> = lookup
                    .iter()
                    .take(MAX_TXT_RECORDS)
                    .filter(|t| DmarcRecord::is_dmarc(&t.concat()))
                    .collect();
                match dmarc.as_slice() {
                    [] if lookup.is_empty() => QueryOutcome::NoData,
                    [] => QueryOutcome::NoDmarcRecord,
                    [one] => {
                        let text = String::from_utf8_lossy(&one.concat()).into_owned();
                        if let Ok((record, warnings)) =
                            DmarcRecord::parse_with_warnings(text.as_bytes())
                        {
                            self.found.push(FoundRecord {
                                domain: domain.clone(),
                                text,
                                record,
                                warnings,
                            });
                        }
                        QueryOutcome::Record
                    }
                    many => QueryOutcome::MultipleRecords { count: many.len() },
                }
            }
            Err(e) if e.is_nxdomain() => QueryOutcome::NxDomain,
            Err(e) if e.is_void() => QueryOutcome::NoData,
            Err(e) => {
                let outcome = QueryOutcome::Error {
                    error: e.as_str().to_ascii_lowercase(),
                };
                self.error = Some(e);
                outcome
            }
        };
        let was_first = self.queries.is_empty();
        let found_here = matches!(outcome, QueryOutcome::Record);
        self.queries.push(WalkQuery {
            domain: domain.clone(),
            outcome,
        });
        if self.error.is_some() {
            return;
        }
        // Steps 2 and 6: "If a single record remains and it contains a "psd=n" or "psd=y"
        // tag, stop."
        if found_here
            && self
                .found
                .last()
                .is_some_and(|f| f.domain == domain && f.record.psd() != PsdFlag::Unknown)
        {
            return;
        }
        if was_first && found_here && self.stop_after_first {
            return;
        }
        self.next = next_target(&domain, was_first);
        self.skip_unqueryable();
    }

    /// A `_dmarc` name over 253 octets cannot exist: record it as not queried and move on
    /// (it still counts against [`MAX_WALK_QUERIES`], so the walk's shape does not change).
    fn skip_unqueryable(&mut self) {
        while let Some(d) = self.next.clone() {
            if dmarc_name(&d).is_some() || self.queries.len() >= MAX_WALK_QUERIES {
                break;
            }
            let was_first = self.queries.is_empty();
            self.queries.push(WalkQuery {
                domain: d.clone(),
                outcome: QueryOutcome::NameTooLong,
            });
            self.next = next_target(&d, was_first);
        }
    }

    /// Ends the walk.
    ///
    /// # Errors
    ///
    /// [`WalkError`] when a query failed with a DNS error other than NXDOMAIN/NODATA.
    pub fn finish(self) -> Result<CompletedWalk, WalkError> {
        if let Some(error) = self.error {
            let domain = self
                .queries
                .last()
                .map_or_else(|| self.start.clone(), |q| q.domain.clone());
            return Err(WalkError {
                domain,
                error,
                queries: self.queries,
            });
        }
        let organizational_domain = select_organizational_domain(&self.start, &self.found);
        Ok(CompletedWalk {
            start: self.start,
            queries: self.queries,
            found: self.found,
            organizational_domain,
        })
    }
}

impl CompletedWalk {
    /// The record found at the start domain, if any.
    pub fn record_at_start(&self) -> Option<&FoundRecord> {
        self.found.iter().find(|f| f.domain == self.start)
    }

    /// The record found at `domain`, if any.
    pub fn record_at(&self, domain: &Domain) -> Option<&FoundRecord> {
        self.found.iter().find(|f| &f.domain == domain)
    }

    /// The record with `psd=y` that is not at the start, if the walk found one.
    pub fn psd_record(&self) -> Option<&FoundRecord> {
        self.found
            .iter()
            .find(|f| f.record.psd() == PsdFlag::Yes && f.domain != self.start)
    }
}

/// `_dmarc.<domain>`, `None` if that is longer than a DNS name may be.
pub fn dmarc_name(domain: &Domain) -> Option<Domain> {
    Domain::new(&format!("_dmarc.{domain}")).ok()
}

/// RFC 9989 §4.10 steps 4 and 7: after the first query, jump to 7 labels if the name has 8 or
/// more; otherwise (and after every later query) drop the left-most label. `None` once no
/// label remains.
fn next_target(current: &Domain, was_first: bool) -> Option<Domain> {
    let x = current.label_count();
    if was_first && x >= 8 {
        current.suffix(SHORTCUT_LABELS)
    } else {
        current.parent()
    }
}

/// RFC 9989 §4.10.2: select the Organizational Domain from the records found (longest name
/// first).
///
/// 1. a record with `psd=n`: its domain;
/// 2. a record other than the one at the start with `psd=y`: the domain one label below it;
/// 3. otherwise the record with the fewest labels;
/// 4. no record: the start domain.
pub fn select_organizational_domain(start: &Domain, found: &[FoundRecord]) -> Domain {
    for f in found {
        match f.record.psd() {
            PsdFlag::No => return f.domain.clone(),
            PsdFlag::Yes if &f.domain != start => {
                if let Some(below) = start.suffix(f.domain.label_count() + 1) {
                    return below;
                }
            }
            _ => {}
        }
    }
    found
        .iter()
        .min_by_key(|f| f.domain.label_count())
        .map_or_else(|| start.clone(), |f| f.domain.clone())
}

#[cfg(test)]
mod tests {
    use mailward_types::dns::Lookup;

    use super::*;

    fn d(s: &str) -> Domain {
        Domain::new(s).unwrap()
    }

    fn run(start: &str, zone: &[(&str, &str)]) -> (Vec<String>, Result<CompletedWalk, WalkError>) {
        let mut walk = TreeWalk::new(d(start));
        let mut asked = Vec::new();
        while let WalkStep::Query(name) = walk.step() {
            asked.push(name.to_string());
            let recs: Vec<Txt> = zone
                .iter()
                .filter(|(n, _)| *n == name.as_str())
                .map(|(_, t)| Txt::from(*t))
                .collect();
            walk.answer(if recs.is_empty() {
                Err(DnsError::NXDOMAIN)
            } else {
                Ok(Lookup::new(recs, 60))
            });
        }
        (asked, walk.finish())
    }

    #[test]
    fn rfc9989_section_4_10_query_list() {
        let (asked, _) = run("a.b.c.d.e.f.g.h.i.j.mail.example.com", &[]);
        assert_eq!(
            asked,
            [
                "_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com",
                "_dmarc.g.h.i.j.mail.example.com",
                "_dmarc.h.i.j.mail.example.com",
                "_dmarc.i.j.mail.example.com",
                "_dmarc.j.mail.example.com",
                "_dmarc.mail.example.com",
                "_dmarc.example.com",
                "_dmarc.com",
            ]
        );
    }

    #[test]
    fn eight_labels_walk_one_by_one() {
        let (asked, _) = run("a.b.c.d.e.f.example.com", &[]);
        assert_eq!(asked.len(), 8);
        assert_eq!(asked[1], "_dmarc.b.c.d.e.f.example.com");
    }

    #[test]
    fn org_domain_rules() {
        // §4.10.2 examples.
        let (_, w) = run(
            "a.mail.example.com",
            &[
                ("_dmarc.mail.example.com", "v=DMARC1; p=none"),
                ("_dmarc.example.com", "v=DMARC1; p=none"),
            ],
        );
        assert_eq!(w.unwrap().organizational_domain.as_str(), "example.com");
        let (asked, w) = run(
            "a.mail.example.com",
            &[
                ("_dmarc.mail.example.com", "v=DMARC1; p=none; psd=n"),
                ("_dmarc.example.com", "v=DMARC1; p=none"),
            ],
        );
        assert_eq!(asked.len(), 2, "psd=n stops the walk");
        assert_eq!(
            w.unwrap().organizational_domain.as_str(),
            "mail.example.com"
        );
        let (_, w) = run(
            "a.mail.example.com",
            &[("_dmarc.com", "v=DMARC1; p=none; psd=y")],
        );
        assert_eq!(w.unwrap().organizational_domain.as_str(), "example.com");
        let (_, w) = run("a.mail.example.com", &[]);
        assert_eq!(
            w.unwrap().organizational_domain.as_str(),
            "a.mail.example.com"
        );
    }

    #[test]
    fn psd_y_at_start_is_its_own_org_domain() {
        let (asked, w) = run(
            "bank.example",
            &[("_dmarc.bank.example", "v=DMARC1; p=none; psd=y")],
        );
        assert_eq!(asked.len(), 1);
        assert_eq!(w.unwrap().organizational_domain.as_str(), "bank.example");
    }

    #[test]
    fn multiple_records_are_discarded() {
        let (asked, w) = run(
            "mail.example.com",
            &[
                ("_dmarc.mail.example.com", "v=DMARC1; p=reject; psd=n"),
                ("_dmarc.mail.example.com", "v=DMARC1; p=none"),
                ("_dmarc.mail.example.com", "not dmarc"),
            ],
        );
        let w = w.unwrap();
        assert_eq!(asked.len(), 3);
        assert_eq!(
            w.queries[0].outcome,
            QueryOutcome::MultipleRecords { count: 2 }
        );
        assert!(w.found.is_empty());
        assert_eq!(w.organizational_domain.as_str(), "mail.example.com");
    }

    #[test]
    fn errors_stop_the_walk() {
        let mut walk = TreeWalk::new(d("a.example.com"));
        walk.answer(Err(DnsError::NXDOMAIN));
        walk.answer(Err(DnsError::Timeout));
        assert_eq!(walk.step(), WalkStep::Done);
        let e = walk.finish().unwrap_err();
        assert_eq!(e.domain.as_str(), "example.com");
        assert_eq!(e.queries.len(), 2);
        // The message names the query; the DNS error is the source, printed once in a chain.
        assert_eq!(e.to_string(), "DNS error while querying _dmarc.example.com");
        let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<DnsError>());
        assert_eq!(source, Some(&DnsError::Timeout));
    }

    #[test]
    fn policy_discovery_walk_stops_at_author_record() {
        let mut walk = TreeWalk::new_policy_discovery(d("a.example.com"));
        walk.answer(Ok(Lookup::new(vec![Txt::from("v=DMARC1; p=none")], 1)));
        assert_eq!(walk.step(), WalkStep::Done);
    }
}
