//! The evaluation trace ([`Trace`]): what `check_host()` evaluated and queried, in order.
//!
//! Recording is cheap: every line is a small fixed-size item that points into tables holding
//! each domain, record and query of the evaluation once (the same tables the evaluation itself
//! uses, handed over at the end), so no name is copied and no text is formatted while
//! evaluating. [`Trace::iter`] gives [`TraceEntry`] views whose `Display` renders a line.

use std::fmt;
use std::sync::Arc;

use mailward_types::Domain;

use crate::dns::{AnswerSummary, DnsQuery, QueryRef};
use crate::record::{Published, SpfRecord, Term};
use crate::result::SpfResult;

/// One line of the evaluation trace, borrowed from a [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent<'a> {
    /// `check_host()` starts for a domain (`via` is `check`, `include` or `redirect`).
    CheckHost {
        /// The `<domain>`.
        domain: &'a Domain,
        /// Why it is evaluated.
        via: &'static str,
    },
    /// A DNS query and its answer class.
    Query {
        /// The query.
        query: QueryRef<'a>,
        /// What came back.
        answer: AnswerSummary,
    },
    /// The record selected for a domain, as published.
    Record {
        /// The record text.
        record: &'a str,
    },
    /// A directive was evaluated.
    Term {
        /// The record holding it.
        record: &'a SpfRecord,
        /// Its index in [`SpfRecord::terms`].
        index: usize,
        /// Whether it matched.
        matched: bool,
    },
    /// No mechanism matched and `redirect=` sends the evaluation to `target`.
    Redirect {
        /// The expanded target domain.
        target: &'a Domain,
    },
    /// An `include` or `redirect` evaluation ended (`via` is `include` or `redirect`).
    Returned {
        /// Why it was evaluated.
        via: &'static str,
        /// The `<domain>` it evaluated.
        domain: &'a Domain,
        /// Its result.
        result: SpfResult,
    },
    /// Anything else worth knowing (limits, ignored explanation, …).
    Note(&'a str),
}

impl fmt::Display for TraceEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CheckHost { domain, via } => write!(f, "check_host({domain}) via {via}"),
            Self::Query { query, answer } => write!(f, "query {query} -> {answer}"),
            Self::Record { record } => write!(f, "record {record:?}"),
            Self::Term {
                record,
                index,
                matched,
            } => {
                let outcome = if *matched { "match" } else { "no match" };
                match record.terms.get(*index) {
                    Some(t) => write!(f, "term {t}: {outcome}"),
                    None => write!(f, "term #{index}: {outcome}"),
                }
            }
            Self::Redirect { target } => write!(f, "redirect to {target}"),
            Self::Returned {
                via,
                domain,
                result,
            } => write!(f, "{via} {domain} returned {result}"),
            Self::Note(n) => f.write_str(n),
        }
    }
}

/// A [`TraceEvent`] with its nesting depth (0 for the checked domain, +1 per include/redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEntry<'a> {
    /// Nesting depth.
    pub depth: usize,
    /// What happened.
    pub event: TraceEvent<'a>,
}

impl fmt::Display for TraceEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for _ in 0..self.depth {
            f.write_str("  ")?;
        }
        self.event.fmt(f)
    }
}

/// Why a `check_host()` frame runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Check,
    Include,
    Redirect,
}

impl Via {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Check => "check",
            Self::Include => "include",
            Self::Redirect => "redirect",
        }
    }
}

/// The class of an answer, stored compactly ([`AnswerSummary`] in the views).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Records(u32),
    NxDomain,
    NoData,
    Timeout,
    ServFail,
    Error,
    Cached,
}

impl Answer {
    pub(crate) fn from_summary(s: AnswerSummary) -> Self {
        match s {
            AnswerSummary::Records(n) => Self::Records(u32::try_from(n).unwrap_or(u32::MAX)),
            AnswerSummary::NxDomain => Self::NxDomain,
            AnswerSummary::NoData => Self::NoData,
            AnswerSummary::Timeout => Self::Timeout,
            AnswerSummary::ServFail => Self::ServFail,
            AnswerSummary::Error => Self::Error,
            AnswerSummary::Cached => Self::Cached,
        }
    }

