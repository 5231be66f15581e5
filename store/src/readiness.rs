//! From numbers to a decision: what each sending source is (aligned, legitimate but
//! unaligned, or a likely forgery, with the fix where there is one), and whether a policy
//! domain is ready for `p=quarantine` or `p=reject`.
//!
//! The classification of a [`SourceGroup`] (a service, or a lone address) reads the evidence
//! the reports carry:
//!
//! - **Aligned**: at least [`ALIGNED_SHARE`] of its messages pass DMARC (the rest is what
//!   forwarding and mailing lists break on the way).
//! - **Legitimate but unaligned**: it fails DMARC, but it proves who it is: a DKIM signature
//!   that passes for another domain (an ESP signing with its own domain: the fix is to sign
//!   with `d=` the policy domain), an SPF pass for another envelope domain (the ESP's bounce
//!   domain: the fix is a return path under the policy domain), or a forward-confirmed reverse
//!   name of a known sending service whose SPF check for the policy domain fails (the fix is the
//!   service's `include:` in that SPF record).
//! - **Unauthorized, likely forgery**: it fails DMARC and proves nothing: no DKIM pass, no SPF
//!   pass, and no verified name of a known service.
//!
//! The domain's [`Readiness`] follows: any legitimate source still failing alignment means not
//! ready; otherwise the next step from the published policy (`none` → quarantine, `quarantine`
//! → reject).

use std::collections::BTreeMap;
use std::fmt;

use mailward_reports::Disposition;
use serde::Serialize;

use crate::Store;
use crate::db::P;
use crate::error::Error;
use crate::query::Filter;
use crate::services::ServiceKind;
use crate::sources::SourceGroup;

/// The share of a source's messages that must pass DMARC for it to count as aligned.
pub const ALIGNED_SHARE: f64 = 0.9;

/// What a sending source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceClass {
    /// Authorized and aligned: its mail passes DMARC.
    Aligned,
    /// Legitimate but unaligned: it authenticates as someone, not as the policy domain.
    Unaligned,
    /// Unauthorized, likely forgery.
    Forgery,
}

impl fmt::Display for SourceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Aligned => "authorized and aligned",
            Self::Unaligned => "legitimate but unaligned",
            Self::Forgery => "unauthorized, likely forgery",
        })
    }
}

/// A source's class, why, and the fix where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// The class.
    pub class: SourceClass,
    /// The evidence, in words.
    pub why: String,
    /// What to change, when the domain owner can fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Classifies one source group of `domain` (see the [module documentation](self)).
pub fn assess(group: &SourceGroup, domain: &str) -> Assessment {
    let passing = group.messages.saturating_sub(group.dmarc_fail);
    let share = if group.messages == 0 {
        0.0
    } else {
        passing as f64 / group.messages as f64
    };
    if share >= ALIGNED_SHARE {
        return Assessment {
            class: SourceClass::Aligned,
            why: format!("{:.1} % of its messages pass DMARC", share * 100.0),
            fix: None,
        };
    }
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let dkim_other = group
        .dkim
        .iter()
        .find(|d| d.result == "pass" && !within(&d.domain, &domain));
    let spf_other = group
        .spf
        .iter()
        .find(|s| s.result == "pass" && !within(&s.domain, &domain));
    let spf_own_failing = group
        .spf
        .iter()
        .find(|s| s.result != "pass" && within(&s.domain, &domain));
    let known_service = group
        .service
        .as_ref()
        .filter(|s| s.kind != ServiceKind::Other);
    let name = known_service
        .map(|s| s.name.clone())
        .or_else(|| group.org_domain.clone())
        .unwrap_or_else(|| group.key.clone());
    if let Some(d) = dkim_other {
        return Assessment {
            class: SourceClass::Unaligned,
            why: format!(
                "{name} signs with d={} (DKIM passes, not aligned)",
                d.domain
            ),
            fix: Some(format!("sign with d={domain}")),
        };
    }
    if let Some(s) = spf_other {
        return Assessment {
            class: SourceClass::Unaligned,
            why: format!(
                "{name} passes SPF for {} (its own return path, not aligned)",
                s.domain
            ),
            fix: Some(format!(
                "use a return path (MAIL FROM) under {domain}, or sign with d={domain}"
            )),
        };
    }
    if let (Some(service), Some(spf)) = (known_service, spf_own_failing) {
        return Assessment {
            class: SourceClass::Unaligned,
            why: format!(
                "verified {} address, SPF {} for {}",
                service.name, spf.result, spf.domain
            ),
            fix: Some(format!(
                "add include:… for {} to the SPF record of {}, or sign with d={domain}",
                service.name, spf.domain
            )),
        };
    }
    Assessment {
        class: SourceClass::Forgery,
        why: "no DKIM or SPF pass, and no verified name of a known sender".into(),
        fix: None,
    }
}

