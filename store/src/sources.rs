//! Sending sources grouped by service: every address with a verified reverse name is filed
//! under the organizational domain of that name (all of one service's hosts in one group),
//! named from the [`ServiceMap`] when the domain is a known service. An address without a
//! verified name is a group of its own: a forged reverse name must not hide a forger among a
//! real service's hosts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use mailward_reports::{DkimAuthResult, SourceSummary, SpfAuthResult};
use mailward_types::Domain;
use serde::Serialize;

use crate::Store;
use crate::db::P;
use crate::enrich::NameStatus;
use crate::error::Error;
use crate::query::Filter;
use crate::services::{Service, ServiceMap};

/// One service (or one lone address) sending as a policy domain.
#[derive(Debug, Clone, Serialize)]
pub struct SourceGroup {
    /// What the group is: a service's organizational domain, or the address itself.
    pub key: String,
    /// The organizational domain of the verified reverse names, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_domain: Option<String>,
    /// The known service, when the domain is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
    /// Messages.
    pub messages: u64,
    /// Messages with an aligned DKIM pass.
    pub dkim_aligned_pass: u64,
    /// Messages with an aligned SPF pass.
    pub spf_aligned_pass: u64,
    /// Messages failing DMARC.
    pub dmarc_fail: u64,
    /// Reporters that saw the group's addresses.
    pub reporters: BTreeSet<String>,
    /// DKIM signing domains and selectors seen (`d=`, `s=`), with their results.
    pub dkim: BTreeSet<AuthSeen>,
    /// SPF domains checked, with their results.
    pub spf: BTreeSet<AuthSeen>,
    /// The addresses, most messages first.
    pub addresses: Vec<SourceAddress>,
}

/// A DKIM signature or SPF check seen in records: domain, selector (DKIM), result.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AuthSeen {
    /// `d=` or the SPF domain.
    pub domain: String,
    /// `s=` (DKIM only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// The result as reported.
    pub result: String,
}

/// One sending address.
#[derive(Debug, Clone, Serialize)]
pub struct SourceAddress {
    /// The address.
    pub ip: IpAddr,
    /// Its reverse name (looked up, or given by a reporter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_name: Option<String>,
    /// What the lookup found.
    pub name_status: NameStatus,
    /// Per-address numbers, as in the summary.
    #[serde(flatten)]
    pub summary: SourceSummary,
}