    fn summary(self) -> AnswerSummary {
        match self {
            // A u32 always fits a usize on the platforms the crate builds for (32/64-bit).
            Self::Records(n) => AnswerSummary::Records(usize::try_from(n).unwrap_or(usize::MAX)),
            Self::NxDomain => AnswerSummary::NxDomain,
            Self::NoData => AnswerSummary::NoData,
            Self::Timeout => AnswerSummary::Timeout,
            Self::ServFail => AnswerSummary::ServFail,
            Self::Error => AnswerSummary::Error,
            Self::Cached => AnswerSummary::Cached,
        }
    }
}

/// One recorded line: indexes into the tables of [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    CheckHost {
        frame: u16,
        via: Via,
    },
    /// A query for a frame's own domain: its record lookup (TXT, RFC 7208 §4.4), or `a` and
    /// `mx` without a domain-spec (§5.3, §5.4).
    FrameQuery {
        frame: u16,
        kind: NameKind,
        answer: Answer,
    },
    /// The A lookup of exchange `index` of the MX answer kept at `list` (with a frame or in
    /// the query table, see [`MxList`]).
    MxHostA {
        list: MxList,
        index: u8,
        answer: Answer,
    },
    /// The AAAA lookup of such an exchange (two variants rather than a flag keep a
    /// [`Line`] at 16 octets).
    MxHostAaaa {
        list: MxList,
        index: u8,
        answer: Answer,
    },
    Query {
        query: u16,
        answer: Answer,
    },
    Record {
        frame: u16,
    },
    Term {
        frame: u16,
        matched: bool,
        index: u32,
    },
    /// `count` directives of the frame's record that did not match, one line each: the first
    /// at term `first`, each next one the next directive (modifiers have no lines). The fast
    /// path's `ip4`/`ip6` terms are recorded so, one item for a whole run.
    TermRun {
        frame: u16,
        first: u32,
        count: u32,
    },
    Redirect {
        frame: u16,
    },
    Returned {
        frame: u16,
        via: Via,
        result: SpfResult,
    },
    Note {
        note: u16,
    },
    Truncated,
}

/// The type of a query for a name (a frame's own domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    Txt,
    A,
    Aaaa,
    Mx,
}

impl NameKind {
    pub(crate) fn of(self, name: &Domain) -> QueryRef<'_> {
        match self {
            Self::Txt => QueryRef::Txt(name),
            Self::A => QueryRef::A(name),
            Self::Aaaa => QueryRef::Aaaa(name),
            Self::Mx => QueryRef::Mx(name),
        }
    }
}

/// An entry of the trace's query table: a query the trace names, or the exchanges of an MX
/// answer whose address lookups the trace names by their place in it (one handle on the
/// answer the evaluation holds anyway, not a copy of each name).
#[derive(Debug, Clone)]
pub(crate) enum TracedQuery {
    Owned(DnsQuery),
    MxHosts(Arc<[Domain]>),
}

impl TracedQuery {
    pub(crate) fn query(&self) -> Option<QueryRef<'_>> {
        match self {
            Self::Owned(q) => Some(q.into()),
            Self::MxHosts(_) => None,
        }
    }
}

/// Equal when they name the same query (or the same exchanges).
impl PartialEq for TracedQuery {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::MxHosts(a), Self::MxHosts(b)) => a == b,
            _ => self.query().is_some() && self.query() == other.query(),
        }
    }
}

impl Eq for TracedQuery {}

/// A recorded line with its depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) depth: u16,
    pub(crate) item: Item,
}

// Sixty lines (the room reserved for a provider-style chain) stay within one small allocation
// that glibc serves from its per-thread cache (up to 1 032 octets); a 24-octet line costs a
// slower allocation on every traced evaluation.
const _: () = assert!(size_of::<Line>() == 16);

impl Line {
    /// How many trace lines it stands for.
    fn width(&self) -> usize {
        match self.item {
            Item::TermRun { count, .. } => usize::try_from(count).unwrap_or(usize::MAX),
            _ => 1,
        }
    }
}

