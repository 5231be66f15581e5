//! From numbers to a decision: what each sending source is (aligned, legitimate but
//! unaligned, or a likely forgery, with the fix where there is one), and whether a policy
//! domain is ready for `p=quarantine` or `p=reject`.
//!
//! The classification of a [`SourceGroup`] (a service, or a lone address) reads the evidence
//! the reports carry:
//!
//! - **Aligned**: at least [`ALIGNED_SHARE`] of its messages pass DMARC (the rest is what
//!   forwarding and mailing lists break on the way).
//! - **Legitimate but unaligned**: less than that passes, but something ties the source to the
//!   domain: part of its mail does pass DMARC (the domain's own key or SPF record authorizes
//!   it), or it is a verified host of a known sending service (forward-confirmed reverse name in
//!   the [`ServiceMap`](crate::services::ServiceMap)) that authenticates as someone. The fix
//!   follows from what fails: a DKIM signature that passes for another domain (an ESP signing
//!   with its own domain: sign with `d=` the policy domain), an SPF pass for another envelope
//!   domain (the ESP's bounce domain: a return path under the policy domain), or a known
//!   service whose SPF check for the policy domain fails (its `include:` in that SPF record).
//!   Partly passing mail with none of these is forwarded or list mail: legitimate, with no fix
//!   on the domain's side.
//! - **Unauthorized, likely forgery**: nothing ties it to the domain. Passing DKIM or SPF for
//!   some other domain proves nothing by itself: senders of spam authenticate their own
//!   throwaway domains as a matter of course.
//!
//! The domain's [`Readiness`] follows: a legitimate source still failing with a fix on the
//! domain's side means not ready; otherwise the next step from the published policy (`none` →
//! quarantine, `quarantine` → reject).

use std::collections::BTreeMap;
use std::fmt;

use mailward_reports::ReportedPolicy;
use serde::Serialize;

use crate::Store;
use crate::db::Param;
use crate::error::Error;
use crate::evidence::{Evidence, within};
use crate::query::Filter;
use crate::services::ServiceKind;
use crate::source_group::SourceGroup;

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

/// The class of a group with `messages`, `dmarc_fail` of them failing, its evidence and
/// whether it is a verified host of a known service, and whether there is a fix on the
/// domain's side: the decision [`assess`] puts into words.
pub fn class_of(
    messages: u64,
    dmarc_fail: u64,
    evidence: Evidence,
    known_service: bool,
) -> (SourceClass, bool) {
    let passing = messages.saturating_sub(dmarc_fail);
    if messages > 0 && passing as f64 / messages as f64 >= ALIGNED_SHARE {
        return (SourceClass::Aligned, false);
    }
    let e = evidence;
    let tied = passing > 0
        || (known_service && (e.dkim_foreign_pass || e.spf_foreign_pass || e.spf_own_fail));
    if !tied {
        return (SourceClass::Forgery, false);
    }
    let fix = e.dkim_foreign_pass || e.spf_foreign_pass || (known_service && e.spf_own_fail);
    (SourceClass::Unaligned, fix)
}

/// Whether a group's service is a known one (not merely a named "other").
pub(crate) fn is_known(service: Option<&crate::services::Service>) -> bool {
    service.is_some_and(|s| s.kind != ServiceKind::Other)
}

