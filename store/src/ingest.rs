//! Ingest: one input (a file, one message) in, every aggregate report and SMTP TLS report
//! inside it stored once.
//!
//! An input is read outside any transaction, then each report it carries is written in a
//! transaction of its own, so a run killed at any point leaves whole reports only, and
//! running it again stores the rest: reading the same bytes again adds nothing but is
//! reported as duplicates.
//!
//! What an input turns out to be:
//! - **reports**: each is stored, a duplicate (its identity is stored already, see
//!   [`ReportIdentity`]), or a replacement (a more complete copy of a stored report: more
//!   records, or as many with fewer defects). SMTP TLS reports (RFC 8460) are kept the same
//!   way, identified by (`organization-name`, `report-id`) and summed by
//!   [`Store::tls_summary`](crate::Store::tls_summary);
//! - **skipped**: not a report at all: an empty file, a text or HTML file, JSON that is not a
//!   report, an e-mail (bounce, newsletter, auto-reply) or archive without a report part, an
//!   ARF failure report (this store keeps aggregate and TLS reports). Nothing is stored;
//! - **rejected**: a report that cannot be read: a broken archive, a refused DTD, a limit, a
//!   report without its required elements. The rejection is stored with its reason, its
//!   source and the input itself, so it can be read again after a fix
//!   ([`Store::retry_rejections`](crate::Store::retry_rejections)).

use std::collections::BTreeSet;
use std::io::Write as _;

use mailward_reports::tls::ParsedTlsReport;
use mailward_reports::{
    AggregateReport, DefectKind, Error as ReportError, Format, Limits, ParsedReport,
    ReportIdentity, reporter_label,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Col, Conn, P, Table};
use crate::error::Error;
use crate::rollup::{self, Facts};
use crate::spread;

/// How inputs are ingested.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IngestOptions {
    /// Keep every input verbatim (gzip-compressed) beside the reports it carried.
    pub keep_raw: bool,
    /// Limits for reading reports (hostile input).
    pub limits: Limits,
}

impl IngestOptions {
    /// Default limits, raw inputs not kept.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`keep_raw`](Self::keep_raw).
    #[must_use]
    pub fn keep_raw(mut self, keep: bool) -> Self {
        self.keep_raw = keep;
        self
    }
}

/// What one input turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputOutcome {
    /// Where the input came from, as given.
    pub source: String,
    /// The `Message-ID` of an e-mail input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// What was done with it.
    pub kind: InputKind,
}

/// What was done with an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum InputKind {
    /// It carried reports; each one's fate.
    Reports {
        /// One entry per aggregate report, in input order.
        reports: Vec<ReportOutcome>,
        /// One entry per SMTP TLS report, in input order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tls: Vec<TlsReportOutcome>,
    },
    /// Not a report; nothing stored.
    Skipped {
        /// Why it is not a report.
        reason: String,
    },
    /// A report that cannot be read; the rejection is stored.
    Rejected {
        /// The error class (`doctype`, `truncated`, `limit:xml_depth`, …).
        class: String,
        /// What is wrong.
        reason: String,
    },
}

/// One report's fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportOutcome {
    /// The report.
    pub identity: ReportIdentity,
    /// Stored, duplicate or replacement.
    pub status: ReportStatus,
}

/// One SMTP TLS report's fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsReportOutcome {
    /// `organization-name`.
    pub organization_name: String,
    /// `report-id`.
    pub report_id: String,
    /// The Policy Domain ([`TlsReport::policy_domain`](mailward_reports::tls::TlsReport::policy_domain)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_domain: Option<String>,
    /// Stored, duplicate or replacement.
    pub status: ReportStatus,
}

/// Whether a report was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReportStatus {
    /// New: stored.
    Stored,
    /// Already stored (a second delivery, or the same input read again).
    Duplicate,
    /// A more complete copy of a stored report, which it replaced.
    Replaced,
}

