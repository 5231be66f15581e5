//! `check_host()` ([RFC 7208 §4](https://www.rfc-editor.org/rfc/rfc7208#section-4)) as a sans-I/O
//! step machine, and the async driver [`evaluate`].

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use mailward_types::Domain;
use mailward_types::dns::{DnsError, DnsResult, Mx, Resolver, Txt};

use crate::cache::{self, AddrKind, MxHosts, RecordCache};
use crate::dns::{AnswerSummary, DnsAnswer, DnsQuery, QueryRef};
use crate::error::ParseError;
use crate::macros::{MacroContext, MacroLetter, MacroString};
use crate::outcome::SpfOutcome;
use crate::query::Query;
use crate::record::{Directive, DualCidr, Mechanism, SpfRecord, Term, v4_in, v6_in};
use crate::render::write_directive;
use crate::result::SpfResult;
use crate::target::{check_domain, check_host_domain, literal_target, target_name};
use crate::trace::{
    Answer, FrameDomain, FrameInfo, Item, Line, Rec, RecText, Trace, TracedQuery, Via,
};

/// RFC 7208 §4.6.4: "SPF implementations MUST limit the total number of those terms to 10".
pub const MAX_DNS_TERMS: u32 = 10;

/// RFC 7208 §4.6.4: "SPF implementations SHOULD limit "void lookups" to two".
pub const MAX_VOID_LOOKUPS: u32 = 2;

/// RFC 7208 §4.6.4: "the evaluation of each "MX" record MUST NOT result in querying more than
/// 10 address records".
pub const MAX_MX_NAMES: usize = 10;

/// RFC 7208 §4.6.4: for PTR, "all records other than the first 10 MUST be ignored".
pub const MAX_PTR_NAMES: usize = 10;

/// Entries kept in [`SpfOutcome::trace`]; a record with thousands of `ip4` terms cannot make the
/// trace grow without bound.
pub const MAX_TRACE_ENTRIES: usize = 512;

/// What the step machine wants next.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Step {
    /// Answer this query with [`CheckHost::answer`], then call [`CheckHost::next`] again.
    Query(DnsQuery),
    /// The evaluation is over.
    Done(SpfOutcome),
}

/// Runs `check_host()` to completion over `resolver`.
///
/// # Examples
///
/// ```
/// # use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// # use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};
/// # use mailward_types::Domain;
/// use mailward_spf::{evaluate, Query, SpfResult};
///
/// struct One;
/// impl Resolver for One {
///     async fn txt(&self, name: &Domain) -> DnsResult<Txt> {
///         match name.as_str() {
///             "example.com" => Ok(Lookup::new(vec![Txt::from("v=spf1 ip4:192.0.2.0/24 -all")], 300)),
///             _ => Err(DnsError::NXDOMAIN),
///         }
///     }
///     async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::NXDOMAIN) }
///     async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::NXDOMAIN) }
///     async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::NXDOMAIN) }
///     async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::NXDOMAIN) }
/// }
///
/// let q = Query::mail_from("192.0.2.7".parse()?, "alice@example.com", "mx.example.com");
/// let outcome = pollster::block_on(evaluate(&One, &q));
/// assert_eq!(outcome.result, SpfResult::Pass);
/// assert_eq!(outcome.mechanism.as_deref(), Some("ip4:192.0.2.0/24"));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub async fn evaluate<R: Resolver + ?Sized>(resolver: &R, query: &Query) -> SpfOutcome {
    let mut machine = CheckHost::new(query);
    loop {
        // The pending query is read in place (`next()` would hand out a clone per query).
        machine.run();
        // The machine is dropped after this: the outcome is moved out, with no copy kept for
        // later `next()` calls.
        if machine.finished {
            return machine.take_outcome();
        }
        if machine.outgoing.is_none() {
            match machine.next() {
                Step::Done(outcome) => return outcome,
                // `next()` only returns a query that is also pending: the next turn uses it.
                Step::Query(_) => continue,
            }
        }
        let answer = match machine.pending_query() {
            Some(QueryRef::Txt(d)) => DnsAnswer::Txt(resolver.txt(d).await),
            Some(QueryRef::A(d)) => DnsAnswer::A(resolver.a(d).await),
            Some(QueryRef::Aaaa(d)) => DnsAnswer::Aaaa(resolver.aaaa(d).await),
            Some(QueryRef::Mx(d)) => DnsAnswer::Mx(resolver.mx(d).await),
            Some(QueryRef::Ptr(ip)) => DnsAnswer::Ptr(resolver.ptr(ip).await),
            // Unreachable by construction (a pending query always names a known frame).
            None => DnsAnswer::Txt(Err(DnsError::other(MismatchedAnswer))),
        };
        machine.answer(answer);
    }
}

/// An MX answer as evaluation uses it: the exchanges by preference (a stable sort: equal
/// preferences keep the answer's order), without the null MX of RFC 7505 (`MX 0 .`), whose root
/// has no address to look up; the answer's size is kept for the limit of RFC 7208 §4.6.4.
fn mx_hosts(mut mxs: Vec<Mx>) -> MxHosts {
    let count = mxs.len();
    mxs.sort_by_key(|m| m.preference);
    MxHosts {
        count,
        hosts: mxs.into_iter().filter_map(|m| m.exchange).collect(),
    }
}

/// The TTL of a positive answer (0 for an error).
fn answer_ttl(answer: &DnsAnswer) -> u32 {
    match answer {
        DnsAnswer::Txt(Ok(l)) => l.ttl,
        DnsAnswer::A(Ok(l)) => l.ttl,
        DnsAnswer::Aaaa(Ok(l)) => l.ttl,
        DnsAnswer::Mx(Ok(l)) => l.ttl,
        DnsAnswer::Ptr(Ok(l)) => l.ttl,
        _ => 0,
    }
}

/// Why an answer could not be used: the caller answered a different query type.
#[derive(Debug, thiserror::Error)]
#[error("the answer does not match the query")]
struct MismatchedAnswer;

/// An answer, normalised.
#[derive(Debug)]
enum Ans {
    /// The records and their TTL.
    Txt(Vec<Txt>, u32),
    Addrs(Arc<[IpAddr]>),
    Mx(MxHosts),
    Ptr(Vec<Domain>),
    /// NXDOMAIN or NODATA (or an empty record list).
    Void(DnsError),
    /// Timeout, SERVFAIL, anything else.
    Error(DnsError),
}

impl Ans {
    fn from(query: QueryRef<'_>, answer: DnsAnswer) -> Self {
        fn norm<T>(r: DnsResult<T>, f: impl FnOnce(Vec<T>) -> Ans) -> Ans {
            match r {
                Ok(l) if l.records.is_empty() => Ans::Void(DnsError::NODATA),
                Ok(l) => f(l.records),
                Err(e) if e.is_void() => Ans::Void(e),
                Err(e) => Ans::Error(e),
            }
        }
        match (query, answer) {
            (QueryRef::Txt(_), DnsAnswer::Txt(r)) => {
                let ttl = r.as_ref().map_or(0, |l| l.ttl);
                norm(r, |v| Self::Txt(v, ttl))
            }
            (QueryRef::A(_), DnsAnswer::A(r)) => {
                norm(r, |v| Self::Addrs(v.into_iter().map(IpAddr::V4).collect()))
            }
            (QueryRef::Aaaa(_), DnsAnswer::Aaaa(r)) => {
                norm(r, |v| Self::Addrs(v.into_iter().map(IpAddr::V6).collect()))
            }
            (QueryRef::Mx(_), DnsAnswer::Mx(r)) => norm(r, |v| Self::Mx(mx_hosts(v))),
            (QueryRef::Ptr(_), DnsAnswer::Ptr(r)) => norm(r, Ans::Ptr),
            _ => Self::Error(DnsError::other(MismatchedAnswer)),
        }
    }