/// A term index as stored in a line, as a `usize`.
fn first_index(first: u32) -> usize {
    usize::try_from(first).unwrap_or(usize::MAX)
}

/// The index of the `k`-th directive (from 0) of `record` at or after term `from`: the lines of
/// a run skip modifiers, as the evaluation does.
fn nth_directive(record: &SpfRecord, from: usize, k: usize) -> Option<usize> {
    record
        .terms
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(_, t)| matches!(t, Term::Directive(_)))
        .nth(k)
        .map(|(i, _)| i)
}

/// One `check_host()` evaluation (the checked domain, an include or a redirect target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrameInfo {
    /// The `<domain>` (a clone shares the name with the record cache's prepared targets).
    pub(crate) domain: Domain,
    /// The selected record as published and its parse, shared with a
    /// [`RecordCache`](crate::RecordCache) entry (moved out while its terms are evaluated, see
    /// `CheckHost::with_record`).
    pub(crate) published: Option<Arc<Published>>,
    /// The text of a selected record that did not parse (kept only when tracing).
    pub(crate) rejected: Option<String>,
    /// The exchanges of the frame's first `mx` term (kept only when tracing), which its address
    /// lookups' lines name by place ([`MxList`]).
    pub(crate) mx_hosts: Option<Arc<[Domain]>>,
}

/// Where an MX answer's exchanges are kept for the trace: with the frame of the `mx` term when
/// it is the frame's first (no allocation), in the query table otherwise
/// ([`TracedQuery::MxHosts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MxList(u16);

impl MxList {
    /// The flag of a query-table index.
    const IN_TABLE: u16 = 0x8000;

    pub(crate) fn of_frame(frame: u16) -> Self {
        Self(frame & !Self::IN_TABLE)
    }

    pub(crate) fn in_table(index: usize) -> Self {
        let i = u16::try_from(index).unwrap_or(u16::MAX) & !Self::IN_TABLE;
        Self(i | Self::IN_TABLE)
    }

    /// The place it names: `Ok(frame)` as made by [`Self::of_frame`], `Err(index)` as made by
    /// [`Self::in_table`].
    fn place(self) -> Result<u16, usize> {
        if self.0 & Self::IN_TABLE == 0 {
            Ok(self.0)
        } else {
            Err(usize::from(self.0 & !Self::IN_TABLE))
        }
    }
}

impl FrameInfo {
    pub(crate) fn record(&self) -> Option<&SpfRecord> {
        self.published.as_deref().map(|p| &p.record)
    }
}

/// What was evaluated and queried during one `check_host()`, in order
/// ([`SpfOutcome::trace`](crate::SpfOutcome::trace)).
///
/// Iterate it (`for e in &outcome.trace`) to get [`TraceEntry`] lines; each renders with
/// `Display`. Empty when the trace was turned off ([`Query::with_trace`](crate::Query::with_trace)).
///
/// # Examples
///
/// ```
/// # use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// # use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};
/// # use mailward_types::Domain;
/// use mailward_spf::{evaluate, Query};
///
/// struct One;
/// impl Resolver for One {
///     async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
///         Ok(Lookup::new(vec![Txt::from("v=spf1 -all")], 300))
///     }
///     async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::NXDOMAIN) }
///     async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::NXDOMAIN) }
///     async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::NXDOMAIN) }
///     async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::NXDOMAIN) }
/// }
///
/// let q = Query::mail_from("192.0.2.7".parse()?, "alice@example.com", "mx.example.com");
/// let outcome = pollster::block_on(evaluate(&One, &q));
/// let lines: Vec<String> = outcome.trace.iter().map(|e| e.to_string()).collect();
/// assert_eq!(
///     lines,
///     [
///         "check_host(example.com) via check",
///         "query TXT example.com -> 1 record",
///         "record \"v=spf1 -all\"",
///         "term -all: match",
///     ]
/// );
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// The number of lines (a [`Item::TermRun`] stands for several).
    pub(crate) len: usize,
    pub(crate) lines: Vec<Line>,
    pub(crate) frames: Frames,
    pub(crate) queries: Vec<TracedQuery>,
    pub(crate) notes: Vec<String>,
}

