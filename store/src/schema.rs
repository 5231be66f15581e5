//! The schema and its migrations, applied on open.
//!
//! Each migration is a list of statements written once for both databases; `{ID}` and
//! `{BLOB}` stand for the two column types whose spelling differs. The version lives in
//! `mailward_meta`. Opening takes a lock first (SQLite's write lock through
//! `BEGIN IMMEDIATE`, a PostgreSQL transaction-scoped advisory lock), so two workers opening
//! a fresh store at the same moment migrate it once: the second finds the work done.

use crate::db::{Conn, Dialect, Param};
use crate::error::Error;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 3;

/// The key of PostgreSQL's advisory lock for migrations (any constant; this one spells
/// "mailward" in ASCII).
#[cfg(feature = "postgres")]
const MIGRATION_LOCK: i64 = 0x6d61_696c_7761_7264;

/// Migration `i` brings the schema from version `i` to `i + 1`. `{ID}`, `{BLOB}` and
/// `{WITHOUT_ROWID}` are spelled per database by `render`.
const MIGRATIONS: &[&[&str]] = &[
    &[
        // One row per report identity. The unique constraint is what makes concurrent ingest
        // store a report once (never check-then-insert).
        "CREATE TABLE reports (
        id {ID},
        org_name TEXT NOT NULL,
        email TEXT NOT NULL,
        report_id TEXT NOT NULL,
        policy_domain TEXT NOT NULL,
        date_begin BIGINT NOT NULL,
        date_end BIGINT NOT NULL,
        schema_name TEXT NOT NULL,
        version TEXT,
        extra_contact_info TEXT,
        generator TEXT,
        errors TEXT,
        extension TEXT,
        p TEXT, sp TEXT, np TEXT, adkim TEXT, aspf TEXT, pct BIGINT, fo TEXT, testing TEXT,
        discovery_method TEXT,
        record_count BIGINT NOT NULL,
        message_count BIGINT NOT NULL,
        defect_count BIGINT NOT NULL,
        deliveries BIGINT NOT NULL,
        source TEXT NOT NULL,
        container TEXT NOT NULL,
        message_id TEXT,
        content_hash TEXT NOT NULL,
        ingested_at BIGINT NOT NULL,
        first_day BIGINT NOT NULL,
        last_day BIGINT NOT NULL,
        UNIQUE (org_name, email, report_id, policy_domain, date_begin, date_end)
    )",
        // `first_day` .. `last_day`: the UTC days the report's messages are spread over (see
        // `spread`); a window of days finds its reports through these.
        "CREATE INDEX reports_domain_days ON reports (policy_domain, last_day)",
        "CREATE INDEX reports_days ON reports (last_day)",
        // Every record, with its DKIM and SPF results as JSON arrays (`[{"domain", "selector",
        // "result", "human_result"}]`, `[{"domain", "scope", "result", "human_result"}]`): a
        // record has a handful, always read together, and one row instead of three per record
        // halves the writes of an ingest.
        "CREATE TABLE records (
        report BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
        ordinal BIGINT NOT NULL,
        source_ip TEXT NOT NULL,
        count BIGINT NOT NULL,
        disposition TEXT,
        dkim TEXT,
        spf TEXT,
        reasons TEXT,
        header_from TEXT NOT NULL,
        envelope_from TEXT,
        envelope_to TEXT,
        reverse_name TEXT,
        extensions TEXT,
        dkim_results TEXT,
        spf_results TEXT,
        PRIMARY KEY (report, ordinal)
    ){WITHOUT_ROWID}",
        "CREATE TABLE defects (
        report BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        value TEXT,
        PRIMARY KEY (report, seq)
    ){WITHOUT_ROWID}",
        // Every input that carried a report. Reading the same bytes again adds nothing, so an
        // interrupted ingest run again leaves the store as one uninterrupted run would.
        "CREATE TABLE deliveries (
        report BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        source TEXT NOT NULL,
        container TEXT NOT NULL,
        message_id TEXT,
        ingested_at BIGINT NOT NULL,
        PRIMARY KEY (report, content_hash)
    ){WITHOUT_ROWID}",
        // The daily rollup: each record's messages spread over the UTC days of its report's
        // period (see `spread`), merged per (day, source, aligned results, disposition). Kept in
        // (domain, day) order, so a window of one domain is one range of the table; rows are
        // removed with their report by the code (no foreign key: a cascade would need an index
        // on `report` that every insert would pay for).
        "CREATE TABLE daily (
        domain TEXT NOT NULL,
        day BIGINT NOT NULL,
        report BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        org TEXT NOT NULL,
        source_ip TEXT NOT NULL,
        disposition TEXT,
        dkim_pass BIGINT NOT NULL,
        spf_pass BIGINT NOT NULL,
        reverse_name TEXT,
        count BIGINT NOT NULL,
        PRIMARY KEY (domain, day, report, seq)
    ){WITHOUT_ROWID}",
        // Inputs kept verbatim (gzip-compressed): with --keep-raw, and always for rejections so
        // they can be read again after a fix.
        "CREATE TABLE raw_inputs (
        content_hash TEXT PRIMARY KEY,
        bytes {BLOB} NOT NULL
    ){WITHOUT_ROWID}",
        "CREATE TABLE rejections (
        id {ID},
        content_hash TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        message_id TEXT,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL
    )",
        // One row per source IP ever reported: the reverse DNS cache. `expires_at` 0 means not
        // looked up yet.
        "CREATE TABLE source_ips (
        ip TEXT PRIMARY KEY,
        name TEXT,
        status TEXT NOT NULL,
        resolved_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    ){WITHOUT_ROWID}",
        "CREATE INDEX source_ips_expiry ON source_ips (expires_at)",
    ],
    &[
        // Schema 2: the views read rollups instead of records (see `rollup`). `daily` rows carry
        // their records' DKIM and SPF results and the evidence bits; `rollup::rebuild` then fills
        // them in and sums the two new tables.
        "ALTER TABLE daily ADD COLUMN auth TEXT",
        "ALTER TABLE daily ADD COLUMN evidence BIGINT NOT NULL DEFAULT 0",
        // Messages per (domain, day, reporter, disposition, aligned results); a record without
        // a disposition has ''.
        "CREATE TABLE domain_days (
        domain TEXT NOT NULL,
        day BIGINT NOT NULL,
        org TEXT NOT NULL,
        disposition TEXT NOT NULL,
        dkim_pass BIGINT NOT NULL,
        spf_pass BIGINT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (domain, day, org, disposition, dkim_pass, spf_pass)
    ){WITHOUT_ROWID}",
        // Per (domain, address, day): address first, so one address's days are one range.
        "CREATE TABLE ip_days (
        domain TEXT NOT NULL,
        source_ip TEXT NOT NULL,
        day BIGINT NOT NULL,
        messages BIGINT NOT NULL,
        dmarc_pass BIGINT NOT NULL,
        evidence BIGINT NOT NULL,
        PRIMARY KEY (domain, source_ip, day)
    ){WITHOUT_ROWID}",
        // The latest report of a domain (its published policy) without sorting a window's.
        "CREATE INDEX reports_domain_end ON reports (policy_domain, date_end)",
        // The addresses that passed DMARC on a day: the few that can be legitimate.
        "CREATE INDEX ip_days_passing ON ip_days (domain, day) WHERE dmarc_pass > 0",
    ],
    &[
        // Schema 3: SMTP TLS reports (RFC 8460), one row per (organization-name, report-id),
        // the unique key that makes concurrent ingest store a report once. `day` is the UTC
        // day the report counts on (see `tls::report_day`); `policy_domains` lists its
        // normalised policy domains, space-separated; `report_json` is the report as
        // `mailward_reports::tls::to_json` writes it and `defects` its defects as JSON.
        "CREATE TABLE tls_reports (
        id {ID},
        org_name TEXT NOT NULL,
        report_id TEXT NOT NULL,
        contact_info TEXT,
        date_begin BIGINT NOT NULL,
        date_end BIGINT NOT NULL,
        day BIGINT NOT NULL,
        policy_domains TEXT NOT NULL,
        policy_count BIGINT NOT NULL,
        detail_count BIGINT NOT NULL,
        successful BIGINT NOT NULL,
        failed BIGINT NOT NULL,
        report_json TEXT NOT NULL,
        defects TEXT,
        defect_count BIGINT NOT NULL,
        deliveries BIGINT NOT NULL,
        source TEXT NOT NULL,
        container TEXT NOT NULL,
        message_id TEXT,
        content_hash TEXT NOT NULL,
        ingested_at BIGINT NOT NULL,
        UNIQUE (org_name, report_id)
    )",
        "CREATE INDEX tls_reports_day ON tls_reports (day)",
        // `prune` removes by the end of the period.
        "CREATE INDEX tls_reports_end ON tls_reports (date_end)",
        // One row per policy, with the report's day: a window (of one domain) is one range of
        // an index that holds every column the summary reads, so it never visits the table.
        "CREATE TABLE tls_policies (
        report BIGINT NOT NULL REFERENCES tls_reports (id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        domain TEXT NOT NULL,
        day BIGINT NOT NULL,
        policy_type TEXT,
        successful BIGINT NOT NULL,
        failed BIGINT NOT NULL,
        PRIMARY KEY (report, seq)
    ){WITHOUT_ROWID}",
        "CREATE INDEX tls_policies_day ON tls_policies
        (day, domain, policy_type, successful, failed)",
        "CREATE INDEX tls_policies_domain_day ON tls_policies
        (domain, day, report, policy_type, successful, failed)",
        // One row per failure detail: `result_type` is the token ('' when the detail had
        // none), `receiving_mx` the normalised host name ('' when none).
        "CREATE TABLE tls_failures (
        report BIGINT NOT NULL REFERENCES tls_reports (id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        policy BIGINT NOT NULL,
        domain TEXT NOT NULL,
        day BIGINT NOT NULL,
        result_type TEXT NOT NULL,
        receiving_mx TEXT NOT NULL,
        sending_mta_ip TEXT,
        receiving_ip TEXT,
        failed BIGINT NOT NULL,
        PRIMARY KEY (report, seq)
    ){WITHOUT_ROWID}",
        "CREATE INDEX tls_failures_day ON tls_failures
        (day, result_type, receiving_mx, failed)",
        "CREATE INDEX tls_failures_domain_day ON tls_failures
        (domain, day, result_type, receiving_mx, failed)",
        // Every input that carried a TLS report, as `deliveries` for aggregate reports.
        "CREATE TABLE tls_deliveries (
        report BIGINT NOT NULL REFERENCES tls_reports (id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        source TEXT NOT NULL,
        container TEXT NOT NULL,
        message_id TEXT,
        ingested_at BIGINT NOT NULL,
        PRIMARY KEY (report, content_hash)
    ){WITHOUT_ROWID}",
        // `prune` keeps the raw inputs a TLS delivery still refers to.
        "CREATE INDEX tls_deliveries_hash ON tls_deliveries (content_hash)",
    ],
];

