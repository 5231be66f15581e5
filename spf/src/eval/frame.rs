//! The frames of `check_host()`: record lookup (RFC 7208 §4.4), selection (§4.5) and the
//! evaluation of its terms (§4.6), with `include` and `redirect=` pushing and popping frames.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use mailward_types::Domain;
use mailward_types::dns::{DnsError, Txt};

use super::answer::{MismatchedAnswer, NormalAnswer};
use super::{
    CheckHost, ExpPhase, ExpState, FrameKind, MAX_DNS_TERMS, MAX_MX_NAMES, Matched, Pending, Phase,
    frame_ref, is_spf1,
};
use crate::cache;
use crate::dns::DnsQuery;
use crate::error::ParseError;
use crate::macros::MacroString;
use crate::record::{Directive, DualCidr, Mechanism, Published, SpfRecord, Term, v4_in, v6_in};
use crate::result::SpfResult;
use crate::target::{check_domain, literal_target, target_name};
use crate::trace::{Answer, Item, MxList, NameKind, TracedQuery};

impl CheckHost<'_> {
    // Frames: record lookup (§4.4), selection (§4.5), evaluation (§4.6).

    pub(super) fn step_frame(&mut self) {
        let Some(frame) = self.stack.last_mut() else {
            return;
        };
        let phase = std::mem::replace(&mut frame.phase, Phase::Terms);
        match phase {
            Phase::FetchRecord => {
                let id = frame.id;
                // A cached record whose answer is still fresh: no query (see `RecordCache`).
                let first = if id == 0 {
                    self.first_record.take()
                } else {
                    None
                };
                let cached = self
                    .query
                    .record_cache
                    .as_ref()
                    .zip(self.trace.frames.get(id));
                if let Some(published) = first.or_else(|| {
                    cached.and_then(|(c, info)| c.get_fresh(&info.domain, self.timestamp))
                }) {
                    self.trace(Item::FrameQuery {
                        frame: frame_ref(id),
                        kind: NameKind::Txt,
                        answer: Answer::Cached,
                    });
                    return self.install_record(id, Ok(published));
                }
                frame.phase = Phase::AwaitRecord;
                self.outgoing = Some(Pending::Frame {
                    id,
                    kind: NameKind::Txt,
                });
                self.awaiting = true;
            }
            Phase::AwaitRecord => self.on_record(),
            Phase::Terms => self.next_term(),
            Phase::AwaitA(cidr) => match self.answer.take() {
                Some(NormalAnswer::Addrs(addrs)) => {
                    let hit = addrs.any(|a| self.ip_matches(a, cidr));
                    self.mechanism_done(hit);
                }
                other => self.empty_or_error(other),
            },
            Phase::AwaitExists => match self.answer.take() {
                // RFC 7208 §5.7: "If any A record is returned, this mechanism matches."
                Some(NormalAnswer::Addrs(_)) => self.mechanism_done(true),
                other => self.empty_or_error(other),
            },
            Phase::AwaitMx(cidr) => match self.answer.take() {
                Some(NormalAnswer::Mx(mx)) => {
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
                    if self.trace_has_room() {
                        // The exchanges are kept once for the trace, with the frame (its first
                        // `mx`) or in the query table; each address lookup's line names one by
                        // its place (`Item::MxHostA`).
                        let id = self.stack.last().map_or(usize::MAX, |f| f.id);
                        match self.trace.frames.get_mut(id) {
                            Some(info) if info.mx_hosts.is_none() => {
                                info.mx_hosts = Some(Arc::clone(&mx.hosts));
                                self.mx_list = MxList::of_frame(frame_ref(id));
                            }
                            _ => {
                                self.mx_list = MxList::in_table(self.trace.queries.len());
                                let hosts = TracedQuery::MxHosts(Arc::clone(&mx.hosts));
                                self.trace.queries.push(hosts);
                            }
                        }
                    }
                    self.mx_names = Some(mx.hosts);
                    self.set_phase(Phase::MxHosts { next: 0, cidr });
                }
                other => self.empty_or_error(other),
            },
            Phase::MxHosts { next, cidr } => match &self.mx_names {
                Some(hosts) if next < hosts.len() => {
                    self.set_phase(Phase::AwaitMxHost { next, cidr });
                    self.query_mx_host(next);
                }
                _ => self.mechanism_done(false),
            },
            Phase::AwaitMxHost { next, cidr } => match self.answer.take() {
                Some(NormalAnswer::Addrs(addrs)) if addrs.any(|a| self.ip_matches(a, cidr)) => {
                    self.mechanism_done(true);
                }
                // §5: a timeout or server failure stops the mechanism with temperror.
                Some(NormalAnswer::Error(e)) => self.temperror(&e),
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

    /// A void answer (count it, no match) or an error (temperror).
    fn empty_or_error(&mut self, ans: Option<NormalAnswer>) {
        match ans {
            Some(NormalAnswer::Error(e)) => self.temperror(&e),
            Some(NormalAnswer::Void(_)) => {
                if self.count_void() {
                    self.mechanism_done(false);
                }
            }
            _ => self.mechanism_done(false),
        }
    }

    fn on_record(&mut self) {
        if self.stack.is_empty() {
            return self.internal_error();
        }
        let (records, ttl) = match self.answer.take() {
            Some(NormalAnswer::Txt(r, ttl)) => (r, ttl),
            // RFC 7208 §4.3: NXDOMAIN → "none"; §4.5: no record → "none".
            Some(NormalAnswer::Void(e)) => {
                let domain = self.frame_name();
                self.finish_frame(
                    SpfResult::None,
                    Some(format!("no SPF record at {domain} ({})", e.as_str())),
                );
                return;
            }
            // RFC 7208 §4.4: server failure or timeout → "temperror".
            Some(NormalAnswer::Error(e)) => return self.temperror(&e),
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
        let cache = self.cache().zip(self.trace.frames.get(id));
        let fresh = cache::Fresh::at(self.timestamp, ttl);
        // A cached record with the same text: no UTF-8 check, no parse, the text is shared.
        let hit = cache.and_then(|(c, info)| c.get(&info.domain, &bytes, fresh));
        let parsed = match (hit, cache) {
            (Some(published), _) => Ok(published),
            (None, cache) => {
                let text = String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                match cache {
                    Some((c, info)) => c.parse_and_insert(&info.domain, text, fresh),
                    None => match SpfRecord::parse(&text) {
                        Ok(record) => Ok(Arc::new(Published { text, record })),
                        Err(e) => Err((text, e)),
                    },
                }
            }
        };
        self.install_record(id, parsed);
    }

    /// The selected record of frame `id` with its text (or the text and why it did not parse):
    /// kept in the frame table (and traced), then its terms are evaluated; a syntax error ends
    /// the evaluation.
    fn install_record(&mut self, id: usize, parsed: Result<Arc<Published>, (String, ParseError)>) {
        let traced = self.trace_has_room();
        if traced {
            self.trace(Item::Record {
                frame: frame_ref(id),
            });
        } else {
            // Only the truncation line is added (when tracing).
            self.trace(Item::Truncated);
        }
        match parsed {
            Ok(published) => {
                self.set_phase(Phase::Terms);
                // The terms are evaluated at once, without a turn of the step loop; the record
                // joins the frame table afterwards (as in `with_record`).
                self.next_term_in(&published.record, 0, false);
                if let Some(info) = self.trace.frames.get_mut(id) {
                    info.published = Some(published);
                }
            }
            Err((text, e)) => {
                if traced && let Some(info) = self.trace.frames.get_mut(id) {
                    info.rejected = Some(text);
                }
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
        let Some(published) = self
            .trace
            .frames
            .get_mut(id)
            .and_then(|i| i.published.take())
        else {
            return false;
        };
        f(self, &published.record, idx, counted);
        if let Some(info) = self.trace.frames.get_mut(id) {
            info.published = Some(published);
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
            return self.internal_error();
        };
        let depth = u16::try_from(self.depth()).unwrap_or(u16::MAX);
        let mut hit = None;
        // The directives that did not match, from `misses.0`: traced as one run.
        let mut misses: (usize, u32) = (idx, 0);
        while let Some(t) = record.terms.get(idx) {
            let matched = match t {
                Term::Modifier(_) => None,
                Term::Directive(d) => match &d.mechanism {
                    m @ (Mechanism::Ip4(..) | Mechanism::Ip6(..)) => Some(m.network_contains(ip)),
                    _ => break,
                },
            };
            match (matched, t) {
                (Some(true), Term::Directive(d)) => {
                    hit = Some(d);
                    break;
                }
                (Some(_), _) => {
                    if misses.1 == 0 {
                        misses.0 = idx;
                    }
                    misses.1 = misses.1.saturating_add(1);
                }
                (None, _) => {}
            }
            idx += 1;
        }
        if self.tracing {
            if misses.1 > 0 {
                self.push_term_run(depth, frame, misses.0, misses.1);
            }
            if hit.is_some() {
                let index = u32::try_from(idx).unwrap_or(u32::MAX);
                self.push_line(
                    depth,
                    Item::Term {
                        frame,
                        matched: true,
                        index,
                    },
                );
            }
        }
        if idx != start
            && let Some(f) = self.stack.last_mut()
        {
            f.term = idx;
            f.counted = false;
        }
        if let Some(d) = hit {
            return self.directive_matched(d, record, idx);
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
        // `a` and `mx` without a domain-spec query the frame's own domain (RFC 7208 §5.3,
        // §5.4): the query names the frame instead of a copy of the name.
        match &d.mechanism {
            Mechanism::A(None, cidr) => {
                self.set_phase(Phase::AwaitA(*cidr));
                let kind = if self.ip.is_ipv6() {
                    NameKind::Aaaa
                } else {
                    NameKind::A
                };
                return self.query_frame_domain(kind);
            }
            Mechanism::Mx(None, cidr) => {
                self.set_phase(Phase::AwaitMx(*cidr));
                return self.query_frame_domain(NameKind::Mx);
            }
            _ => {}
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
                None => self.internal_error(),
            };
        }
        let target = match (ready, spec.and_then(MacroString::as_literal)) {
            (Some(t), _) => Ok(t.clone()),
            (None, Some(lit)) => target_name(lit),
            (None, None) => {
                let Some(domain) = self.frame_domain() else {
                    return self.internal_error();
                };
                match spec {
                    None => Ok(domain.clone()),
                    Some(s) => target_name(&s.expand(&self.macro_ctx(domain.as_str()))),
                }
            }
        };
        match (&d.mechanism, target) {
            // Handled above (an include always has a domain-spec).
            (Mechanism::Include(_), _) => self.internal_error(),
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
            self.internal_error();
        }
    }

    /// The current term of `record` (the current frame's) matched or not.
    pub(super) fn mechanism_done_in(&mut self, record: &SpfRecord, matched: bool) {
        let Some(idx) = self.stack.last().map(|f| f.term) else {
            return self.internal_error();
        };
        let Some(Term::Directive(d)) = record.terms.get(idx) else {
            return self.advance();
        };
        self.trace_term(idx, matched);
        if matched {
            self.directive_matched(d, record, idx);
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

    /// Directive `d`, term `index` of the current frame's `record`, matched.
    fn directive_matched(&mut self, d: &Directive, record: &SpfRecord, index: usize) {
        let result = SpfResult::from_qualifier(d.qualifier);
        let Some(frame) = self.stack.last() else {
            return self.internal_error();
        };
        if !frame.in_include {
            // This frame is the checked domain or a redirect target: its match is the outcome
            // (by position: the record is shared when the outcome is built, not copied here).
            self.mechanism = Some(Matched::At {
                frame: frame.id,
                term: index,
            });
            // RFC 7208 §6.2: on "fail" due to a mechanism match, the exp= of the record that
            // matched (a redirect target's, never the original's; never an include's).
            if result == SpfResult::Fail
                && let Some(spec) = record.explanation()
            {
                let domain = self.trace.frames.get(frame.id).map(|f| f.domain.clone());
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
            self.internal_error();
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
            return self.internal_error();
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
    /// a cached record prepared (`ready`, shared), the literal checked once, or the expansion
    /// checked; `None` when there is no current frame.
    fn frame_target(
        &self,
        ready: Option<&Domain>,
        spec: &MacroString,
    ) -> Option<Result<Domain, String>> {
        let target = match (ready, spec.as_literal()) {
            (Some(t), _) => return Some(Ok(t.clone())),
            (None, Some(lit)) => literal_target(lit),
            (None, None) => {
                let domain = self.frame_domain()?;
                target_name(&spec.expand(&self.macro_ctx(domain.as_str()))).and_then(check_domain)
            }
        };
        Some(target)
    }

    /// Ends the top frame with `result` and hands it to its parent.
    fn finish_frame(&mut self, result: SpfResult, problem: Option<String>) {
        let Some(frame) = self.stack.pop() else {
            return self.internal_error();
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
