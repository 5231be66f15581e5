//! Policy discovery ([RFC 9989 §4.10.1](https://www.rfc-editor.org/rfc/rfc9989#section-4.10.1),
//! or RFC 7489 §6.6.3 in PSL mode): which record applies to an Author Domain, which of its
//! tags, and the Author Domain's Organizational Domain.

use mailward_types::Domain;
use mailward_types::dns::Resolver;

#[cfg(feature = "psl")]
use super::inputs::DiscoveryMode;
use super::inputs::Options;
use super::lookups::RecordingResolver;
use crate::record::{Policies, RequestedPolicy};
#[cfg(feature = "psl")]
use crate::walk::WalkStep;
use crate::walk::{CompletedWalk, FoundRecord, QueryOutcome, TreeWalk, WalkQuery};

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
    /// message, in [`evaluate`](super::evaluate), so this is the requested value.
    pub effective_policy: Option<RequestedPolicy>,
    /// Whether the Author Domain exists, when that was needed (for `np`) or evident.
    /// Serialized as `domain_exists`.
    #[cfg_attr(feature = "serde", serde(rename = "domain_exists"))]
    pub author_exists: Option<bool>,
    /// The Tree Walk queries of policy discovery.
    pub walk: Vec<WalkQuery>,
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
    let mut dns = RecordingResolver::new(resolver);
    let (discovery, _) = discover(&mut dns, author, options, true).await;
    discovery
}

/// Policy discovery on `dns`, with the completed Tree Walk that found the Author Domain's
/// Organizational Domain, when there is one (alignment reuses it). With `want_org`, a record
/// at the Author Domain does not end the work: the Organizational Domain is walked for too.
pub(super) async fn discover<R: Resolver>(
    dns: &mut RecordingResolver<'_, R>,
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
    if let Some(first) = walk.queries.first()
        && matches!(
            first.outcome,
            QueryOutcome::NoData
                | QueryOutcome::NoDmarcRecord
                | QueryOutcome::MultipleRecords { .. }
                | QueryOutcome::Record
        )
    {
        d.author_exists = Some(true);
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
    dns: &mut RecordingResolver<'_, R>,
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
    dns: &mut RecordingResolver<'_, R>,
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
        let first = one.queries.first().map(|q| q.outcome.clone());
        if i == 0
            && matches!(
                first,
                Some(QueryOutcome::NoData | QueryOutcome::NoDmarcRecord | QueryOutcome::Record)
            )
        {
            d.author_exists = Some(true);
        }
        if matches!(first, Some(QueryOutcome::MultipleRecords { .. })) {
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