/// The migration after whose statements `rollup::rebuild` runs (work SQL alone cannot do).
const REBUILD_AFTER: usize = 1;

fn render(statement: &str, dialect: Dialect) -> String {
    // SQLite keeps a WITHOUT ROWID table in its primary key's order (one B-tree instead of a
    // table and an index); PostgreSQL has no such clause.
    let (id, blob, without_rowid) = match dialect {
        #[cfg(feature = "sqlite")]
        // AUTOINCREMENT: ids are never reused, so "reports after id N" stays meaningful.
        Dialect::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BLOB",
            " WITHOUT ROWID",
        ),
        #[cfg(feature = "postgres")]
        Dialect::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "BYTEA",
            "",
        ),
    };
    statement
        .replace("{ID}", id)
        .replace("{BLOB}", blob)
        .replace("{WITHOUT_ROWID}", without_rowid)
}

/// Brings the store to [`SCHEMA_VERSION`], or refuses a store written by a newer version.
pub(crate) async fn migrate(conn: &mut Conn) -> Result<(), Error> {
    conn.begin().await?;
    let result = migrate_locked(conn).await;
    conn.commit_or_rollback(result).await
}

async fn migrate_locked(conn: &mut Conn) -> Result<(), Error> {
    #[cfg(feature = "postgres")]
    if conn.dialect() == Dialect::Postgres {
        conn.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[Param::int(MIGRATION_LOCK)],
        )
        .await?;
    }
    conn.batch(
        "CREATE TABLE IF NOT EXISTS mailward_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )
    .await?;
    let found = read_version(conn).await?;
    if found > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let dialect = conn.dialect();
    let start = usize::try_from(found).map_err(|_| Error::Corrupt("negative schema version"))?;
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(start) {
        for statement in *migration {
            conn.batch(&render(statement, dialect)).await?;
        }
        if i == REBUILD_AFTER {
            crate::rollup::rebuild(conn).await?;
        }
    }
    if found < SCHEMA_VERSION {
        let version = SCHEMA_VERSION.to_string();
        conn.execute(
            "INSERT INTO mailward_meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[Param::from(version.as_str())],
        )
        .await?;
    }
    Ok(())
}

/// The schema version recorded in the store (0 for a new store).
pub(crate) async fn read_version(conn: &mut Conn) -> Result<i64, Error> {
    let mut found: Option<String> = None;
    conn.for_each(
        "SELECT value FROM mailward_meta WHERE key = 'schema_version'",
        &[],
        &mut |row| {
            found = row.opt_text(0)?;
            Ok(())
        },
    )
    .await?;
    match found {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Corrupt("schema_version is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_migration_per_version() {
        assert_eq!(
            MIGRATIONS.len(),
            usize::try_from(SCHEMA_VERSION).unwrap_or(0)
        );
    }
}
