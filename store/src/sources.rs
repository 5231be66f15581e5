//! Sending sources grouped by service: every address with a verified reverse name is filed
//! under the organizational domain of that name (all of one service's hosts in one group),
//! named from the [`ServiceMap`] when the domain is a known service. An address without a
//! verified name is a group of its own: a forged reverse name must not hide a forger among a
//! real service's hosts.

use std::collections::{BTreeMap, HashMap, HashSet};

/// The maps of a pass over a window: keyed by addresses and texts from reports, hashed with a
/// per-process random seed (foldhash: fast, and not predictable by whoever writes reports).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
use std::net::IpAddr;

use mailward_reports::SourceSummary;
use mailward_types::Domain;
use serde::Serialize;

use crate::Store;
use crate::db::Param;
use crate::enrich::NameStatus;
use crate::error::Error;
use crate::evidence::Evidence;
use crate::query::{DayPoint, Filter};
use crate::readiness::{AssessedSource, PolicyImpact, SourceClass, assess, class_of, is_known};
use crate::rollup;
use crate::services::{Service, ServiceMap};
pub use crate::source_group::{AuthSeen, SourceAddress, SourceGroup};

/// The service of a group of verified addresses under `org`: the entry for `org` itself, or
/// else the first (in name order) that one of its host names has.
pub(crate) fn group_service<'a>(
    services: &ServiceMap,
    org: &str,
    names: impl Iterator<Item = &'a str>,
) -> Option<Service> {
    if let Some(s) = services.lookup(org) {
        return Some(s.clone());
    }
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    names.into_iter().find_map(|n| services.lookup(n)).cloned()
}

/// Which source groups [`Store::source_list`] shows in full (reporters, reverse names, DKIM
/// and SPF results): on a busy domain most groups are one-message forgers, counted by class
/// but never read one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// Every group.
    All,
    /// The `n` busiest groups.
    Busiest(usize),
}

/// The sources of a domain in a window: the groups a [`Detail`] names, in full and assessed,
/// and every group counted by class.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceList {
    /// The groups the detail names, most messages first (ties: services by name, then
    /// addresses in numeric order).
    pub shown: Vec<AssessedSource>,
    /// Every group, per class.
    pub classes: BTreeMap<SourceClass, ClassCount>,
    /// Source groups in all.
    pub total: usize,
}

/// The groups of one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClassCount {
    /// Groups.
    pub groups: usize,
    /// Their messages.
    pub messages: u64,
    /// Their messages failing DMARC.
    pub dmarc_fail: u64,
    /// Groups with a fix on the domain's side (legitimate but unaligned ones only).
    pub fixable: usize,
}

impl SourceList {
    /// Legitimate sources failing with a fix on the domain's side (what
    /// [`readiness`](crate::readiness::readiness) counts).
    pub fn fixable(&self) -> usize {
        self.classes
            .get(&SourceClass::Unaligned)
            .map_or(0, |c| c.fixable)
    }

    /// What `p=quarantine` and `p=reject` would do to the domain's mail of the window.
    pub fn impact(&self) -> [PolicyImpact; 2] {
        let fail = |c: SourceClass| self.classes.get(&c).map_or(0, |c| c.dmarc_fail);
        crate::readiness::impact_of(
            fail(SourceClass::Aligned).saturating_add(fail(SourceClass::Unaligned)),
            fail(SourceClass::Forgery),
        )
    }
}

/// Names to small numbers, so that per-address sets hold numbers, not strings.
#[derive(Default)]
struct Interner {
    ids: FastMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.ids.insert(s.to_owned(), id);
        self.names.push(s.to_owned());
        id
    }

    fn name(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.names.get(i))
            .map_or("", String::as_str)
    }
}

/// A small set of ids: the first 64 as bits, the rest in a list (reporters are few).
#[derive(Default)]
struct IdSet {
    bits: u64,
    more: Vec<u32>,
}

impl IdSet {
    fn insert(&mut self, id: u32) {
        if id < 64 {
            self.bits |= 1 << id;
        } else if !self.more.contains(&id) {
            self.more.push(id);
        }
    }

    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        (0..64)
            .filter(|i| self.bits & (1 << i) != 0)
            .chain(self.more.iter().copied())
    }
}

