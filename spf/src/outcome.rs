//! The outcome of `check_host()` ([`SpfOutcome`]).

use mailward_types::Domain;

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
    /// The directive that decided the result, in canonical form (`None`: the default result).
    pub mechanism: Option<String>,
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
