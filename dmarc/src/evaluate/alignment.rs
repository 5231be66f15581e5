//! Identifier Alignment ([RFC 9989 §4.4](https://www.rfc-editor.org/rfc/rfc9989#section-4.4)):
//! whether an Authenticated Identifier is the Author Domain (strict) or shares its
//! Organizational Domain (relaxed, §4.10.2).

use std::collections::HashMap;

use mailward_types::Domain;
use mailward_types::dns::Resolver;

use super::inputs::{DiscoveryMode, DkimInput, DkimVerdict, SpfInput, SpfScope, SpfVerdict};
use super::lookups::RecordingResolver;
use crate::record::AlignmentMode;
use crate::walk::{CompletedWalk, TreeWalk};

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

/// The SPF identity's alignment (RFC 9989 §4.4.2): only a MAIL FROM identity that passed
/// (or, undecided, ended in `temperror`) is an SPF-Authenticated Identifier.
pub(super) async fn spf_alignment<R: Resolver>(
    dns: &mut RecordingResolver<'_, R>,
    org: &mut OrgFinder,
    author: &Domain,
    spf: &SpfInput,
    mode: AlignmentMode,
) -> SpfAlignment {
    let check = match (spf.scope, spf.result) {
        (SpfScope::MailFrom, SpfVerdict::Pass) => Check::Passed,
        (SpfScope::MailFrom, SpfVerdict::TempError) => Check::Undetermined,
        _ => Check::Failed,
    };
    let (status, org_domain) = align_checked(dns, org, author, &spf.domain, mode, check).await;
    SpfAlignment {
        domain: spf.domain.clone(),
        result: spf.result,
        scope: spf.scope,
        mode,
        status,
        aligned: status.is_aligned(),
        organizational_domain: org_domain,
    }
}

/// One DKIM signature's alignment (RFC 9989 §4.4.1): its `d=` is a DKIM-Authenticated
/// Identifier when it passed (or, undecided, ended in `temperror`).
pub(super) async fn dkim_alignment<R: Resolver>(
    dns: &mut RecordingResolver<'_, R>,
    org: &mut OrgFinder,
    author: &Domain,
    sig: &DkimInput,
    mode: AlignmentMode,
) -> DkimAlignment {
    let check = match sig.result {
        DkimVerdict::Pass => Check::Passed,
        DkimVerdict::TempError => Check::Undetermined,
        _ => Check::Failed,
    };
    let (status, org_domain) = align_checked(dns, org, author, &sig.domain, mode, check).await;
    DkimAlignment {
        domain: sig.domain.clone(),
        selector: sig.selector.clone(),
        result: sig.result,
        mode,
        status,
        aligned: status.is_aligned(),
        organizational_domain: org_domain,
    }
}

/// The Organizational Domains found during one evaluation (§4.10.2), each looked up once; a
/// DNS error that prevented finding one is remembered as `Err(())`.
pub(super) struct OrgFinder {
    mode: DiscoveryMode,
    known: HashMap<Domain, Result<Domain, ()>>,
}

impl OrgFinder {
    pub(super) fn new(mode: DiscoveryMode) -> Self {
        Self {
            mode,
            known: HashMap::new(),
        }
    }

    /// Takes the Organizational Domain of a walk already made (policy discovery's).
    pub(super) fn remember(&mut self, walk: &CompletedWalk) {
        self.known
            .insert(walk.start.clone(), Ok(walk.organizational_domain.clone()));
    }

    /// The Organizational Domain of `d`.
    pub(super) async fn find<R: Resolver>(
        &mut self,
        dns: &mut RecordingResolver<'_, R>,
        d: &Domain,
    ) -> Result<Domain, ()> {
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

/// How the SPF or DKIM check of an identifier ended, as far as alignment is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// It passed: the identifier is an Authenticated Identifier.
    Passed,
    /// It ended in `temperror`: had the DNS answered, it might have passed.
    Undetermined,
    /// Anything else: not an Authenticated Identifier.
    Failed,
}

/// The alignment of identifier `id`, whose check ended as `check`.
///
/// An identifier whose check ended in `temperror` is not authenticated, but had the DNS
/// answered it might have been. RFC 9989 §5.3.6: "If one or more DNS queries required to
/// perform DMARC validation on the message do not complete due to temporary or permanent DNS
/// errors, the message cannot be considered to pass or fail". The query was required only if
/// the identifier would align once authenticated, so alignment is computed as if it had
/// passed: aligned (or unknown because of a DNS error) gives [`AlignmentStatus::TempError`],
/// otherwise it is simply not authenticated.
async fn align_checked<R: Resolver>(
    dns: &mut RecordingResolver<'_, R>,
    org: &mut OrgFinder,
    author: &Domain,
    id: &Domain,
    mode: AlignmentMode,
    check: Check,
) -> (AlignmentStatus, Option<Domain>) {
    match check {
        Check::Passed => align(dns, org, author, id, mode).await,
        Check::Undetermined => {
            let (status, org_domain) = align(dns, org, author, id, mode).await;
            if status.is_aligned() || status == AlignmentStatus::TempError {
                (AlignmentStatus::TempError, org_domain)
            } else {
                (AlignmentStatus::NotAuthenticated, org_domain)
            }
        }
        Check::Failed => (AlignmentStatus::NotAuthenticated, None),
    }
}

/// RFC 9989 §4.4: strict = identical; relaxed = same Organizational Domain. Domains are
/// lower-case A-labels already, so equality is the RFC 4343 case-insensitive comparison.
async fn align<R: Resolver>(
    dns: &mut RecordingResolver<'_, R>,
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