/// One address's sums over the window.
#[derive(Default)]
struct AddressSums {
    volume: u64,
    dkim_aligned_pass: u64,
    spf_aligned_pass: u64,
    dmarc_fail: u64,
    evidence: i64,
    reporters: IdSet,
    /// The first reverse name a reporter gave.
    reverse_name: Option<u32>,
    /// Authentication-result text ids.
    auth: IdSet,
}

/// What a group is called: a service's organizational domain, or a lone address. Services
/// sort before addresses, addresses in numeric order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Org(String),
    Address(IpAddr),
}

/// A group before it is shown: its sums and where its addresses are.
struct Tally {
    key: GroupKey,
    service: Option<Service>,
    messages: u64,
    dmarc_fail: u64,
    evidence: Evidence,
    /// Indices into the address list.
    members: Vec<usize>,
}

const SOURCE_ROWS: &str = "SELECT source_ip, org, count, dkim_pass, spf_pass, reverse_name, auth,
        evidence, day, disposition
     FROM daily WHERE domain = $3 AND day >= $1 AND day <= $2";

/// The per-address sums of a window, and the names their ids stand for.
#[derive(Default)]
struct Scanned {
    index: FastMap<IpAddr, usize>,
    addrs: Vec<(IpAddr, AddressSums)>,
    orgs: Interner,
    auths: Interner,
    rnames: Interner,
}

/// One pass over the window's rows of the daily rollup: every address's sums, or only those
/// of the addresses in `only` (as stored text), adding their messages per day to `days`.
async fn scan(
    conn: &mut crate::db::Conn,
    filter: &Filter,
    only: Option<&HashSet<String>>,
    mut days: Option<&mut BTreeMap<i64, DayPoint>>,
) -> Result<Scanned, Error> {
    let (first, last) = filter.window.days();
    let mut out = Scanned::default();
    let Scanned {
        index,
        addrs,
        orgs,
        auths,
        rnames,
    } = &mut out;
    for domain in crate::query::filter_domains(conn, filter).await? {
        conn.for_each(
            SOURCE_ROWS,
            &[Param::int(first), Param::int(last), Param::from(&domain)],
            &mut |r| {
                let text = r.text(0)?.unwrap_or_default();
                if only.is_some_and(|o| !o.contains(text)) {
                    return Ok(());
                }
                let ip: IpAddr = text
                    .parse()
                    .map_err(|_| Error::Corrupt("a stored source IP does not parse"))?;
                let at = *index.entry(ip).or_insert_with(|| {
                    addrs.push((ip, AddressSums::default()));
                    addrs.len() - 1
                });
                let Some((_, a)) = addrs.get_mut(at) else {
                    return Ok(());
                };
                let n = u64::try_from(r.req_int(2)?).unwrap_or(0);
                a.volume = a.volume.saturating_add(n);
                let dkim = r.req_int(3)? != 0;
                let spf = r.req_int(4)? != 0;
                if dkim {
                    a.dkim_aligned_pass = a.dkim_aligned_pass.saturating_add(n);
                }
                if spf {
                    a.spf_aligned_pass = a.spf_aligned_pass.saturating_add(n);
                }
                if !dkim && !spf {
                    a.dmarc_fail = a.dmarc_fail.saturating_add(n);
                }
                a.evidence |= r.int(7)?.unwrap_or(0);
                a.reporters.insert(orgs.id(r.text(1)?.unwrap_or_default()));
                if a.reverse_name.is_none()
                    && let Some(name) = r.text(5)?
                {
                    a.reverse_name = Some(rnames.id(name));
                }
                if let Some(text) = r.text(6)? {
                    a.auth.insert(auths.id(text));
                }
                if let Some(days) = days.as_deref_mut() {
                    let day = r.req_int(8)?;
                    days.entry(day)
                        .or_insert_with(|| DayPoint::new(day))
                        .add_counts(n, dkim, spf, r.text(9)?);
                }
                Ok(())
            },
        )
        .await?;
    }
    Ok(out)
}

impl Store {
    /// The sources of one domain (`filter.domain`), assessed, most messages first, every one
    /// in full (see [`Store::source_list`] for the busiest only).
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn assessed_sources(
        &self,
        filter: &Filter,
        services: &ServiceMap,
    ) -> Result<Vec<AssessedSource>, Error> {
        Ok(self.source_list(filter, services, Detail::All).await?.shown)
    }

