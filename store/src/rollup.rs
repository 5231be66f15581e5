//! The daily rollup and the two smaller ones the views read, written with each report and
//! taken back with it.
//!
//! - `daily`: a report's records spread over the UTC days of its period (see
//!   [`spread`](crate::spread)) and merged per (day, source, aligned results, disposition,
//!   reverse name, authentication results). Each row also carries its authentication results
//!   in one short text (the DKIM and SPF results the sources table lists) and the
//!   [`Evidence`] bits the classification reads, so that no view parses records.
//! - `domain_days`: messages per (domain, day, reporter, disposition, aligned results): the
//!   totals, pass rates, reporters and charts of any window in a few hundred rows.
//! - `ip_days`: messages, DMARC passes and evidence per (domain, source address, day): what
//!   the overview reads for the few addresses that can make a domain "not ready".
//!
//! The two small ones are sums of `daily`. A report adds its rows to them; replacing or
//! pruning a report subtracts its rows before they are deleted, so they stay sums of what
//! `daily` holds (evidence bits, an OR, are not taken back: a replaced report's copy is a
//! more complete one of the same report).

use std::collections::BTreeMap;
#[cfg(test)]
use std::collections::HashMap;

use mailward_reports::{AlignedResult, DkimAuthResult, Record, SpfAuthResult};

use crate::db::{ColumnType, Conn, Param, Table, to_bigint};
use crate::error::Error;
use crate::evidence::Evidence;
use crate::spread;

/// What the rollups need of one record.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub(crate) ip: String,
    pub(crate) count: u64,
    pub(crate) disposition: Option<String>,
    pub(crate) dkim_pass: bool,
    pub(crate) spf_pass: bool,
    pub(crate) reverse_name: Option<String>,
    /// [`auth_text`] of its results.
    pub(crate) auth: Option<String>,
    /// [`Evidence::bits`] of its results.
    pub(crate) evidence: i64,
}

impl Facts {
    /// The facts of a parsed record of `domain`'s report.
    pub(crate) fn of_record(domain: &str, r: &Record) -> Self {
        let pe = &r.row.policy_evaluated;
        let (auth, evidence) = auth_text(domain, &r.auth_results.dkim, &r.auth_results.spf);
        Self {
            ip: r.row.source_ip.to_string(),
            count: r.row.count,
            disposition: pe.disposition.as_ref().map(ToString::to_string),
            dkim_pass: pe.dkim == Some(AlignedResult::Pass),
            spf_pass: pe.spf == Some(AlignedResult::Pass),
            reverse_name: r.reported_reverse_name().map(str::to_owned),
            auth,
            evidence,
        }
    }
}

/// One entry of [`auth_text`]: `["dkim", domain, selector, result]` or
/// `["spf", domain, null, result]`.
type AuthEntry = (String, String, Option<String>, String);

/// The DKIM and SPF results of a record as one canonical text (a sorted JSON array of
/// [`AuthEntry`], each once), `None` when there are none, and the record's evidence bits.
pub(crate) fn auth_text(
    domain: &str,
    dkim: &[DkimAuthResult],
    spf: &[SpfAuthResult],
) -> (Option<String>, i64) {
    let result = |r: Option<String>| r.unwrap_or_else(|| "-".to_owned());
    let mut entries: Vec<AuthEntry> = Vec::with_capacity(dkim.len() + spf.len());
    for d in dkim {
        entries.push((
            "dkim".into(),
            d.domain.clone(),
            d.selector.clone(),
            result(d.result.as_ref().map(ToString::to_string)),
        ));
    }
    for s in spf {
        entries.push((
            "spf".into(),
            s.domain.clone(),
            None,
            result(s.result.as_ref().map(ToString::to_string)),
        ));
    }
    let evidence = Evidence::of_record(
        domain,
        entries
            .iter()
            .filter(|e| e.0 == "dkim")
            .map(|e| (e.1.as_str(), e.3 == "pass")),
        entries
            .iter()
            .filter(|e| e.0 == "spf")
            .map(|e| (e.1.as_str(), e.3 == "pass")),
    )
    .bits();
    if entries.is_empty() {
        return (None, evidence);
    }
    entries.sort();
    entries.dedup();
    (serde_json::to_string(&entries).ok(), evidence)
}