/// Whether `name` is `domain` or below it.
fn within(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == domain
        || name
            .strip_suffix(domain)
            .is_some_and(|head| head.ends_with('.'))
}

/// Where a policy domain stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Readiness {
    /// No reports in the window.
    NoData,
    /// Legitimate sources still fail alignment.
    NotReady {
        /// How many.
        legitimate_failing: usize,
    },
    /// Nothing legitimate fails: `p=quarantine` would lose no legitimate mail.
    ReadyForQuarantine,
    /// Nothing legitimate fails under `p=quarantine`: the next step is `p=reject`.
    ReadyForReject,
    /// Already at `p=reject`, with nothing legitimate failing.
    Enforced,
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoData => f.write_str("no reports in this window"),
            Self::NotReady {
                legitimate_failing: 1,
            } => f.write_str("not ready: 1 legitimate source still fails alignment"),
            Self::NotReady { legitimate_failing } => write!(
                f,
                "not ready: {legitimate_failing} legitimate sources still fail alignment"
            ),
            Self::ReadyForQuarantine => f.write_str("ready for quarantine"),
            Self::ReadyForReject => f.write_str("ready for reject"),
            Self::Enforced => f.write_str("at reject, nothing legitimate failing"),
        }
    }
}

/// The readiness of a domain whose published `p` is `published` and whose sources were
/// assessed as `classes`.
pub fn readiness(published: Option<&Disposition>, classes: &[SourceClass]) -> Readiness {
    if classes.is_empty() {
        return Readiness::NoData;
    }
    let legitimate_failing = classes
        .iter()
        .filter(|c| **c == SourceClass::Unaligned)
        .count();
    if legitimate_failing > 0 {
        return Readiness::NotReady { legitimate_failing };
    }
    match published {
        Some(Disposition::Reject) => Readiness::Enforced,
        Some(Disposition::Quarantine) => Readiness::ReadyForReject,
        _ => Readiness::ReadyForQuarantine,
    }
}

/// The policy a domain published, as the most recent report in the window saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PublishedPolicy {
    /// `p`.
    pub p: Option<String>,
    /// `sp`.
    pub sp: Option<String>,
    /// `np` (RFC 9989).
    pub np: Option<String>,
    /// `t` (RFC 9989's testing flag, `y`/`n`), or RFC 7489's `pct` as reported.
    pub testing: Option<String>,
    /// `pct` (RFC 7489 reports).
    pub pct: Option<i64>,
    /// The end of the period of the report it comes from (Unix time).
    pub as_of: i64,
}

const POLICIES: &str = "SELECT policy_domain, p, sp, np, testing, pct, date_end FROM reports
     WHERE last_day >= $1 AND first_day <= $2 ORDER BY date_end, id";
const POLICIES_DOMAIN: &str = "SELECT policy_domain, p, sp, np, testing, pct, date_end FROM reports
     WHERE last_day >= $1 AND first_day <= $2 AND policy_domain = $3 ORDER BY date_end, id";

