//! Policy discovery ([RFC 9989 §4.10.1](https://www.rfc-editor.org/rfc/rfc9989#section-4.10.1)),
//! Identifier Alignment (§4.4, §4.10.2) and the Mail Receiver steps of §5.3.
//!
//! The inputs are plain values ([`SpfInput`], [`DkimInput`]) so that results from any SPF or
//! DKIM implementation can be fed in. DNS goes through [`Resolver`]; within one evaluation every
//! TXT answer is cached, so the walks for the Author Domain and for the identifiers share their
//! queries (RFC 9989 Appendix B.4.1 reuses a walk the same way).

use std::collections::HashMap;
use std::fmt;

use mailward_types::Domain;
use mailward_types::auth_results::MethodResult;
use mailward_types::dns::{DnsError, DnsResult, Resolver, Txt};

use crate::record::{AlignmentMode, DmarcRecord, Policies, RequestedPolicy};
use crate::uri::ReportUri;
use crate::walk::{CompletedWalk, FoundRecord, TreeWalk, WalkError, WalkQuery, WalkStep};

/// Most DKIM results whose alignment is checked in one evaluation; the rest is ignored. Each
/// check may cost a Tree Walk of up to eight queries (RFC 9989 §4.10), so this bounds the DNS
/// work a message can cause. RFC 6376 sets no limit on signatures; 16 covers real mail.
pub const MAX_DKIM_RESULTS: usize = 16;

/// Every DNS query one evaluation may make: a walk for the Author Domain, one per SPF and DKIM
/// identifier, and the existence query for `np`.
pub const MAX_EVALUATION_QUERIES: usize =
    crate::walk::MAX_WALK_QUERIES * (2 + MAX_DKIM_RESULTS) + 1;

/// An SPF result (RFC 7208 §2.6), as far as DMARC needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum SpfVerdict {
    /// `pass`.
    Pass,
    /// `fail`.
    Fail,
    /// `softfail`.
    SoftFail,
    /// `neutral`.
    Neutral,
    /// `none`.
    None,
    /// `temperror`.
    TempError,
    /// `permerror`.
    PermError,
}

impl SpfVerdict {
    /// The RFC 8601 token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::SoftFail => "softfail",
            Self::Neutral => "neutral",
            Self::None => "none",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

/// Which identity SPF checked (RFC 7208 §2.3, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SpfScope {
    /// The MAIL FROM identity (with a null reverse-path: `postmaster@<HELO>`, RFC 7208 §2.4).
    MailFrom,
    /// The HELO identity: never an SPF-Authenticated Identifier for DMARC (RFC 9989 §4.4.2).
    Helo,
}

/// The SPF outcome DMARC uses (RFC 9989 §5.3.3: "the domain name used to complete the SPF
/// check").
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SpfInput {
    /// The SPF result.
    pub result: SpfVerdict,
    /// The domain checked.
    pub domain: Domain,
    /// Which identity it was.
    pub scope: SpfScope,
}

/// A DKIM verification result (RFC 8601 §2.7.1), as far as DMARC needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum DkimVerdict {
    /// `pass`.
    Pass,
    /// `fail`.
    Fail,
    /// `neutral`.
    Neutral,
    /// `policy`.
    Policy,
    /// `none`.
    None,
    /// `temperror`.
    TempError,
    /// `permerror`.
    PermError,
}

impl DkimVerdict {
    /// The RFC 8601 token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Neutral => "neutral",
            Self::Policy => "policy",
            Self::None => "none",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

/// One checked DKIM signature (RFC 9989 §5.3.3: result, `d=` and `s=`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DkimInput {
    /// The verification result.
    pub result: DkimVerdict,
    /// The signing domain, `d=`.
    pub domain: Domain,
    /// The selector, `s=`.
    pub selector: String,
}

/// How Organizational Domains are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DiscoveryMode {
    /// RFC 9989: the DNS Tree Walk, `psd`, `np`, `t` (the default).
    #[default]
    TreeWalk,
    /// RFC 7489 receivers: Organizational Domain = registrable domain from the Public Suffix
    /// List (RFC 7489 §3.2), policy at the Author Domain or its Organizational Domain (§6.6.3),
    /// `pct` honoured (§6.6.4), `t` and `psd` ignored.
    #[cfg(feature = "psl")]
    PublicSuffixList,
}

/// Options of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Options {
    /// Tree Walk (default) or PSL.
    pub mode: DiscoveryMode,
    /// PSL mode only: a number drawn uniformly from `0..100` by the caller's random source.
    /// The policy applies when it is below `pct`; otherwise the next lower policy does (RFC
    /// 7489 §6.6.4). With `None`, `pct=0` lowers the policy and any other value applies it.
    pub pct_sample: Option<u8>,
}

impl Options {
    /// Options for the given mode.
    pub fn with_mode(mode: DiscoveryMode) -> Self {
        Self {
            mode,
            pct_sample: None,
        }
    }

    /// Sets [`Self::pct_sample`]: a number the caller drew uniformly from `0..100` (values
    /// above 99 are clamped).
    #[must_use]
    pub fn with_pct_sample(mut self, sample: u8) -> Self {
        self.pct_sample = Some(sample.min(99));
        self
    }
}

