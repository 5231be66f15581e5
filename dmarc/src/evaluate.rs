//! Policy discovery ([RFC 9989 §4.10.1](https://www.rfc-editor.org/rfc/rfc9989#section-4.10.1)),
//! Identifier Alignment (§4.4, §4.10.2) and the Mail Receiver steps of §5.3.
//!
//! The inputs are plain values ([`SpfInput`], [`DkimInput`]) so that results from any SPF or
//! DKIM implementation can be fed in. DNS goes through [`Resolver`]; within one evaluation every
//! TXT answer is cached, so the walks for the Author Domain and for the identifiers share their
//! queries (RFC 9989 Appendix B.4.1 reuses a walk the same way).

mod alignment;
mod discovery;
mod inputs;
mod lookups;
mod outcome;

use mailward_types::Domain;
use mailward_types::dns::Resolver;

use self::alignment::{OrgFinder, dkim_alignment, spf_alignment};
use self::discovery::discover;
use self::lookups::RecordingResolver;
use crate::record::{DmarcRecord, RequestedPolicy};

pub use self::alignment::{AlignmentStatus, DkimAlignment, SpfAlignment};
pub use self::discovery::{
    DiscoveryStatus, PolicyDiscovery, PolicyTag, RecordLocation, discover_policy,
};
pub use self::inputs::{
    DiscoveryMode, DkimInput, DkimVerdict, Options, SpfInput, SpfScope, SpfVerdict,
};
#[allow(deprecated)]
pub use self::lookups::DnsQuery;
pub use self::lookups::{LoggedQuery, MAX_DKIM_RESULTS, MAX_EVALUATION_QUERIES};
pub use self::outcome::{Disposition, DmarcOutcome, DmarcResult};

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
    let mut dns = RecordingResolver::new(resolver);
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
    let mut org = OrgFinder::new(options.mode);
    if let Some(w) = &author_walk {
        org.remember(w);
    }
    let record = match (&disc.status, &disc.record) {
        (DiscoveryStatus::Found, Some(rec)) => rec.record.clone(),
        (DiscoveryStatus::TempError { error }, _) => {
            out.result = DmarcResult::TempError;
            out.reason = format!("policy discovery failed: {error}");
            out.queries = dns.into_queries();
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
            out.queries = dns.into_queries();
            return out;
        }
        (DiscoveryStatus::MultipleRecords, _) => {
            out.reason = "several DMARC records at one name: DMARC does not apply".to_owned();
            out.queries = dns.into_queries();
            return out;
        }
        _ => {
            out.reason = format!("no DMARC Policy Record for {author}");
            out.queries = dns.into_queries();
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
        let spf = spf_alignment(&mut dns, &mut org, author, spf, record.aspf()).await;
        any_temp |= spf.status == AlignmentStatus::TempError;
        out.spf_aligned = spf.aligned;
        out.spf = Some(spf);
    }
    if dkim.len() > MAX_DKIM_RESULTS {
        out.warnings.push(format!(
            "{} DKIM results given; only the first {MAX_DKIM_RESULTS} were checked",
            dkim.len()
        ));
    }
    for sig in dkim.iter().take(MAX_DKIM_RESULTS) {
        let sig = dkim_alignment(&mut dns, &mut org, author, sig, record.adkim()).await;
        any_temp |= sig.status == AlignmentStatus::TempError;
        out.dkim_aligned |= sig.aligned;
        out.dkim.push(sig);
    }
    if out.organizational_domain.is_none() {
        out.organizational_domain =
            outcome_organizational_domain(&mut dns, &mut org, author, &out, disc.location).await;
    }
    let effective = effective_policy(&mut out, &record, disc.requested_policy, options);
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
    out.queries = dns.into_queries();
    out
}

/// The Author Domain's Organizational Domain for an outcome whose discovery did not settle
/// it. §4.10.2: when "the Author Domain and the Authenticated Identifier(s) are all the same
/// domain, and there is a DMARC Policy Record published for that domain [...] this common
/// domain is treated as the Organizational Domain". Otherwise the author's walk (usually
/// cached by alignment already); a DNS error there only leaves this unknown: it was not
/// needed for the result.
async fn outcome_organizational_domain<R: Resolver>(
    dns: &mut RecordingResolver<'_, R>,
    org: &mut OrgFinder,
    author: &Domain,
    out: &DmarcOutcome,
    location: Option<RecordLocation>,
) -> Option<Domain> {
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
    let common = location == Some(RecordLocation::AuthorDomain)
        && !identifiers.is_empty()
        && identifiers.iter().all(|d| *d == author);
    if common {
        Some(author.clone())
    } else {
        org.find(dns, author).await.ok()
    }
}

/// The policy applied on failure: `t=y` one level lower (§4.7), or `pct` in PSL mode (RFC 7489
/// §6.6.4). Notes `testing` and a `pct` warning in `out`.
fn effective_policy(
    out: &mut DmarcOutcome,
    record: &DmarcRecord,
    requested: Option<RequestedPolicy>,
    options: &Options,
) -> RequestedPolicy {
    let requested = requested.unwrap_or(RequestedPolicy::None);
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
    effective
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
