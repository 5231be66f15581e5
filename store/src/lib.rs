#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("mailward-store needs at least one backend: feature `sqlite` or `postgres`");

mod db;
pub mod enrich;
mod error;
pub mod evidence;
mod export;
#[cfg(feature = "imap")]
#[cfg_attr(docsrs, doc(cfg(feature = "imap")))]
pub mod imap;
mod ingest;
mod load;
mod overview;
pub mod query;
pub mod readiness;
mod rollup;
mod schema;
pub mod services;
pub mod source;
mod source_group;
pub mod sources;
pub mod spread;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use error::Error;
pub use export::{ExportFormat, ExportRow};
pub use ingest::{
    Classified, Found, IngestCounts, IngestOptions, InputKind, InputOutcome, Read, ReportOutcome,
    ReportStatus, TlsReportOutcome, classify,
};
pub use mailward_reports::Limits;
pub use mailward_reports::ReportIdentity;
pub use query::{Window, WindowError};
pub use schema::SCHEMA_VERSION;

use crate::db::{Pool, Target};
use crate::ingest::Provenance;

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreUrl {
    /// An SQLite file (`sqlite:PATH`, or a plain path).
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://USER@HOST[:PORT]/DB` or `postgresql://…`).
    Postgres(String),
}

impl StoreUrl {
    /// Reads `sqlite:PATH`, `sqlite://PATH`, `postgres://…`, `postgresql://…`, or a plain
    /// path (an SQLite file).
    ///
    /// # Errors
    ///
    /// [`Error::Url`] for an empty string or another scheme.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Url(s.to_owned()));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_owned()));
        }
        if let Some(path) = s.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(Error::Url(s.to_owned()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if s.contains("://") {
            return Err(Error::Url(s.to_owned()));
        }
        Ok(Self::Sqlite(PathBuf::from(s)))
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            // The URL may carry a password; show it without.
            Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

/// Inputs read and parsed ahead of the writer by [`Store::ingest_source`] (memory is bounded by
/// this many inputs in flight).
pub const READ_AHEAD: usize = 4;

/// How long an SQLite ingest keeps one transaction open: at most this many inputs, or this
/// long, whichever comes first. Each commit writes every page it touched to the WAL once, so
/// committing a few hundred small reports together writes far less than one commit each.
pub const GROUP_COMMIT: (usize, std::time::Duration) = (256, std::time::Duration::from_millis(250));

/// How a store is opened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenOptions {
    /// How long a writer waits for another process's transaction (SQLite) before the
    /// operation fails with [`Error::Locked`]. Default 30 s.
    pub lock_timeout: std::time::Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            lock_timeout: std::time::Duration::from_secs(30),
        }
    }
}

impl OpenOptions {
    /// Sets [`lock_timeout`](Self::lock_timeout).
    #[must_use]
    pub fn lock_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }
}

/// A store of DMARC aggregate reports and SMTP TLS reports. Cheap to clone; clones share one
/// connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Arc<Pool>,
    url: StoreUrl,
}

impl Store {
    /// Opens (creating and migrating as needed) the store at `url`.
    ///
    /// # Errors
    ///
    /// [`Error::BackendMissing`] when this build lacks the backend, [`Error::NewerSchema`]
    /// for a store written by a newer version, and database errors.
    pub async fn open(url: &StoreUrl) -> Result<Self, Error> {
        Self::open_with(url, &OpenOptions::default()).await
    }

    /// Opens the store at `url` with explicit options.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    // The options are SQLite's so far.
    #[cfg_attr(not(feature = "sqlite"), allow(unused_variables))]
    pub async fn open_with(url: &StoreUrl, options: &OpenOptions) -> Result<Self, Error> {
        let target = match url {
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => Target::Sqlite {
                path: path.clone(),
                lock_timeout: options.lock_timeout,
            },
            #[cfg(not(feature = "sqlite"))]
            StoreUrl::Sqlite(_) => return Err(Error::BackendMissing("sqlite")),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(u) => Target::Postgres(u.clone()),
            #[cfg(not(feature = "postgres"))]
            StoreUrl::Postgres(_) => return Err(Error::BackendMissing("postgres")),
        };
        let store = Self {
            pool: Pool::new(target),
            url: url.clone(),
        };
        let mut conn = store.pool.get().await?;
        schema::migrate(&mut conn).await?;
        Ok(store)
    }

