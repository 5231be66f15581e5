//! Reading stored reports back: one report whole (the web view's report page), or every
//! record with its report's metadata as CSV or JSON lines (spreadsheets, data warehouses).

use std::io::Write;

use mailward_reports::{DkimAuthResult, SpfAuthResult};
use serde::Serialize;

use crate::Store;
use crate::error::Error;
use crate::query::Filter;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header line. Auth results are joined in one cell
    /// (`domain/selector=result` separated by spaces); a cell that a spreadsheet would read as
    /// a formula (starting with `=`, `+`, `-`, `@`, TAB or CR) gets a leading `'`, because
    /// report content is written by strangers.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// One exported record with its report's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    /// The reporter's `org_name`.
    pub org_name: String,
    /// The reporter's `email`.
    pub email: String,
    /// `report_id`.
    pub report_id: String,
    /// The policy domain.
    pub policy_domain: String,
    /// Period start (Unix time).
    pub begin: i64,
    /// Period end (Unix time).
    pub end: i64,
    /// Published `p`.
    pub p: Option<String>,
    /// The record's source IP.
    pub source_ip: String,
    /// Messages.
    pub count: i64,
    /// Disposition applied.
    pub disposition: Option<String>,
    /// DMARC-aligned DKIM result.
    pub dkim_aligned: Option<String>,
    /// DMARC-aligned SPF result.
    pub spf_aligned: Option<String>,
    /// Policy override reasons (`type` tokens).
    pub reasons: Vec<String>,
    /// `header_from`.
    pub header_from: String,
    /// `envelope_from`.
    pub envelope_from: Option<String>,
    /// `envelope_to`.
    pub envelope_to: Option<String>,
    /// DKIM results.
    pub dkim: Vec<DkimAuthResult>,
    /// SPF results.
    pub spf: Vec<SpfAuthResult>,
}

const CSV_HEADER: &[&str] = &[
    "org_name",
    "email",
    "report_id",
    "policy_domain",
    "begin",
    "end",
    "p",
    "source_ip",
    "count",
    "disposition",
    "dkim_aligned",
    "spf_aligned",
    "reasons",
    "header_from",
    "envelope_from",
    "envelope_to",
    "dkim",
    "spf",
];

impl ExportRow {
    fn csv_cells(&self) -> Vec<String> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let dkim: Vec<String> = self.dkim.iter().map(ToString::to_string).collect();
        let spf: Vec<String> = self.spf.iter().map(ToString::to_string).collect();
        vec![
            self.org_name.clone(),
            self.email.clone(),
            self.report_id.clone(),
            self.policy_domain.clone(),
            self.begin.to_string(),
            self.end.to_string(),
            opt(&self.p),
            self.source_ip.clone(),
            self.count.to_string(),
            opt(&self.disposition),
            opt(&self.dkim_aligned),
            opt(&self.spf_aligned),
            self.reasons.join(" "),
            self.header_from.clone(),
            opt(&self.envelope_from),
            opt(&self.envelope_to),
            dkim.join(" "),
            spf.join(" "),
        ]
        .into_iter()
        .map(defuse)
        .collect()
    }
}

/// Keeps a spreadsheet from reading a cell as a formula (OWASP "CSV injection").
fn defuse(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

impl Store {
    /// Writes every record of the reports in `filter` to `out`, report by report (memory
    /// stays flat in the number of reports). Returns the number of records written.
    ///
    /// # Errors
    ///
    /// Database errors, and [`Error::Io`] when `out` fails.
    pub async fn export(
        &self,
        filter: &Filter,
        format: ExportFormat,
        out: &mut (dyn Write + Send),
    ) -> Result<u64, Error> {
        let io = |e: std::io::Error| Error::Io {
            what: "cannot write the export".into(),
            source: e,
        };
        let ids = crate::query::report_ids(self, filter).await?;
        enum Sink<'a> {
            Csv(Box<csv::Writer<&'a mut (dyn Write + Send)>>),
            Json(&'a mut (dyn Write + Send)),
        }
        let mut sink = match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER).map_err(|e| io(e.into()))?;
                Sink::Csv(Box::new(w))
            }
            ExportFormat::JsonLines => Sink::Json(out),
        };
        let mut written = 0u64;
        let mut conn = self.conn().await?;
        for id in ids {
            let Some(report) = crate::load::load_report(&mut conn, id).await? else {
                continue;
            };
            let m = &report.report_metadata;
            for r in &report.records {
                let pe = &r.row.policy_evaluated;
                let e = ExportRow {
                    org_name: m.org_name.clone(),
                    email: m.email.clone(),
                    report_id: m.report_id.clone(),
                    policy_domain: report.policy_published.domain.clone(),
                    begin: i64::try_from(m.date_range.begin).unwrap_or(i64::MAX),
                    end: i64::try_from(m.date_range.end).unwrap_or(i64::MAX),
                    p: report.policy_published.p.as_ref().map(ToString::to_string),
                    source_ip: r.row.source_ip.to_string(),
                    count: i64::try_from(r.row.count).unwrap_or(i64::MAX),
                    disposition: pe.disposition.as_ref().map(ToString::to_string),
                    dkim_aligned: pe.dkim.as_ref().map(ToString::to_string),
                    spf_aligned: pe.spf.as_ref().map(ToString::to_string),
                    reasons: pe.reasons.iter().map(|x| x.kind.to_string()).collect(),
                    header_from: r.identifiers.header_from.clone(),
                    envelope_from: r.identifiers.envelope_from.clone(),
                    envelope_to: r.identifiers.envelope_to.clone(),
                    dkim: r.auth_results.dkim.clone(),
                    spf: r.auth_results.spf.clone(),
                };
                match &mut sink {
                    Sink::Csv(w) => w.write_record(e.csv_cells()).map_err(|e| io(e.into()))?,
                    Sink::Json(out) => {
                        serde_json::to_writer(&mut **out, &e).map_err(|e| io(e.into()))?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                }
                written += 1;
            }
        }
        match &mut sink {
            Sink::Csv(w) => w.flush().map_err(io)?,
            Sink::Json(out) => out.flush().map_err(io)?,
        }
        Ok(written)
    }
}