/// Counts over many inputs, as `mailward report ingest` prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestCounts {
    /// Inputs read.
    pub inputs: u64,
    /// Aggregate reports stored (new or replacing a less complete copy).
    pub stored: u64,
    /// Aggregate reports already stored.
    pub duplicates: u64,
    /// SMTP TLS reports stored (new or replacing a less complete copy).
    pub tls_stored: u64,
    /// SMTP TLS reports already stored.
    pub tls_duplicates: u64,
    /// Inputs that were not reports.
    pub skipped: u64,
    /// Inputs rejected.
    pub rejected: u64,
}

impl IngestCounts {
    /// Adds one input's outcome.
    pub fn add(&mut self, outcome: &InputOutcome) {
        self.inputs += 1;
        match &outcome.kind {
            InputKind::Reports { reports, tls } => {
                for r in reports {
                    match r.status {
                        ReportStatus::Stored | ReportStatus::Replaced => self.stored += 1,
                        ReportStatus::Duplicate => self.duplicates += 1,
                    }
                }
                for r in tls {
                    match r.status {
                        ReportStatus::Stored | ReportStatus::Replaced => self.tls_stored += 1,
                        ReportStatus::Duplicate => self.tls_duplicates += 1,
                    }
                }
            }
            InputKind::Skipped { .. } => self.skipped += 1,
            InputKind::Rejected { .. } => self.rejected += 1,
        }
    }
}

/// Where an input came from, as stored with each report and rejection.
#[derive(Debug, Clone)]
pub(crate) struct Provenance<'a> {
    pub(crate) source: &'a str,
    pub(crate) container: &'static str,
    pub(crate) message_id: Option<&'a str>,
    pub(crate) content_hash: &'a str,
    pub(crate) now: i64,
}

/// The SHA-256 of an input, in hex: what makes two inputs the same input.
pub(crate) fn content_hash(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Longest header block searched for a `Message-ID` (RFC 5322 puts no bound; real header
/// blocks are a few KB, long Received chains a few tens).
const MAX_HEADER_SCAN: usize = 256 * 1024;

/// The `Message-ID` of an RFC 5322 message, without its angle brackets (RFC 5322 §3.6.4),
/// read from the raw header block (folded lines unfolded).
pub(crate) fn message_id(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(MAX_HEADER_SCAN))?;
    let mut lines = head.split(|&b| b == b'\n').peekable();
    // An mbox "From " line may precede the header block.
    if lines.peek().is_some_and(|l| l.starts_with(b"From ")) {
        lines.next();
    }
    let mut value: Option<Vec<u8>> = None;
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let folded = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        match (&mut value, folded) {
            (Some(v), true) => v.extend_from_slice(line),
            (Some(_), false) => break,
            (None, false) => {
                let Some(colon) = line.iter().position(|&b| b == b':') else {
                    continue;
                };
                let (name, rest) = line.split_at(colon);
                if name.trim_ascii().eq_ignore_ascii_case(b"message-id") {
                    value = Some(rest.get(1..).unwrap_or_default().to_vec());
                }
            }
            (None, true) => {}
        }
    }
    let v = String::from_utf8_lossy(&value?).trim().to_owned();
    let v = v.trim_start_matches('<').trim_end_matches('>').trim();
    (!v.is_empty()).then(|| v.chars().take(998).collect())
}

/// What an input is, decided without a store (see [`classify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Read {
    /// It carries these reports (at least one).
    Reports(Found),
    /// Not a report; why.
    Skipped(String),
    /// A report that cannot be read: the error class and the reason.
    Rejected(String, String),
}

/// The reports an input carries, of the kinds the store keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Found {
    /// DMARC aggregate reports.
    pub aggregate: Vec<ParsedReport>,
    /// SMTP TLS reports (RFC 8460).
    pub tls: Vec<ParsedTlsReport>,
}