/// The entries of an [`auth_text`] (none for text that is not one).
pub(crate) fn parse_auth(text: &str) -> Vec<AuthEntry> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A row of `daily`, before it gets its report and sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct DayKey {
    day: i64,
    ip: String,
    disposition: Option<String>,
    dkim: bool,
    spf: bool,
    reverse_name: Option<String>,
    auth: Option<String>,
}

/// A report's rows of `daily`: `facts` spread over the days of the period `begin..=end` and
/// merged, in key order.
fn merge(begin: u64, end: u64, facts: &[Facts]) -> Vec<(DayKey, i64, u64)> {
    let days = spread::days_of(begin, end);
    let mut merged: BTreeMap<DayKey, (i64, u64)> = BTreeMap::new();
    for (i, f) in facts.iter().enumerate() {
        for (day, part) in spread::split(f.count, &days, i as u64) {
            let key = DayKey {
                day,
                ip: f.ip.clone(),
                disposition: f.disposition.clone(),
                dkim: f.dkim_pass,
                spf: f.spf_pass,
                reverse_name: f.reverse_name.clone(),
                auth: f.auth.clone(),
            };
            let slot = merged.entry(key).or_insert((0, 0));
            slot.0 |= f.evidence;
            slot.1 = slot.1.saturating_add(part);
        }
    }
    merged.into_iter().map(|(k, (e, n))| (k, e, n)).collect()
}

const DAILY: Table = Table {
    name: "daily",
    columns: &[
        ("domain", ColumnType::Text),
        ("day", ColumnType::Int),
        ("report", ColumnType::Int),
        ("seq", ColumnType::Int),
        ("org", ColumnType::Text),
        ("source_ip", ColumnType::Text),
        ("disposition", ColumnType::Text),
        ("dkim_pass", ColumnType::Int),
        ("spf_pass", ColumnType::Int),
        ("reverse_name", ColumnType::Text),
        ("count", ColumnType::Int),
        ("auth", ColumnType::Text),
        ("evidence", ColumnType::Int),
    ],
    on_conflict: "",
};

const DOMAIN_DAYS: Table = Table {
    name: "domain_days",
    columns: &[
        ("domain", ColumnType::Text),
        ("day", ColumnType::Int),
        ("org", ColumnType::Text),
        ("disposition", ColumnType::Text),
        ("dkim_pass", ColumnType::Int),
        ("spf_pass", ColumnType::Int),
        ("count", ColumnType::Int),
    ],
    on_conflict: " ON CONFLICT (domain, day, org, disposition, dkim_pass, spf_pass)
        DO UPDATE SET count = domain_days.count + excluded.count",
};

const IP_DAYS: Table = Table {
    name: "ip_days",
    columns: &[
        ("domain", ColumnType::Text),
        ("source_ip", ColumnType::Text),
        ("day", ColumnType::Int),
        ("messages", ColumnType::Int),
        ("dmarc_pass", ColumnType::Int),
        ("evidence", ColumnType::Int),
    ],
    on_conflict: " ON CONFLICT (domain, source_ip, day) DO UPDATE SET
        messages = ip_days.messages + excluded.messages,
        dmarc_pass = ip_days.dmarc_pass + excluded.dmarc_pass,
        evidence = ip_days.evidence | excluded.evidence",
};

