//! The overview: every policy domain's totals, trend and readiness in one read of the
//! rollups.
//!
//! A domain's readiness depends only on the sources that can be legitimate (see
//! [`class_of`]): a source that never passes DMARC in the window and is no verified host of a
//! known service is a likely forgery, whatever else it does. So the overview classifies only
//! the groups holding such candidates: addresses that passed DMARC on some day of the window
//! (the `ip_days_passing` index), and verified hosts of known services, with every address of
//! their groups. Their sums come from `ip_days`; the totals from `domain_days`. The result is
//! the one [`Store::assessed_sources`] would give, without reading every forger's rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use crate::Store;
use crate::db::{Conn, Param};
use crate::error::Error;
use crate::evidence::Evidence;
use crate::query::{Filter, Window};
use crate::readiness::{DomainOverview, SourceClass, class_of, is_known, readiness};
use crate::services::ServiceMap;
use crate::sources::{Verified, group_service, verified_names};

const PASSING: &str = "SELECT DISTINCT source_ip FROM ip_days
     WHERE domain = $3 AND day >= $1 AND day <= $2 AND dmarc_pass > 0";
const ADDRESS_DAYS: &str = "SELECT messages, dmarc_pass, evidence FROM ip_days
     WHERE domain = $3 AND source_ip = $4 AND day >= $1 AND day <= $2";

impl Store {
    /// One row per policy domain with reports in the window: published policy, messages and
    /// pass rate against the previous window, and readiness.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn overview(
        &self,
        window: &Window,
        services: &ServiceMap,
    ) -> Result<Vec<DomainOverview>, Error> {
        let filter = Filter::new(*window);
        let totals = self.totals(&filter).await?;
        let previous = match window.previous() {
            Some(w) => Some(self.totals(&Filter::new(w)).await?),
            None => None,
        };
        let policies = self.policies(&filter).await?;
        let mut conn = self.conn().await?;
        let verified = verified_names(&mut conn).await?;
        // Verified hosts of known services: candidates on every domain.
        let known: Vec<IpAddr> = verified
            .iter()
            .filter(|(_, v)| services.lookup(&v.name).is_some())
            .map(|(ip, _)| *ip)
            .collect();
        let mut out = Vec::with_capacity(totals.len());
        for (domain, d) in &totals {
            let decided = self
                .candidates_classified(&mut conn, &filter, domain, services, &verified, &known)
                .await?;
            let mut classes: BTreeMap<SourceClass, usize> = BTreeMap::new();
            let mut fixable = 0;
            for (class, fix) in decided {
                if class != SourceClass::Forgery {
                    *classes.entry(class).or_default() += 1;
                }
                fixable += usize::from(class == SourceClass::Unaligned && fix);
            }
            let readiness = readiness(d.published_p.as_ref(), d.volume, fixable);
            let prev = previous.as_ref().map(|p| p.get(domain));
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

    /// The class of each of `domain`'s groups that hold a candidate (see the module
    /// documentation), and whether it has a fix: what [`assess`](crate::readiness::assess)
    /// decides, without its words.
    async fn candidates_classified(
        &self,
        conn: &mut Conn,
        filter: &Filter,
        domain: &str,
        services: &ServiceMap,
        verified: &HashMap<IpAddr, Verified>,
        known: &[IpAddr],
    ) -> Result<Vec<(SourceClass, bool)>, Error> {
        let (first, last) = filter.window.days();
        let window = [Param::int(first), Param::int(last), Param::from(domain)];
        let mut candidates: BTreeSet<IpAddr> = conn
            .collect(PASSING, &window, |r| {
                Ok(r.text(0)?.unwrap_or_default().parse().ok())
            })
            .await?
            .into_iter()
            .flatten()
            .collect();
        candidates.extend(known.iter().copied());
        // Groups as `Store::source_list` forms them: a verified name files an address under
        // its organizational domain, with every other verified address of that domain. Each
        // group: its organizational domain, if any, and its addresses.
        let mut groups: BTreeMap<String, (Option<&str>, BTreeSet<IpAddr>)> = BTreeMap::new();
        for ip in &candidates {
            match verified.get(ip).and_then(|v| v.org.as_deref()) {
                Some(org) => {
                    groups
                        .entry(org.to_owned())
                        .or_insert((Some(org), BTreeSet::new()));
                }
                None => {
                    groups.entry(ip.to_string()).or_default().1.insert(*ip);
                }
            }
        }
        for (ip, v) in verified {
            if let Some(org) = v.org.as_deref()
                && let Some((_, members)) = groups.get_mut(org)
            {
                members.insert(*ip);
            }
        }
        let mut out = Vec::with_capacity(groups.len());
        for (org, members) in groups.into_values() {
            let (mut messages, mut dmarc_fail, mut evidence) = (0u64, 0u64, Evidence::default());
            for ip in &members {
                let text = ip.to_string();
                let params = [
                    Param::int(first),
                    Param::int(last),
                    Param::from(domain),
                    Param::from(&text),
                ];
                conn.for_each(ADDRESS_DAYS, &params, &mut |r| {
                    let n = u64::try_from(r.req_int(0)?).unwrap_or(0);
                    let pass = u64::try_from(r.req_int(1)?).unwrap_or(0);
                    messages = messages.saturating_add(n);
                    dmarc_fail = dmarc_fail.saturating_add(n.saturating_sub(pass));
                    evidence = evidence.or(Evidence::from_bits(r.int(2)?.unwrap_or(0)));
                    Ok(())
                })
                .await?;
            }
            if messages == 0 {
                continue;
            }
            let service = org.and_then(|org| {
                group_service(
                    services,
                    org,
                    members
                        .iter()
                        .filter_map(|ip| verified.get(ip).map(|v| v.name.as_str())),
                )
            });
            out.push(class_of(
                messages,
                dmarc_fail,
                evidence,
                is_known(service.as_ref()),
            ));
        }
        Ok(out)
    }
}