    /// The sending sources of one policy domain (`filter.domain`; all domains together
    /// otherwise), grouped by service, most messages first, every group in detail.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn sources(
        &self,
        filter: &Filter,
        services: &ServiceMap,
    ) -> Result<Vec<SourceGroup>, Error> {
        let list = self.source_list(filter, services, Detail::All).await?;
        Ok(list.shown.into_iter().map(|s| s.group).collect())
    }

    /// The sources of one policy domain, assessed and counted by class, with the groups
    /// `detail` names in full: one pass over the window's rows of the daily rollup.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn source_list(
        &self,
        filter: &Filter,
        services: &ServiceMap,
        detail: Detail,
    ) -> Result<SourceList, Error> {
        let mut conn = self.conn().await?;
        let Scanned {
            index,
            addrs,
            orgs,
            auths,
            rnames,
        } = scan(&mut conn, filter, None, None).await?;
        let names = names_of(&mut conn, &index).await?;
        drop(conn);

        // Group: a verified name files an address under its organizational domain.
        let mut tallies: Vec<Tally> = Vec::with_capacity(addrs.len());
        let mut by_org: HashMap<String, usize> = HashMap::new();
        for (at, (ip, sums)) in addrs.iter().enumerate() {
            let verified_org = names
                .get(ip)
                .filter(|(_, s)| *s == NameStatus::Verified)
                .and_then(|(n, _)| n.as_deref())
                .and_then(org_domain);
            let slot = match verified_org {
                Some(org) => *by_org.entry(org.clone()).or_insert_with(|| {
                    tallies.push(Tally::new(GroupKey::Org(org)));
                    tallies.len() - 1
                }),
                None => {
                    tallies.push(Tally::new(GroupKey::Address(*ip)));
                    tallies.len() - 1
                }
            };
            if let Some(t) = tallies.get_mut(slot) {
                t.messages = t.messages.saturating_add(sums.volume);
                t.dmarc_fail = t.dmarc_fail.saturating_add(sums.dmarc_fail);
                t.evidence = t.evidence.or(Evidence::from_bits(sums.evidence));
                t.members.push(at);
            }
        }
        let mut list = SourceList {
            total: tallies.len(),
            ..SourceList::default()
        };
        for t in &mut tallies {
            if let GroupKey::Org(org) = &t.key {
                t.service = group_service(
                    services,
                    org,
                    t.members.iter().filter_map(|at| {
                        let ip = addrs.get(*at)?.0;
                        names.get(&ip)?.0.as_deref()
                    }),
                );
            }
            let (class, fix) = class_of(
                t.messages,
                t.dmarc_fail,
                t.evidence,
                is_known(t.service.as_ref()),
            );
            let c = list.classes.entry(class).or_default();
            c.groups += 1;
            c.messages = c.messages.saturating_add(t.messages);
            c.dmarc_fail = c.dmarc_fail.saturating_add(t.dmarc_fail);
            if fix {
                c.fixable += 1;
            }
        }

        let order =
            |a: &Tally, b: &Tally| b.messages.cmp(&a.messages).then_with(|| a.key.cmp(&b.key));
        let chosen: Vec<Tally> = match detail {
            Detail::All => {
                tallies.sort_by(order);
                tallies
            }
            Detail::Busiest(n) => {
                if n < tallies.len() {
                    tallies.select_nth_unstable_by(n, order);
                    tallies.truncate(n);
                }
                tallies.sort_by(order);
                tallies
            }
        };
        let domain = filter.domain.clone().unwrap_or_default();
        let shown = Shown {
            addrs: &addrs,
            names: &names,
            orgs: &orgs,
            auths: &auths,
            rnames: &rnames,
        };
        for t in chosen {
            let group = shown.group(t);
            let assessment = assess(&group, &domain);
            list.shown.push(AssessedSource { group, assessment });
        }
        Ok(list)
    }
}

impl Tally {
    fn new(key: GroupKey) -> Self {
        Self {
            key,
            service: None,
            messages: 0,
            dmarc_fail: 0,
            evidence: Evidence::default(),
            members: Vec::new(),
        }
    }
}

/// What a shown group is built from.
struct Shown<'a> {
    addrs: &'a [(IpAddr, AddressSums)],
    names: &'a HashMap<IpAddr, (Option<String>, NameStatus)>,
    orgs: &'a Interner,
    auths: &'a Interner,
    rnames: &'a Interner,
}