/// Writes report `pk`'s rows: `daily`, and (unless `rollups` is false, as in a rebuild that
/// sums them afterwards) its additions to `domain_days` and `ip_days`.
pub(crate) async fn write(
    conn: &mut Conn,
    pk: i64,
    (domain, org): (&str, &str),
    (begin, end): (u64, u64),
    facts: &[Facts],
    rollups: bool,
) -> Result<(), Error> {
    let merged = merge(begin, end, facts);
    let mut daily = Vec::with_capacity(merged.len());
    for (seq, (k, evidence, n)) in merged.iter().enumerate() {
        daily.push(vec![
            Param::from(domain),
            Param::int(k.day),
            Param::int(pk),
            Param::int(i64::try_from(seq).unwrap_or(i64::MAX)),
            Param::from(org),
            Param::from(k.ip.as_str()),
            Param::from(k.disposition.as_deref()),
            Param::int(i64::from(k.dkim)),
            Param::int(i64::from(k.spf)),
            Param::from(k.reverse_name.as_deref()),
            Param::int(to_bigint(*n)),
            Param::from(k.auth.as_deref()),
            Param::int(*evidence),
        ]);
    }
    conn.insert_rows(&DAILY, &daily).await?;
    if !rollups {
        return Ok(());
    }
    // Each key once per statement (PostgreSQL refuses to update a row twice in one), in key
    // order (concurrent writers take row locks in the same order).
    let mut totals: BTreeMap<(i64, &str, bool, bool), u64> = BTreeMap::new();
    let mut per_ip: BTreeMap<(&str, i64), (u64, u64, i64)> = BTreeMap::new();
    for (k, evidence, n) in &merged {
        let t = totals
            .entry((k.day, k.disposition.as_deref().unwrap_or(""), k.dkim, k.spf))
            .or_insert(0);
        *t = t.saturating_add(*n);
        let ip = per_ip.entry((k.ip.as_str(), k.day)).or_insert((0, 0, 0));
        ip.0 = ip.0.saturating_add(*n);
        if k.dkim || k.spf {
            ip.1 = ip.1.saturating_add(*n);
        }
        ip.2 |= evidence;
    }
    let rows: Vec<Vec<Param<'_>>> = totals
        .iter()
        .map(|((day, disposition, dkim, spf), n)| {
            vec![
                Param::from(domain),
                Param::int(*day),
                Param::from(org),
                Param::from(*disposition),
                Param::int(i64::from(*dkim)),
                Param::int(i64::from(*spf)),
                Param::int(to_bigint(*n)),
            ]
        })
        .collect();
    conn.insert_rows(&DOMAIN_DAYS, &rows).await?;
    let rows: Vec<Vec<Param<'_>>> = per_ip
        .iter()
        .map(|((ip, day), (messages, pass, evidence))| {
            vec![
                Param::from(domain),
                Param::from(*ip),
                Param::int(*day),
                Param::int(to_bigint(*messages)),
                Param::int(to_bigint(*pass)),
                Param::int(*evidence),
            ]
        })
        .collect();
    conn.insert_rows(&IP_DAYS, &rows).await?;
    Ok(())
}

/// The `daily` rows to take out of the rollups.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Taken {
    /// One report's rows: params `domain, first_day, last_day, report`.
    Report,
    /// The rows of the reports whose period ended before the cutoff: param `cutoff`.
    EndedBefore,
}