/// Classifies one source group of `domain` (see the [module documentation](self)).
pub fn assess(group: &SourceGroup, domain: &str) -> Assessment {
    let passing = group.messages.saturating_sub(group.dmarc_fail);
    let share = if group.messages == 0 {
        0.0
    } else {
        passing as f64 / group.messages as f64
    };
    let (class, _) = class_of(
        group.messages,
        group.dmarc_fail,
        group.evidence,
        is_known(group.service.as_ref()),
    );
    if class == SourceClass::Aligned {
        return Assessment {
            class: SourceClass::Aligned,
            why: format!("{:.1} % of its messages pass DMARC", share * 100.0),
            fix: None,
        };
    }
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let e = group.evidence;
    let known_service = group
        .service
        .as_ref()
        .filter(|s| s.kind != ServiceKind::Other);
    let name = known_service
        .map(|s| s.name.clone())
        .or_else(|| group.org_domain.clone())
        .unwrap_or_else(|| group.key.clone());
    // The domains behind the evidence, where the group carries its results (the busiest
    // groups do; see `Store::sources`).
    let dkim_other = group
        .dkim
        .iter()
        .find(|d| d.result == "pass" && !within(&d.domain, &domain))
        .map(|d| d.domain.as_str());
    let spf_other = group
        .spf
        .iter()
        .find(|s| s.result == "pass" && !within(&s.domain, &domain))
        .map(|s| s.domain.as_str());
    let spf_own = group
        .spf
        .iter()
        .find(|s| s.result != "pass" && within(&s.domain, &domain));
    if class == SourceClass::Forgery {
        let why = match (
            dkim_other.or(spf_other),
            e.dkim_foreign_pass || e.spf_foreign_pass,
        ) {
            (Some(other), _) => format!(
                "never passes DMARC; it authenticates only as {other}, and nothing ties it to {domain}"
            ),
            (None, true) => format!(
                "never passes DMARC; it authenticates only as another domain, and nothing ties it to {domain}"
            ),
            (None, false) => "no DKIM or SPF pass, and no verified name of a known sender".into(),
        };
        return Assessment {
            class: SourceClass::Forgery,
            why,
            fix: None,
        };
    }
    let part = format!("{:.1} % of its messages pass DMARC", share * 100.0);
    let (why, fix) = if e.dkim_foreign_pass {
        (
            match dkim_other {
                Some(d) => format!("{name} signs with d={d} (DKIM passes, not aligned); {part}"),
                None => {
                    format!("{name} signs with another domain (DKIM passes, not aligned); {part}")
                }
            },
            format!("sign with d={domain}"),
        )
    } else if e.spf_foreign_pass {
        (
            match spf_other {
                Some(d) => {
                    format!("{name} passes SPF for {d} (its own return path, not aligned); {part}")
                }
                None => format!("{name} passes SPF for its own return path (not aligned); {part}"),
            },
            format!("use a return path (MAIL FROM) under {domain}, or sign with d={domain}"),
        )
    } else if let (Some(service), true) = (known_service, e.spf_own_fail) {
        (
            match spf_own {
                Some(s) => format!(
                    "verified {} address, SPF {} for {}; {part}",
                    service.name, s.result, s.domain
                ),
                None => format!(
                    "verified {} address, SPF does not pass for {domain}; {part}",
                    service.name
                ),
            },
            format!(
                "add include:… for {} to the SPF record of {}, or sign with d={domain}",
                service.name,
                spf_own.map_or(domain.as_str(), |s| s.domain.as_str())
            ),
        )
    } else {
        return Assessment {
            class: SourceClass::Unaligned,
            why: format!(
                "{part}; the rest fails on the way (forwarding or mailing lists): nothing to fix on the side of {domain}"
            ),
            fix: None,
        };
    };
    Assessment {
        class: SourceClass::Unaligned,
        why,
        fix: Some(fix),
    }
}

/// Where a policy domain stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Readiness {
    /// No reports in the window.
    NoData,
    /// Legitimate sources still fail alignment, with a fix on the domain's side.
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

/// The readiness of a domain whose published `p` is `published`, that had `messages` in the
/// window, and `legitimate_failing` sources that are legitimate, failing and fixable
/// ([`fixable`]). Only those hold it back: the failing share of forwarded and list mail is
/// counted in [`impact`], not here.
pub fn readiness(
    published: Option<&ReportedPolicy>,
    messages: u64,
    legitimate_failing: usize,
) -> Readiness {
    if messages == 0 {
        return Readiness::NoData;
    }
    if legitimate_failing > 0 {
        return Readiness::NotReady { legitimate_failing };
    }
    match published {
        Some(ReportedPolicy::Reject) => Readiness::Enforced,
        Some(ReportedPolicy::Quarantine) => Readiness::ReadyForReject,
        _ => Readiness::ReadyForQuarantine,
    }
}