impl Found {
    /// How many reports there are.
    pub fn len(&self) -> usize {
        self.aggregate.len() + self.tls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An input classified as ingest would: its container, its `Message-ID` (e-mail) and what it
/// carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Classified {
    /// `xml`, `gzip`, `zip`, `email`, `json` or `other`.
    pub container: &'static str,
    /// The `Message-ID` of an e-mail, without angle brackets.
    pub message_id: Option<String>,
    /// Its reports, or why it has none.
    pub read: Read,
}

/// Decides what ingest would do with `bytes`, without a store: the same reading, the same
/// "not a report" and "rejected" classes. Never panics, whatever the input.
pub fn classify(bytes: &[u8], limits: &Limits) -> Classified {
    let (read, container) = read(bytes, limits);
    let message_id = if container == "email" {
        message_id(bytes)
    } else {
        None
    };
    Classified {
        container,
        message_id,
        read,
    }
}

/// Reads an input as aggregate and TLS reports (no I/O).
pub(crate) fn read(bytes: &[u8], limits: &Limits) -> (Read, &'static str) {
    let format = mailward_reports::detect_format(bytes);
    let container = match format {
        Ok(Format::Xml) => "xml",
        Ok(Format::Gzip) => "gzip",
        Ok(Format::Zip) => "zip",
        Ok(Format::Email) => "email",
        Ok(Format::Json) => "json",
        Ok(_) | Err(_) => "other",
    };
    let read = match mailward_reports::read_with(bytes, limits) {
        Ok(found) if !found.aggregate.is_empty() || !found.tls.is_empty() => Read::Reports(Found {
            aggregate: found.aggregate,
            tls: found.tls,
        }),
        Ok(_) => {
            Read::Skipped("a failure report; the store keeps aggregate and TLS reports".into())
        }
        // Not a TLS report the reader could read: JSON as this workspace writes aggregate
        // reports, else a TLS report broken beyond the reader's leniency (a missing
        // `report-id`, a negative count, a limit), rejected like any other broken report. JSON
        // that does not parse at all says nothing about what it was meant to be: skipped.
        Err(e) if container == "json" => match read_json(bytes, limits) {
            Read::Skipped(reason) if matches!(e, ReportError::Json { .. }) => Read::Skipped(reason),
            Read::Skipped(reason) => match classify_error(&e) {
                Read::Skipped(_) => Read::Skipped(reason),
                rejected => rejected,
            },
            other => other,
        },
        Err(e) => classify_error(&e),
    };
    (read, container)
}

fn classify_error(e: &ReportError) -> Read {
    match e {
        ReportError::Empty
        | ReportError::UnknownFormat(_)
        | ReportError::NotAReport { .. }
        | ReportError::NoReport(_) => Read::Skipped(format!("not a report: {e}")),
        // A failure notice without the facts to read: the store does not keep failure reports.
        ReportError::NotArf(_) => Read::Skipped(format!("a failure notice: {e}")),
        _ => Read::Rejected(e.kind(), with_causes(e)),
    }
}

/// An error and each error it wraps, once each (`ours: the library's`): the reader keeps a
/// library's error as its source rather than in its own message.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// JSON inputs: a report as this workspace serialises it (`AggregateReport`, a
/// `ParsedReport`, a list of either, or the output of `mailward report parse --json`).
fn read_json(bytes: &[u8], limits: &Limits) -> Read {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Doc {
        Parsed(ParsedReport),
        Report(AggregateReport),
        Many(Vec<Self>),
        File { reports: Vec<ParsedReport> },
    }
    fn flatten(doc: Doc, out: &mut Vec<ParsedReport>) {
        match doc {
            Doc::Parsed(p) => out.push(p),
            Doc::Report(report) => out.push(ParsedReport {
                report,
                defects: Vec::new(),
                source: String::new(),
            }),
            Doc::Many(docs) => docs.into_iter().for_each(|d| flatten(d, out)),
            Doc::File { reports } => out.extend(reports),
        }
    }
    match serde_json::from_slice::<Doc>(bytes) {
        Ok(doc) => {
            let mut out = Vec::new();
            flatten(doc, &mut out);
            if out.is_empty() {
                return Read::Skipped("not a report: JSON without aggregate reports".into());
            }
            // The XML reader's record limit holds for JSON too (its size is bounded by the
            // input limit already).
            if out
                .iter()
                .any(|p| p.report.records.len() > limits.max_records)
            {
                let e = ReportError::Limit(mailward_reports::Limit::Records);
                return Read::Rejected(e.kind(), e.to_string());
            }
            Read::Reports(Found {
                aggregate: out,
                tls: Vec::new(),
            })
        }
        Err(_) => Read::Skipped("not a report: JSON that is not an aggregate report".into()),
    }
}

/// Defects that say something about the report's content. A skipped e-mail part or archive
/// entry says something about the container, which differs between copies of one report.
fn content_defects(parsed: &ParsedReport) -> usize {
    parsed
        .defects
        .iter()
        .filter(|d| d.kind != DefectKind::SkippedPart)
        .count()
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn usize_i64(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

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
    match store_report_tx(conn, parsed, from).await {
        Ok(status) => {
            conn.commit().await?;
            Ok(ReportOutcome {
                identity: ReportIdentity::of(&parsed.report),
                status,
            })
        }
        Err(e) => {
            let _ = conn.rollback().await;
            Err(e)
        }
    }
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
        P::from(&id.org_name),
        P::from(&id.email),
        P::from(&id.report_id),
        P::from(&id.policy_domain),
        P::int(to_i64(id.begin)),
        P::int(to_i64(id.end)),
    ];
    params.extend(columns.params());
    // The UTC days the period's messages are spread over (a contiguous range).
    let days = spread::days_of(id.begin, id.end);
    let (first_day, last_day) = (
        days.first().map_or(0, |d| d.0),
        days.last().map_or(0, |d| d.0),
    );
    params.extend([
        P::from(from.source),
        P::from(from.container),
        P::from(from.message_id),
        P::from(from.content_hash),
        P::int(from.now),
        P::int(first_day),
        P::int(last_day),
    ]);
    let inserted = conn
        .int_opt(
            "INSERT INTO reports (org_name, email, report_id, policy_domain, date_begin, date_end,
                schema_name, version, extra_contact_info, generator, errors, extension,
                p, sp, np, adkim, aspf, pct, fo, testing, discovery_method,
                record_count, message_count, defect_count, deliveries,
                source, container, message_id, content_hash, ingested_at, first_day, last_day)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19, $20, $21, $22, $23, $24, 1, $25, $26, $27, $28, $29, $30, $31)
             ON CONFLICT (org_name, email, report_id, policy_domain, date_begin, date_end)
             DO NOTHING RETURNING id",
            &params,
        )
        .await?;
    if let Some(pk) = inserted {
        insert_children(conn, pk, parsed).await?;
        insert_delivery(conn, pk, from).await?;
        return Ok(ReportStatus::Stored);
    }
    // The identity is stored: by an earlier input, or by another worker that committed
    // while this insert waited on the unique constraint.
    let select = match conn.dialect() {
        #[cfg(feature = "sqlite")]
        crate::db::Dialect::Sqlite => SELECT_STORED,
        #[cfg(feature = "postgres")]
        crate::db::Dialect::Postgres => SELECT_STORED_FOR_UPDATE,
    };
    let stored = conn
        .collect(select, params.get(..6).unwrap_or_default(), |row| {
            Ok((row.req_int(0)?, row.req_int(1)?, row.req_int(2)?))
        })
        .await?;
    let Some(&(pk, records, defects)) = stored.first() else {
        return Err(Error::Corrupt("a conflicting report vanished"));
    };
    let candidate = (
        usize_i64(report.records.len()),
        usize_i64(content_defects(parsed)),
    );
    let more_complete = candidate.0 > records || (candidate.0 == records && candidate.1 < defects);
    if !more_complete {
        if insert_delivery(conn, pk, from).await? {
            conn.execute(
                "UPDATE reports SET deliveries = deliveries + 1 WHERE id = $1",
                &[P::int(pk)],
            )
            .await?;
        }
        return Ok(ReportStatus::Duplicate);
    }
    for sql in [
        "DELETE FROM records WHERE report = $1",
        "DELETE FROM defects WHERE report = $1",
    ] {
        conn.execute(sql, &[P::int(pk)]).await?;
    }
    // The stored copy has the same identity, so the same domain and days.
    let own_rows = [
        P::from(&id.policy_domain),
        P::int(first_day),
        P::int(last_day),
        P::int(pk),
    ];
    rollup::subtract(conn, rollup::Taken::Report, &own_rows).await?;
    conn.execute(
        "DELETE FROM daily WHERE domain = $1 AND day >= $2 AND day <= $3 AND report = $4",
        &own_rows,
    )
    .await?;
    let mut update = columns.params();
    update.extend([
        P::from(from.source),
        P::from(from.container),
        P::from(from.message_id),
        P::from(from.content_hash),
        P::int(from.now),
        P::int(pk),
    ]);
    conn.execute(
        "UPDATE reports SET schema_name = $1, version = $2, extra_contact_info = $3,
            generator = $4, errors = $5, extension = $6, p = $7, sp = $8, np = $9, adkim = $10,
            aspf = $11, pct = $12, fo = $13, testing = $14, discovery_method = $15,
            record_count = $16, message_count = $17, defect_count = $18, source = $19,
            container = $20, message_id = $21, content_hash = $22, ingested_at = $23
         WHERE id = $24",
        &update,
    )
    .await?;
    insert_children(conn, pk, parsed).await?;
    // The enrichment pass discovers new addresses from reports it has not scanned yet; a
    // replaced report keeps its id, so its addresses are queued here.
    queue_addresses(conn, parsed).await?;
    if insert_delivery(conn, pk, from).await? {
        conn.execute(
            "UPDATE reports SET deliveries = deliveries + 1 WHERE id = $1",
            &[P::int(pk)],
        )
        .await?;
    }
    Ok(ReportStatus::Replaced)
}