/// The subtraction statements, for the rows of `daily` chosen by the condition `$which`.
macro_rules! subtract_sql {
    ($which:literal) => {
        [
            concat!(
                "UPDATE domain_days SET count = domain_days.count - x.n
                 FROM (SELECT domain, day, org, COALESCE(disposition, '') AS disposition,
                              dkim_pass, spf_pass, SUM(count) AS n
                       FROM daily WHERE ",
                $which,
                " GROUP BY domain, day, org, COALESCE(disposition, ''), dkim_pass, spf_pass) x
                 WHERE domain_days.domain = x.domain AND domain_days.day = x.day
                   AND domain_days.org = x.org AND domain_days.disposition = x.disposition
                   AND domain_days.dkim_pass = x.dkim_pass AND domain_days.spf_pass = x.spf_pass"
            ),
            concat!(
                "UPDATE ip_days SET messages = ip_days.messages - x.n,
                                    dmarc_pass = ip_days.dmarc_pass - x.pass
                 FROM (SELECT domain, source_ip, day, SUM(count) AS n,
                              SUM(CASE WHEN dkim_pass = 1 OR spf_pass = 1 THEN count ELSE 0 END)
                                AS pass
                       FROM daily WHERE ",
                $which,
                " GROUP BY domain, source_ip, day) x
                 WHERE ip_days.domain = x.domain AND ip_days.source_ip = x.source_ip
                   AND ip_days.day = x.day"
            ),
        ]
    };
}

/// Takes the `daily` rows chosen by `taken` (with its `params`) out of `domain_days` and
/// `ip_days`. Call it before deleting those rows.
pub(crate) async fn subtract(
    conn: &mut Conn,
    taken: Taken,
    params: &[Param<'_>],
) -> Result<(), Error> {
    let statements = match taken {
        Taken::Report => {
            subtract_sql!("domain = $1 AND day >= $2 AND day <= $3 AND report = $4")
        }
        Taken::EndedBefore => {
            subtract_sql!("report IN (SELECT id FROM reports WHERE date_end < $1)")
        }
    };
    for sql in statements {
        conn.execute(sql, params).await?;
    }
    conn.execute("DELETE FROM domain_days WHERE count <= 0", &[])
        .await?;
    conn.execute("DELETE FROM ip_days WHERE messages <= 0", &[])
        .await?;
    Ok(())
}

/// Rebuilds `daily` from the stored records, then `domain_days` and `ip_days` from `daily`:
/// the migration to schema 2, which added the authentication text and evidence to `daily`
/// and the two rollups.
pub(crate) async fn rebuild(conn: &mut Conn) -> Result<(), Error> {
    let reports = conn
        .collect(
            "SELECT id, policy_domain, org_name, date_begin, date_end FROM reports ORDER BY id",
            &[],
            |r| {
                Ok((
                    r.req_int(0)?,
                    r.req_text(1)?,
                    r.req_text(2)?,
                    r.req_int(3)?,
                    r.req_int(4)?,
                ))
            },
        )
        .await?;
    for (pk, domain, org_name, begin, end) in reports {
        let facts = conn
            .collect(
                "SELECT source_ip, count, disposition, dkim, spf, reverse_name, dkim_results,
                        spf_results
                 FROM records WHERE report = $1 ORDER BY ordinal",
                &[Param::int(pk)],
                |r| {
                    let dkim: Vec<DkimAuthResult> = r
                        .text(6)?
                        .and_then(|t| serde_json::from_str(t).ok())
                        .unwrap_or_default();
                    let spf: Vec<SpfAuthResult> = r
                        .text(7)?
                        .and_then(|t| serde_json::from_str(t).ok())
                        .unwrap_or_default();
                    let (auth, evidence) = auth_text(&domain, &dkim, &spf);
                    Ok(Facts {
                        ip: r.req_text(0)?,
                        count: u64::try_from(r.req_int(1)?).unwrap_or(0),
                        disposition: r.opt_text(2)?,
                        dkim_pass: r.text(3)? == Some("pass"),
                        spf_pass: r.text(4)? == Some("pass"),
                        reverse_name: r.opt_text(5)?,
                        auth,
                        evidence,
                    })
                },
            )
            .await?;
        let org = mailward_reports::reporter_label(&org_name);
        let period = (
            u64::try_from(begin).unwrap_or(0),
            u64::try_from(end).unwrap_or(0),
        );
        // `daily` is keyed by (domain, day, report, seq): a report's rows are one range per
        // day of its period.
        let days = spread::days_of(period.0, period.1);
        let (first, last) = (
            days.first().map_or(0, |d| d.0),
            days.last().map_or(0, |d| d.0),
        );
        conn.execute(
            "DELETE FROM daily WHERE domain = $1 AND day >= $2 AND day <= $3 AND report = $4",
            &[
                Param::from(&domain),
                Param::int(first),
                Param::int(last),
                Param::int(pk),
            ],
        )
        .await?;
        write(conn, pk, (&domain, &org), period, &facts, false).await?;
    }
    conn.execute(
        "INSERT INTO domain_days (domain, day, org, disposition, dkim_pass, spf_pass, count)
         SELECT domain, day, org, COALESCE(disposition, ''), dkim_pass, spf_pass, SUM(count)
         FROM daily GROUP BY domain, day, org, COALESCE(disposition, ''), dkim_pass, spf_pass",
        &[],
    )
    .await?;
    conn.execute(
        "INSERT INTO ip_days (domain, source_ip, day, messages, dmarc_pass, evidence)
         SELECT domain, source_ip, day, SUM(count),
                SUM(CASE WHEN dkim_pass = 1 OR spf_pass = 1 THEN count ELSE 0 END),
                MAX(evidence & 1) | MAX(evidence & 2) | MAX(evidence & 4)
         FROM daily GROUP BY domain, source_ip, day",
        &[],
    )
    .await?;
    Ok(())
}

/// Counts of [`auth_text`] entries, for tests.
#[cfg(test)]
fn kinds(text: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for e in parse_auth(text) {
        *out.entry(e.0).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailward_reports::{DkimResult, ReportedSpfResult};

    fn dkim(d: &str, s: &str, r: DkimResult) -> DkimAuthResult {
        DkimAuthResult {
            domain: d.into(),
            selector: Some(s.into()),
            result: Some(r),
            human_result: None,
        }
    }

    fn spf(d: &str, r: ReportedSpfResult) -> SpfAuthResult {
        SpfAuthResult {
            domain: d.into(),
            scope: None,
            result: Some(r),
            human_result: None,
        }
    }

    #[test]
    fn auth_text_is_canonical_and_evidence_follows_the_domains() {
        // Same results in another order, one repeated: the same text (the merge key).
        let a = auth_text(
            "example.com",
            &[
                dkim("example.com", "s1", DkimResult::Pass),
                dkim("esp.example", "k", DkimResult::Pass),
            ],
            &[spf("bounce.esp.example", ReportedSpfResult::Pass)],
        );
        let b = auth_text(
            "example.com",
            &[
                dkim("esp.example", "k", DkimResult::Pass),
                dkim("example.com", "s1", DkimResult::Pass),
                dkim("esp.example", "k", DkimResult::Pass),
            ],
            &[spf("bounce.esp.example", ReportedSpfResult::Pass)],
        );
        assert_eq!(a, b);
        let text = a.0.unwrap_or_default();
        assert_eq!(kinds(&text).get("dkim"), Some(&2));
        assert_eq!(kinds(&text).get("spf"), Some(&1));
        let e = Evidence::from_bits(a.1);
        assert!(e.dkim_foreign_pass && e.spf_foreign_pass && !e.spf_own_fail);

        // A subdomain of the policy domain is not foreign; its failing SPF check is "own".
        let (_, bits) = auth_text(
            "Example.COM.",
            &[dkim("mail.example.com", "s", DkimResult::Pass)],
            &[spf("news.example.com", ReportedSpfResult::SoftFail)],
        );
        let e = Evidence::from_bits(bits);
        assert!(!e.dkim_foreign_pass && !e.spf_foreign_pass && e.spf_own_fail);
        assert_eq!(auth_text("example.com", &[], &[]), (None, 0));
    }

    #[test]
    fn merge_spreads_and_merges() {
        let f = |ip: &str, count| Facts {
            ip: ip.into(),
            count,
            disposition: Some("none".into()),
            dkim_pass: true,
            spf_pass: false,
            reverse_name: None,
            auth: None,
            evidence: 1,
        };
        // One day (2024-01-01 00:00 .. 23:59:59): two records of one address merge.
        let rows = merge(
            1_704_067_200,
            1_704_153_599,
            &[f("192.0.2.1", 3), f("192.0.2.1", 4), f("192.0.2.2", 1)],
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0.ip, "192.0.2.1");
        assert_eq!(rows[0].2, 7);
        assert_eq!(rows[0].1, 1);
        assert_eq!(rows[0].0.day, 19_723);
    }
}