/// The DMARC result (RFC 9989 §9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum DmarcResult {
    /// A record exists and an Authenticated Identifier aligns.
    Pass,
    /// A record exists and no Authenticated Identifier aligns.
    Fail,
    /// No (applicable) DMARC Policy Record.
    None,
    /// A DNS query needed for the result did not complete (§5.3.6).
    TempError,
    /// The message cannot be evaluated: no single Author Domain (§5.3.1).
    PermError,
}

impl DmarcResult {
    /// The RFC 8601 token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::None => "none",
            Self::TempError => "temperror",
            Self::PermError => "permerror",
        }
    }
}

impl fmt::Display for DmarcResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the receiver is asked to do with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Disposition {
    /// DMARC passed.
    Pass,
    /// No policy to apply (`p=none`, no record, or an error).
    None,
    /// Quarantine.
    Quarantine,
    /// Reject.
    Reject,
}

impl Disposition {
    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }
}

impl From<RequestedPolicy> for Disposition {
    fn from(p: RequestedPolicy) -> Self {
        match p {
            RequestedPolicy::None => Self::None,
            RequestedPolicy::Quarantine => Self::Quarantine,
            RequestedPolicy::Reject => Self::Reject,
        }
    }
}

/// Which tag's policy applies (RFC 9989 §4.10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum PolicyTag {
    /// `p`: the record is the Author Domain's, or no `sp`/`np` applies.
    P,
    /// `sp`: an existing subdomain.
    Sp,
    /// `np`: a non-existent subdomain.
    Np,
}

impl PolicyTag {
    /// The tag name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::P => "p",
            Self::Sp => "sp",
            Self::Np => "np",
        }
    }
}

/// Where the applied record was found (RFC 9989 §4.10.1's three locations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum RecordLocation {
    /// At the Author Domain.
    AuthorDomain,
    /// At the Author Domain's Organizational Domain.
    OrganizationalDomain,
    /// At the Author Domain's Public Suffix Domain (`psd=y`).
    PublicSuffixDomain,
}

/// Why discovery ended as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "status"))]
#[non_exhaustive]
pub enum DiscoveryStatus {
    /// A record applies.
    Found,
    /// No DMARC Policy Record: "Mail Receivers MUST NOT apply the DMARC mechanism".
    NoRecord,
    /// A record was found but has no valid `p` (or an invalid `sp`/`np`) and no valid `rua`:
    /// "the Mail Receiver applies no DMARC processing to this message" (§4.10.1).
    Unusable,
    /// PSL mode: several records at the queried name (RFC 7489 §6.6.3 step 4).
    MultipleRecords,
    /// A DNS error: the policy cannot be known.
    #[cfg_attr(feature = "serde", serde(rename = "temperror"))]
    TempError {
        /// Description of the failed query.
        error: String,
    },
}

/// The result of policy discovery for one Author Domain.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PolicyDiscovery {
    /// The Author Domain.
    pub author_domain: Domain,
    /// How discovery ended.
    pub status: DiscoveryStatus,
    /// The record that applies, with where it was found.
    pub record: Option<FoundRecord>,
    /// Which of the three locations that is.
    pub location: Option<RecordLocation>,
    /// The Author Domain's Organizational Domain, when it was determined.
    pub organizational_domain: Option<Domain>,
    /// The policies of the record after the §4.10.1 fallbacks.
    pub policies: Option<Policies>,
    /// The tag that applies to this Author Domain.
    pub policy: Option<PolicyTag>,
    /// Its value.
    pub requested_policy: Option<RequestedPolicy>,
    /// `t=y` was set (and the mode honours it).
    pub testing: bool,
    /// The value after `t=y` lowering (Tree Walk mode). In PSL mode `pct` sampling happens per
    /// message, in [`evaluate`], so this is the requested value.
    pub effective_policy: Option<RequestedPolicy>,
    /// Whether the Author Domain exists, when that was needed (for `np`) or evident.
    /// Serialized as `domain_exists`.
    #[cfg_attr(feature = "serde", serde(rename = "domain_exists"))]
    pub author_exists: Option<bool>,
    /// The Tree Walk queries of policy discovery.
    pub walk: Vec<WalkQuery>,
}

/// Whether one Authenticated Identifier aligns with the Author Domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AlignmentStatus {
    /// Identical domains (aligned in both modes).
    Strict,
    /// Same Organizational Domain (aligned in relaxed mode).
    Relaxed,
    /// Authenticated but not aligned.
    NotAligned,
    /// Not an Authenticated Identifier: the mechanism did not pass (or SPF checked HELO).
    NotAuthenticated,
    /// A DNS error left it unknown whether this identifier aligns: its Organizational Domain
    /// could not be determined, or its SPF/DKIM check ended in `temperror` while its domain
    /// would align had it passed (RFC 9989 §5.3.6).
    #[cfg_attr(feature = "serde", serde(rename = "temperror"))]
    TempError,
}

impl AlignmentStatus {
    /// Whether this identifier makes DMARC pass.
    pub fn is_aligned(self) -> bool {
        matches!(self, Self::Strict | Self::Relaxed)
    }
}

