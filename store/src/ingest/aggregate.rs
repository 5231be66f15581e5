//! Storing one DMARC aggregate report: inserted under its identity, or decided a duplicate
//! or a more complete replacement of the stored copy, with its records, defects, daily
//! rollup rows and deliveries.

use std::collections::BTreeSet;

use mailward_reports::{AggregateReport, ParsedReport, ReportIdentity, reporter_label};
use serde::Serialize;

use super::{
    Completeness, Deliveries, Kept, KeptOnce, Provenance, ReportOutcome, ReportStatus,
    content_defects,
};
use crate::db::{ColumnType, Conn, Param, Table, to_bigint};
use crate::enrich;
use crate::error::Error;
use crate::rollup::{self, Facts};
use crate::spread;

fn json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Stores one report in its own transaction.
pub(crate) async fn store_report(
    conn: &mut Conn,
    parsed: &ParsedReport,
    from: &Provenance<'_>,
) -> Result<ReportOutcome, Error> {
    conn.begin().await?;
    let result = store_report_tx(conn, parsed, from).await;
    let status = conn.commit_or_rollback(result).await?;
    Ok(ReportOutcome {
        identity: ReportIdentity::of(&parsed.report),
        status,
    })
}

async fn store_report_tx(
    conn: &mut Conn,
    parsed: &ParsedReport,
    from: &Provenance<'_>,
) -> Result<ReportStatus, Error> {
    let report = &parsed.report;
    let id = ReportIdentity::of(report);
    let columns = ReportColumns::of(parsed);
    let mut params = vec![
        Param::from(&id.org_name),
        Param::from(&id.email),
        Param::from(&id.report_id),
        Param::from(&id.policy_domain),
        Param::int(to_bigint(id.begin)),
        Param::int(to_bigint(id.end)),
    ];
    params.extend(columns.params());
    // The UTC days the period's messages are spread over (a contiguous range).
    let days = spread::days_of(id.begin, id.end);
    let (first_day, last_day) = (
        days.first().map_or(0, |d| d.0),
        days.last().map_or(0, |d| d.0),
    );
    params.extend(from.params());
    params.extend([Param::int(first_day), Param::int(last_day)]);
    let candidate = Completeness {
        counts: &[columns.record_count],
        defects: columns.defect_count,
    };
    let pk = match REPORTS
        .insert_or_compare(conn, &params, candidate, from)
        .await?
    {
        Kept::New(pk) => {
            insert_children(conn, pk, parsed).await?;
            return Ok(ReportStatus::Stored);
        }
        Kept::Duplicate => return Ok(ReportStatus::Duplicate),
        Kept::Replacing(pk) => pk,
    };
    // The stored copy has the same identity, so the same domain and days.
    let own_rows = [
        Param::from(&id.policy_domain),
        Param::int(first_day),
        Param::int(last_day),
        Param::int(pk),
    ];
    rollup::subtract(conn, rollup::Taken::Report, &own_rows).await?;
    conn.execute(
        "DELETE FROM daily WHERE domain = $1 AND day >= $2 AND day <= $3 AND report = $4",
        &own_rows,
    )
    .await?;
    REPORTS.update(conn, pk, columns.params(), from).await?;
    insert_children(conn, pk, parsed).await?;
    // The enrichment pass discovers new addresses from reports it has not scanned yet; a
    // replaced report keeps its id, so its addresses are queued here.
    queue_addresses(conn, parsed).await?;
    Ok(ReportStatus::Replaced)
}