#[cfg(feature = "sqlite")]
const SELECT_STORED: &str = "SELECT id, record_count, defect_count FROM reports
     WHERE org_name = $1 AND email = $2 AND report_id = $3 AND policy_domain = $4
       AND date_begin = $5 AND date_end = $6";
#[cfg(feature = "postgres")]
const SELECT_STORED_FOR_UPDATE: &str = "SELECT id, record_count, defect_count FROM reports
     WHERE org_name = $1 AND email = $2 AND report_id = $3 AND policy_domain = $4
       AND date_begin = $5 AND date_end = $6 FOR UPDATE";

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
            record_count: usize_i64(r.records.len()),
            message_count: to_i64(r.message_count()),
            defect_count: usize_i64(content_defects(parsed)),
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
    fn params(&self) -> Vec<P<'_>> {
        let m = &self.report.report_metadata;
        let [p, sp, np, adkim, aspf, fo, testing, discovery] = &self.tokens;
        vec![
            P::from(&self.schema),
            P::from(self.report.version.as_deref()),
            P::from(m.extra_contact_info.as_deref()),
            P::from(m.generator.as_deref()),
            P::from(self.errors.as_deref()),
            P::from(self.extension.as_deref()),
            P::from(p.as_deref()),
            P::from(sp.as_deref()),
            P::from(np.as_deref()),
            P::from(adkim.as_deref()),
            P::from(aspf.as_deref()),
            P::Int(self.report.policy_published.pct.map(i64::from)),
            P::from(fo.as_deref()),
            P::from(testing.as_deref()),
            P::from(discovery.as_deref()),
            P::int(self.record_count),
            P::int(self.message_count),
            P::int(self.defect_count),
        ]
    }
}