/// Alignment of the SPF identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SpfAlignment {
    /// The domain SPF checked.
    pub domain: Domain,
    /// SPF's result.
    pub result: SpfVerdict,
    /// MAIL FROM or HELO.
    pub scope: SpfScope,
    /// The record's `aspf`.
    pub mode: AlignmentMode,
    /// The outcome.
    pub status: AlignmentStatus,
    /// `status.is_aligned()`.
    pub aligned: bool,
    /// The identifier's Organizational Domain, when one was determined (it is not looked up
    /// when the identifier is not at or below the Author Domain's Organizational Domain:
    /// alignment is impossible then).
    pub organizational_domain: Option<Domain>,
}

/// Alignment of one DKIM signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DkimAlignment {
    /// `d=`.
    pub domain: Domain,
    /// `s=`.
    pub selector: String,
    /// Verification result.
    pub result: DkimVerdict,
    /// The record's `adkim`.
    pub mode: AlignmentMode,
    /// The outcome.
    pub status: AlignmentStatus,
    /// `status.is_aligned()`.
    pub aligned: bool,
    /// The identifier's Organizational Domain, when one was determined (it is not looked up
    /// when the identifier is not at or below the Author Domain's Organizational Domain:
    /// alignment is impossible then).
    pub organizational_domain: Option<Domain>,
}

/// One DNS query made during an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DnsQuery {
    /// The name queried.
    pub name: Domain,
    /// `TXT` or `A`.
    pub rtype: &'static str,
    /// `records`, `nxdomain`, `nodata`, `timeout`, `servfail`, ...
    pub outcome: String,
}

/// Everything DMARC decided about one message.
///
/// With the `serde` feature it serializes to an object whose keys are the field names, except
/// `author_exists`, written `domain_exists` (the key `mailward dmarc --json` uses too), and
/// `parsed_record`, which is skipped (`record` has the text). Enums are lower-case words
/// (`snake_case` for multi-word ones such as `not_aligned` or `author_domain`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DmarcOutcome {
    /// pass / fail / none / temperror / permerror.
    pub result: DmarcResult,
    /// pass / none / quarantine / reject.
    pub disposition: Disposition,
    /// The tag applied (`p`, `sp`, `np`), when a record applies.
    pub policy: Option<PolicyTag>,
    /// The value of that tag.
    pub requested_policy: Option<RequestedPolicy>,
    /// The policy after `t=y` (or PSL-mode `pct`) lowering: `policy.dmarc` of RFC 9989 §9.1.
    pub effective_policy: Option<RequestedPolicy>,
    /// `t=y` was set and honoured.
    pub testing: bool,
    /// The Author Domain, when exactly one was found.
    pub author_domain: Option<Domain>,
    /// Whether the Author Domain exists, when known. Serialized as `domain_exists`, the key
    /// `mailward dmarc --json` uses for the same fact.
    #[cfg_attr(feature = "serde", serde(rename = "domain_exists"))]
    pub author_exists: Option<bool>,
    /// The Author Domain's Organizational Domain (§4.10.2): filled whenever policy discovery
    /// did not fail, `None` only when a DNS error prevented finding it. When the Author Domain
    /// has its own record and every Authenticated Identifier is that same domain, it is the
    /// Author Domain ("this common domain is treated as the Organizational Domain").
    pub organizational_domain: Option<Domain>,
    /// Where the applied record was found.
    pub policy_domain: Option<Domain>,
    /// Which location that is.
    pub record_location: Option<RecordLocation>,
    /// The record as published.
    pub record: Option<String>,
    /// The record parsed (not serialized: `record` has the text).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub parsed_record: Option<DmarcRecord>,
    /// SPF alignment, when an SPF result was given.
    pub spf: Option<SpfAlignment>,
    /// DKIM alignment, one per signature given (at most [`MAX_DKIM_RESULTS`]).
    pub dkim: Vec<DkimAlignment>,
    /// Whether SPF produced an aligned identifier.
    pub spf_aligned: bool,
    /// Whether any DKIM signature produced an aligned identifier.
    pub dkim_aligned: bool,
    /// Aggregate report URIs of the applied record.
    pub rua: Vec<ReportUri>,
    /// Failure report URIs of the applied record.
    pub ruf: Vec<ReportUri>,
    /// How Organizational Domains were found.
    pub mode: DiscoveryMode,
    /// The Tree Walk of policy discovery.
    pub walk: Vec<WalkQuery>,
    /// Every DNS query actually made, in order.
    pub queries: Vec<DnsQuery>,
    /// Human-readable explanation.
    pub reason: String,
    /// Record problems and other notes.
    pub warnings: Vec<String>,
}

impl DmarcOutcome {
    /// An outcome for a message without exactly one Author Domain (RFC 9989 §5.3.1: "If zero
    /// or more than one domain is extracted from the RFC5322.From header field, then DMARC
    /// validation is not possible and the process terminates").
    pub fn no_author_domain(reason: impl Into<String>) -> Self {
        Self::empty(None, DmarcResult::PermError, reason.into())
    }