/// Aggregate reports, kept once per [`ReportIdentity`].
const REPORTS: KeptOnce = KeptOnce {
    insert: "INSERT INTO reports (org_name, email, report_id, policy_domain, date_begin, date_end,
            schema_name, version, extra_contact_info, generator, errors, extension,
            p, sp, np, adkim, aspf, pct, fo, testing, discovery_method,
            record_count, message_count, defect_count, deliveries,
            source, container, message_id, content_hash, ingested_at, first_day, last_day)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, $21, $22, $23, $24, 1, $25, $26, $27, $28, $29, $30, $31)
         ON CONFLICT (org_name, email, report_id, policy_domain, date_begin, date_end)
         DO NOTHING RETURNING id",
    identity: 6,
    #[cfg(feature = "sqlite")]
    select_stored: "SELECT id, record_count, defect_count FROM reports
         WHERE org_name = $1 AND email = $2 AND report_id = $3 AND policy_domain = $4
           AND date_begin = $5 AND date_end = $6",
    #[cfg(feature = "postgres")]
    select_stored_for_update: "SELECT id, record_count, defect_count FROM reports
         WHERE org_name = $1 AND email = $2 AND report_id = $3 AND policy_domain = $4
           AND date_begin = $5 AND date_end = $6 FOR UPDATE",
    children: &[
        "DELETE FROM records WHERE report = $1",
        "DELETE FROM defects WHERE report = $1",
    ],
    update: "UPDATE reports SET schema_name = $1, version = $2, extra_contact_info = $3,
            generator = $4, errors = $5, extension = $6, p = $7, sp = $8, np = $9, adkim = $10,
            aspf = $11, pct = $12, fo = $13, testing = $14, discovery_method = $15,
            record_count = $16, message_count = $17, defect_count = $18, source = $19,
            container = $20, message_id = $21, content_hash = $22, ingested_at = $23
         WHERE id = $24",
    deliveries: Deliveries {
        insert: "INSERT INTO deliveries (report, content_hash, source, container, message_id,
                ingested_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report, content_hash) DO NOTHING",
        count: "UPDATE reports SET deliveries = deliveries + 1 WHERE id = $1",
    },
};

/// The report columns other than identity and provenance, serialised once.
struct ReportColumns<'a> {
    report: &'a AggregateReport,
    schema: String,
    errors: Option<String>,
    extension: Option<String>,
    record_count: i64,
    message_count: i64,
    defect_count: i64,
    tokens: [Option<String>; 8],
}

impl<'a> ReportColumns<'a> {
    fn of(parsed: &'a ParsedReport) -> Self {
        let r = &parsed.report;
        let m = &r.report_metadata;
        let pp = &r.policy_published;
        let tok = |v: Option<&dyn std::fmt::Display>| v.map(ToString::to_string);
        Self {
            report: r,
            schema: json(&r.schema)
                .map(|s| s.trim_matches('"').to_owned())
                .unwrap_or_default(),
            errors: (!m.errors.is_empty()).then(|| json(&m.errors)).flatten(),
            extension: r.extension.as_ref().and_then(json),
            record_count: to_bigint(r.records.len()),
            message_count: to_bigint(r.message_count()),
            defect_count: to_bigint(content_defects(&parsed.defects)),
            tokens: [
                tok(pp.p.as_ref().map(|v| v as _)),
                tok(pp.sp.as_ref().map(|v| v as _)),
                tok(pp.np.as_ref().map(|v| v as _)),
                tok(pp.adkim.as_ref().map(|v| v as _)),
                tok(pp.aspf.as_ref().map(|v| v as _)),
                pp.fo.clone(),
                tok(pp.testing.as_ref().map(|v| v as _)),
                tok(pp.discovery_method.as_ref().map(|v| v as _)),
            ],
        }
    }

    /// schema_name … defect_count, 18 parameters.
    fn params(&self) -> Vec<Param<'_>> {
        let m = &self.report.report_metadata;
        let [p, sp, np, adkim, aspf, fo, testing, discovery] = &self.tokens;
        vec![
            Param::from(&self.schema),
            Param::from(self.report.version.as_deref()),
            Param::from(m.extra_contact_info.as_deref()),
            Param::from(m.generator.as_deref()),
            Param::from(self.errors.as_deref()),
            Param::from(self.extension.as_deref()),
            Param::from(p.as_deref()),
            Param::from(sp.as_deref()),
            Param::from(np.as_deref()),
            Param::from(adkim.as_deref()),
            Param::from(aspf.as_deref()),
            Param::Int(self.report.policy_published.pct.map(i64::from)),
            Param::from(fo.as_deref()),
            Param::from(testing.as_deref()),
            Param::from(discovery.as_deref()),
            Param::int(self.record_count),
            Param::int(self.message_count),
            Param::int(self.defect_count),
        ]
    }
}

const RECORDS: Table = Table {
    name: "records",
    columns: &[
        ("report", ColumnType::Int),
        ("ordinal", ColumnType::Int),
        ("source_ip", ColumnType::Text),
        ("count", ColumnType::Int),
        ("disposition", ColumnType::Text),
        ("dkim", ColumnType::Text),
        ("spf", ColumnType::Text),
        ("reasons", ColumnType::Text),
        ("header_from", ColumnType::Text),
        ("envelope_from", ColumnType::Text),
        ("envelope_to", ColumnType::Text),
        ("reverse_name", ColumnType::Text),
        ("extensions", ColumnType::Text),
        ("dkim_results", ColumnType::Text),
        ("spf_results", ColumnType::Text),
    ],
    on_conflict: "",
};

