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

mod aggregate;
mod classify;
mod once;

use std::io::Write as _;

use mailward_reports::{Defect, DefectKind, Limits, ReportIdentity};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Conn, Param};
use crate::error::Error;

pub(crate) use self::aggregate::store_report;
pub use self::classify::{Classified, Found, Read, classify};
pub(crate) use self::once::{Completeness, Deliveries, Kept, KeptOnce};

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

impl Provenance<'_> {
    /// The provenance columns of a stored report, in the order its statements list them:
    /// `source`, `container`, `message_id`, `content_hash`, `ingested_at`.
    pub(crate) fn params(&self) -> [Param<'_>; 5] {
        [
            Param::from(self.source),
            Param::from(self.container),
            Param::from(self.message_id),
            Param::from(self.content_hash),
            Param::int(self.now),
        ]
    }
}

/// Defects that say something about a report's content. A skipped e-mail part or archive
/// entry says something about the container, which differs between copies of one report.
pub(crate) fn content_defects(defects: &[Defect]) -> usize {
    defects
        .iter()
        .filter(|d| d.kind != DefectKind::SkippedPart)
        .count()
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
        &[Param::from(hash), Param::Blob(compressed)],
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
                Param::from(from.content_hash),
                Param::from(from.source),
                Param::from(from.message_id),
                Param::from(class),
                Param::from(reason),
                Param::int(from.now),
            ],
        )
        .await
    }
    .await;
    conn.commit_or_rollback(result).await.map(|_| ())
}

/// Forgets a rejection whose input has now been read (after a fix).
pub(crate) async fn clear_rejection(conn: &mut Conn, hash: &str, keep: bool) -> Result<(), Error> {
    let n = conn
        .execute(
            "DELETE FROM rejections WHERE content_hash = $1",
            &[Param::from(hash)],
        )
        .await?;
    if n > 0 && !keep {
        conn.execute(
            "DELETE FROM raw_inputs WHERE content_hash = $1",
            &[Param::from(hash)],
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
    fn content_hash_is_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(
            content_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