    fn empty(author: Option<Domain>, result: DmarcResult, reason: String) -> Self {
        Self {
            result,
            disposition: Disposition::None,
            policy: None,
            requested_policy: None,
            effective_policy: None,
            testing: false,
            author_domain: author,
            author_exists: None,
            organizational_domain: None,
            policy_domain: None,
            record_location: None,
            record: None,
            parsed_record: None,
            spf: None,
            dkim: Vec::new(),
            spf_aligned: false,
            dkim_aligned: false,
            rua: Vec::new(),
            ruf: Vec::new(),
            mode: DiscoveryMode::default(),
            walk: Vec::new(),
            queries: Vec::new(),
            reason,
            warnings: Vec::new(),
        }
    }

    /// The `dmarc` entry of an Authentication-Results header field: the result, `header.from`
    /// and `policy.dmarc` (RFC 9989 §9.1), with the applied tag and disposition as a comment.
    pub fn to_method_result(&self) -> MethodResult {
        let mut m = MethodResult::new("dmarc", self.result.as_str());
        if let (Some(tag), Some(p)) = (self.policy, self.requested_policy) {
            let mut comment = format!("{}={}", tag.as_str(), p.as_str());
            if self.testing {
                comment.push_str(" t=y");
            }
            comment.push_str(&format!(" dis={}", self.disposition.as_str()));
            m = m.with_comment(comment);
        } else if matches!(self.result, DmarcResult::PermError | DmarcResult::TempError)
            && !self.reason.is_empty()
        {
            m = m.with_comment(self.reason.clone());
        }
        if let Some(author) = &self.author_domain {
            m = m.with_property("header", "from", author.as_str());
        }
        if let Some(p) = self.effective_policy {
            m = m.with_property("policy", "dmarc", p.as_str());
        }
        m
    }
}

/// A resolver wrapper that caches TXT answers and records every query.
struct Dns<'r, R> {
    resolver: &'r R,
    txt_cache: HashMap<Domain, DnsResult<Txt>>,
    queries: Vec<DnsQuery>,
}

fn outcome_str<T>(r: &DnsResult<T>) -> String {
    match r {
        Ok(_) => "records".to_owned(),
        Err(e) => e.as_str().to_ascii_lowercase(),
    }
}

impl<'r, R: Resolver> Dns<'r, R> {
    fn new(resolver: &'r R) -> Self {
        Self {
            resolver,
            txt_cache: HashMap::new(),
            queries: Vec::new(),
        }
    }

    async fn txt(&mut self, name: &Domain) -> DnsResult<Txt> {
        if let Some(hit) = self.txt_cache.get(name) {
            return hit.clone();
        }
        let answer = if self.queries.len() >= MAX_EVALUATION_QUERIES {
            Err(DnsError::ServFail)
        } else {
            let a = self.resolver.txt(name).await;
            self.queries.push(DnsQuery {
                name: name.clone(),
                rtype: "TXT",
                outcome: outcome_str(&a),
            });
            a
        };
        self.txt_cache.insert(name.clone(), answer.clone());
        answer
    }

    /// Whether `domain` exists: NXDOMAIN means no (RFC 9989 §3.2.13, Appendix A.4: "if any RR
    /// exists for a domain, then the domain exists"), NODATA or records mean yes.
    async fn exists(&mut self, domain: &Domain) -> Result<bool, DnsError> {
        let a = self.resolver.a(domain).await;
        self.queries.push(DnsQuery {
            name: domain.clone(),
            rtype: "A",
            outcome: outcome_str(&a),
        });
        match a {
            Ok(_) => Ok(true),
            Err(e) if e.is_nxdomain() => Ok(false),
            Err(e) if e.is_void() => Ok(true),
            Err(e) => Err(e),
        }
    }

    async fn walk(&mut self, mut walk: TreeWalk) -> Result<CompletedWalk, WalkError> {
        while let WalkStep::Query(name) = walk.step() {
            let answer = self.txt(&name).await;
            walk.answer(answer);
        }
        walk.finish()
    }
}

/// Discovers the DMARC policy for an Author Domain (RFC 9989 §4.10.1, or RFC 7489 §6.6.3 in
/// PSL mode), also determining its Organizational Domain.
///
/// # Examples
///
/// ```
/// # use mailward_types::{Domain, dns::{DnsResult, Lookup, Txt, Resolver, DnsError, Mx}};
/// # use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// # struct Zone;
/// # impl Resolver for Zone {
/// #   async fn txt(&self, n: &Domain) -> DnsResult<Txt> {
/// #       if n.as_str() == "_dmarc.example.com" {
/// #           Ok(Lookup::new(vec![Txt::from("v=DMARC1; p=reject; sp=quarantine")], 60))
/// #       } else { Err(DnsError::NXDOMAIN) } }
/// #   async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::NODATA) }
/// #   async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::NODATA) }
/// #   async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::NODATA) }
/// #   async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::NODATA) }
/// # }
/// use mailward_dmarc::evaluate::{discover_policy, Options, PolicyTag};
///
/// let author = Domain::new("mail.example.com").unwrap();
/// let found = pollster::block_on(discover_policy(&Zone, &author, &Options::default()));
/// assert_eq!(found.policy, Some(PolicyTag::Sp));
/// assert_eq!(found.organizational_domain.unwrap().as_str(), "example.com");
/// ```
pub async fn discover_policy<R: Resolver>(
    resolver: &R,
    author: &Domain,
    options: &Options,
) -> PolicyDiscovery {
    let mut dns = Dns::new(resolver);
    let (discovery, _) = discover(&mut dns, author, options, true).await;
    discovery
}