const DEFECTS: Table = Table {
    name: "defects",
    columns: &[
        ("report", ColumnType::Int),
        ("seq", ColumnType::Int),
        ("kind", ColumnType::Text),
        ("path", ColumnType::Text),
        ("value", ColumnType::Text),
    ],
    on_conflict: "",
};

/// Text forms of a record that the rows borrow.
struct RecordText {
    ip: String,
    disposition: Option<String>,
    dkim: Option<String>,
    spf: Option<String>,
    reasons: Option<String>,
    extensions: Option<String>,
    dkim_results: Option<String>,
    spf_results: Option<String>,
}

async fn insert_children(conn: &mut Conn, pk: i64, parsed: &ParsedReport) -> Result<(), Error> {
    let report = &parsed.report;
    let texts: Vec<RecordText> = report
        .records
        .iter()
        .map(|r| {
            let pe = &r.row.policy_evaluated;
            RecordText {
                ip: r.row.source_ip.to_string(),
                disposition: pe.disposition.as_ref().map(ToString::to_string),
                dkim: pe.dkim.as_ref().map(ToString::to_string),
                spf: pe.spf.as_ref().map(ToString::to_string),
                reasons: (!pe.reasons.is_empty())
                    .then(|| json(&pe.reasons))
                    .flatten(),
                extensions: (!r.extensions.is_empty())
                    .then(|| json(&r.extensions))
                    .flatten(),
                dkim_results: (!r.auth_results.dkim.is_empty())
                    .then(|| json(&r.auth_results.dkim))
                    .flatten(),
                spf_results: (!r.auth_results.spf.is_empty())
                    .then(|| json(&r.auth_results.spf))
                    .flatten(),
            }
        })
        .collect();
    let mut records = Vec::with_capacity(report.records.len());
    for (i, (r, t)) in report.records.iter().zip(&texts).enumerate() {
        records.push(vec![
            Param::int(pk),
            Param::int(to_bigint(i)),
            Param::from(&t.ip),
            Param::int(to_bigint(r.row.count)),
            Param::from(t.disposition.as_deref()),
            Param::from(t.dkim.as_deref()),
            Param::from(t.spf.as_deref()),
            Param::from(t.reasons.as_deref()),
            Param::from(&r.identifiers.header_from),
            Param::from(r.identifiers.envelope_from.as_deref()),
            Param::from(r.identifiers.envelope_to.as_deref()),
            Param::from(r.reported_reverse_name()),
            Param::from(t.extensions.as_deref()),
            Param::from(t.dkim_results.as_deref()),
            Param::from(t.spf_results.as_deref()),
        ]);
    }
    conn.insert_rows(&RECORDS, &records).await?;

    let defect_kinds: Vec<String> = parsed
        .defects
        .iter()
        .map(|d| {
            json(&d.kind)
                .map(|s| s.trim_matches('"').to_owned())
                .unwrap_or_default()
        })
        .collect();
    let defects: Vec<Vec<Param<'_>>> = parsed
        .defects
        .iter()
        .zip(&defect_kinds)
        .enumerate()
        .map(|(seq, (d, kind))| {
            vec![
                Param::int(pk),
                Param::int(to_bigint(seq)),
                Param::from(kind),
                Param::from(&d.path),
                Param::from(d.value.as_deref()),
            ]
        })
        .collect();
    conn.insert_rows(&DEFECTS, &defects).await?;

    // The daily rollup and its sums.
    let domain = mailward_reports::policy_domain(report);
    let org = reporter_label(&report.report_metadata.org_name);
    let range = &report.report_metadata.date_range;
    let facts: Vec<Facts> = report
        .records
        .iter()
        .map(|r| Facts::of_record(&domain, r))
        .collect();
    rollup::write(
        conn,
        pk,
        (&domain, &org),
        (range.begin, range.end),
        &facts,
        true,
    )
    .await?;
    Ok(())
}

/// Queues a report's source addresses for reverse lookup.
async fn queue_addresses(conn: &mut Conn, parsed: &ParsedReport) -> Result<(), Error> {
    let distinct: BTreeSet<String> = parsed
        .report
        .records
        .iter()
        .map(|r| r.row.source_ip.to_string())
        .collect();
    enrich::queue(conn, &distinct).await.map(|_| ())
}