    /// Opens an SQLite store at `path`.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        Self::open(&StoreUrl::Sqlite(path.as_ref().to_owned())).await
    }

    /// Where this store lives (a PostgreSQL URL without its password).
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    pub(crate) async fn conn(&self) -> Result<db::Conn, Error> {
        self.pool.get().await
    }

    /// Ingests one input: a file (XML, gzip, zip, e-mail, JSON) or one message. Each report
    /// inside it (aggregate or SMTP TLS) is committed on its own; a rejection is stored with
    /// the input.
    ///
    /// `source` says where the input came from (a path, `maildir:…`, `imap://…`), for people
    /// and for the stored provenance.
    ///
    /// # Errors
    ///
    /// Only database errors: an input that is not a report, or a report that cannot be read,
    /// is an [`InputOutcome`], not an error.
    pub async fn ingest(
        &self,
        source: &str,
        bytes: &[u8],
        options: &IngestOptions,
    ) -> Result<InputOutcome, Error> {
        let classified = classify(bytes, &options.limits);
        let mut conn = self.conn().await?;
        self.ingest_on(&mut conn, source, bytes, classified, options)
            .await
    }

    /// Stores what `classify` found in an input, on `conn` (inside its transaction, if one is
    /// open: each report then gets a savepoint of its own).
    async fn ingest_on(
        &self,
        conn: &mut db::Conn,
        source: &str,
        bytes: &[u8],
        classified: Classified,
        options: &IngestOptions,
    ) -> Result<InputOutcome, Error> {
        let Classified {
            container,
            message_id,
            read,
        } = classified;
        let hash = ingest::content_hash(bytes);
        let from = Provenance {
            source,
            container,
            message_id: message_id.as_deref(),
            content_hash: &hash,
            now: now(),
        };
        let kind = match read {
            Read::Reports(found) => {
                if options.keep_raw {
                    ingest::keep_raw(conn, &hash, bytes).await?;
                }
                let mut reports = Vec::with_capacity(found.aggregate.len());
                for parsed in &found.aggregate {
                    reports.push(ingest::store_report(conn, parsed, &from).await?);
                }
                let mut tls = Vec::with_capacity(found.tls.len());
                for parsed in &found.tls {
                    tls.push(tls::store_report(conn, parsed, &from).await?);
                }
                ingest::clear_rejection(conn, &hash, options.keep_raw).await?;
                InputKind::Reports { reports, tls }
            }
            Read::Skipped(reason) => InputKind::Skipped { reason },
            Read::Rejected(class, reason) => {
                ingest::store_rejection(conn, &from, &class, &reason, bytes).await?;
                InputKind::Rejected { class, reason }
            }
        };
        Ok(InputOutcome {
            source: source.to_owned(),
            message_id,
            kind,
        })
    }

    /// Ingests every input of `source` (a file, a directory, a maildir, an mbox), calling
    /// `each` with every outcome as it happens (for progress). An input that cannot be read
    /// at all (an unreadable file, an oversized message) is stored as a rejection too.
    ///
    /// Inputs are read and parsed on a thread of their own, a few ahead ([`READ_AHEAD`]),
    /// while this task writes; this task blocks while it waits for the next input. On SQLite,
    /// consecutive inputs share one transaction for up to [`GROUP_COMMIT`] (each report in a
    /// savepoint of its own, so each is still all or nothing): a killed run loses at most
    /// that much work, which the next run redoes. On PostgreSQL every report commits alone,
    /// so concurrent workers never wait on each other's open batches.
    ///
    /// # Errors
    ///
    /// [`Error::Source`] when the source itself cannot be opened, and database errors.
    pub async fn ingest_source(
        &self,
        source: &source::Source,
        options: &IngestOptions,
        each: impl FnMut(&InputOutcome),
    ) -> Result<IngestCounts, Error> {
        let inputs = source.inputs().map_err(Error::Source)?;
        self.ingest_inputs(inputs, options, each).await
    }

    /// [`ingest_source`](Self::ingest_source) over any inputs: an iterator run on the reader
    /// thread (a mailbox of your own, generated inputs).
    ///
    /// # Errors
    ///
    /// Database errors, and [`Error::Io`] when the reader thread cannot start.
    pub async fn ingest_inputs<I>(
        &self,
        inputs: I,
        options: &IngestOptions,
        each: impl FnMut(&InputOutcome),
    ) -> Result<IngestCounts, Error>
    where
        I: IntoIterator<Item = Result<source::Input, source::InputError>> + Send + 'static,
        I::IntoIter: Send,
    {
        self.ingest_inputs_acked(inputs, options, each, |_| {})
            .await
    }

    /// [`ingest_inputs`](Self::ingest_inputs), also calling `committed` with the locations of
    /// the inputs whose outcome is now durable in the store, as soon as it is: after each
    /// commit. A source that removes what it has handed over (an IMAP mailbox with a folder to
    /// move processed messages to) waits for this, so that a crash can never lose a message.
    ///
    /// Every input is acknowledged exactly once, whatever its outcome (stored, duplicate,
    /// skipped, rejected), unless a database error ends the ingest first. A group of inputs is
    /// committed when it is full ([`GROUP_COMMIT`]) or when no input has arrived for the rest of
    /// its time, so a source that goes quiet (a mailbox waiting for new mail) still gets its
    /// acknowledgements.
    ///
    /// # Errors
    ///
    /// As [`ingest_inputs`](Self::ingest_inputs).
    pub async fn ingest_inputs_acked<I>(
        &self,
        inputs: I,
        options: &IngestOptions,
        mut each: impl FnMut(&InputOutcome),
        mut committed: impl FnMut(&[String]),
    ) -> Result<IngestCounts, Error>
    where
        I: IntoIterator<Item = Result<source::Input, source::InputError>> + Send + 'static,
        I::IntoIter: Send,
    {
        use std::sync::mpsc::RecvTimeoutError;
        let inputs = inputs.into_iter();
        let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD);
        let limits = options.limits.clone();
        let reader = std::thread::Builder::new()
            .name("mailward-read".into())
            .spawn(move || {
                for input in inputs {
                    let item = input.map(|i| {
                        let c = classify(&i.bytes, &limits);
                        (i, c)
                    });
                    if tx.send(item).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| Error::Io {
                what: "cannot start the reader thread".into(),
                source: e,
            })?;
        let group = self.pool.dialect().is_sqlite();
        let mut conn = self.conn().await?;
        let mut counts = IngestCounts::default();
        let mut opened = std::time::Instant::now();
        // The locations in the open group, acknowledged when it commits.
        let mut pending: Vec<String> = Vec::new();
        loop {
            let item = if conn.in_transaction() {
                let left = GROUP_COMMIT.1.saturating_sub(opened.elapsed());
                match rx.recv_timeout(left) {
                    Ok(item) => item,
                    Err(RecvTimeoutError::Timeout) => {
                        // The reader is quiet: make what we have durable now.
                        self.commit_group(&mut conn).await?;
                        committed(&pending);
                        pending.clear();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match next_input(&rx, group).await {
                    Some(item) => item,
                    None => break,
                }
            };
            if group && !conn.in_transaction() {
                conn.begin().await?;
                opened = std::time::Instant::now();
            }
            let outcome = match item {
                Ok((input, classified)) => {
                    self.ingest_on(
                        &mut conn,
                        &input.location,
                        &input.bytes,
                        classified,
                        options,
                    )
                    .await
                }
                Err(e) => {
                    self.reject_unreadable_on(&mut conn, &e.location, &e.to_string())
                        .await
                }
            };
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    let _ = conn.rollback().await;
                    return Err(e);
                }
            };
            counts.add(&outcome);
            each(&outcome);
            if conn.in_transaction() {
                pending.push(outcome.source);
                if pending.len() >= GROUP_COMMIT.0 || opened.elapsed() >= GROUP_COMMIT.1 {
                    self.commit_group(&mut conn).await?;
                    committed(&pending);
                    pending.clear();
                }
            } else {
                committed(std::slice::from_ref(&outcome.source));
            }
        }
        if conn.in_transaction() {
            self.commit_group(&mut conn).await?;
            committed(&pending);
        }
        // A reader that panicked (a bug in a source) must not pass for a finished source.
        if reader.join().is_err() {
            return Err(Error::Io {
                what: "the reader thread failed (a panic); the inputs after the last one stored were not read".into(),
                source: std::io::Error::other("reader thread panicked"),
            });
        }
        Ok(counts)
    }

    async fn commit_group(&self, conn: &mut db::Conn) -> Result<(), Error> {
        conn.commit().await
    }

    /// Stores a rejection for an input that could not be read at all (there are no bytes to
    /// keep; it is identified by its location).
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn reject_unreadable(
        &self,
        location: &str,
        reason: &str,
    ) -> Result<InputOutcome, Error> {
        let mut conn = self.conn().await?;
        self.reject_unreadable_on(&mut conn, location, reason).await
    }

    async fn reject_unreadable_on(
        &self,
        conn: &mut db::Conn,
        location: &str,
        reason: &str,
    ) -> Result<InputOutcome, Error> {
        let hash = ingest::content_hash(format!("unreadable input\0{location}").as_bytes());
        let from = Provenance {
            source: location,
            container: "unreadable",
            message_id: None,
            content_hash: &hash,
            now: now(),
        };
        ingest::store_rejection(conn, &from, "unreadable", reason, b"").await?;
        Ok(InputOutcome {
            source: location.to_owned(),
            message_id: None,
            kind: InputKind::Rejected {
                class: "unreadable".into(),
                reason: reason.to_owned(),
            },
        })
    }

    /// Reads every stored rejection again (after a fix to the reader): each one that now
    /// reads is stored and leaves the list of rejections.
    ///
    /// # Errors
    ///
    /// Database errors.
    pub async fn retry_rejections(
        &self,
        options: &IngestOptions,
    ) -> Result<Vec<InputOutcome>, Error> {
        let mut conn = self.conn().await?;
        let pending = conn
            .collect(
                "SELECT r.source, w.bytes FROM rejections r
                 JOIN raw_inputs w ON w.content_hash = r.content_hash ORDER BY r.id",
                &[],
                |row| {
                    Ok((
                        row.req_text(0)?,
                        row.blob(1)?.map(<[u8]>::to_vec).unwrap_or_default(),
                    ))
                },
            )
            .await?;
        drop(conn);
        let mut out = Vec::with_capacity(pending.len());
        for (source, compressed) in pending {
            let bytes = gunzip(&compressed, options)?;
            out.push(self.ingest(&source, &bytes, options).await?);
        }
        Ok(out)
    }
}