async fn discover<R: Resolver>(
    dns: &mut Dns<'_, R>,
    author: &Domain,
    options: &Options,
    want_org: bool,
) -> (PolicyDiscovery, Option<CompletedWalk>) {
    let mut d = PolicyDiscovery {
        author_domain: author.clone(),
        status: DiscoveryStatus::NoRecord,
        record: None,
        location: None,
        organizational_domain: None,
        policies: None,
        policy: None,
        requested_policy: None,
        testing: false,
        effective_policy: None,
        author_exists: None,
        walk: Vec::new(),
    };
    #[cfg(feature = "psl")]
    if options.mode == DiscoveryMode::PublicSuffixList {
        return (discover_psl(dns, author, d).await, None);
    }
    let _ = options;
    // §4.10.1: query the Author Domain; walk only if no valid record is there.
    let walk = match dns
        .walk(TreeWalk::new_policy_discovery(author.clone()))
        .await
    {
        Ok(w) => w,
        Err(e) => {
            d.walk = e.queries.clone();
            d.status = DiscoveryStatus::TempError {
                // The walk's message names the query; its source, the DNS error, follows.
                error: format!("{e}: {}", e.error),
            };
            return (d, None);
        }
    };
    d.walk = walk.queries.clone();
    // `_dmarc.<author>` exists (NODATA or some TXT) → the Author Domain exists (RFC 8020).
    if let Some(first) = walk.queries.first() {
        use crate::walk::QueryOutcome as Q;
        if matches!(
            first.outcome,
            Q::NoData | Q::NoDmarcRecord | Q::MultipleRecords { .. } | Q::Record
        ) {
            d.author_exists = Some(true);
        }
    }
    let (record, location, full) = if let Some(rec) = walk.record_at_start() {
        let full = if want_org {
            match dns.walk(TreeWalk::new(author.clone())).await {
                Ok(full) => {
                    d.organizational_domain = Some(full.organizational_domain.clone());
                    Some(full)
                }
                Err(_) => None,
            }
        } else {
            None
        };
        (rec.clone(), RecordLocation::AuthorDomain, full)
    } else {
        // The policy walk did not stop early, so it is also the full Organizational Domain walk.
        let org = walk.organizational_domain.clone();
        d.organizational_domain = Some(org.clone());
        if let Some(rec) = walk.record_at(&org) {
            (
                rec.clone(),
                RecordLocation::OrganizationalDomain,
                Some(walk),
            )
        } else if let Some(rec) = walk.psd_record() {
            (rec.clone(), RecordLocation::PublicSuffixDomain, Some(walk))
        } else {
            return (d, Some(walk));
        }
    };
    let mut r = finish_discovery(dns, d, record, location).await;
    // §4.7 `t`: "if the policy is "quarantine" and the value of the "t" tag is "y", a policy
    // of "none" will be applied [...]; if the policy is "reject" [...] "quarantine"".
    if let (Some(rec), Some(p)) = (&r.record, r.requested_policy) {
        r.testing = rec.record.testing();
        r.effective_policy = Some(if r.testing { p.one_level_lower() } else { p });
    }
    (r, full)
}

async fn finish_discovery<R: Resolver>(
    dns: &mut Dns<'_, R>,
    mut d: PolicyDiscovery,
    record: FoundRecord,
    location: RecordLocation,
) -> PolicyDiscovery {
    let Some(policies) = record.record.policies() else {
        d.status = DiscoveryStatus::Unusable;
        d.location = Some(location);
        d.record = Some(record);
        return d;
    };
    let subdomain = location != RecordLocation::AuthorDomain
        && d.author_domain.is_subdomain_of(&record.domain)
        && d.author_domain != record.domain;
    let tag = if !subdomain {
        PolicyTag::P
    } else {
        // §4.10.1: "the "sp" tag (if any) if the Author Domain exists or the "np" tag (if any)
        // if the Author Domain does not exist. In the absence of applicable "sp" or "np" tags,
        // the "p" tag policy is used for subdomains."
        let has_sp = record.record.sp.valid().is_some() && !policies.forced_none;
        let has_np = record.record.np.valid().is_some() && !policies.forced_none;
        let exists = if has_np && d.author_exists.is_none() {
            match dns.exists(&d.author_domain).await {
                Ok(e) => {
                    d.author_exists = Some(e);
                    e
                }
                Err(e) => {
                    d.status = DiscoveryStatus::TempError {
                        error: format!("DNS error while querying {}: {e}", d.author_domain),
                    };
                    d.location = Some(location);
                    d.record = Some(record);
                    d.policies = Some(policies);
                    return d;
                }
            }
        } else {
            d.author_exists.unwrap_or(true)
        };
        match (exists, has_np, has_sp) {
            (false, true, _) => PolicyTag::Np,
            (_, _, true) => PolicyTag::Sp,
            _ => PolicyTag::P,
        }
    };
    d.requested_policy = Some(match tag {
        PolicyTag::P => policies.p,
        PolicyTag::Sp => policies.sp,
        PolicyTag::Np => policies.np,
    });
    d.effective_policy = d.requested_policy;
    d.policy = Some(tag);
    d.policies = Some(policies);
    d.status = DiscoveryStatus::Found;
    d.location = Some(location);
    d.record = Some(record);
    d
}

