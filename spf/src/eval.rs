//! `check_host()` ([RFC 7208 §4](https://www.rfc-editor.org/rfc/rfc7208#section-4)) as a sans-I/O
//! step machine, and the async driver [`evaluate`].
//!
//! This module holds the machine's state and its core (queries, answers, trace lines, the
//! conclusion); the steps are implemented by the child modules, each an `impl CheckHost<'_>`:
//! `frame` (record lookup, selection and terms), `ptr` (the PTR procedure of §5.5) and `exp`
//! (the explanation of §6.2). `answer` normalises the DNS answers the steps consume, and `ask`
//! puts a query to the record cache before the resolver.

mod answer;
mod ask;
mod exp;
mod frame;
mod ptr;

use std::net::IpAddr;
use std::sync::Arc;

use mailward_types::Domain;
use mailward_types::dns::{DnsError, Resolver};

use self::answer::{MismatchedAnswer, NormalAnswer, answer_ttl};
use crate::cache::RecordCache;
use crate::dns::{DnsAnswer, DnsQuery, QueryRef};
use crate::macros::{MacroContext, MacroString};
use crate::outcome::{MatchedDirective, SpfOutcome};
use crate::query::Query;
use crate::record::{DualCidr, Published};
use crate::result::SpfResult;
use crate::target::check_host_domain;
use crate::trace::{Answer, FrameInfo, Item, Line, MxList, NameKind, Trace, TracedQuery, Via};

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
// The outcome is returned once per check; boxing it would add an allocation to every check to
// save moving a few hundred octets once.
#[allow(clippy::large_enum_variant)]
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
/// assert_eq!(outcome.mechanism.unwrap().to_string(), "ip4:192.0.2.0/24");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub async fn evaluate<R: Resolver + ?Sized>(resolver: &R, query: &Query) -> SpfOutcome {
    // Built in place, then started: `CheckHost::new` would return it by value, a copy of the
    // whole machine into the future.
    let mut machine = CheckHost::unstarted(query);
    machine.start();
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
    /// A query for a frame's own domain (its record lookup, or `a`/`mx` without a
    /// domain-spec): the name stays in the frame table.
    Frame { id: usize, kind: NameKind },
    /// The address lookup of exchange `index` of the MX answer being evaluated: the name stays
    /// in [`CheckHost::mx_names`].
    MxHost { index: usize, v6: bool },
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
pub struct CheckHost<'q> {
    /// The inputs, borrowed: the identities, the receiver and the record cache are read where
    /// they are needed, not copied when the check starts.
    query: &'q Query,
    ip: IpAddr,
    /// The local-part and domain of the `<sender>` (RFC 7208 §4.1, §4.3), from `query`.
    local_part: &'q str,
    sender_domain: &'q str,
    timestamp: u64,
    stack: FrameStack,
    lookups: u32,
    voids: u32,
    // Boxed, as is `exp`: rarely used, and the machine (moved with the `evaluate` future) stays
    // small.
    ptr_names: Option<Box<PtrNames>>,
    ptr_proc: Option<Box<PtrProc>>,
    /// The exchanges of the `mx` being evaluated, by preference (see [`Phase::MxHosts`]); shared
    /// with a [`RecordCache`] that holds the answer.
    mx_names: Option<Arc<[Domain]>>,
    /// Where the trace keeps `mx_names`: with the frame or in its query table ([`MxList`]).
    mx_list: MxList,
    exp: Option<Box<ExpState>>,
    outgoing: Option<Pending>,
    awaiting: bool,
    answer: Option<NormalAnswer>,
    /// The outcome is known (its parts are the fields below); set by `finalize`.
    finished: bool,
    result: Option<SpfResult>,
    mechanism: Option<Matched>,
    explanation: Option<String>,
    problem: Option<String>,
    /// The checked domain once the outcome was handed out (until then it is frame 0's).
    domain: Option<Domain>,
    tracing: bool,
    /// The trace lines and the frame table (the domain of every frame, kept also when the
    /// trace is off: frames refer to it by index).
    trace: Trace,
    /// The checked domain's record when the cache held it fresh as the check started (taken
    /// by the first record lookup instead of asking the cache again).
    first_record: Option<Arc<Published>>,
}

