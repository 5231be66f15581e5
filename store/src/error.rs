//! Store errors: the database could not be opened, read or written. A report that cannot be
//! read is not an error here: it is a stored rejection (see [`crate::InputOutcome`]).

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store URL is not `sqlite:PATH`, a plain path, or `postgres://…`.
    #[error("unsupported store URL {0:?} (expected sqlite:PATH or postgres://USER@HOST/DB)")]
    Url(String),
    /// The URL names a backend this build does not include.
    #[error("this build has no {0} backend (cargo feature `{0}`)")]
    BackendMissing(&'static str),
    /// The store was written by a newer version of Mailward.
    #[error(
        "the store has schema version {found}, newer than this version of mailward understands ({supported}); upgrade mailward"
    )]
    NewerSchema {
        /// The schema version found in the store.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// The database is locked by another writer for longer than the busy timeout.
    #[error("the store is locked by another process (waited {seconds} s)")]
    Locked {
        /// How long the writer waited.
        seconds: u64,
    },
    /// The disk or the database is full.
    #[error("the store is full (disk or database size limit)")]
    Full(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// SQLite reported an error.
    #[error("sqlite")]
    Sqlite(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// PostgreSQL reported an error.
    #[error("postgresql")]
    Postgres(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A file could not be read or written.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An ingest source (a directory, a maildir, an mbox) cannot be opened.
    #[error("cannot read the source")]
    Source(#[source] crate::source::SourceError),
    /// The store holds something this version cannot have written.
    #[error("the store is inconsistent: {0}")]
    Corrupt(&'static str),
}

impl Error {
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite(e: rusqlite::Error, waited: std::time::Duration) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Locked {
                seconds: waited.as_secs(),
            },
            Some(ErrorCode::DiskFull) => Self::Full(Box::new(e)),
            _ => Self::Sqlite(Box::new(e)),
        }
    }

    /// A column-reading error (no lock involved).
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite_any(e: rusqlite::Error) -> Self {
        Self::sqlite(e, std::time::Duration::ZERO)
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        match e.code() {
            Some(c) if *c == SqlState::DISK_FULL || *c == SqlState::PROGRAM_LIMIT_EXCEEDED => {
                Self::Full(Box::new(e))
            }
            Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE => Self::Locked { seconds: 0 },
            _ => Self::Postgres(Box::new(e)),
        }
    }

    /// Whether retrying the same operation later may succeed (a lock, a lost connection), as
    /// opposed to a store that cannot take the data.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Locked { .. })
    }
}