#[cfg(feature = "psl")]
async fn discover_psl<R: Resolver>(
    dns: &mut Dns<'_, R>,
    author: &Domain,
    mut d: PolicyDiscovery,
) -> PolicyDiscovery {
    let org = crate::psl_mode::organizational_domain(author);
    d.organizational_domain = Some(org.clone());
    let mut targets = vec![author.clone()];
    if &org != author {
        targets.push(org.clone());
    }
    for (i, target) in targets.iter().enumerate() {
        // RFC 7489 §6.6.3: the Author Domain, then (only if no record) the Organizational
        // Domain; several records or none after that: no DMARC processing.
        let mut walk = TreeWalk::new_policy_discovery(target.clone());
        if let WalkStep::Query(name) = walk.step() {
            let answer = dns.txt(&name).await;
            walk.answer(answer);
        }
        let one = match walk.finish() {
            Ok(w) => w,
            Err(e) => {
                d.walk.extend(e.queries.clone());
                d.status = DiscoveryStatus::TempError {
                    // The walk's message names the query; its source, the DNS error, follows.
                    error: format!("{e}: {}", e.error),
                };
                return d;
            }
        };
        d.walk.extend(one.queries.iter().take(1).cloned());
        use crate::walk::QueryOutcome as Q;
        let first = one.queries.first().map(|q| q.outcome.clone());
        if i == 0 && matches!(first, Some(Q::NoData | Q::NoDmarcRecord | Q::Record)) {
            d.author_exists = Some(true);
        }
        if matches!(first, Some(Q::MultipleRecords { .. })) {
            d.status = DiscoveryStatus::MultipleRecords;
            return d;
        }
        if let Some(rec) = one.record_at_start() {
            let location = if i == 0 {
                RecordLocation::AuthorDomain
            } else {
                RecordLocation::OrganizationalDomain
            };
            return finish_discovery(dns, d, rec.clone(), location).await;
        }
    }
    d
}