impl Store {
    /// The sending sources of one policy domain (`filter.domain`; all domains together
    /// otherwise), grouped by service, most messages first.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn sources(
        &self,
        filter: &Filter,
        services: &ServiceMap,
    ) -> Result<Vec<SourceGroup>, Error> {
        let summary = self.summary(filter).await?;
        let mut per_ip: BTreeMap<IpAddr, SourceSummary> = BTreeMap::new();
        for d in summary.domains.into_values() {
            for (ip, s) in d.sources {
                merge(per_ip.entry(ip).or_default(), s);
            }
        }
        let names = self.names(filter).await?;
        let (dkim, spf) = self.auth_seen(filter).await?;
        let mut groups: HashMap<String, SourceGroup> = HashMap::new();
        for (ip, s) in per_ip {
            let (name, status) = names
                .get(&ip)
                .cloned()
                .unwrap_or((None, NameStatus::Pending));
            let reverse_name = name.clone().or_else(|| s.reverse_name.clone());
            let org = (status == NameStatus::Verified)
                .then(|| name.as_deref().and_then(org_domain))
                .flatten();
            let key = org.clone().unwrap_or_else(|| ip.to_string());
            let group = groups.entry(key.clone()).or_insert_with(|| SourceGroup {
                service: org
                    .as_deref()
                    .and_then(|o| {
                        services
                            .lookup(o)
                            .or_else(|| name.as_deref().and_then(|n| services.lookup(n)))
                    })
                    .cloned(),
                key,
                org_domain: org.clone(),
                messages: 0,
                dkim_aligned_pass: 0,
                spf_aligned_pass: 0,
                dmarc_fail: 0,
                reporters: BTreeSet::new(),
                dkim: BTreeSet::new(),
                spf: BTreeSet::new(),
                addresses: Vec::new(),
            });
            group.messages = group.messages.saturating_add(s.volume);
            group.dkim_aligned_pass = group.dkim_aligned_pass.saturating_add(s.dkim_aligned_pass);
            group.spf_aligned_pass = group.spf_aligned_pass.saturating_add(s.spf_aligned_pass);
            group.dmarc_fail = group.dmarc_fail.saturating_add(s.dmarc_fail);
            group.reporters.extend(s.reporters.iter().cloned());
            if let Some(seen) = dkim.get(&ip) {
                group.dkim.extend(seen.iter().cloned());
            }
            if let Some(seen) = spf.get(&ip) {
                group.spf.extend(seen.iter().cloned());
            }
            group.addresses.push(SourceAddress {
                ip,
                reverse_name,
                name_status: status,
                summary: s,
            });
        }
        let mut out: Vec<SourceGroup> = groups.into_values().collect();
        for g in &mut out {
            g.addresses.sort_by(|a, b| {
                b.summary
                    .volume
                    .cmp(&a.summary.volume)
                    .then(a.ip.cmp(&b.ip))
            });
        }
        out.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.key.cmp(&b.key)));
        Ok(out)
    }

    /// Stored reverse names of the sources in the filter (those looked up).
    async fn names(
        &self,
        filter: &Filter,
    ) -> Result<HashMap<IpAddr, (Option<String>, NameStatus)>, Error> {
        let mut conn = self.conn().await?;
        let (first, last) = (
            filter.window.first_day.unwrap_or(i64::MIN / 2),
            filter.window.last_day.unwrap_or(i64::MAX / 2),
        );
        let mut out = HashMap::new();
        for domain in crate::query::filter_domains(&mut conn, filter).await? {
            conn.for_each(
                "SELECT DISTINCT d.source_ip, s.name, s.status FROM daily d
                 JOIN source_ips s ON s.ip = d.source_ip
                 WHERE d.domain = $3 AND d.day >= $1 AND d.day <= $2 AND s.status <> 'pending'",
                &[P::int(first), P::int(last), P::from(&domain)],
                &mut |r| {
                    if let Ok(ip) = r.text(0)?.unwrap_or_default().parse::<IpAddr>() {
                        out.insert(
                            ip,
                            (
                                r.opt_text(1)?,
                                NameStatus::from_token(r.text(2)?.unwrap_or_default()),
                            ),
                        );
                    }
                    Ok(())
                },
            )
            .await?;
        }
        Ok(out)
    }

    /// DKIM signatures and SPF checks seen per source address in the reports of the filter.
    async fn auth_seen(&self, filter: &Filter) -> Result<(AuthByIp, AuthByIp), Error> {
        let ids = crate::query::report_ids(self, filter).await?;
        let mut conn = self.conn().await?;
        let mut dkim: AuthByIp = HashMap::new();
        let mut spf: AuthByIp = HashMap::new();
        for id in ids {
            conn.for_each(
                "SELECT source_ip, dkim_results, spf_results FROM records WHERE report = $1",
                &[P::int(id)],
                &mut |r| {
                    let Ok(ip) = r.text(0)?.unwrap_or_default().parse::<IpAddr>() else {
                        return Ok(());
                    };
                    if let Some(Ok(results)) =
                        r.text(1)?.map(serde_json::from_str::<Vec<DkimAuthResult>>)
                    {
                        let seen = dkim.entry(ip).or_default();
                        for d in results {
                            seen.insert(AuthSeen {
                                domain: d.domain,
                                selector: d.selector,
                                result: d.result.map_or_else(|| "-".into(), |v| v.to_string()),
                            });
                        }
                    }
                    if let Some(Ok(results)) =
                        r.text(2)?.map(serde_json::from_str::<Vec<SpfAuthResult>>)
                    {
                        let seen = spf.entry(ip).or_default();
                        for s in results {
                            seen.insert(AuthSeen {
                                domain: s.domain,
                                selector: None,
                                result: s.result.map_or_else(|| "-".into(), |v| v.to_string()),
                            });
                        }
                    }
                    Ok(())
                },
            )
            .await?;
        }
        Ok((dkim, spf))
    }
}

type AuthByIp = HashMap<IpAddr, BTreeSet<AuthSeen>>;

fn merge(into: &mut SourceSummary, s: SourceSummary) {
    into.volume = into.volume.saturating_add(s.volume);
    into.dkim_aligned_pass = into.dkim_aligned_pass.saturating_add(s.dkim_aligned_pass);
    into.spf_aligned_pass = into.spf_aligned_pass.saturating_add(s.spf_aligned_pass);
    into.dmarc_fail = into.dmarc_fail.saturating_add(s.dmarc_fail);
    for r in s.reporters {
        if let Err(at) = into.reporters.binary_search(&r) {
            into.reporters.insert(at, r);
        }
    }
    if into.reverse_name.is_none() {
        into.reverse_name = s.reverse_name;
    }
}

/// The organizational domain of a reverse name (Public Suffix List).
pub fn org_domain(name: &str) -> Option<String> {
    let domain = Domain::new(name.trim_end_matches('.')).ok()?;
    Some(
        mailward_dmarc::psl_mode::organizational_domain(&domain)
            .as_str()
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizational_domains_of_reverse_names() {
        // Public Suffix List: com and co.uk are suffixes.
        assert_eq!(
            org_domain("mail-sor-f41.google.com").as_deref(),
            Some("google.com")
        );
        assert_eq!(
            org_domain("a8-33.smtp-out.amazonses.com.").as_deref(),
            Some("amazonses.com")
        );
        assert_eq!(
            org_domain("mx.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
    }
}
