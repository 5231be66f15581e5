//! Verification of external report destinations
//! ([RFC 9990 §4](https://www.rfc-editor.org/rfc/rfc9990#section-4), referenced by RFC 9989
//! §11.6 and Appendix B.2.3).
//!
//! Before a `rua`/`ruf` URI outside the policy's Organizational Domain is used, the Report
//! Consumer must have published `<policy-domain>._report._dmarc.<destination-host>` with a
//! record starting `v=DMARC1`; that record may override the URI (same host only).

use mailward_types::Domain;
use mailward_types::dns::Resolver;

use crate::evaluate::DiscoveryMode;
use crate::record::DmarcRecord;
use crate::uri::ReportUri;
use crate::walk::{MAX_TXT_RECORDS, TreeWalk, WalkStep};

/// Which report list a URI came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ReportKind {
    /// `rua`: aggregate reports.
    Rua,
    /// `ruf`: failure reports.
    Ruf,
}

/// The verdict on one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "status"))]
#[non_exhaustive]
pub enum DestinationStatus {
    /// Same Organizational Domain as the policy: no check needed.
    Internal,
    /// The Report Consumer authorized the policy domain; send to `uris` (the original URI, or
    /// the Report Consumer's overrides).
    Authorized {
        /// Where to send.
        uris: Vec<ReportUri>,
    },
    /// No authorizing record (or the name is too long): "the URI MUST be ignored".
    NotAuthorized,
    /// An override names another host: "MUST NOT generate a report to either the original or
    /// the override URI".
    Forbidden,
    /// The URI has no host this check can use (not `mailto:`/`http(s):` with a DNS name).
    NoHost,
    /// A DNS error; the check can be repeated later.
    #[cfg_attr(feature = "serde", serde(rename = "temperror"))]
    TempError,
}

/// One checked destination.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DestinationCheck {
    /// The URI from the policy record.
    pub uri: ReportUri,
    /// Its destination host.
    pub host: Option<Domain>,
    /// The verdict.
    pub status: DestinationStatus,
}

impl DestinationCheck {
    /// The URIs reports may be sent to (empty unless internal or authorized).
    pub fn usable_uris(&self) -> Vec<ReportUri> {
        match &self.status {
            DestinationStatus::Internal => vec![self.uri.clone()],
            DestinationStatus::Authorized { uris } => uris.clone(),
            _ => Vec::new(),
        }
    }
}

/// The host of a report URI: the mailbox domain for `mailto:`, the authority host otherwise;
/// `None` when it is not a host name (letters, digits and hyphens once in A-labels).
pub fn destination_host(uri: &ReportUri) -> Option<Domain> {
    if let Some(d) = uri.mailto_domain() {
        return Some(d);
    }
    let (_, rest) = uri.uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next()?;
    Domain::new(host).ok().filter(Domain::is_hostname)
}

/// Checks every URI of `kind` in the record published at `policy_domain`.
///
/// `mode` decides how Organizational Domains are compared (Tree Walk or PSL).
///
/// # Examples
///
/// See the crate's `tests/rfc9989_appendix_b.rs` (Appendix B.2.3 and B.2.4).
pub async fn verify_destinations<R: Resolver>(
    resolver: &R,
    policy_domain: &Domain,
    record: &DmarcRecord,
    kind: ReportKind,
    mode: DiscoveryMode,
) -> Vec<DestinationCheck> {
    let uris = match kind {
        ReportKind::Rua => &record.rua,
        ReportKind::Ruf => &record.ruf,
    };
    let mut out = Vec::new();
    let policy_org = org_domain(resolver, policy_domain, mode).await;
    for uri in uris {
        out.push(
            verify_one(
                resolver,
                policy_domain,
                policy_org.as_ref(),
                uri,
                kind,
                mode,
            )
            .await,
        );
    }
    out
}

async fn org_domain<R: Resolver>(resolver: &R, d: &Domain, mode: DiscoveryMode) -> Option<Domain> {
    match mode {
        DiscoveryMode::TreeWalk => {
            let mut walk = TreeWalk::new(d.clone());
            while let WalkStep::Query(name) = walk.step() {
                let a = resolver.txt(&name).await;
                walk.answer(a);
            }
            walk.finish().ok().map(|w| w.organizational_domain)
        }
        #[cfg(feature = "psl")]
        DiscoveryMode::PublicSuffixList => Some(crate::psl_mode::organizational_domain(d)),
    }
}

async fn verify_one<R: Resolver>(
    resolver: &R,
    policy_domain: &Domain,
    policy_org: Option<&Domain>,
    uri: &ReportUri,
    kind: ReportKind,
    mode: DiscoveryMode,
) -> DestinationCheck {
    let host = destination_host(uri);
    let status = match &host {
        None => DestinationStatus::NoHost,
        Some(h) => {
            let host_org = org_domain(resolver, h, mode).await;
            match (policy_org, host_org) {
                (Some(p), Some(d)) if *p == d => DestinationStatus::Internal,
                (None, _) | (_, None) => DestinationStatus::TempError,
                _ => check_authorization(resolver, policy_domain, h, uri, kind).await,
            }
        }
    };
    DestinationCheck {
        uri: uri.clone(),
        host,
        status,
    }
}

async fn check_authorization<R: Resolver>(
    resolver: &R,
    policy_domain: &Domain,
    host: &Domain,
    uri: &ReportUri,
    kind: ReportKind,
) -> DestinationStatus {
    // Steps 2-4: `<policy-domain>._report._dmarc.<host>`; too long → no determination.
    let Ok(name) = Domain::new(&format!("{policy_domain}._report._dmarc.{host}")) else {
        return DestinationStatus::NotAuthorized;
    };
    let answer = match resolver.txt(&name).await {
        Ok(a) => a,
        Err(e) if e.is_void() => return DestinationStatus::NotAuthorized,
        Err(_) => return DestinationStatus::TempError,
    };
    // Steps 6-8: any record starting with v=DMARC1 authorizes.
    let records: Vec<DmarcRecord> = answer
        .iter()
        .take(MAX_TXT_RECORDS)
        .filter_map(|t| DmarcRecord::parse(&t.concat()).ok())
        .collect();
    let Some(first) = records.first() else {
        return DestinationStatus::NotAuthorized;
    };
    // Step 9: overrides, same destination host only.
    let overrides = match kind {
        ReportKind::Rua => &first.rua,
        ReportKind::Ruf => &first.ruf,
    };
    if overrides.is_empty() {
        return DestinationStatus::Authorized {
            uris: vec![uri.clone()],
        };
    }
    if overrides
        .iter()
        .any(|o| destination_host(o).as_ref() != Some(host))
    {
        return DestinationStatus::Forbidden;
    }
    DestinationStatus::Authorized {
        uris: overrides.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let h = |s: &str| destination_host(&ReportUri::parse(s).unwrap()).map(|d| d.to_string());
        assert_eq!(h("mailto:a@Example.com").as_deref(), Some("example.com"));
        assert_eq!(
            h("https://user@reports.example.net:8443/x?y").as_deref(),
            Some("reports.example.net")
        );
        assert_eq!(h("urn:x:y"), None);
        // Not host names: no destination to check.
        assert_eq!(h("https://rep_orts.example.net/x"), None);
        assert_eq!(h("mailto:a@ex_ample.com"), None);
    }
}