/// Evaluates DMARC for one message (RFC 9989 §5.3.2 to §5.3.6).
///
/// `spf` is the SPF result with the domain it checked; `dkim` is every checked DKIM signature.
///
/// # Examples
///
/// ```
/// # use mailward_types::{Domain, dns::{DnsResult, Lookup, Txt, Resolver, DnsError, Mx}};
/// # use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
/// # struct Zone;
/// # impl Resolver for Zone {
/// #   async fn txt(&self, n: &Domain) -> DnsResult<Txt> {
/// #       if n.as_str() == "_dmarc.example.com" {
/// #           Ok(Lookup::new(vec![Txt::from("v=DMARC1; p=reject")], 60))
/// #       } else { Err(DnsError::NXDOMAIN) } }
/// #   async fn a(&self, _: &Domain) -> DnsResult<Ipv4Addr> { Err(DnsError::NODATA) }
/// #   async fn aaaa(&self, _: &Domain) -> DnsResult<Ipv6Addr> { Err(DnsError::NODATA) }
/// #   async fn mx(&self, _: &Domain) -> DnsResult<Mx> { Err(DnsError::NODATA) }
/// #   async fn ptr(&self, _: IpAddr) -> DnsResult<Domain> { Err(DnsError::NODATA) }
/// # }
/// use mailward_dmarc::evaluate::*;
///
/// let d = |s| Domain::new(s).unwrap();
/// let spf = SpfInput { result: SpfVerdict::Pass, domain: d("bounce.example.com"), scope: SpfScope::MailFrom };
/// let out = pollster::block_on(evaluate(&Zone, &d("example.com"), Some(&spf), &[], &Options::default()));
/// assert_eq!(out.result, DmarcResult::Pass);
/// assert!(out.spf_aligned);
/// ```
pub async fn evaluate<R: Resolver>(
    resolver: &R,
    author: &Domain,
    spf: Option<&SpfInput>,
    dkim: &[DkimInput],
    options: &Options,
) -> DmarcOutcome {
    let mut dns = Dns::new(resolver);
    let (disc, author_walk) = discover(&mut dns, author, options, false).await;
    let mut out = DmarcOutcome::empty(Some(author.clone()), DmarcResult::None, String::new());
    out.mode = options.mode;
    out.walk = disc.walk.clone();
    out.author_exists = disc.author_exists;
    out.organizational_domain = disc.organizational_domain.clone();
    out.record_location = disc.location;
    if let Some(rec) = &disc.record {
        out.policy_domain = Some(rec.domain.clone());
        out.record = Some(rec.text.clone());
        out.parsed_record = Some(rec.record.clone());
        out.warnings = rec.warnings.iter().map(ToString::to_string).collect();
    }
    let mut org = OrgFinder {
        mode: options.mode,
        known: HashMap::new(),
    };
    if let Some(w) = author_walk {
        org.known
            .insert(w.start.clone(), Ok(w.organizational_domain.clone()));
    }
    let record = match (&disc.status, &disc.record) {
        (DiscoveryStatus::Found, Some(rec)) => rec.record.clone(),
        (DiscoveryStatus::TempError { error }, _) => {
            out.result = DmarcResult::TempError;
            out.reason = format!("policy discovery failed: {error}");
            out.queries = dns.queries;
            return out;
        }
        (DiscoveryStatus::Unusable, Some(rec)) => {
            out.reason = format!(
                "the record at _dmarc.{} has no valid p (or an invalid sp/np) and no valid rua: DMARC does not apply",
                rec.domain
            );
            if out.organizational_domain.is_none() {
                out.organizational_domain = org.find(&mut dns, author).await.ok();
            }
            out.queries = dns.queries;
            return out;
        }
        (DiscoveryStatus::MultipleRecords, _) => {
            out.reason = "several DMARC records at one name: DMARC does not apply".to_owned();
            out.queries = dns.queries;
            return out;
        }
        _ => {
            out.reason = format!("no DMARC Policy Record for {author}");
            out.queries = dns.queries;
            return out;
        }
    };
    out.policy = disc.policy;
    out.requested_policy = disc.requested_policy;
    out.rua = record.rua.clone();
    out.ruf = record.ruf.clone();

    // Identifier Alignment (§4.4, §4.10.2).
    let mut any_temp = false;
    if let Some(spf) = spf {
        let mode = record.aspf();
        let (status, org_domain) = match (spf.scope, spf.result) {
            (SpfScope::MailFrom, SpfVerdict::Pass) => {
                align(&mut dns, &mut org, author, &spf.domain, mode).await
            }
            (SpfScope::MailFrom, SpfVerdict::TempError) => {
                align_unknown(&mut dns, &mut org, author, &spf.domain, mode).await
            }
            _ => (AlignmentStatus::NotAuthenticated, None),
        };
        any_temp |= status == AlignmentStatus::TempError;
        out.spf_aligned = status.is_aligned();
        out.spf = Some(SpfAlignment {
            domain: spf.domain.clone(),
            result: spf.result,
            scope: spf.scope,
            mode,
            status,
            aligned: status.is_aligned(),
            organizational_domain: org_domain,
        });
    }
    if dkim.len() > MAX_DKIM_RESULTS {
        out.warnings.push(format!(
            "{} DKIM results given; only the first {MAX_DKIM_RESULTS} were checked",
            dkim.len()
        ));
    }
    for sig in dkim.iter().take(MAX_DKIM_RESULTS) {
        let mode = record.adkim();
        let (status, org_domain) = match sig.result {
            DkimVerdict::Pass => align(&mut dns, &mut org, author, &sig.domain, mode).await,
            DkimVerdict::TempError => {
                align_unknown(&mut dns, &mut org, author, &sig.domain, mode).await
            }
            _ => (AlignmentStatus::NotAuthenticated, None),
        };
        any_temp |= status == AlignmentStatus::TempError;
        out.dkim_aligned |= status.is_aligned();
        out.dkim.push(DkimAlignment {
            domain: sig.domain.clone(),
            selector: sig.selector.clone(),
            result: sig.result,
            mode,
            status,
            aligned: status.is_aligned(),
            organizational_domain: org_domain,
        });
    }
    if out.organizational_domain.is_none() {
        // §4.10.2: when "the Author Domain and the Authenticated Identifier(s) are all the
        // same domain, and there is a DMARC Policy Record published for that domain [...] this
        // common domain is treated as the Organizational Domain". Otherwise the author's walk
        // (usually cached by alignment already); a DNS error there only leaves this unknown:
        // it was not needed for the result.
        let identifiers: Vec<&Domain> = out
            .spf
            .iter()
            .filter(|a| a.status != AlignmentStatus::NotAuthenticated)
            .map(|a| &a.domain)
            .chain(
                out.dkim
                    .iter()
                    .filter(|a| a.status != AlignmentStatus::NotAuthenticated)
                    .map(|a| &a.domain),
            )
            .collect();
        let common = disc.location == Some(RecordLocation::AuthorDomain)
            && !identifiers.is_empty()
            && identifiers.iter().all(|d| *d == author);
        out.organizational_domain = if common {
            Some(author.clone())
        } else {
            org.find(&mut dns, author).await.ok()
        };
    }

    // Effective policy: `t=y` one level lower (§4.7), or `pct` in PSL mode (RFC 7489 §6.6.4).
    let requested = disc.requested_policy.unwrap_or(RequestedPolicy::None);
    let mut effective = requested;
    match options.mode {
        DiscoveryMode::TreeWalk => {
            if record.testing() {
                out.testing = true;
                effective = requested.one_level_lower();
            }
        }
        #[cfg(feature = "psl")]
        DiscoveryMode::PublicSuffixList => {
            let pct = record.pct();
            let sampled = match options.pct_sample {
                Some(s) => s < pct,
                None => pct > 0,
            };
            if !sampled {
                effective = requested.one_level_lower();
                out.warnings
                    .push(format!("pct={pct}: message not sampled, policy lowered"));
            }
        }
    }
    out.effective_policy = Some(effective);

    // §5.3.5 / §5.3.6.
    if out.spf_aligned || out.dkim_aligned {
        out.result = DmarcResult::Pass;
        out.disposition = Disposition::Pass;
        out.reason = match (out.spf_aligned, out.dkim_aligned) {
            (true, true) => "SPF and DKIM aligned".to_owned(),
            (true, false) => "SPF aligned".to_owned(),
            _ => "DKIM aligned".to_owned(),
        };
    } else if any_temp {
        out.result = DmarcResult::TempError;
        out.reason = "no identifier aligned, and a DNS error left one that could align undetermined (SPF/DKIM temperror or an Organizational Domain lookup)".to_owned();
    } else {
        out.result = DmarcResult::Fail;
        out.disposition = effective.into();
        out.reason = "no Authenticated Identifier aligned with the Author Domain".to_owned();
    }
    out.queries = dns.queries;
    out
}