impl Store {
    /// The published policy of each domain with reports in the window: the one in the report
    /// with the latest period end (the highest id among equals, as the summary does).
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn policies(
        &self,
        filter: &Filter,
    ) -> Result<BTreeMap<String, PublishedPolicy>, Error> {
        let (first, last) = filter.window.days();
        let mut params = vec![P::int(first), P::int(last)];
        let sql = if let Some(d) = &filter.domain {
            params.push(P::from(d));
            POLICIES_DOMAIN
        } else {
            POLICIES
        };
        let mut conn = self.conn().await?;
        let rows = conn
            .collect(sql, &params, |r| {
                Ok((
                    r.req_text(0)?,
                    PublishedPolicy {
                        p: r.opt_text(1)?,
                        sp: r.opt_text(2)?,
                        np: r.opt_text(3)?,
                        testing: r.opt_text(4)?,
                        pct: r.int(5)?,
                        as_of: r.req_int(6)?,
                    },
                ))
            })
            .await?;
        let mut out = BTreeMap::new();
        for (domain, policy) in rows {
            // Ordered by period end: the last one wins (a report without `p` keeps the
            // earlier one's).
            if policy.p.is_some() || !out.contains_key(&domain) {
                out.insert(domain, policy);
            }
        }
        Ok(out)
    }
}

/// One policy domain on the overview.
#[derive(Debug, Clone, Serialize)]
pub struct DomainOverview {
    /// The policy domain.
    pub domain: String,
    /// What it published (the latest report in the window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PublishedPolicy>,
    /// Messages in the window.
    pub messages: u64,
    /// Messages passing DMARC.
    pub dmarc_pass: u64,
    /// Messages in the previous window of the same length (none for an open window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_messages: Option<u64>,
    /// Messages passing DMARC in the previous window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_dmarc_pass: Option<u64>,
    /// Source groups per class.
    pub classes: BTreeMap<SourceClass, usize>,
    /// Where it stands.
    pub readiness: Readiness,
    /// The same, in words.
    pub verdict: String,
}

/// One source group of a domain with its assessment.
#[derive(Debug, Clone, Serialize)]
pub struct AssessedSource {
    /// The group.
    #[serde(flatten)]
    pub group: SourceGroup,
    /// Its class and fix.
    pub assessment: Assessment,
}

/// What `p=quarantine` or `p=reject` would do to a domain's mail of the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyImpact {
    /// `quarantine` or `reject`.
    pub policy: String,
    /// Messages failing DMARC: all of them would be affected.
    pub affected: u64,
    /// Of those, from legitimate sources (unaligned ones, and the failing share of aligned
    /// ones: forwarding, mailing lists): the legitimate mail that would be lost.
    pub legitimate: u64,
    /// Of those, from likely forgeries.
    pub forgeries: u64,
}

impl Store {
    /// The sources of one domain (`filter.domain`), assessed, most messages first.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn assessed_sources(
        &self,
        filter: &Filter,
        services: &crate::services::ServiceMap,
    ) -> Result<Vec<AssessedSource>, Error> {
        let domain = filter.domain.clone().unwrap_or_default();
        let groups = self.sources(filter, services).await?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let assessment = assess(&group, &domain);
                AssessedSource { group, assessment }
            })
            .collect())
    }

    /// One row per policy domain with reports in the window: published policy, messages and
    /// pass rate against the previous window, and readiness.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn overview(
        &self,
        window: &crate::query::Window,
        services: &crate::services::ServiceMap,
    ) -> Result<Vec<DomainOverview>, Error> {
        let filter = Filter::new(*window);
        let summary = self.summary(&filter).await?;
        let previous = match window.previous() {
            Some(w) => Some(self.summary(&Filter::new(w)).await?),
            None => None,
        };
        let policies = self.policies(&filter).await?;
        let mut out = Vec::with_capacity(summary.domains.len());
        for (domain, d) in &summary.domains {
            let sources = self
                .assessed_sources(&filter.clone().domain(domain), services)
                .await?;
            let mut classes: BTreeMap<SourceClass, usize> = BTreeMap::new();
            for s in &sources {
                *classes.entry(s.assessment.class).or_default() += 1;
            }
            let all: Vec<SourceClass> = sources.iter().map(|s| s.assessment.class).collect();
            let readiness = readiness(d.published_p.as_ref(), &all);
            let prev = previous.as_ref().map(|p| p.domains.get(domain));
            out.push(DomainOverview {
                domain: domain.clone(),
                policy: policies.get(domain).cloned(),
                messages: d.volume,
                dmarc_pass: d.dmarc_pass,
                previous_messages: prev.map(|p| p.map_or(0, |p| p.volume)),
                previous_dmarc_pass: prev.map(|p| p.map_or(0, |p| p.dmarc_pass)),
                classes,
                verdict: readiness.to_string(),
                readiness,
            });
        }
        Ok(out)
    }
}