/// The frame table: the checked domain's frame inline (a check without include or redirect
/// allocates none), the frames of include and redirect targets in a vector. Frame `i` is the
/// `i`-th added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Frames {
    first: Option<FrameInfo>,
    rest: Vec<FrameInfo>,
}

impl Frames {
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&FrameInfo> {
        match i.checked_sub(1) {
            None => self.first.as_ref(),
            Some(j) => self.rest.get(j),
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut FrameInfo> {
        match i.checked_sub(1) {
            None => self.first.as_mut(),
            Some(j) => self.rest.get_mut(j),
        }
    }

    /// Adds a frame; its index.
    pub(crate) fn push(&mut self, frame: FrameInfo) -> usize {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(frame);
            return 0;
        }
        if self.rest.capacity() == 0 {
            // Every include and redirect is counted first: at most MAX_DNS_TERMS more frames.
            self.rest.reserve_exact(crate::MAX_DNS_TERMS as usize);
        }
        self.rest.push(frame);
        self.rest.len()
    }

    /// The checked domain's frame, moved out (the table is not used afterwards).
    pub(crate) fn take_first(&mut self) -> Option<FrameInfo> {
        self.first.take()
    }
}

impl Trace {
    /// The number of lines.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Line `i`, if there is one.
    ///
    /// Runs of non-matching directives are stored as one item each, so this walks the stored
    /// items up to line `i`: linear in the trace's length, which is at most
    /// [`MAX_TRACE_ENTRIES`](crate::MAX_TRACE_ENTRIES) + 1 lines. To read every line, use
    /// [`Self::iter`].
    pub fn get(&self, i: usize) -> Option<TraceEntry<'_>> {
        let mut i = i;
        for line in &self.lines {
            let width = line.width();
            if i < width {
                return Some(match line.item {
                    Item::TermRun { frame, first, .. } => {
                        self.run_view(line.depth, frame, first, i)
                    }
                    item => self.view(Line { item, ..*line }),
                });
            }
            i -= width;
        }
        None
    }