/// The next input from the reader thread, or `None` when it is done. On SQLite this blocks:
/// nothing else needs the thread. On PostgreSQL the connection is a task of the caller's
/// runtime, which must keep running while a quiet source (a mailbox in IDLE) has nothing to
/// give, so the channel is polled with short sleeps instead.
async fn next_input<T>(rx: &std::sync::mpsc::Receiver<T>, blocking: bool) -> Option<T> {
    if blocking {
        return rx.recv().ok();
    }
    #[cfg(feature = "postgres")]
    {
        use std::sync::mpsc::TryRecvError;
        let mut pause = std::time::Duration::from_micros(200);
        loop {
            match rx.try_recv() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_millis(50));
                }
            }
        }
    }
    #[cfg(not(feature = "postgres"))]
    rx.recv().ok()
}

fn gunzip(compressed: &[u8], options: &IngestOptions) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(compressed)
        .take(options.limits.max_input_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Error::Io {
            what: "cannot decompress a stored input".into(),
            source: e,
        })?;
    Ok(out)
}

/// The current Unix time (the store records when it ingested an input).
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        assert_eq!(
            StoreUrl::parse("sqlite:/tmp/a.db").ok(),
            Some(StoreUrl::Sqlite("/tmp/a.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///tmp/a.db").ok(),
            Some(StoreUrl::Sqlite("/tmp/a.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("reports.db").ok(),
            Some(StoreUrl::Sqlite("reports.db".into()))
        );
        assert!(matches!(
            StoreUrl::parse("postgres://u:secret@h/db"),
            Ok(StoreUrl::Postgres(_))
        ));
        assert!(StoreUrl::parse("mysql://h/db").is_err());
        assert!(StoreUrl::parse("sqlite:").is_err());
        assert_eq!(
            StoreUrl::Postgres("postgres://u:secret@h/db".into()).to_string(),
            "postgres://u@h/db"
        );
    }
}