/// What `p=quarantine` and `p=reject` would do to these assessed sources' mail.
pub fn impact(sources: &[AssessedSource]) -> [PolicyImpact; 2] {
    let mut legitimate = 0u64;
    let mut forgeries = 0u64;
    for s in sources {
        match s.assessment.class {
            SourceClass::Forgery => forgeries = forgeries.saturating_add(s.group.dmarc_fail),
            _ => legitimate = legitimate.saturating_add(s.group.dmarc_fail),
        }
    }
    let row = |policy: &str| PolicyImpact {
        policy: policy.to_owned(),
        affected: legitimate.saturating_add(forgeries),
        legitimate,
        forgeries,
    };
    [row("quarantine"), row("reject")]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::Service;
    use crate::sources::AuthSeen;

    fn group(messages: u64, dmarc_fail: u64) -> SourceGroup {
        SourceGroup {
            key: "192.0.2.1".into(),
            org_domain: None,
            service: None,
            messages,
            dkim_aligned_pass: 0,
            spf_aligned_pass: 0,
            dmarc_fail,
            reporters: Default::default(),
            dkim: Default::default(),
            spf: Default::default(),
            addresses: Vec::new(),
        }
    }

    fn seen(domain: &str, selector: Option<&str>, result: &str) -> AuthSeen {
        AuthSeen {
            domain: domain.into(),
            selector: selector.map(Into::into),
            result: result.into(),
        }
    }

    #[test]
    fn classes_and_fixes() {
        // 95 of 100 pass: aligned (5 % is forwarding's share).
        assert_eq!(
            assess(&group(100, 5), "example.com").class,
            SourceClass::Aligned
        );

        // An ESP signing with its own domain.
        let mut esp = group(100, 100);
        esp.dkim.insert(seen("sendgrid.net", Some("s1"), "pass"));
        let a = assess(&esp, "example.com");
        assert_eq!(a.class, SourceClass::Unaligned);
        assert_eq!(a.fix.as_deref(), Some("sign with d=example.com"));

        // A signature of a subdomain of the policy domain is not "another domain".
        let mut sub = group(100, 100);
        sub.dkim
            .insert(seen("mail.example.com", Some("s1"), "pass"));
        assert_eq!(assess(&sub, "example.com").class, SourceClass::Forgery);

        // A known service whose SPF check for the domain fails.
        let mut svc = group(10, 10);
        svc.service = Some(Service::new("Mailchimp", ServiceKind::Marketing));
        svc.spf.insert(seen("example.com", None, "softfail"));
        let a = assess(&svc, "Example.COM.");
        assert_eq!(a.class, SourceClass::Unaligned);
        assert!(a.fix.unwrap().starts_with("add include:"));

        // Nothing passes, nothing verified.
        let mut forger = group(7, 7);
        forger.spf.insert(seen("example.com", None, "fail"));
        forger.dkim.insert(seen("example.com", Some("x"), "fail"));
        assert_eq!(assess(&forger, "example.com").class, SourceClass::Forgery);
        assert_eq!(
            assess(&group(0, 0), "example.com").class,
            SourceClass::Forgery
        );
    }

    #[test]
    fn readiness_steps() {
        use SourceClass::*;
        let q = Disposition::Quarantine;
        let r = Disposition::Reject;
        assert_eq!(readiness(None, &[]), Readiness::NoData);
        assert_eq!(
            readiness(None, &[Aligned, Unaligned, Forgery, Unaligned]).to_string(),
            "not ready: 2 legitimate sources still fail alignment"
        );
        assert_eq!(
            readiness(None, &[Aligned, Forgery]).to_string(),
            "ready for quarantine"
        );
        assert_eq!(
            readiness(Some(&q), &[Aligned]).to_string(),
            "ready for reject"
        );
        assert_eq!(readiness(Some(&r), &[Aligned]), Readiness::Enforced);
        assert!(within("a.b.example.com", "example.com"));
        assert!(!within("badexample.com", "example.com"));
    }
}