impl Shown<'_> {
    /// The group of a tally, in full: every address with its reporters and names, and every
    /// DKIM and SPF result seen.
    fn group(&self, t: Tally) -> SourceGroup {
        let key = match &t.key {
            GroupKey::Org(o) => o.clone(),
            GroupKey::Address(ip) => ip.to_string(),
        };
        let mut group = SourceGroup::empty(key);
        if let GroupKey::Org(o) = t.key {
            group.org_domain = Some(o);
        }
        group.service = t.service;
        group.evidence = t.evidence;
        let mut members: Vec<&(IpAddr, AddressSums)> = t
            .members
            .iter()
            .filter_map(|at| self.addrs.get(*at))
            .collect();
        members.sort_by(|a, b| b.1.volume.cmp(&a.1.volume).then(a.0.cmp(&b.0)));
        for (ip, sums) in members {
            group.messages = group.messages.saturating_add(sums.volume);
            group.dkim_aligned_pass = group
                .dkim_aligned_pass
                .saturating_add(sums.dkim_aligned_pass);
            group.spf_aligned_pass = group.spf_aligned_pass.saturating_add(sums.spf_aligned_pass);
            group.dmarc_fail = group.dmarc_fail.saturating_add(sums.dmarc_fail);
            let reported = sums.reverse_name.map(|id| self.rnames.name(id).to_owned());
            let (looked_up, name_status) = self
                .names
                .get(ip)
                .map_or((None, NameStatus::Pending), |(n, s)| (n.clone(), *s));
            let mut reporters: Vec<String> = sums
                .reporters
                .ids()
                .map(|id| self.orgs.name(id).to_owned())
                .collect();
            reporters.sort();
            group.reporters.extend(reporters.iter().cloned());
            for id in sums.auth.ids() {
                for (kind, domain, selector, result) in rollup::parse_auth(self.auths.name(id)) {
                    let seen = AuthSeen {
                        domain,
                        selector,
                        result,
                    };
                    if kind == "dkim" {
                        group.dkim.insert(seen);
                    } else {
                        group.spf.insert(seen);
                    }
                }
            }
            group.addresses.push(SourceAddress {
                ip: *ip,
                reverse_name: looked_up.or_else(|| reported.clone()),
                name_status,
                summary: SourceSummary {
                    reverse_name: reported,
                    volume: sums.volume,
                    dkim_aligned_pass: sums.dkim_aligned_pass,
                    spf_aligned_pass: sums.spf_aligned_pass,
                    dmarc_fail: sums.dmarc_fail,
                    reporters,
                },
            });
        }
        group
    }
}

/// A verified reverse name and its organizational domain.
pub(crate) struct Verified {
    pub(crate) name: String,
    pub(crate) org: Option<String>,
}

/// Every verified reverse name in the store.
pub(crate) async fn verified_names(
    conn: &mut crate::db::Conn,
) -> Result<HashMap<IpAddr, Verified>, Error> {
    let mut out = HashMap::new();
    conn.for_each(
        "SELECT ip, name, status FROM source_ips WHERE expires_at > 0",
        &[],
        &mut |r| {
            if NameStatus::from_token(r.text(2)?.unwrap_or_default()) != NameStatus::Verified {
                return Ok(());
            }
            if let (Ok(ip), Some(name)) = (
                r.text(0)?.unwrap_or_default().parse::<IpAddr>(),
                r.opt_text(1)?,
            ) {
                let org = org_domain(&name);
                out.insert(ip, Verified { name, org });
            }
            Ok(())
        },
    )
    .await?;
    Ok(out)
}

/// One source group of a domain in full, with its messages per day.
#[derive(Debug, Clone, Serialize)]
pub struct SourceDetail {
    /// The group, assessed.
    pub source: AssessedSource,
    /// Its messages per day (every day of a bounded window).
    pub daily: Vec<DayPoint>,
}