    fn summary(&self) -> AnswerSummary {
        match self {
            Self::Txt(v, _) => AnswerSummary::Records(v.len()),
            Self::Addrs(v) => AnswerSummary::Records(v.len()),
            Self::Mx(v) => AnswerSummary::Records(v.count),
            Self::Ptr(v) => AnswerSummary::Records(v.len()),
            Self::Void(e) | Self::Error(e) => match e {
                DnsError::NxDomain { .. } => AnswerSummary::NxDomain,
                DnsError::NoData { .. } => AnswerSummary::NoData,
                DnsError::Timeout => AnswerSummary::Timeout,
                DnsError::ServFail => AnswerSummary::ServFail,
                _ => AnswerSummary::Error,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Top,
    Include,
    Redirect,
}

impl FrameKind {
    fn as_str(self) -> &'static str {
        self.via().as_str()
    }

    fn via(self) -> Via {
        match self {
            Self::Top => Via::Check,
            Self::Include => Via::Include,
            Self::Redirect => Via::Redirect,
        }
    }
}

/// The query the machine waits for.
#[derive(Debug)]
enum Pending {
    /// TXT of a frame's own domain (the record lookup): the name stays in the frame table.
    FrameTxt(usize),
    /// Any other query.
    Query(DnsQuery),
}

// Copy: no drop glue, so replacing a frame's phase is a plain store.
#[derive(Debug, Clone, Copy)]
enum Phase {
    FetchRecord,
    AwaitRecord,
    Terms,
    AwaitA(DualCidr),
    AwaitExists,
    AwaitMx(DualCidr),
    /// The exchanges are in [`CheckHost::mx_names`] (one `mx` at a time: it pushes no frame).
    MxHosts {
        next: usize,
        cidr: DualCidr,
    },
    AwaitMxHost {
        next: usize,
        cidr: DualCidr,
    },
    AwaitInclude,
    Redirect,
    AwaitRedirect,
}

/// One (possibly recursive) `check_host()` evaluation.
#[derive(Debug)]
struct Frame {
    /// Index of the frame's entry (its domain, …) in the frame table ([`Trace::frames`]).
    id: usize,
    kind: FrameKind,
    /// This frame or an ancestor is an include: its matches and `exp=` do not decide the
    /// outcome's mechanism and explanation (RFC 7208 §6.2).
    in_include: bool,
    term: usize,
    /// The current DNS term was already counted (set again after %{p} processing resumes).
    counted: bool,
    phase: Phase,
    child_result: Option<SpfResult>,
}

/// The validated names of the client address (RFC 7208 §5.5), shared by `ptr` and `%{p}`.
#[derive(Debug, Clone, Default)]
struct PtrNames {
    validated: Vec<Domain>,
    /// The PTR lookup was NXDOMAIN/NODATA.
    void: bool,
}

#[derive(Debug)]
enum PtrProc {
    Start,
    AwaitPtr,
    Validate {
        names: Vec<Domain>,
        next: usize,
        validated: Vec<Domain>,
        awaiting: bool,
    },
}

#[derive(Debug)]
enum ExpPhase {
    Start,
    AwaitTxt,
    Expand(MacroString),
}

#[derive(Debug)]
struct ExpState {
    spec: MacroString,
    domain: Domain,
    phase: ExpPhase,
}

/// `check_host()` as a step machine (STYLE §3): call [`next`](Self::next), answer each
/// [`Step::Query`] with [`answer`](Self::answer), until [`Step::Done`].
///
/// All limits of RFC 7208 §4.6.4 are enforced here, whatever drives the machine.
///
/// # Examples
///
/// ```
/// use mailward_spf::{CheckHost, DnsAnswer, DnsQuery, Query, SpfResult, Step};
/// use mailward_types::dns::{Lookup, Txt};
///
/// let q = Query::mail_from("192.0.2.1".parse()?, "a@example.com", "mx.example.com");
/// let mut m = CheckHost::new(&q);
/// let outcome = loop {
///     match m.next() {
///         Step::Query(DnsQuery::Txt(_)) => {
///             m.answer(DnsAnswer::Txt(Ok(Lookup::new(vec![Txt::from("v=spf1 -all")], 60))))
///         }
///         Step::Query(other) => panic!("unexpected {other}"),
///         Step::Done(o) => break o,
///         _ => unreachable!(),
///     }
/// };
/// assert_eq!(outcome.result, SpfResult::Fail);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug)]
pub struct CheckHost {
    ip: IpAddr,
    /// The local-part, the sender's domain and the HELO name, one after the other in one
    /// allocation (see [`Idents`]).
    idents: Idents,
    receiver: Option<String>,
    timestamp: u64,
    stack: Vec<Frame>,
    lookups: u32,
    voids: u32,
    // Boxed, as is `exp`: rarely used, and the machine (moved with the `evaluate` future) stays
    // small.
    ptr_names: Option<Box<PtrNames>>,
    ptr_proc: Option<Box<PtrProc>>,
    /// The exchanges of the `mx` being evaluated, by preference (see [`Phase::MxHosts`]); shared
    /// with a [`RecordCache`] that holds the answer.
    mx_names: Option<Arc<[Domain]>>,
    exp: Option<Box<ExpState>>,
    outgoing: Option<Pending>,
    awaiting: bool,
    answer: Option<Ans>,
    /// The outcome is known (its parts are the fields below); set by `finalize`.
    finished: bool,
    result: Option<SpfResult>,
    mechanism: Option<String>,
    explanation: Option<String>,
    problem: Option<String>,
    domain: Option<Domain>,
    tracing: bool,
    /// The trace lines and the frame table (the domain of every frame, kept also when the
    /// trace is off: frames refer to it by index).
    trace: Trace,
    cache: Option<RecordCache>,
}

/// The identities a check needs for macros (`%{l}`, `%{o}`, `%{h}`), kept in one string.
#[derive(Debug)]
struct Idents {
    text: String,
    /// End of the local-part, end of the sender's domain (the HELO name follows).
    ends: (usize, usize),
}

impl Idents {
    fn new(local: &str, domain: &str, helo: &str) -> Self {
        let mut text = String::with_capacity(local.len() + domain.len() + helo.len());
        text.push_str(local);
        text.push_str(domain);
        text.push_str(helo);
        Self {
            text,
            ends: (local.len(), local.len() + domain.len()),
        }
    }

    fn local_part(&self) -> &str {
        self.text.get(..self.ends.0).unwrap_or_default()
    }

    fn sender_domain(&self) -> &str {
        self.text.get(self.ends.0..self.ends.1).unwrap_or_default()
    }

    fn helo(&self) -> &str {
        self.text.get(self.ends.1..).unwrap_or_default()
    }
}

impl CheckHost {
    /// Starts `check_host()` for the identity in `query` (RFC 7208 §4.1, §4.3).
    pub fn new(query: &Query) -> Self {
        let (local, sdomain) = query.sender_parts();
        let mut m = Self {
            ip: query.client_ip(),
            idents: Idents::new(local, sdomain, &query.helo),
            receiver: query.receiver.clone(),
            timestamp: query.timestamp,
            // Every include and redirect is counted first: at most 1 + MAX_DNS_TERMS frames
            // (one allocation instead of regrowing while a chain nests).
            stack: Vec::with_capacity(1 + MAX_DNS_TERMS as usize),
            lookups: 0,
            voids: 0,
            ptr_names: None,
            ptr_proc: None,
            mx_names: None,
            exp: None,
            outgoing: None,
            awaiting: false,
            answer: None,
            finished: false,
            result: None,
            mechanism: None,
            explanation: None,
            problem: None,
            domain: None,
            tracing: query.trace,
            trace: Trace {
                // Room for a provider-style chain (5 records, ~50 lines) in one small block.
                lines: Vec::with_capacity(if query.trace { 60 } else { 0 }),
                // Every include and redirect is counted first: at most 1 + MAX_DNS_TERMS frames.
                frames: Vec::with_capacity(1 + MAX_DNS_TERMS as usize),
                queries: Vec::new(),
                notes: Vec::new(),
            },
            cache: query.record_cache.clone(),
        };
        match check_host_domain(sdomain) {
            Ok(d) => {
                m.domain = Some(d.clone());
                let id = m.add_frame(FrameDomain::Owned(d));
                m.push_frame(id, FrameKind::Top, false);
            }
            // RFC 7208 §4.3: "If the <domain> is malformed … check_host() immediately returns
            // the result "none"."
            Err(why) => m.conclude(SpfResult::None, Some(why)),
        }
        m
    }

    /// What the machine needs next: a DNS query, or the outcome.
    ///
    /// After [`Step::Done`] every call returns `Done` again with the same result; the trace is
    /// handed out with the first `Done` only.
    // STYLE §3 names the step function `next()`; the machine is not an iterator (it needs
    // `answer()` between steps), so the clash with `Iterator::next` is deliberate.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Step {
        self.run();
        if self.finished {
            return self.hand_out();
        }
        match self.pending_query() {
            Some(q) => Step::Query(q.to_query()),
            // Unreachable by construction (run() stops only with a query or a result); a
            // temperror is the safe answer should it ever happen.
            None => {
                self.conclude(SpfResult::TempError, Some("internal: no progress".into()));
                self.finalize();
                self.hand_out()
            }
        }
    }

    /// `Done` with the outcome (a copy: later calls get the same outcome) and the trace
    /// attached to the first one only.
    fn hand_out(&mut self) -> Step {
        let outcome = self.take_outcome();
        // Kept for later calls (the trace is not).
        self.explanation.clone_from(&outcome.explanation);
        self.mechanism.clone_from(&outcome.mechanism);
        self.problem.clone_from(&outcome.problem);
        self.domain.clone_from(&outcome.domain);
        Step::Done(outcome)
    }

    /// Gives the answer to the query last returned by [`next`](Self::next). An answer of the
    /// wrong type counts as a DNS error; an answer when none is expected is ignored.
    pub fn answer(&mut self, answer: DnsAnswer) {
        if !self.awaiting {
            return;
        }
        self.awaiting = false;
        let Some(q) = self.pending_query() else {
            self.outgoing = None;
            return self.temperror(&DnsError::other(MismatchedAnswer));
        };
        let ttl = answer_ttl(&answer);
        let ans = Ans::from(q, answer);
        self.keep_answer(&ans, ttl);
        if self.tracing {
            let answer = Answer::from_summary(ans.summary());
            match self.outgoing.take() {
                Some(Pending::FrameTxt(id)) => self.trace(Item::FrameTxt {
                    frame: frame_ref(id),
                    answer,
                }),
                Some(Pending::Query(q)) => self.trace_query(TracedQuery::Owned(q), answer),
                None => {}
            }
        }
        self.outgoing = None;
        self.answer = Some(ans);
    }

    /// Traces a query other than a record lookup, with its answer.
    fn trace_query(&mut self, q: TracedQuery, answer: Answer) {
        if self.trace_has_room() {
            let query = u16::try_from(self.trace.queries.len()).unwrap_or(u16::MAX);
            self.trace.queries.push(q);
            self.trace(Item::Query { query, answer });
        } else {
            // Only the truncation line is added.
            self.trace(Item::Truncated);
        }
    }

    fn run(&mut self) {
        // Each step either issues a query, consumes an answer, advances a term or pops a frame;
        // the terms and queries are bounded (§4.6.4 limits, record length), so this ends.
        while !self.finished && !self.awaiting {
            self.step();
        }
    }

    fn depth(&self) -> usize {
        self.stack.len().saturating_sub(1)
    }

    /// The query waiting for an answer, borrowed.
    fn pending_query(&self) -> Option<QueryRef<'_>> {
        match self.outgoing.as_ref()? {
            Pending::FrameTxt(id) => Some(QueryRef::Txt(&self.trace.frames.get(*id)?.domain)),
            Pending::Query(q) => Some(q.into()),
        }
    }