/// How many of these sources are legitimate, failing, and fixable on the domain's side: what
/// [`readiness`] counts.
pub fn fixable<'a>(assessments: impl IntoIterator<Item = &'a Assessment>) -> usize {
    assessments
        .into_iter()
        .filter(|a| a.class == SourceClass::Unaligned && a.fix.is_some())
        .count()
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

// The latest report of a domain in a window, walking the `reports_domain_end` index back from
// the last end a report in the window can have ($4; see `policies`). The `+` keeps the planner
// off the day index, which would sort every report of the window instead.
const LATEST_POLICY: &str = "SELECT p, sp, np, testing, pct, date_end FROM reports
     WHERE policy_domain = $3 AND date_end <= $4 AND +last_day >= $1 AND first_day <= $2
       AND p IS NOT NULL
     ORDER BY date_end DESC, id DESC LIMIT 1";
const LATEST_REPORT: &str = "SELECT p, sp, np, testing, pct, date_end FROM reports
     WHERE policy_domain = $3 AND date_end <= $4 AND +last_day >= $1 AND first_day <= $2
     ORDER BY date_end DESC, id DESC LIMIT 1";

impl Store {
    /// The published policy of each domain with reports in the window: the one in the latest
    /// report (greatest period end, then highest id) that has a `p`, or the latest report
    /// when none has.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn policies(
        &self,
        filter: &Filter,
    ) -> Result<BTreeMap<String, PublishedPolicy>, Error> {
        let (first, last) = filter.window.days();
        let mut conn = self.conn().await?;
        let mut out = BTreeMap::new();
        // A report in the window begins by the end of its last day, and its period spreads
        // over at most `MAX_SPREAD_DAYS` days (a longer one counts on its last day only), so
        // none ends later than this. (One that ends before it begins counts on the day it
        // begins, which is earlier still.)
        let latest_end = last
            .saturating_add(1)
            .saturating_add(crate::spread::MAX_SPREAD_DAYS as i64)
            .saturating_mul(crate::spread::SECONDS_PER_DAY as i64);
        for domain in crate::query::filter_domains(&mut conn, filter).await? {
            let params = [
                Param::int(first),
                Param::int(last),
                Param::from(&domain),
                Param::int(latest_end),
            ];
            let mut found = None;
            for sql in [LATEST_POLICY, LATEST_REPORT] {
                found = conn
                    .collect(sql, &params, |r| {
                        Ok(PublishedPolicy {
                            p: r.opt_text(0)?,
                            sp: r.opt_text(1)?,
                            np: r.opt_text(2)?,
                            testing: r.opt_text(3)?,
                            pct: r.int(4)?,
                            as_of: r.req_int(5)?,
                        })
                    })
                    .await?
                    .pop();
                if found.is_some() {
                    break;
                }
            }
            if let Some(policy) = found {
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
    /// Source groups that can be legitimate, per class (aligned, unaligned). Likely forgeries
    /// are not counted here: a domain's page counts them.
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
    impact_of(legitimate, forgeries)
}

/// The impact rows of failing messages from legitimate sources and from likely forgeries.
pub(crate) fn impact_of(legitimate: u64, forgeries: u64) -> [PolicyImpact; 2] {
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
    use crate::source_group::AuthSeen;

    fn group(messages: u64, dmarc_fail: u64) -> SourceGroup {
        SourceGroup::empty("192.0.2.1".into()).with(messages, dmarc_fail)
    }

    impl SourceGroup {
        fn with(mut self, messages: u64, dmarc_fail: u64) -> Self {
            self.messages = messages;
            self.dmarc_fail = dmarc_fail;
            self
        }

        /// Adds a result as a record would: to the listed results and to the evidence.
        fn saw(mut self, kind: &str, domain: &str, result: &str, policy: &str) -> Self {
            let seen = AuthSeen {
                domain: domain.into(),
                selector: (kind == "dkim").then(|| "s1".to_owned()),
                result: result.into(),
            };
            let pass = result == "pass";
            let e = if kind == "dkim" {
                Evidence::of_record(policy, [(domain, pass)], [])
            } else {
                Evidence::of_record(policy, [], [(domain, pass)])
            };
            self.evidence = self.evidence.or(e);
            if kind == "dkim" {
                self.dkim.insert(seen);
            } else {
                self.spf.insert(seen);
            }
            self
        }
    }

    fn verified(mut g: SourceGroup, name: &str, kind: ServiceKind) -> SourceGroup {
        g.service = Some(Service::new(name, kind));
        g
    }

    #[test]
    fn classes_and_fixes() {
        let d = "example.com";
        // 95 of 100 pass: aligned (5 % is forwarding's share).
        assert_eq!(assess(&group(100, 5), d).class, SourceClass::Aligned);

        // An address that never aligns and signs only for its own domain: what spam from
        // throwaway domains looks like, so nothing ties it to the domain.
        let spam = group(3, 3).saw("dkim", "x7kq2.example", "pass", d);
        let a = assess(&spam, d);
        assert_eq!(a.class, SourceClass::Forgery);
        assert!(a.why.contains("x7kq2.example"), "{}", a.why);
        let spam = group(2, 2).saw("spf", "x7kq2.example", "pass", d);
        assert_eq!(assess(&spam, d).class, SourceClass::Forgery);

        // The same signature from a verified host of a known ESP: legitimate, and the fix is
        // to sign with the domain.
        let esp = verified(
            group(100, 100).saw("dkim", "sendgrid.net", "pass", d),
            "SendGrid",
            ServiceKind::Esp,
        );
        let a = assess(&esp, d);
        assert_eq!(a.class, SourceClass::Unaligned);
        assert_eq!(a.fix.as_deref(), Some("sign with d=example.com"));

        // Partly aligned (the domain's key signs 60 %), the rest signed by the ESP only: the
        // domain authorizes it, so it is legitimate, with the same fix; no service needed.
        let partly = group(100, 40).saw("dkim", "esp.example", "pass", d);
        let a = assess(&partly, d);
        assert_eq!(a.class, SourceClass::Unaligned);
        assert_eq!(a.fix.as_deref(), Some("sign with d=example.com"));

        // Its own return path passes SPF, unaligned.
        let bounce = group(100, 50).saw("spf", "bounce.esp.example", "pass", d);
        assert!(
            assess(&bounce, d)
                .fix
                .unwrap_or_default()
                .starts_with("use a return path")
        );

        // A signature of a subdomain of the policy domain is not "another domain".
        let sub = group(100, 100).saw("dkim", "mail.example.com", "pass", d);
        assert!(!sub.evidence.dkim_foreign_pass);
        assert_eq!(assess(&sub, d).class, SourceClass::Forgery);

        // A known service whose SPF check for the domain fails.
        let svc = verified(
            group(10, 10).saw("spf", "example.com", "softfail", d),
            "Mailchimp",
            ServiceKind::Marketing,
        );
        let a = assess(&svc, "Example.COM.");
        assert_eq!(a.class, SourceClass::Unaligned);
        assert!(a.fix.unwrap_or_default().starts_with("add include:"));

        // A known service that shows nothing at all for the domain is not tied to it.
        let idle = verified(group(4, 4), "Google", ServiceKind::MailboxProvider);
        assert_eq!(assess(&idle, d).class, SourceClass::Forgery);

        // A forwarder: 30 % keeps its DKIM signature, the rest fails; legitimate mail, but
        // nothing the domain can fix.
        let fwd = group(100, 70).saw("spf", "example.com", "fail", d);
        let a = assess(&fwd, d);
        assert_eq!(a.class, SourceClass::Unaligned);
        assert_eq!(a.fix, None);

        // Nothing passes, nothing verified.
        let forger =
            group(7, 7)
                .saw("spf", "example.com", "fail", d)
                .saw("dkim", "example.com", "fail", d);
        assert_eq!(assess(&forger, d).class, SourceClass::Forgery);
        assert_eq!(assess(&group(0, 0), d).class, SourceClass::Forgery);
    }

    #[test]
    fn readiness_steps() {
        let q = ReportedPolicy::Quarantine;
        let r = ReportedPolicy::Reject;
        let a = |class, fix: Option<&str>| Assessment {
            class,
            why: String::new(),
            fix: fix.map(Into::into),
        };
        let aligned = a(SourceClass::Aligned, None);
        let fix = a(SourceClass::Unaligned, Some("sign with d=example.com"));
        let forwarder = a(SourceClass::Unaligned, None);
        let forgery = a(SourceClass::Forgery, None);
        assert_eq!(readiness(None, 0, 0), Readiness::NoData);
        assert_eq!(
            readiness(None, 9, fixable([&aligned, &fix, &forgery, &fix])).to_string(),
            "not ready: 2 legitimate sources still fail alignment"
        );
        // Forwarded mail fails at any policy; it does not hold the domain back.
        assert_eq!(
            readiness(None, 9, fixable([&aligned, &forwarder, &forgery])).to_string(),
            "ready for quarantine"
        );
        // Only forgeries (the overview assesses no more than the candidates).
        assert_eq!(readiness(None, 9, 0), Readiness::ReadyForQuarantine);
        assert_eq!(
            readiness(Some(&q), 9, fixable([&aligned])).to_string(),
            "ready for reject"
        );
        assert_eq!(
            readiness(Some(&r), 9, fixable([&aligned])),
            Readiness::Enforced
        );
        assert!(within("a.b.example.com", "example.com"));
        assert!(!within("badexample.com", "example.com"));
    }
}