/// [`evaluate`] for a whole message: extracts the Author Domain from its RFC5322.From field
/// first (RFC 9989 §5.3.1). A message without exactly one From domain gets a `permerror`
/// outcome saying why ([`DmarcOutcome::no_author_domain`]).
pub async fn evaluate_message<R: Resolver>(
    resolver: &R,
    message: &mailward_types::message::Message<'_>,
    spf: Option<&SpfInput>,
    dkim: &[DkimInput],
    options: &Options,
) -> DmarcOutcome {
    match crate::from::author_domain(message) {
        Ok(author) => evaluate(resolver, &author, spf, dkim, options).await,
        Err(e) => DmarcOutcome::no_author_domain(e.to_string()),
    }
}

struct OrgFinder {
    mode: DiscoveryMode,
    known: HashMap<Domain, Result<Domain, ()>>,
}

impl OrgFinder {
    async fn find<R: Resolver>(&mut self, dns: &mut Dns<'_, R>, d: &Domain) -> Result<Domain, ()> {
        if let Some(k) = self.known.get(d) {
            return k.clone();
        }
        let r = match self.mode {
            DiscoveryMode::TreeWalk => dns
                .walk(TreeWalk::new(d.clone()))
                .await
                .map(|w| w.organizational_domain)
                .map_err(|_| ()),
            #[cfg(feature = "psl")]
            DiscoveryMode::PublicSuffixList => Ok(crate::psl_mode::organizational_domain(d)),
        };
        self.known.insert(d.clone(), r.clone());
        r
    }
}

/// Alignment of an identifier whose SPF or DKIM check ended in `temperror`: it is not
/// authenticated, but had the DNS answered it might have been. RFC 9989 §5.3.6: "If one or
/// more DNS queries required to perform DMARC validation on the message do not complete due to
/// temporary or permanent DNS errors, the message cannot be considered to pass or fail". The
/// query was required only if the identifier would align once authenticated, so alignment is
/// computed as if it had passed: aligned (or unknown because of a DNS error) gives
/// [`AlignmentStatus::TempError`], otherwise it is simply not authenticated.
async fn align_unknown<R: Resolver>(
    dns: &mut Dns<'_, R>,
    org: &mut OrgFinder,
    author: &Domain,
    id: &Domain,
    mode: AlignmentMode,
) -> (AlignmentStatus, Option<Domain>) {
    let (status, org_domain) = align(dns, org, author, id, mode).await;
    if status.is_aligned() || status == AlignmentStatus::TempError {
        (AlignmentStatus::TempError, org_domain)
    } else {
        (AlignmentStatus::NotAuthenticated, org_domain)
    }
}

/// RFC 9989 §4.4: strict = identical; relaxed = same Organizational Domain. Domains are
/// lower-case A-labels already, so equality is the RFC 4343 case-insensitive comparison.
async fn align<R: Resolver>(
    dns: &mut Dns<'_, R>,
    org: &mut OrgFinder,
    author: &Domain,
    id: &Domain,
    mode: AlignmentMode,
) -> (AlignmentStatus, Option<Domain>) {
    if id == author {
        return (AlignmentStatus::Strict, None);
    }
    if mode == AlignmentMode::Strict {
        return (AlignmentStatus::NotAligned, None);
    }
    // Organizational Domains are ancestors-or-self; without a common label they cannot match.
    let common = author
        .labels()
        .rev()
        .zip(id.labels().rev())
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return (AlignmentStatus::NotAligned, None);
    }
    let Ok(author_org) = org.find(dns, author).await else {
        return (AlignmentStatus::TempError, None);
    };
    // §4.10.2 selects the start domain or one of its ancestors, so the identifier's
    // Organizational Domain can equal the author's only if the identifier is that domain or
    // below it. Otherwise no answer of the identifier's walk matters: skip it, so that a DNS
    // error there cannot turn a certain `fail` into `temperror` (§5.3.6 covers only queries
    // "required to perform DMARC validation").
    if !id.is_subdomain_of(&author_org) {
        return (AlignmentStatus::NotAligned, None);
    }
    let Ok(id_org) = org.find(dns, id).await else {
        return (AlignmentStatus::TempError, None);
    };
    if author_org == id_org {
        (AlignmentStatus::Relaxed, Some(id_org))
    } else {
        (AlignmentStatus::NotAligned, Some(id_org))
    }
}