    fn trace_has_room(&self) -> bool {
        self.tracing && self.trace.lines.len() < MAX_TRACE_ENTRIES
    }

    fn trace(&mut self, item: Item) {
        if !self.tracing {
            return;
        }
        let depth = u16::try_from(self.depth()).unwrap_or(u16::MAX);
        self.push_line(depth, item);
    }

    /// Adds a trace line at `depth` (tracing is on), or the truncation line once the trace is
    /// full.
    #[inline]
    fn push_line(&mut self, depth: u16, item: Item) {
        let len = self.trace.lines.len();
        if len < MAX_TRACE_ENTRIES {
            self.trace.lines.push(Line { depth, item });
        } else if len == MAX_TRACE_ENTRIES {
            self.trace.lines.push(Line {
                depth: 0,
                item: Item::Truncated,
            });
        }
    }

    fn note(&mut self, s: impl Into<String>) {
        if self.trace_has_room() {
            let note = u16::try_from(self.trace.notes.len()).unwrap_or(u16::MAX);
            self.trace.notes.push(s.into());
            self.trace(Item::Note { note });
        } else if self.tracing {
            // Only the truncation line is added.
            self.trace(Item::Truncated);
        }
    }

    fn query(&mut self, q: DnsQuery) {
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

    /// Asks for the addresses of the `next` exchange in `hosts`. The name is copied only when
    /// it must go to the resolver: a cached answer is traced by its place in the list.
    fn query_mx_host(&mut self, hosts: &Arc<[Domain]>, next: usize) {
        let Some(host) = hosts.get(next) else {
            return self.stuck();
        };
        let v6 = self.ip.is_ipv6();
        let q = if v6 {
            QueryRef::Aaaa(host)
        } else {
            QueryRef::A(host)
        };
        match self.cached_answer(q) {
            Some(ans) => {
                if self.tracing {
                    let hosts = Arc::clone(hosts);
                    let traced = TracedQuery::MxHost {
                        hosts,
                        index: next,
                        v6,
                    };
                    self.trace_query(traced, Answer::Cached);
                }
                self.answer = Some(ans);
            }
            None => self.query(q.to_query()),
        }
    }

    /// A fresh answer to `q` from the [`RecordCache`] (A, AAAA and MX only), when the query has
    /// a clock reading.
    fn cached_answer(&self, q: QueryRef<'_>) -> Option<Ans> {
        let cache = self.cache.as_ref()?;
        let now = self.timestamp;
        match q {
            QueryRef::A(name) => cache.addrs_fresh(AddrKind::A, name, now).map(Ans::Addrs),
            QueryRef::Aaaa(name) => cache.addrs_fresh(AddrKind::Aaaa, name, now).map(Ans::Addrs),
            QueryRef::Mx(name) => cache.mx_fresh(name, now).map(Ans::Mx),
            QueryRef::Txt(_) | QueryRef::Ptr(_) => None,
        }
    }

    /// Keeps a positive A, AAAA or MX answer to the pending query in the [`RecordCache`] while
    /// its TTL lasts.
    fn keep_answer(&self, ans: &Ans, ttl: u32) {
        let (Some(cache), Some(Pending::Query(q))) = (self.cache.as_ref(), self.outgoing.as_ref())
        else {
            return;
        };
        let fresh = cache::Fresh::at(self.timestamp, ttl);
        match (q, ans) {
            (DnsQuery::A(name), Ans::Addrs(a)) => cache.insert_addrs(AddrKind::A, name, a, fresh),
            (DnsQuery::Aaaa(name), Ans::Addrs(a)) => {
                cache.insert_addrs(AddrKind::Aaaa, name, a, fresh);
            }
            (DnsQuery::Mx(name), Ans::Mx(mx)) => cache.insert_mx(name, mx, fresh),
            _ => {}
        }
    }

    /// Adds `domain` to the frame table; its index.
    fn add_frame(&mut self, domain: FrameDomain) -> usize {
        // At most 1 + MAX_DNS_TERMS frames: every include and redirect is counted first.
        self.trace.frames.push(FrameInfo {
            domain,
            text: None,
            record: None,
        });
        self.trace.frames.len() - 1
    }

    fn push_frame(&mut self, id: usize, kind: FrameKind, in_include: bool) {
        self.stack.push(Frame {
            id,
            kind,
            in_include,
            term: 0,
            counted: false,
            phase: Phase::FetchRecord,
            child_result: None,
        });
        // Traced after the push: the line's depth is the new frame's.
        self.trace(Item::CheckHost {
            frame: frame_ref(id),
            via: kind.via(),
        });
    }

    /// Sets the final result; the explanation may still be fetched.
    fn conclude(&mut self, result: SpfResult, problem: Option<String>) {
        if let Some(p) = &problem {
            self.note(format!("{result}: {p}"));
        }
        self.result = Some(result);
        self.problem = problem;
        self.stack.clear();
        if result != SpfResult::Fail {
            self.exp = None;
        }
        if self.exp.is_none() {
            self.finalize();
        }
    }

    fn finalize(&mut self) {
        self.stack.clear();
        self.exp = None;
        self.ptr_proc = None;
        // The outcome is built when it is handed out, after the step that concluded (which may
        // hold a record out of the frame table, see `with_record`) has ended.
        self.finished = true;
    }

    /// The outcome, its parts and the trace moved out of the machine.
    fn take_outcome(&mut self) -> SpfOutcome {
        SpfOutcome {
            result: self.result.unwrap_or(SpfResult::TempError),
            explanation: self.explanation.take(),
            mechanism: self.mechanism.take(),
            problem: self.problem.take(),
            domain: self.domain.take(),
            lookups: self.lookups,
            void_lookups: self.voids,
            trace: if self.tracing {
                std::mem::take(&mut self.trace)
            } else {
                Trace::default()
            },
        }
    }

    fn macro_ctx<'a>(&'a self, domain: &'a str) -> MacroContext<'a> {
        MacroContext {
            ip: self.ip,
            local_part: self.idents.local_part(),
            sender_domain: self.idents.sender_domain(),
            domain,
            helo: self.idents.helo(),
            validated_domain: self.p_value(domain),
            receiver: self.receiver.as_deref(),
            timestamp: self.timestamp,
        }
    }

    /// RFC 7208 §7.3: "If the <domain> is present in the list of validated domains, it SHOULD be
    /// used. Otherwise, if a subdomain of the <domain> is present, it SHOULD be used. Otherwise,
    /// any name from the list can be used."
    fn p_value(&self, domain: &str) -> Option<&str> {
        let names = &self.ptr_names.as_ref()?.validated;
        let d = Domain::new(domain).ok();
        let exact = names.iter().find(|n| Some(*n) == d.as_ref());
        let sub = d
            .as_ref()
            .and_then(|d| names.iter().find(|n| n.is_subdomain_of(d)));
        exact.or(sub).or(names.first()).map(Domain::as_str)
    }

    /// Whether expanding `spec` needs the validated names first (a `%{p}` not yet resolved);
    /// if so the PTR procedure is started.
    fn needs_ptr(&mut self, spec: Option<&MacroString>) -> bool {
        if spec.is_some_and(|s| s.uses(MacroLetter::ValidatedDomain)) && self.ptr_names.is_none() {
            self.ptr_proc = Some(Box::new(PtrProc::Start));
            true
        } else {
            false
        }
    }

    fn count_void(&mut self) -> bool {
        self.voids += 1;
        if self.voids > MAX_VOID_LOOKUPS {
            // RFC 7208 §4.6.4: "Exceeding the limit produces a "permerror" result."
            self.conclude(
                SpfResult::PermError,
                Some(format!(
                    "more than {MAX_VOID_LOOKUPS} void lookups (RFC 7208 section 4.6.4)"
                )),
            );
            return false;
        }
        true
    }

    fn step(&mut self) {
        if self.ptr_proc.is_some() {
            self.step_ptr();
        } else if !self.stack.is_empty() {
            self.step_frame();
        } else if self.exp.is_some() {
            self.step_exp();
        } else {
            if self.result.is_none() {
                self.result = Some(SpfResult::TempError);
            }
            self.finalize();
        }
    }

    // -----------------------------------------------------------------------------------------
    // The PTR procedure of RFC 7208 §5.5, shared by "ptr" and %{p}.

    fn step_ptr(&mut self) {
        let Some(proc) = self.ptr_proc.take() else {
            return;
        };
        match *proc {
            PtrProc::Start => {
                self.query(DnsQuery::Ptr(self.ip));
                self.ptr_proc = Some(Box::new(PtrProc::AwaitPtr));
            }
            PtrProc::AwaitPtr => match self.answer.take() {
                Some(Ans::Ptr(mut names)) => {
                    // RFC 7208 §4.6.4: "all records other than the first 10 MUST be ignored".
                    if names.len() > MAX_PTR_NAMES {
                        self.note(format!(
                            "{} PTR names, only the first {MAX_PTR_NAMES} are used",
                            names.len()
                        ));
                        names.truncate(MAX_PTR_NAMES);
                    }
                    self.ptr_proc = Some(Box::new(PtrProc::Validate {
                        names,
                        next: 0,
                        validated: Vec::new(),
                        awaiting: false,
                    }));
                }
                Some(Ans::Void(_)) => {
                    self.ptr_names = Some(Box::new(PtrNames {
                        validated: Vec::new(),
                        void: true,
                    }));
                }
                // RFC 7208 §5.5: "If a DNS error occurs while doing the PTR RR lookup, then this
                // mechanism fails to match"; §7.3: %{p} is then "unknown".
                _ => self.ptr_names = Some(Box::default()),
            },
            PtrProc::Validate {
                names,
                next,
                mut validated,
                awaiting,
            } => {
                let mut next = next;
                if awaiting {
                    if let Some(Ans::Addrs(addrs)) = self.answer.take()
                        && addrs.contains(&self.ip)
                        && let Some(n) = names.get(next)
                    {
                        validated.push(n.clone());
                    }
                    // RFC 7208 §5.5: "If a DNS error occurs while doing an A RR lookup, then that
                    // domain name is skipped and the search continues."
                    next += 1;
                }
                match names.get(next) {
                    Some(name) => {
                        let q = match self.ip {
                            IpAddr::V4(_) => DnsQuery::A(name.clone()),
                            IpAddr::V6(_) => DnsQuery::Aaaa(name.clone()),
                        };
                        self.query(q);
                        self.ptr_proc = Some(Box::new(PtrProc::Validate {
                            names,
                            next,
                            validated,
                            awaiting: true,
                        }));
                    }
                    None => {
                        self.ptr_names = Some(Box::new(PtrNames {
                            validated,
                            void: false,
                        }));
                    }
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // exp= (RFC 7208 §6.2): every failure means "no explanation", never a different result.

    fn step_exp(&mut self) {
        let Some(mut st) = self.exp.take() else {
            return;
        };
        match std::mem::replace(&mut st.phase, ExpPhase::Start) {
            ExpPhase::Start => {
                if self.needs_ptr(Some(&st.spec)) {
                    self.exp = Some(st);
                    return;
                }
                let expanded = st.spec.expand(&self.macro_ctx(st.domain.as_str()));
                match target_name(&expanded) {
                    Ok(t) => {
                        self.query(DnsQuery::Txt(t));
                        st.phase = ExpPhase::AwaitTxt;
                        self.exp = Some(st);
                    }
                    Err(why) => self.exp_ignored(why),
                }
            }
            ExpPhase::AwaitTxt => match self.answer.take() {
                Some(Ans::Txt(records, _)) => match records.as_slice() {
                    [one] => {
                        let bytes = one.concat();
                        // RFC 7208 §6.2: "the explanation string MUST be limited to [US-ASCII]".
                        let parsed = std::str::from_utf8(&bytes)
                            .ok()
                            .filter(|s| s.is_ascii())
                            .ok_or_else(|| "explanation is not US-ASCII".to_owned())
                            .and_then(|s| {
                                MacroString::parse_explain_string(s).map_err(|e| e.to_string())
                            });
                        match parsed {
                            Ok(ms) => {
                                st.phase = ExpPhase::Expand(ms);
                                self.exp = Some(st);
                            }
                            Err(why) => self.exp_ignored(why),
                        }
                    }
                    _ => self.exp_ignored(format!("{} TXT records", records.len())),
                },
                Some(other) => self.exp_ignored(other.summary().to_string()),
                None => self.exp_ignored("no answer".into()),
            },
            ExpPhase::Expand(ms) => {
                if self.needs_ptr(Some(&ms)) {
                    st.phase = ExpPhase::Expand(ms);
                    self.exp = Some(st);
                    return;
                }
                let text = ms.expand(&self.macro_ctx(st.domain.as_str()));
                // RFC 7208 §6.2: "the explanation string MUST be limited to [US-ASCII]". Macro
                // values (a SMTPUTF8 local-part, a HELO with control characters) could bring
                // other octets; they become '?' so the string is safe in an SMTP reply.
                let text = if text.bytes().all(|b| matches!(b, b' '..=b'~')) {
                    text
                } else {
                    text.chars()
                        .map(|c| if matches!(c, ' '..='~') { c } else { '?' })
                        .collect()
                };
                self.explanation = Some(text);
                self.finalize();
            }
        }
    }

    fn exp_ignored(&mut self, why: String) {
        // RFC 7208 §6.2: "proceed as if no "exp" modifier was given".
        self.note(format!("exp= ignored: {why}"));
        self.finalize();
    }

    // -----------------------------------------------------------------------------------------
    // Frames: record lookup (§4.4), selection (§4.5), evaluation (§4.6).

    fn step_frame(&mut self) {
        let Some(frame) = self.stack.last_mut() else {
            return;
        };
        let phase = std::mem::replace(&mut frame.phase, Phase::Terms);
        match phase {
            Phase::FetchRecord => {
                let id = frame.id;
                // A cached record whose answer is still fresh: no query (see `RecordCache`).
                let fresh = self.cache.as_ref().zip(self.trace.frames.get(id));
                if let Some((text, r)) =
                    fresh.and_then(|(c, info)| c.get_fresh(&info.domain, self.timestamp))
                {
                    self.trace(Item::FrameTxt {
                        frame: frame_ref(id),
                        answer: Answer::Cached,
                    });
                    return self.install_record(id, RecText::Shared(text), Ok(Rec::Shared(r)));
                }
                frame.phase = Phase::AwaitRecord;
                self.outgoing = Some(Pending::FrameTxt(id));
                self.awaiting = true;
            }
            Phase::AwaitRecord => self.on_record(),
            Phase::Terms => self.next_term(),
            Phase::AwaitA(cidr) => match self.answer.take() {
                Some(Ans::Addrs(addrs)) => {
                    let hit = addrs.iter().any(|a| self.ip_matches(*a, cidr));
                    self.mechanism_done(hit);
                }
                other => self.empty_or_error(other),
            },
            Phase::AwaitExists => match self.answer.take() {
                // RFC 7208 §5.7: "If any A record is returned, this mechanism matches."
                Some(Ans::Addrs(_)) => self.mechanism_done(true),
                other => self.empty_or_error(other),
            },
            Phase::AwaitMx(cidr) => match self.answer.take() {
                Some(Ans::Mx(mx)) => {
                    // RFC 7208 §4.6.4 / §5.4: "If the MX lookup limit is exceeded, then
                    // "permerror" is returned and the evaluation is terminated."
                    if mx.count > MAX_MX_NAMES {
                        self.conclude(
                            SpfResult::PermError,
                            Some(format!(
                                "{} MX names, more than {MAX_MX_NAMES} (RFC 7208 section 4.6.4)",
                                mx.count
                            )),
                        );
                        return;
                    }
                    // RFC 7505 null MX (`MX 0 .`): the root has no address to look up, so it
                    // matches nothing; the MX answer itself was not void.
                    self.mx_names = Some(mx.hosts);
                    self.set_phase(Phase::MxHosts { next: 0, cidr });
                }
                other => self.empty_or_error(other),
            },
            Phase::MxHosts { next, cidr } => {
                // A handle on the shared list: the host is asked for without a copy.
                match self.mx_names.clone() {
                    Some(hosts) if next < hosts.len() => {
                        self.set_phase(Phase::AwaitMxHost { next, cidr });
                        self.query_mx_host(&hosts, next);
                    }
                    _ => self.mechanism_done(false),
                }
            }
            Phase::AwaitMxHost { next, cidr } => match self.answer.take() {
                Some(Ans::Addrs(addrs)) if addrs.iter().any(|a| self.ip_matches(*a, cidr)) => {
                    self.mechanism_done(true);
                }
                // §5: a timeout or server failure stops the mechanism with temperror.
                Some(Ans::Error(e)) => self.temperror(&e),
                _ => self.set_phase(Phase::MxHosts {
                    next: next + 1,
                    cidr,
                }),
            },
            Phase::AwaitInclude => {
                let child = self.stack.last_mut().and_then(|f| f.child_result.take());
                // RFC 7208 §5.2 table: pass → match; fail, softfail, neutral → not match;
                // temperror → temperror; permerror, none → permerror. The errors never reach
                // here: they end the whole evaluation.
                self.mechanism_done(child == Some(SpfResult::Pass));
            }
            Phase::Redirect => self.start_redirect(),
            Phase::AwaitRedirect => {
                let child = self
                    .stack
                    .last_mut()
                    .and_then(|f| f.child_result.take())
                    .unwrap_or(SpfResult::TempError);
                self.finish_frame(child, None);
            }
        }
    }

    /// A state that cannot happen by construction; ends the evaluation safely rather than
    /// looping or panicking.
    fn stuck(&mut self) {
        self.conclude(
            SpfResult::TempError,
            Some("internal error: inconsistent evaluation state".into()),
        );
    }

    fn set_phase(&mut self, phase: Phase) {
        if let Some(f) = self.stack.last_mut() {
            f.phase = phase;
        }
    }

    fn address_query(&self, name: Domain) -> DnsQuery {
        match self.ip {
            IpAddr::V4(_) => DnsQuery::A(name),
            IpAddr::V6(_) => DnsQuery::Aaaa(name),
        }
    }

    fn ip_matches(&self, addr: IpAddr, cidr: DualCidr) -> bool {
        match (self.ip, addr) {
            (IpAddr::V4(ip), IpAddr::V4(a)) => v4_in(ip, a, cidr.v4_len()),
            (IpAddr::V6(ip), IpAddr::V6(a)) => v6_in(ip, a, cidr.v6_len()),
            _ => false,
        }
    }

    fn temperror(&mut self, e: &DnsError) {
        self.conclude(SpfResult::TempError, Some(format!("DNS error: {e}")));
    }

    /// A void answer (count it, no match) or an error (temperror).
    fn empty_or_error(&mut self, ans: Option<Ans>) {
        match ans {
            Some(Ans::Error(e)) => self.temperror(&e),
            Some(Ans::Void(_)) => {
                if self.count_void() {
                    self.mechanism_done(false);
                }
            }
            _ => self.mechanism_done(false),
        }
    }

    fn on_record(&mut self) {
        if self.stack.is_empty() {
            return self.stuck();
        }
        let (records, ttl) = match self.answer.take() {
            Some(Ans::Txt(r, ttl)) => (r, ttl),
            // RFC 7208 §4.3: NXDOMAIN → "none"; §4.5: no record → "none".
            Some(Ans::Void(e)) => {
                let domain = self.frame_name();
                self.finish_frame(
                    SpfResult::None,
                    Some(format!("no SPF record at {domain} ({})", e.as_str())),
                );
                return;
            }
            // RFC 7208 §4.4: server failure or timeout → "temperror".
            Some(Ans::Error(e)) => return self.temperror(&e),
            _ => return self.temperror(&DnsError::other(MismatchedAnswer)),
        };
        // RFC 7208 §4.5: keep records that begin with "v=spf1" followed by SP or the end.
        // A TXT record of one string (the usual case) is looked at in place, without joining,
        // and the selected one is moved out of the answer, not copied.
        fn joined(t: &Txt) -> std::borrow::Cow<'_, [u8]> {
            match t.strings.as_slice() {
                [one] => std::borrow::Cow::Borrowed(one.as_slice()),
                _ => std::borrow::Cow::Owned(t.concat()),
            }
        }
        let mut first = None;
        let mut count = 0usize;
        for (i, t) in records.iter().enumerate() {
            if is_spf1(&joined(t)) {
                count += 1;
                first.get_or_insert(i);
            }
        }
        let bytes = match (first, count) {
            (None, _) => {
                let domain = self.frame_name();
                return self
                    .finish_frame(SpfResult::None, Some(format!("no SPF record at {domain}")));
            }
            (Some(i), 1) => {
                let strings = records.into_iter().nth(i).map(|t| t.strings);
                match strings {
                    Some(mut v) if v.len() == 1 => v.pop().unwrap_or_default(),
                    Some(v) => v.concat(),
                    None => Vec::new(),
                }
            }
            (Some(_), more) => {
                let domain = self.frame_name();
                return self.conclude(
                    SpfResult::PermError,
                    Some(format!(
                        "{more} SPF records at {domain} (RFC 7208 section 4.5)"
                    )),
                );
            }
        };
        // RFC 7208 §4.6: "if there are any syntax errors anywhere in the record, check_host()
        // returns immediately with the result "permerror"". Invalid UTF-8 became U+FFFD above
        // and is rejected as a non-ASCII character.
        let id = self.stack.last().map_or(usize::MAX, |f| f.id);
        let cache = self.cache.as_ref().zip(self.trace.frames.get(id));
        let fresh = cache::Fresh::at(self.timestamp, ttl);
        // A cached record with the same text: no UTF-8 check, no parse, the text is shared.
        let hit = cache.and_then(|(c, info)| c.get(&info.domain, &bytes, fresh));
        let (text, parsed) = match (hit, cache) {
            (Some((text, r)), _) => (RecText::Shared(text), Ok(Rec::Shared(r))),
            (None, cache) => {
                let text = String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                match cache {
                    Some((c, info)) => match c.parse_and_insert(&info.domain, &text, fresh) {
                        Ok((shared, r)) => (RecText::Shared(shared), Ok(Rec::Shared(r))),
                        Err(e) => (RecText::Owned(text), Err(e)),
                    },
                    None => {
                        let parsed = SpfRecord::parse(&text).map(Rec::Owned);
                        (RecText::Owned(text), parsed)
                    }
                }
            }
        };
        self.install_record(id, text, parsed);
    }

    /// The selected record of frame `id`, with its text: kept in the frame table (and traced),
    /// then its terms are evaluated; a syntax error ends the evaluation.
    fn install_record(&mut self, id: usize, text: RecText, parsed: Result<Rec, ParseError>) {
        if self.trace_has_room()
            && let Some(info) = self.trace.frames.get_mut(id)
        {
            info.text = Some(text);
            self.trace(Item::Record {
                frame: frame_ref(id),
            });
        } else {
            // Only the truncation line is added (when tracing).
            self.trace(Item::Truncated);
        }
        match parsed {
            Ok(r) => {
                self.set_phase(Phase::Terms);
                // The terms are evaluated at once, without a turn of the step loop; the record
                // joins the frame table afterwards (as in `with_record`).
                self.next_term_in(&r, 0, false);
                if let Some(info) = self.trace.frames.get_mut(id) {
                    info.record = Some(r);
                }
            }
            Err(e) => {
                let domain = self.frame_name();
                self.conclude(
                    SpfResult::PermError,
                    Some(format!("syntax error in the record of {domain}: {e}")),
                );
            }
        }
    }

    /// Runs `f` with the current frame's record, its term index and `counted` flag. The
    /// record is moved out of the frame table meanwhile (so `f` can borrow it while changing
    /// the machine) and put back afterwards; `false` when there is no current record.
    fn with_record(&mut self, f: impl FnOnce(&mut Self, &SpfRecord, usize, bool)) -> bool {
        let Some(frame) = self.stack.last() else {
            return false;
        };
        let (id, idx, counted) = (frame.id, frame.term, frame.counted);
        let Some(record) = self.trace.frames.get_mut(id).and_then(|i| i.record.take()) else {
            return false;
        };
        f(self, &record, idx, counted);
        if let Some(info) = self.trace.frames.get_mut(id) {
            info.record = Some(record);
        }
        true
    }

    /// The current frame's domain as text, for messages.
    fn frame_name(&self) -> String {
        self.frame_domain()
            .map(|d| d.as_str().to_owned())
            .unwrap_or_default()
    }

    fn frame_domain(&self) -> Option<&Domain> {
        let f = self.stack.last()?;
        Some(&self.trace.frames.get(f.id)?.domain)
    }

    fn next_term(&mut self) {
        if !self.with_record(Self::next_term_in) {
            self.temperror(&DnsError::other(MismatchedAnswer));
        }
    }

    fn next_term_in(&mut self, record: &SpfRecord, mut idx: usize, counted: bool) {
        // Fast path: modifiers and the terms that need no DNS (ip4, ip6) are evaluated here in
        // a loop, without a round trip through the step machine per term.
        // The frame and its depth do not change in this loop: its trace lines are pushed
        // directly, and the frame's position is written once when the loop stops.
        let ip = self.ip;
        let start = idx;
        let Some(frame) = self.stack.last().map(|f| frame_ref(f.id)) else {
            return self.stuck();
        };
        let depth = u16::try_from(self.depth()).unwrap_or(u16::MAX);
        let mut hit = None;
        while let Some(t) = record.terms.get(idx) {
            let matched = match t {
                Term::Modifier(_) => None,
                Term::Directive(d) => match &d.mechanism {
                    m @ (Mechanism::Ip4(..) | Mechanism::Ip6(..)) => Some(m.network_contains(ip)),
                    _ => break,
                },
            };
            if let Some(matched) = matched {
                if self.tracing {
                    self.push_line(
                        depth,
                        Item::Term {
                            frame,
                            matched,
                            index: u32::try_from(idx).unwrap_or(u32::MAX),
                        },
                    );
                }
                if matched && let Term::Directive(d) = t {
                    hit = Some(d);
                    break;
                }
            }
            idx += 1;
        }
        if idx != start
            && let Some(f) = self.stack.last_mut()
        {
            f.term = idx;
            f.counted = false;
        }
        if let Some(d) = hit {
            return self.directive_matched(d, record);
        }
        let counted = counted
            && self
                .stack
                .last()
                .is_some_and(|f| f.term == idx && f.counted);
        let Some(term) = record.terms.get(idx) else {
            // RFC 7208 §4.7 / §6.1 / §5.1: no mechanism matched.
            if record.redirect().is_some() && !record.has_all() {
                self.set_phase(Phase::Redirect);
            } else {
                self.note("no mechanism matched: default result neutral");
                self.finish_frame(SpfResult::Neutral, None);
            }
            return;
        };
        let Term::Directive(d) = term else {
            // Modifiers do not match (§4.6.3); redirect= is handled after the mechanisms.
            return self.advance();
        };
        match &d.mechanism {
            Mechanism::All => return self.mechanism_done_in(record, true),
            m @ (Mechanism::Ip4(..) | Mechanism::Ip6(..)) => {
                return self.mechanism_done_in(record, m.network_contains(ip));
            }
            _ => {}
        }
        if !counted {
            if let Some(f) = self.stack.last_mut() {
                f.counted = true;
            }
            if !self.count_lookup(d) {
                return;
            }
        }
        let spec = d.mechanism.domain_spec();
        if self.needs_ptr(spec) {
            return;
        }
        // A domain-spec without macros is its own expansion: no expansion string, and the
        // frame's domain is not needed.
        // A cached record's domain-specs without macros were turned into target names when it
        // was cached (valid §4.3 domains: include needs no further check).
        let ready = record.target(idx);
        if let (Mechanism::Include(_), Some(spec)) = (&d.mechanism, spec) {
            // RFC 7208 §4.3 + §5.2: a malformed domain gives "none", which makes include return
            // "permerror".
            return match self.frame_target(ready, spec) {
                Some(Ok(domain)) => {
                    self.set_phase(Phase::AwaitInclude);
                    let id = self.add_frame(domain);
                    self.push_frame(id, FrameKind::Include, true);
                }
                Some(Err(why)) => {
                    self.conclude(SpfResult::PermError, Some(format!("include: {why}")));
                }
                None => self.stuck(),
            };
        }
        let target = match (ready, spec.and_then(MacroString::as_literal)) {
            (Some(t), _) => Ok(Domain::clone(t)),
            (None, Some(lit)) => target_name(lit),
            (None, None) => {
                let Some(domain) = self.frame_domain() else {
                    return self.stuck();
                };
                match spec {
                    None => Ok(domain.clone()),
                    Some(s) => target_name(&s.expand(&self.macro_ctx(domain.as_str()))),
                }
            }
        };
        match (&d.mechanism, target) {
            // Handled above (an include always has a domain-spec).
            (Mechanism::Include(_), _) => self.stuck(),
            // RFC 7208 §4.8 leaves an invalid target-name undefined; it is treated as a name
            // that does not exist: the mechanism does not match.
            (_, Err(why)) => {
                self.note(why);
                self.mechanism_done_in(record, false);
            }
            (Mechanism::A(_, cidr), Ok(t)) => {
                let q = self.address_query(t);
                self.set_phase(Phase::AwaitA(*cidr));
                self.query(q);
            }
            (Mechanism::Mx(_, cidr), Ok(t)) => {
                self.set_phase(Phase::AwaitMx(*cidr));
                self.query(DnsQuery::Mx(t));
            }
            // RFC 7208 §5.7: "The resulting domain name is used for a DNS A RR lookup (even when
            // the connection type is IPv6)."
            (Mechanism::Exists(_), Ok(t)) => {
                self.set_phase(Phase::AwaitExists);
                self.query(DnsQuery::A(t));
            }
            (Mechanism::Ptr(_), Ok(t)) => self.eval_ptr(record, &t),
            (Mechanism::All | Mechanism::Ip4(..) | Mechanism::Ip6(..), Ok(_)) => {
                self.mechanism_done_in(record, false);
            }
        }
    }

    /// RFC 7208 §5.5: match if a validated name is the target or below it.
    fn eval_ptr(&mut self, record: &SpfRecord, target: &Domain) {
        match &self.ptr_names {
            None => {
                // First use: run the PTR procedure, then come back to this term.
                self.ptr_proc = Some(Box::new(PtrProc::Start));
            }
            Some(p) => {
                let hit = p.validated.iter().any(|n| n.is_subdomain_of(target));
                let void = p.void;
                if void && !self.count_void() {
                    return;
                }
                self.mechanism_done_in(record, hit);
            }
        }
    }

    fn count_lookup(&mut self, term: &dyn fmt::Display) -> bool {
        self.lookups += 1;
        if self.lookups > MAX_DNS_TERMS {
            // RFC 7208 §4.6.4: "If this limit is exceeded, the implementation MUST return
            // "permerror"."
            self.conclude(
                SpfResult::PermError,
                Some(format!(
                    "{term}: more than {MAX_DNS_TERMS} DNS-querying terms (RFC 7208 section 4.6.4)"
                )),
            );
            return false;
        }
        true
    }

    fn advance(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            f.term += 1;
            f.counted = false;
            f.phase = Phase::Terms;
        }
    }

    fn mechanism_done(&mut self, matched: bool) {
        if !self.with_record(|m, record, _, _| m.mechanism_done_in(record, matched)) {
            self.stuck();
        }
    }

    /// The current term of `record` (the current frame's) matched or not.
    fn mechanism_done_in(&mut self, record: &SpfRecord, matched: bool) {
        let Some(idx) = self.stack.last().map(|f| f.term) else {
            return self.stuck();
        };
        let Some(Term::Directive(d)) = record.terms.get(idx) else {
            return self.advance();
        };
        self.trace_term(idx, matched);
        if matched {
            self.directive_matched(d, record);
        } else {
            self.advance();
        }
    }

    fn trace_term(&mut self, index: usize, matched: bool) {
        if self.tracing
            && let Some(f) = self.stack.last()
        {
            let item = Item::Term {
                frame: frame_ref(f.id),
                matched,
                index: u32::try_from(index).unwrap_or(u32::MAX),
            };
            self.trace(item);
        }
    }

    fn directive_matched(&mut self, d: &Directive, record: &SpfRecord) {
        let result = SpfResult::from_qualifier(d.qualifier);
        let Some(frame) = self.stack.last() else {
            return self.stuck();
        };
        if !frame.in_include {
            // This frame is the checked domain or a redirect target: its match is the outcome.
            // Sized once: no regrowth while formatting.
            let mut m = String::with_capacity(64);
            write_directive(&mut m, d);
            self.mechanism = Some(m);
            // RFC 7208 §6.2: on "fail" due to a mechanism match, the exp= of the record that
            // matched (a redirect target's, never the original's; never an include's).
            if result == SpfResult::Fail
                && let Some(spec) = record.explanation()
            {
                let domain = self.trace.frames.get(frame.id).map(|f| (*f.domain).clone());
                self.exp = domain.map(|domain| {
                    Box::new(ExpState {
                        spec: spec.clone(),
                        domain,
                        phase: ExpPhase::Start,
                    })
                });
            }
        }
        self.finish_frame(result, None);
    }

    fn start_redirect(&mut self) {
        if !self.with_record(|m, record, _, counted| m.start_redirect_in(record, counted)) {
            self.stuck();
        }
    }

    fn start_redirect_in(&mut self, record: &SpfRecord, counted: bool) {
        let Some(spec) = record.redirect() else {
            return self.finish_frame(SpfResult::Neutral, None);
        };
        if !counted {
            if let Some(f) = self.stack.last_mut() {
                f.counted = true;
            }
            if !self.count_lookup(&format_args!("redirect={spec}")) {
                return;
            }
        }
        if self.needs_ptr(Some(spec)) {
            self.set_phase(Phase::Redirect);
            return;
        }
        // RFC 7208 §6.1: "if no SPF record is found, or if the <target-name> is malformed, the
        // result is a "permerror" rather than "none"".
        let ready = record.redirect_index().and_then(|i| record.target(i));
        let Some(target) = self.frame_target(ready, spec) else {
            return self.stuck();
        };
        match target {
            Ok(t) => {
                let id = self.add_frame(t);
                self.trace(Item::Redirect {
                    frame: frame_ref(id),
                });
                let in_include = self.stack.last().is_some_and(|f| f.in_include);
                self.set_phase(Phase::AwaitRedirect);
                self.push_frame(id, FrameKind::Redirect, in_include);
            }
            Err(why) => self.conclude(SpfResult::PermError, Some(format!("redirect: {why}"))),
        }
    }

    /// The `<domain>` (§4.3) an `include` or `redirect=` with `spec` evaluates next: the target
    /// a cached record prepared (`ready`, shared: no copy for the frame table), the literal
    /// checked once, or the expansion checked; `None` when there is no current frame.
    fn frame_target(
        &self,
        ready: Option<&Arc<Domain>>,
        spec: &MacroString,
    ) -> Option<Result<FrameDomain, String>> {
        let target = match (ready, spec.as_literal()) {
            (Some(t), _) => return Some(Ok(FrameDomain::Shared(Arc::clone(t)))),
            (None, Some(lit)) => literal_target(lit),
            (None, None) => {
                let domain = self.frame_domain()?;
                target_name(&spec.expand(&self.macro_ctx(domain.as_str()))).and_then(check_domain)
            }
        };
        Some(target.map(FrameDomain::Owned))
    }

    /// Ends the top frame with `result` and hands it to its parent.
    fn finish_frame(&mut self, result: SpfResult, problem: Option<String>) {
        let Some(frame) = self.stack.pop() else {
            return self.stuck();
        };
        match frame.kind {
            FrameKind::Top => self.conclude(result, problem),
            // RFC 7208 §5.2: include of a domain without a record is "permerror"; §6.1 the same
            // for redirect.
            FrameKind::Include | FrameKind::Redirect if result == SpfResult::None => {
                let p = problem.unwrap_or_else(|| {
                    let domain = self.trace.frames.get(frame.id).map(|f| f.domain.as_str());
                    format!("no SPF record at {}", domain.unwrap_or_default())
                });
                self.conclude(
                    SpfResult::PermError,
                    Some(format!("{}: {p}", frame.kind.as_str())),
                );
            }
            FrameKind::Include | FrameKind::Redirect => {
                self.trace(Item::Returned {
                    frame: frame_ref(frame.id),
                    via: frame.kind.via(),
                    result,
                });
                if let Some(parent) = self.stack.last_mut() {
                    parent.child_result = Some(result);
                }
            }
        }
    }
}

/// A frame index as stored in a trace line (frames are at most 1 + [`MAX_DNS_TERMS`]).
fn frame_ref(id: usize) -> u16 {
    u16::try_from(id).unwrap_or(u16::MAX)
}

/// RFC 7208 §4.5: "discard records that do not begin with a version section of exactly
/// "v=spf1". Note that the version section is terminated by either an SP character or the end of
/// the record." (ABNF literals are case-insensitive, §12.)
pub fn is_spf1(record: &[u8]) -> bool {
    match record.get(..6) {
        Some(v) if v.eq_ignore_ascii_case(b"v=spf1") => {
            matches!(record.get(6), None | Some(b' '))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_selection() {
        assert!(is_spf1(b"v=spf1"));
        assert!(is_spf1(b"V=SPF1 -all"));
        assert!(!is_spf1(b"v=spf10"));
        assert!(!is_spf1(b"v=spf1\t-all"));
        assert!(!is_spf1(b" v=spf1"));
        assert!(!is_spf1(b"v=spf"));
    }

    #[test]
    fn trace_is_bounded() {
        // 600 non-matching ip4 terms: the trace keeps MAX_TRACE_ENTRIES lines, then one
        // "trace truncated" line, and nothing after it (the final -all is not shown).
        let mut record = String::from("v=spf1");
        for i in 0..600 {
            record.push_str(&format!(" ip4:10.0.{}.{}", i / 256, i % 256));
        }
        record.push_str(" -all");
        let q = Query::mail_from("192.0.2.1".parse().unwrap(), "a@example.com", "h.example");
        let mut m = CheckHost::new(&q);
        let outcome = loop {
            match m.next() {
                Step::Query(DnsQuery::Txt(_)) => m.answer(DnsAnswer::Txt(Ok(
                    mailward_types::dns::Lookup::new(vec![Txt::from(record.as_str())], 60),
                ))),
                Step::Query(other) => panic!("unexpected {other}"),
                Step::Done(o) => break o,
            }
        };
        assert_eq!(outcome.result, SpfResult::Fail);
        assert_eq!(outcome.trace.len(), MAX_TRACE_ENTRIES + 1);
        let lines: Vec<String> = outcome.trace.iter().map(|e| e.to_string()).collect();
        assert_eq!(lines[0], "check_host(example.com) via check");
        assert_eq!(lines[1], "query TXT example.com -> 1 record");
        assert_eq!(lines[3], "term ip4:10.0.0.0: no match");
        // Lines 3.. are the terms: line 511 is term number 508 (10.0.1.252).
        assert_eq!(lines[511], "term ip4:10.0.1.252: no match");
        assert_eq!(lines[512], "trace truncated");
        assert_eq!(outcome.trace.get(512).map(|e| e.depth), Some(0));
    }
}
