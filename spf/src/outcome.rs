//! The outcome of `check_host()` ([`SpfOutcome`]) and the directive that decided it
//! ([`MatchedDirective`]).

use std::fmt;
use std::sync::Arc;

use mailward_types::Domain;

use crate::record::{Directive, Mechanism, Published, Qualifier, SpfRecord, Term};
use crate::render::write_directive;
use crate::result::SpfResult;
use crate::trace::Trace;

/// The result of `check_host()` with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpfOutcome {
    /// The SPF result.
    pub result: SpfResult,
    /// The explanation from the domain's `exp=` (RFC 7208 §6.2), only for `fail`; `None` when the
    /// domain gave none (the caller may use [`SpfOutcome::DEFAULT_EXPLANATION`]).
    pub explanation: Option<String>,
    /// The directive that decided the result (`None`: the default result). It renders in
    /// canonical form with `Display`.
    pub mechanism: Option<MatchedDirective>,
    /// For `permerror`, `temperror` and `none`: what went wrong.
    pub problem: Option<String>,
    /// The domain checked (`None` when the identity had no valid domain).
    pub domain: Option<Domain>,
    /// DNS-querying terms counted against [`MAX_DNS_TERMS`](crate::MAX_DNS_TERMS).
    pub lookups: u32,
    /// Void lookups counted against [`MAX_VOID_LOOKUPS`](crate::MAX_VOID_LOOKUPS).
    pub void_lookups: u32,
    /// What was evaluated and queried, in order (empty when the trace is off).
    pub trace: Trace,
}

impl SpfOutcome {
    /// An explanation to use for `fail` when the domain gave none (RFC 7208 §6.2 allows "a
    /// default explanation string").
    pub const DEFAULT_EXPLANATION: &'static str = "SPF check failed";
}

/// The directive that decided an [`SpfOutcome`], with the record it is part of.
///
/// It shares the record with the evaluation (and with a [`RecordCache`](crate::RecordCache)
/// entry): nothing is copied or rendered until asked for. `Display` gives the canonical form
/// (`ip4:192.0.2.0/24`, `-all`, `include:_spf.example.com`), as in Received-SPF
/// `mechanism=`.
///
/// # Examples
///
/// ```
/// # use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// # use mailward_types::dns::{DnsError, DnsResult, Lookup, Mx, Resolver, Txt};
/// # use mailward_types::Domain;
/// use mailward_spf::{evaluate, Mechanism, Qualifier, Query};
///
/// struct One;
/// impl Resolver for One {
///     async fn txt(&self, _: &Domain) -> DnsResult<Txt> {
///         Ok(Lookup::new(vec![Txt::from("v=spf1 +IP4:192.0.2.0/24 -all")], 300))
///     }
///     async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::NXDOMAIN) }
///     async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::NXDOMAIN) }
///     async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::NXDOMAIN) }
///     async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::NXDOMAIN) }
/// }
///
/// let q = Query::mail_from("192.0.2.7".parse()?, "alice@example.com", "mx.example.com");
/// let outcome = pollster::block_on(evaluate(&One, &q));
/// let m = outcome.mechanism.expect("a directive matched");
/// assert_eq!(m.to_string(), "ip4:192.0.2.0/24");
/// assert_eq!(format!("[{m:>18}]"), "[  ip4:192.0.2.0/24]");
/// assert_eq!(m, "ip4:192.0.2.0/24");
/// assert_eq!(m.directive().qualifier, Qualifier::Pass);
/// assert!(matches!(m.directive().mechanism, Mechanism::Ip4(..)));
/// assert_eq!(m.index(), 0);
/// assert_eq!(m.record_text(), "v=spf1 +IP4:192.0.2.0/24 -all");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Clone)]
pub struct MatchedDirective {
    published: Arc<Published>,
    /// The index of a [`Term::Directive`] in the record's terms (checked by [`Self::new`]).
    index: usize,
}

/// What [`MatchedDirective::directive`] gives should the index not name a directive, which
/// [`MatchedDirective::new`] rules out.
static NOT_A_DIRECTIVE: Directive = Directive {
    qualifier: Qualifier::Neutral,
    mechanism: Mechanism::All,
};

impl MatchedDirective {
    /// The directive at term `index` of `published`'s record; `None` when that term is not a
    /// directive.
    pub(crate) fn new(published: Arc<Published>, index: usize) -> Option<Self> {
        match published.record.terms.get(index) {
            Some(Term::Directive(_)) => Some(Self { published, index }),
            _ => None,
        }
    }

    /// The directive.
    pub fn directive(&self) -> &Directive {
        match self.published.record.terms.get(self.index) {
            Some(Term::Directive(d)) => d,
            _ => &NOT_A_DIRECTIVE,
        }
    }

    /// The record the directive is part of.
    pub fn record(&self) -> &SpfRecord {
        &self.published.record
    }

    /// That record as it was published (the TXT answer's text).
    pub fn record_text(&self) -> &str {
        &self.published.text
    }

    /// The directive's position among the record's terms (`0` is the first term after
    /// `v=spf1`).
    pub fn index(&self) -> usize {
        self.index
    }
}

/// The canonical form; width, fill and alignment apply as for a `str`.
impl fmt::Display for MatchedDirective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(64);
        write_directive(&mut s, self.directive());
        f.pad(&s)
    }
}

impl fmt::Debug for MatchedDirective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MatchedDirective")
            .field(&self.to_string())
            .finish()
    }
}

/// Equal when the directives are (wherever they came from).
impl PartialEq for MatchedDirective {
    fn eq(&self, other: &Self) -> bool {
        self.directive() == other.directive()
    }
}

impl Eq for MatchedDirective {}

/// Equal when the canonical form is `other`.
impl PartialEq<str> for MatchedDirective {
    fn eq(&self, other: &str) -> bool {
        let mut s = String::with_capacity(64);
        write_directive(&mut s, self.directive());
        s == other
    }
}

impl PartialEq<&str> for MatchedDirective {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}