/// The directive that decided the outcome: where it is while evaluating, or the outcome's
/// handle once it was handed out (kept for later [`CheckHost::next`] calls).
#[derive(Debug)]
enum Matched {
    At { frame: usize, term: usize },
    Directive(MatchedDirective),
}

/// The frames being evaluated. The innermost, which every step works on, is kept inline (a
/// record without include or redirect allocates nothing); the frames it is nested in wait in
/// `outer`.
#[derive(Debug, Default)]
struct FrameStack {
    top: Option<Frame>,
    /// Only ever non-empty when `top` is set; outermost first.
    outer: Vec<Frame>,
}

impl FrameStack {
    fn push(&mut self, frame: Frame) {
        if let Some(parent) = self.top.replace(frame) {
            if self.outer.capacity() == 0 {
                // Every include and redirect is counted first: at most MAX_DNS_TERMS outer
                // frames, in one allocation.
                self.outer.reserve_exact(MAX_DNS_TERMS as usize);
            }
            self.outer.push(parent);
        }
    }

    fn pop(&mut self) -> Option<Frame> {
        let top = self.top.take();
        self.top = self.outer.pop();
        top
    }

    fn last(&self) -> Option<&Frame> {
        self.top.as_ref()
    }

    fn last_mut(&mut self) -> Option<&mut Frame> {
        self.top.as_mut()
    }

    fn len(&self) -> usize {
        self.outer.len() + usize::from(self.top.is_some())
    }

    fn is_empty(&self) -> bool {
        self.top.is_none()
    }

    fn clear(&mut self) {
        self.top = None;
        self.outer.clear();
    }
}

impl<'q> CheckHost<'q> {
    /// Starts `check_host()` for the identity in `query` (RFC 7208 §4.1, §4.3); the machine
    /// borrows the query until it is done.
    pub fn new(query: &'q Query) -> Self {
        let mut m = Self::unstarted(query);
        m.start();
        m
    }