    /// Line `k` of a run of non-matching directives (see [`Item::TermRun`]).
    fn run_view(&self, depth: u16, frame: u16, first: u32, k: usize) -> TraceEntry<'_> {
        TraceEntry {
            depth: usize::from(depth),
            event: self.run_event(frame, first_index(first), k),
        }
    }

    /// The `k`-th line of a run whose directives start at term `from` of `frame`'s record.
    fn run_event(&self, frame: u16, from: usize, k: usize) -> TraceEvent<'_> {
        let record = self
            .frames
            .get(usize::from(frame))
            .and_then(FrameInfo::record);
        match record.and_then(|r| Some((r, nth_directive(r, from, k)?))) {
            Some((record, index)) => TraceEvent::Term {
                record,
                index,
                matched: false,
            },
            None => TraceEvent::Note("(missing trace data)"),
        }
    }

    /// The lines in order.
    pub fn iter(&self) -> TraceIter<'_> {
        TraceIter {
            trace: self,
            lines: self.lines.iter(),
            run: None,
            left: self.len,
        }
    }

    fn view(&self, line: Line) -> TraceEntry<'_> {
        TraceEntry {
            depth: usize::from(line.depth),
            event: self.event(line.item),
        }
    }

    fn event(&self, item: Item) -> TraceEvent<'_> {
        /// Shown for an index that points nowhere (impossible by construction).
        const MISSING: TraceEvent<'static> = TraceEvent::Note("(missing trace data)");
        let frame = |i: u16| self.frames.get(usize::from(i));
        match item {
            Item::CheckHost { frame: i, via } => match frame(i) {
                Some(f) => TraceEvent::CheckHost {
                    domain: &f.domain,
                    via: via.as_str(),
                },
                None => MISSING,
            },
            Item::FrameQuery {
                frame: i,
                kind,
                answer,
            } => match frame(i) {
                Some(f) => TraceEvent::Query {
                    query: kind.of(&f.domain),
                    answer: answer.summary(),
                },
                None => MISSING,
            },
            Item::MxHostA {
                list,
                index,
                answer,
            }
            | Item::MxHostAaaa {
                list,
                index,
                answer,
            } => {
                let v6 = matches!(item, Item::MxHostAaaa { .. });
                let hosts = match list.place() {
                    Ok(f) => frame(f).and_then(|f| f.mx_hosts.as_ref()),
                    Err(q) => match self.queries.get(q) {
                        Some(TracedQuery::MxHosts(hosts)) => Some(hosts),
                        _ => None,
                    },
                };
                let host = hosts.and_then(|h| h.get(usize::from(index)));
                match host {
                    Some(h) => TraceEvent::Query {
                        query: if v6 {
                            QueryRef::Aaaa(h)
                        } else {
                            QueryRef::A(h)
                        },
                        answer: answer.summary(),
                    },
                    None => MISSING,
                }
            }
            Item::Query { query, answer } => {
                match self
                    .queries
                    .get(usize::from(query))
                    .and_then(TracedQuery::query)
                {
                    Some(query) => TraceEvent::Query {
                        query,
                        answer: answer.summary(),
                    },
                    None => MISSING,
                }
            }
            Item::Record { frame: i } => {
                let text = frame(i).and_then(|f| match (&f.published, &f.rejected) {
                    (Some(p), _) => Some(p.text.as_str()),
                    (None, r) => r.as_deref(),
                });
                match text {
                    Some(record) => TraceEvent::Record { record },
                    None => MISSING,
                }
            }
            Item::Term {
                frame: i,
                matched,
                index,
            } => match frame(i).and_then(FrameInfo::record) {
                Some(record) => TraceEvent::Term {
                    record,
                    index: usize::try_from(index).unwrap_or(usize::MAX),
                    matched,
                },
                None => MISSING,
            },
            Item::TermRun {
                frame: i, first, ..
            } => self.run_event(i, first_index(first), 0),
            Item::Redirect { frame: i } => match frame(i) {
                Some(f) => TraceEvent::Redirect { target: &f.domain },
                None => MISSING,
            },
            Item::Returned {
                frame: i,
                via,
                result,
            } => match frame(i) {
                Some(f) => TraceEvent::Returned {
                    via: via.as_str(),
                    domain: &f.domain,
                    result,
                },
                None => MISSING,
            },
            Item::Note { note } => match self.notes.get(usize::from(note)) {
                Some(n) => TraceEvent::Note(n),
                None => MISSING,
            },
            Item::Truncated => TraceEvent::Note("trace truncated"),
        }
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The lines of a [`Trace`], in order.
#[derive(Debug, Clone)]
pub struct TraceIter<'a> {
    trace: &'a Trace,
    lines: std::slice::Iter<'a, Line>,
    /// Within a run: its line (depth, frame), the term index to look from, and the lines left.
    run: Option<(Line, usize, u32)>,
    /// Lines not yet returned.
    left: usize,
}

impl<'a> Iterator for TraceIter<'a> {
    type Item = TraceEntry<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((line, from, left)) = self.run.take()
                && left > 0
                && let Item::TermRun { frame, .. } = line.item
            {
                let event = self.trace.run_event(frame, from, 0);
                // The next line of the run looks from the term after this one.
                let next = match event {
                    TraceEvent::Term { index, .. } => index.saturating_add(1),
                    _ => usize::MAX,
                };
                self.run = Some((line, next, left - 1));
                self.left = self.left.saturating_sub(1);
                return Some(TraceEntry {
                    depth: usize::from(line.depth),
                    event,
                });
            }
            let line = self.lines.next()?;
            match line.item {
                Item::TermRun { first, count, .. } => {
                    self.run = Some((*line, first_index(first), count));
                }
                _ => {
                    self.left = self.left.saturating_sub(1);
                    return Some(self.trace.view(*line));
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for TraceIter<'_> {}

impl<'a> IntoIterator for &'a Trace {
    type Item = TraceEntry<'a>;
    type IntoIter = TraceIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