impl Store {
    /// One source group of `filter.domain`: the one whose key is `key` (a service's
    /// organizational domain, or an address), or that holds the address `key`. Reads only
    /// that group's rows.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn source(
        &self,
        filter: &Filter,
        key: &str,
        services: &ServiceMap,
    ) -> Result<Option<SourceDetail>, Error> {
        let mut conn = self.conn().await?;
        let verified = verified_names(&mut conn).await?;
        let address = key.trim().parse::<IpAddr>().ok();
        let org = match address {
            Some(ip) => verified.get(&ip).and_then(|v| v.org.clone()),
            None => Some(key.trim().trim_end_matches('.').to_ascii_lowercase()),
        };
        let members: HashSet<String> = match (&org, address) {
            (Some(org), _) => verified
                .iter()
                .filter(|(_, v)| v.org.as_deref() == Some(org.as_str()))
                .map(|(ip, _)| ip.to_string())
                .collect(),
            (None, Some(ip)) => HashSet::from([ip.to_string()]),
            (None, None) => return Ok(None),
        };
        let mut days = crate::query::empty_days(&filter.window);
        let scanned = scan(&mut conn, filter, Some(&members), Some(&mut days)).await?;
        if scanned.addrs.is_empty() {
            return Ok(None);
        }
        let names = names_of(&mut conn, &scanned.index).await?;
        drop(conn);
        let mut t = Tally::new(match (org, address) {
            (Some(org), _) => GroupKey::Org(org),
            (None, Some(ip)) => GroupKey::Address(ip),
            (None, None) => return Ok(None),
        });
        for (at, (_, sums)) in scanned.addrs.iter().enumerate() {
            t.messages = t.messages.saturating_add(sums.volume);
            t.dmarc_fail = t.dmarc_fail.saturating_add(sums.dmarc_fail);
            t.evidence = t.evidence.or(Evidence::from_bits(sums.evidence));
            t.members.push(at);
        }
        if let GroupKey::Org(org) = &t.key {
            t.service = group_service(
                services,
                org,
                scanned
                    .addrs
                    .iter()
                    .filter_map(|(ip, _)| names.get(ip)?.0.as_deref()),
            );
        }
        let shown = Shown {
            addrs: &scanned.addrs,
            names: &names,
            orgs: &scanned.orgs,
            auths: &scanned.auths,
            rnames: &scanned.rnames,
        };
        let group = shown.group(t);
        let assessment = assess(&group, filter.domain.as_deref().unwrap_or_default());
        Ok(Some(SourceDetail {
            source: AssessedSource { group, assessment },
            daily: days.into_values().collect(),
        }))
    }
}

/// The looked-up names of these addresses. A store where few addresses have been looked up
/// hands them all over in one read; otherwise they are read in batches by address.
async fn names_of<T: Sync>(
    conn: &mut crate::db::Conn,
    addresses: &FastMap<IpAddr, T>,
) -> Result<HashMap<IpAddr, (Option<String>, NameStatus)>, Error> {
    let mut out = HashMap::new();
    let looked_up = conn
        .collect(
            "SELECT COUNT(*) FROM source_ips WHERE expires_at > 0",
            &[],
            |r| r.req_int(0),
        )
        .await?
        .first()
        .copied()
        .unwrap_or(0);
    if looked_up == 0 {
        return Ok(out);
    }
    let mut keep = |r: &dyn crate::db::Row| {
        if let Ok(ip) = r.text(0)?.unwrap_or_default().parse::<IpAddr>()
            && addresses.contains_key(&ip)
        {
            out.insert(
                ip,
                (
                    r.opt_text(1)?,
                    NameStatus::from_token(r.text(2)?.unwrap_or_default()),
                ),
            );
        }
        Ok(())
    };
    if usize::try_from(looked_up).unwrap_or(usize::MAX) <= addresses.len().saturating_mul(2) {
        conn.for_each(
            "SELECT ip, name, status FROM source_ips WHERE expires_at > 0",
            &[],
            &mut keep,
        )
        .await?;
        return Ok(out);
    }
    let sql = match conn.dialect() {
        #[cfg(feature = "sqlite")]
        crate::db::Dialect::Sqlite => {
            "SELECT ip, name, status FROM source_ips
             WHERE ip IN (SELECT value FROM json_each($1)) AND expires_at > 0"
        }
        #[cfg(feature = "postgres")]
        crate::db::Dialect::Postgres => {
            "SELECT ip, name, status FROM source_ips
             WHERE ip IN (SELECT json_array_elements_text(($1::text)::json)) AND expires_at > 0"
        }
    };
    let texts: Vec<String> = addresses.keys().map(ToString::to_string).collect();
    for chunk in texts.chunks(NAME_BATCH) {
        let list = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into());
        conn.for_each(sql, &[Param::from(list.as_str())], &mut keep)
            .await?;
    }
    Ok(out)
}

/// Addresses per batch of [`names_of`].
const NAME_BATCH: usize = 500;

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