    /// The machine before [`Self::start`]: its fields only, so that a caller building it in
    /// place (the future of [`evaluate`]) does not copy it afterwards.
    #[inline(always)]
    fn unstarted(query: &'q Query) -> Self {
        let (local, sdomain) = query.sender_parts();
        Self {
            query,
            ip: query.client_ip(),
            local_part: local,
            sender_domain: sdomain,
            timestamp: query.timestamp,
            stack: FrameStack::default(),
            lookups: 0,
            voids: 0,
            ptr_names: None,
            ptr_proc: None,
            mx_names: None,
            mx_list: MxList::of_frame(0),
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
                ..Trace::default()
            },
            first_record: None,
        }
    }

    /// Checks the `<domain>` and pushes its frame (RFC 7208 §4.3).
    fn start(&mut self) {
        let sdomain = self.sender_domain;
        // A name the record cache holds a record for needs no second check: every key is the
        // `<domain>` of an evaluated frame, checked by RFC 7208 §4.3 then. The cache's copy is
        // shared, not built again.
        let known = self
            .cache()
            .and_then(|c| c.known_domain(sdomain, self.timestamp));
        let known = known.map(|(d, fresh)| {
            self.first_record = fresh;
            d
        });
        match known.map_or_else(|| check_host_domain(sdomain), Ok) {
            Ok(d) => {
                let id = self.add_frame(d);
                self.push_frame(id, FrameKind::Top, false);
            }
            // RFC 7208 §4.3: "If the <domain> is malformed … check_host() immediately returns
            // the result "none"."
            Err(why) => self.conclude(SpfResult::None, Some(why)),
        }
    }

    /// The [`RecordCache`] the query was given.
    fn cache(&self) -> Option<&'q RecordCache> {
        self.query.record_cache.as_ref()
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
            return self.done_step();
        }
        match self.pending_query() {
            Some(q) => Step::Query(q.to_query()),
            // Unreachable by construction (run() stops only with a query or a result); a
            // temperror is the safe answer should it ever happen.
            None => {
                self.conclude(SpfResult::TempError, Some("internal: no progress".into()));
                self.finalize();
                self.done_step()
            }
        }
    }

    /// `Done` with the outcome (a copy: later calls get the same outcome) and the trace
    /// attached to the first one only.
    fn done_step(&mut self) -> Step {
        let outcome = self.take_outcome();
        // Kept for later calls (the trace is not).
        self.explanation.clone_from(&outcome.explanation);
        self.mechanism = outcome.mechanism.clone().map(Matched::Directive);
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
        let ans = NormalAnswer::from(q, answer);
        self.keep_answer(&ans, ttl);
        if self.tracing {
            let answer = Answer::from_summary(ans.summary());
            match self.outgoing.take() {
                Some(Pending::Frame { id, kind }) => self.trace(Item::FrameQuery {
                    frame: frame_ref(id),
                    kind,
                    answer,
                }),
                Some(Pending::MxHost { index, v6 }) => self.trace_mx_host(index, v6, answer),
                Some(Pending::Query(q)) => self.trace_query(TracedQuery::Owned(q), answer),
                None => {}
            }
        }
        self.outgoing = None;
        self.answer = Some(ans);
    }

    /// Traces the address lookup of exchange `index` of the MX answer being evaluated.
    fn trace_mx_host(&mut self, index: usize, v6: bool, answer: Answer) {
        let (list, index) = (self.mx_list, u8::try_from(index).unwrap_or(u8::MAX));
        let item = if v6 {
            Item::MxHostAaaa {
                list,
                index,
                answer,
            }
        } else {
            Item::MxHostA {
                list,
                index,
                answer,
            }
        };
        self.trace(item);
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
            Pending::Frame { id, kind } => Some(kind.of(&self.trace.frames.get(*id)?.domain)),
            Pending::MxHost { index, v6 } => {
                let host = self.mx_names.as_ref()?.get(*index)?;
                Some(if *v6 {
                    QueryRef::Aaaa(host)
                } else {
                    QueryRef::A(host)
                })
            }
            Pending::Query(q) => Some(q.into()),
        }
    }

    fn trace_has_room(&self) -> bool {
        self.tracing && self.trace.len < MAX_TRACE_ENTRIES
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
        let len = self.trace.len;
        if len < MAX_TRACE_ENTRIES {
            self.trace.lines.push(Line { depth, item });
            self.trace.len += 1;
        } else if len == MAX_TRACE_ENTRIES {
            self.trace.lines.push(Line {
                depth: 0,
                item: Item::Truncated,
            });
            self.trace.len += 1;
        }
    }

    /// Adds the lines of `count` non-matching directives of `frame`'s record from term `first`
    /// (tracing is on) as one item: as many as fit, then the truncation line if some did not.
    fn push_term_run(&mut self, depth: u16, frame: u16, first: usize, count: u32) {
        let room = MAX_TRACE_ENTRIES.saturating_sub(self.trace.len);
        let fits = u32::try_from(room).unwrap_or(u32::MAX).min(count);
        if fits > 0 {
            self.trace.lines.push(Line {
                depth,
                item: Item::TermRun {
                    frame,
                    first: u32::try_from(first).unwrap_or(u32::MAX),
                    count: fits,
                },
            });
            self.trace.len += usize::try_from(fits).unwrap_or(usize::MAX);
        }
        if fits < count {
            self.push_line(depth, Item::Truncated);
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

    /// Adds `domain` to the frame table; its index.
    fn add_frame(&mut self, domain: Domain) -> usize {
        // At most 1 + MAX_DNS_TERMS frames: every include and redirect is counted first.
        self.trace.frames.push(FrameInfo {
            domain,
            published: None,
            rejected: None,
            mx_hosts: None,
        })
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
            mechanism: self.mechanism.take().and_then(|m| match m {
                Matched::At { frame, term } => {
                    let published = self.trace.frames.get(frame)?.published.clone()?;
                    MatchedDirective::new(published, term)
                }
                Matched::Directive(d) => Some(d),
            }),
            problem: self.problem.take(),
            // The checked domain is frame 0's: shared with the trace, or moved out of the frame
            // table that is dropped with the machine.
            domain: self.domain.take().or_else(|| {
                if self.tracing {
                    self.trace.frames.get(0).map(|f| f.domain.clone())
                } else {
                    self.trace.frames.take_first().map(|f| f.domain)
                }
            }),
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
            local_part: self.local_part,
            sender_domain: self.sender_domain,
            domain,
            helo: &self.query.helo,
            validated_domain: self.p_value(domain),
            receiver: self.query.receiver.as_deref(),
            timestamp: self.timestamp,
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

    /// A state that cannot happen by construction; ends the evaluation safely rather than
    /// looping or panicking.
    fn internal_error(&mut self) {
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

    fn temperror(&mut self, e: &DnsError) {
        self.conclude(SpfResult::TempError, Some(format!("DNS error: {e}")));
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
    use mailward_types::dns::Txt;

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
        assert_same_lines(&outcome.trace);
    }

    /// Runs `record` at example.com for client `ip` to the end (TXT queries only).
    fn outcome_of(record: &str, ip: &str) -> SpfOutcome {
        let q = Query::mail_from(ip.parse().unwrap(), "a@example.com", "h.example");
        let mut m = CheckHost::new(&q);
        loop {
            match m.next() {
                Step::Query(DnsQuery::Txt(_)) => m.answer(DnsAnswer::Txt(Ok(
                    mailward_types::dns::Lookup::new(vec![Txt::from(record)], 60),
                ))),
                Step::Query(other) => panic!("unexpected {other}"),
                Step::Done(o) => break o,
            }
        }
    }

    /// `len`, `get`, `iter` and the iterator's size agree line by line.
    fn assert_same_lines(trace: &Trace) {
        let by_iter: Vec<String> = trace.iter().map(|e| e.to_string()).collect();
        assert_eq!(by_iter.len(), trace.len());
        for (i, line) in by_iter.iter().enumerate() {
            assert_eq!(
                trace.get(i).map(|e| e.to_string()).as_ref(),
                Some(line),
                "line {i}"
            );
        }
        assert!(trace.get(trace.len()).is_none());
        let mut it = trace.iter();
        for left in (0..=trace.len()).rev() {
            assert_eq!(it.size_hint(), (left, Some(left)));
            it.next();
        }
    }

    #[test]
    fn frame_stack_keeps_the_innermost_on_top() {
        let mut stack = FrameStack::default();
        assert!(stack.is_empty() && stack.pop().is_none());
        for id in 0..4 {
            stack.push(Frame {
                id,
                kind: FrameKind::Include,
                in_include: true,
                term: 0,
                counted: false,
                phase: Phase::Terms,
                child_result: None,
            });
            assert_eq!(
                (stack.len(), stack.last().map(|f| f.id)),
                (id + 1, Some(id))
            );
        }
        for id in (0..4).rev() {
            assert_eq!(stack.pop().map(|f| f.id), Some(id));
        }
        assert!(stack.is_empty() && stack.last().is_none());
    }

    #[test]
    fn address_terms_are_traced_one_line_each() {
        // Modifiers between address terms have no line of their own (RFC 7208 §4.6.3: they do
        // not match); every ip4/ip6 directive evaluated has one, in record order, and the
        // evaluation stops at the first match (§4.6.2), so 10.0.0.9 is not shown.
        let outcome = outcome_of(
            "v=spf1 ip4:10.0.0.1 exp=why.example.com ip6:2001:db8::/32 ip4:10.0.0.2 \
             ip4:192.0.2.0/24 ip4:10.0.0.9 -all",
            "192.0.2.1",
        );
        assert_eq!(outcome.result, SpfResult::Pass);
        let lines: Vec<String> = outcome.trace.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines[3..],
            [
                "term ip4:10.0.0.1: no match",
                "term ip6:2001:db8::/32: no match",
                "term ip4:10.0.0.2: no match",
                "term ip4:192.0.2.0/24: match",
            ]
        );
        assert_same_lines(&outcome.trace);
        // No match at all: every address term, then -all.
        let outcome = outcome_of("v=spf1 ip4:10.0.0.1 ip4:10.0.0.2 -all", "192.0.2.1");
        let lines: Vec<String> = outcome.trace.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines[3..],
            [
                "term ip4:10.0.0.1: no match",
                "term ip4:10.0.0.2: no match",
                "term -all: match",
            ]
        );
        assert_same_lines(&outcome.trace);
    }
}