const RECORDS: Table = Table {
    name: "records",
    columns: &[
        ("report", Col::Int),
        ("ordinal", Col::Int),
        ("source_ip", Col::Text),
        ("count", Col::Int),
        ("disposition", Col::Text),
        ("dkim", Col::Text),
        ("spf", Col::Text),
        ("reasons", Col::Text),
        ("header_from", Col::Text),
        ("envelope_from", Col::Text),
        ("envelope_to", Col::Text),
        ("reverse_name", Col::Text),
        ("extensions", Col::Text),
        ("dkim_results", Col::Text),
        ("spf_results", Col::Text),
    ],
    on_conflict: "",
};

const DEFECTS: Table = Table {
    name: "defects",
    columns: &[
        ("report", Col::Int),
        ("seq", Col::Int),
        ("kind", Col::Text),
        ("path", Col::Text),
        ("value", Col::Text),
    ],
    on_conflict: "",
};

pub(crate) const SOURCE_IPS: Table = Table {
    name: "source_ips",
    columns: &[
        ("ip", Col::Text),
        ("status", Col::Text),
        ("resolved_at", Col::Int),
        ("expires_at", Col::Int),
    ],
    on_conflict: " ON CONFLICT (ip) DO NOTHING",
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
            P::int(pk),
            P::int(usize_i64(i)),
            P::from(&t.ip),
            P::int(to_i64(r.row.count)),
            P::from(t.disposition.as_deref()),
            P::from(t.dkim.as_deref()),
            P::from(t.spf.as_deref()),
            P::from(t.reasons.as_deref()),
            P::from(&r.identifiers.header_from),
            P::from(r.identifiers.envelope_from.as_deref()),
            P::from(r.identifiers.envelope_to.as_deref()),
            P::from(r.reported_reverse_name()),
            P::from(t.extensions.as_deref()),
            P::from(t.dkim_results.as_deref()),
            P::from(t.spf_results.as_deref()),
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
    let defects: Vec<Vec<P<'_>>> = parsed
        .defects
        .iter()
        .zip(&defect_kinds)
        .enumerate()
        .map(|(seq, (d, kind))| {
            vec![
                P::int(pk),
                P::int(usize_i64(seq)),
                P::from(kind),
                P::from(&d.path),
                P::from(d.value.as_deref()),
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
    let rows: Vec<Vec<P<'_>>> = distinct
        .iter()
        .map(|ip| vec![P::from(ip), P::from("pending"), P::int(0), P::int(0)])
        .collect();
    conn.insert_rows(&SOURCE_IPS, &rows).await.map(|_| ())
}

/// Records that `from` carried report `pk`; `false` when these bytes already did.
async fn insert_delivery(conn: &mut Conn, pk: i64, from: &Provenance<'_>) -> Result<bool, Error> {
    let n = conn
        .execute(
            "INSERT INTO deliveries (report, content_hash, source, container, message_id, ingested_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report, content_hash) DO NOTHING",
            &[
                P::int(pk),
                P::from(from.content_hash),
                P::from(from.source),
                P::from(from.container),
                P::from(from.message_id),
                P::int(from.now),
            ],
        )
        .await?;
    Ok(n > 0)
}

/// Keeps an input verbatim, gzip-compressed, once per content.
pub(crate) async fn keep_raw(conn: &mut Conn, hash: &str, bytes: &[u8]) -> Result<(), Error> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes)
        .and_then(|()| gz.try_finish())
        .map_err(|e| Error::Io {
            what: "cannot compress a raw input".into(),
            source: e,
        })?;
    let compressed = gz.get_ref();
    conn.execute(
        "INSERT INTO raw_inputs (content_hash, bytes) VALUES ($1, $2)
         ON CONFLICT (content_hash) DO NOTHING",
        &[P::from(hash), P::Blob(compressed)],
    )
    .await?;
    Ok(())
}

/// Stores (or refreshes) a rejection with the input itself.
pub(crate) async fn store_rejection(
    conn: &mut Conn,
    from: &Provenance<'_>,
    class: &str,
    reason: &str,
    bytes: &[u8],
) -> Result<(), Error> {
    conn.begin().await?;
    let result = async {
        keep_raw(conn, from.content_hash, bytes).await?;
        conn.execute(
            "INSERT INTO rejections (content_hash, source, message_id, kind, reason, first_seen, last_seen)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (content_hash) DO UPDATE SET kind = excluded.kind,
                reason = excluded.reason, last_seen = excluded.last_seen",
            &[
                P::from(from.content_hash),
                P::from(from.source),
                P::from(from.message_id),
                P::from(class),
                P::from(reason),
                P::int(from.now),
            ],
        )
        .await
    }
    .await;
    match result {
        Ok(_) => conn.commit().await,
        Err(e) => {
            let _ = conn.rollback().await;
            Err(e)
        }
    }
}

/// Forgets a rejection whose input has now been read (after a fix).
pub(crate) async fn clear_rejection(conn: &mut Conn, hash: &str, keep: bool) -> Result<(), Error> {
    let n = conn
        .execute(
            "DELETE FROM rejections WHERE content_hash = $1",
            &[P::from(hash)],
        )
        .await?;
    if n > 0 && !keep {
        conn.execute(
            "DELETE FROM raw_inputs WHERE content_hash = $1",
            &[P::from(hash)],
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn message_id_from_raw_headers() {
        let m = b"From someone Mon Jan 1\nReceived: x\r\nMessage-ID:\r\n <abc@example.com>\r\nSubject: s\r\n\r\nMessage-ID: <body@x>";
        assert_eq!(message_id(m).as_deref(), Some("abc@example.com"));
        assert_eq!(message_id(b"Subject: s\r\n\r\nMessage-ID: <body@x>"), None);
        assert_eq!(
            message_id(b"message-id : <A@B>\n\n").as_deref(),
            Some("A@B")
        );
    }

    #[test]
    fn content_hash_is_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(
            content_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn what_is_not_a_report() {
        let limits = Limits::default();
        for input in [
            &b""[..],
            b"hello world",
            b"<html><body>hi</body></html>",
            b"{\"organization\": \"x\"}",
            b"[1, 2]",
            b"From: a@example.com\r\nSubject: out of office\r\n\r\nI am away.\r\n",
        ] {
            let (r, _) = read(input, &limits);
            assert!(
                matches!(r, Read::Skipped(_)),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let (r, _) = read(b"<!DOCTYPE feedback><feedback/>", &limits);
        assert!(matches!(r, Read::Rejected(ref k, _) if k == "doctype"));
        // An SMTP TLS report without its report-id cannot be stored: rejected, to be read again
        // after a fix, as a broken aggregate report is.
        let (r, container) = read(br#"{"organization-name": "x", "policies": []}"#, &limits);
        assert_eq!(container, "json");
        assert!(
            matches!(r, Read::Rejected(ref k, _) if k == "missing_element"),
            "{r:?}"
        );
    }

    #[test]
    fn json_reports_obey_the_record_limit() {
        let xml = b"<feedback><report_metadata><org_name>o</org_name><email>e@o</email>\
            <report_id>1</report_id><date_range><begin>0</begin><end>1</end></date_range>\
            </report_metadata><policy_published><domain>example.com</domain><p>none</p>\
            </policy_published><record><row><source_ip>192.0.2.1</source_ip><count>1</count>\
            <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>\
            </policy_evaluated></row><identifiers><header_from>example.com</header_from>\
            </identifiers><auth_results/></record></feedback>";
        let parsed = mailward_reports::parse_xml(xml).unwrap();
        let json = serde_json::to_vec(&parsed).unwrap();
        let (r, container) = read(&json, &Limits::default());
        assert_eq!(container, "json");
        assert!(matches!(r, Read::Reports(ref v) if v.aggregate.len() == 1));
        let strict = Limits {
            max_records: 0,
            ..Limits::default()
        };
        let (r, _) = read(&json, &strict);
        assert!(matches!(r, Read::Rejected(ref k, _) if k == "limit:records"));
    }
}
