//! The one place that knows there are two databases.
//!
//! Everything above this module writes SQL once, in the subset both SQLite (3.35 or later)
//! and PostgreSQL understand, with `$1`, `$2`… placeholders, `BIGINT` integers, `TEXT` and
//! binary columns, `INSERT … ON CONFLICT … DO NOTHING RETURNING`, and no `SUM` without a
//! `CAST(… AS BIGINT)` (PostgreSQL's `SUM(BIGINT)` is `NUMERIC`). A [`Conn`] is one
//! connection taken from the store's pool for the caller alone, so a transaction never
//! interleaves with another task's statements.

use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Error;

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

/// A statement parameter. Nulls are typed because PostgreSQL checks every parameter's type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    /// A `BIGINT` (or NULL).
    Int(Option<i64>),
    /// A `TEXT` (or NULL).
    Text(Option<&'a str>),
    /// A binary value (`BLOB` / `BYTEA`).
    Blob(&'a [u8]),
}

impl Param<'_> {
    pub(crate) fn int(v: i64) -> Self {
        Self::Int(Some(v))
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Self::Text(Some(v))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Self::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Self::Text(v)
    }
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}

/// A count, length or Unix time as the `BIGINT` it is stored in. None comes near `i64::MAX`;
/// one that did would be stored as `i64::MAX`, never wrapped.
pub(crate) fn to_bigint(v: impl TryInto<i64>) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

/// A stored count or Unix time as the unsigned number it stands for. The store writes none
/// below zero; a negative one (a damaged store) reads as 0.
pub(crate) fn from_bigint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The column types of a bulk insert (PostgreSQL needs them to build its arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Int,
    Text,
}

/// A table written in bulk: its name and typed columns, in insert order.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [(&'static str, ColumnType)],
    /// Appended to the insert (`" ON CONFLICT (ip) DO NOTHING"`), or empty.
    pub(crate) on_conflict: &'static str,
}

/// One result row, read without copying.
pub(crate) trait Row {
    /// Column `i` as an integer (NULL is `None`).
    fn int(&self, i: usize) -> Result<Option<i64>, Error>;
    /// Column `i` as text (NULL is `None`).
    fn text(&self, i: usize) -> Result<Option<&str>, Error>;
    /// Column `i` as bytes (NULL is `None`).
    fn blob(&self, i: usize) -> Result<Option<&[u8]>, Error>;

    /// A NOT NULL integer column.
    fn req_int(&self, i: usize) -> Result<i64, Error> {
        self.int(i)?
            .ok_or(Error::Corrupt("unexpected NULL integer"))
    }
    /// A NOT NULL text column, owned.
    fn req_text(&self, i: usize) -> Result<String, Error> {
        self.text(i)?
            .map(str::to_owned)
            .ok_or(Error::Corrupt("unexpected NULL text"))
    }
    /// A nullable text column, owned.
    fn opt_text(&self, i: usize) -> Result<Option<String>, Error> {
        Ok(self.text(i)?.map(str::to_owned))
    }
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

impl Dialect {
    /// Whether this is SQLite (a single writer, where grouping commits pays).
    pub(crate) fn is_sqlite(self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite => true,
            #[cfg(feature = "postgres")]
            Self::Postgres => false,
        }
    }
}

/// One connection, taken from the pool for as long as the value lives.
pub(crate) struct Conn {
    inner: Option<Inner>,
    pool: Arc<Pool>,
    /// Transactions open: 0 outside, 1 in a transaction, more in savepoints inside it.
    depth: u32,
    /// A nested unit of work failed: the transaction can only be rolled back.
    poisoned: bool,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

enum Inner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteConn),
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgConn),
}

/// Where connections come from, and the idle ones waiting to be reused.
pub(crate) struct Pool {
    target: Target,
    idle: Mutex<Vec<Inner>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Idle connections kept for reuse (more may be open at once; the surplus closes on return).
const MAX_IDLE: usize = 8;

#[derive(Debug, Clone)]
pub(crate) enum Target {
    #[cfg(feature = "sqlite")]
    Sqlite {
        path: std::path::PathBuf,
        lock_timeout: std::time::Duration,
    },
    #[cfg(feature = "postgres")]
    Postgres(String),
}

impl Pool {
    pub(crate) fn new(target: Target) -> Arc<Self> {
        Arc::new(Self {
            target,
            idle: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self.target {
            #[cfg(feature = "sqlite")]
            Target::Sqlite { .. } => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Target::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A connection for the caller alone: an idle one, or a new one.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Conn, Error> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let inner = match idle {
            Some(inner) => inner,
            None => self.connect().await?,
        };
        Ok(Conn {
            inner: Some(inner),
            pool: Arc::clone(self),
            depth: 0,
            poisoned: false,
        })
    }

    async fn connect(&self) -> Result<Inner, Error> {
        match &self.target {
            #[cfg(feature = "sqlite")]
            Target::Sqlite { path, lock_timeout } => Ok(Inner::Sqlite(sqlite::SqliteConn::open(
                path,
                *lock_timeout,
            )?)),
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => Ok(Inner::Postgres(postgres::PgConn::connect(url).await?)),
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        // A connection dropped inside a transaction (an error, a cancelled future) is closed,
        // never reused: closing rolls the transaction back.
        if self.depth > 0 || inner.in_transaction() {
            return;
        }
        let mut idle = self
            .pool
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(inner);
        }
    }
}

impl Inner {
    fn in_transaction(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(c) => c.in_transaction(),
            #[cfg(feature = "postgres")]
            Self::Postgres(c) => c.in_transaction(),
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $c:ident => $sqlite:expr, $pg:expr) => {
        match $self.inner.as_mut() {
            #[cfg(feature = "sqlite")]
            Some(Inner::Sqlite($c)) => $sqlite,
            #[cfg(feature = "postgres")]
            Some(Inner::Postgres($c)) => $pg,
            None => Err(Error::Corrupt("connection already returned")),
        }
    };
}

impl Conn {
    pub(crate) fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    /// Runs statements without parameters or results (DDL, `BEGIN`).
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), Error> {
        dispatch!(self, c => c.batch(sql), c.batch(sql).await)
    }

    /// Starts a transaction that takes the write lock at once (SQLite `BEGIN IMMEDIATE`), so
    /// two writers never deadlock upgrading a read lock.
    ///
    /// Inside a transaction, `begin` … `commit` marks a unit of work that becomes durable with
    /// the outer transaction. It is not a savepoint (SQLite would copy every page the unit
    /// touches into a statement journal, 12 % of an ingest): a unit that fails leaves the
    /// transaction able only to roll back, and `commit` of the outer transaction then
    /// refuses. Every report stays all or nothing.
    pub(crate) async fn begin(&mut self) -> Result<(), Error> {
        if self.depth == 0 {
            let sql = match self.dialect() {
                #[cfg(feature = "sqlite")]
                Dialect::Sqlite => "BEGIN IMMEDIATE",
                #[cfg(feature = "postgres")]
                Dialect::Postgres => "BEGIN",
            };
            self.batch(sql).await?;
            self.poisoned = false;
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) async fn commit(&mut self) -> Result<(), Error> {
        match self.depth {
            0 => Err(Error::Corrupt("commit outside a transaction")),
            1 if self.poisoned => {
                self.rollback().await?;
                Err(Error::Corrupt(
                    "a unit of work inside the transaction failed",
                ))
            }
            1 => {
                self.batch("COMMIT").await?;
                self.depth = 0;
                Ok(())
            }
            _ => {
                self.depth -= 1;
                Ok(())
            }
        }
    }

    pub(crate) async fn rollback(&mut self) -> Result<(), Error> {
        match self.depth {
            0 => Ok(()),
            1 => {
                self.depth = 0;
                self.poisoned = false;
                self.batch("ROLLBACK").await
            }
            _ => {
                self.depth -= 1;
                self.poisoned = true;
                Ok(())
            }
        }
    }

    /// Ends the transaction opened for the work that gave `result`: commits it when the work
    /// succeeded, rolls it back otherwise. A failed rollback is not reported: the work's error,
    /// which caused it, is.
    pub(crate) async fn commit_or_rollback<T>(
        &mut self,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        match result {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.rollback().await;
                Err(e)
            }
        }
    }

    /// Whether a transaction is open.
    pub(crate) fn in_transaction(&self) -> bool {
        self.depth > 0
    }

    /// Executes one statement; returns the rows changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> Result<u64, Error> {
        dispatch!(self, c => c.execute(sql, params), c.execute(sql, params).await)
    }

    /// Calls `f` for every row, in order, without collecting them.
    pub(crate) async fn for_each(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
        f: &mut (dyn FnMut(&dyn Row) -> Result<(), Error> + Send),
    ) -> Result<(), Error> {
        dispatch!(self, c => c.for_each(sql, params, f), c.for_each(sql, params, f).await)
    }

    /// The first row's integer in column 0, if there is a row.
    pub(crate) async fn int_opt(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> Result<Option<i64>, Error> {
        let mut out = None;
        self.for_each(sql, params, &mut |row| {
            if out.is_none() {
                out = row.int(0)?;
            }
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Collects rows through `map`.
    pub(crate) async fn collect<T: Send>(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
        mut map: impl FnMut(&dyn Row) -> Result<T, Error> + Send,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        self.for_each(sql, params, &mut |row| {
            out.push(map(row)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Inserts many rows into `table` (each row's values in the table's column order);
    /// returns the rows inserted (fewer when `on_conflict` skips some).
    pub(crate) async fn insert_rows(
        &mut self,
        table: &Table,
        rows: &[Vec<Param<'_>>],
    ) -> Result<u64, Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        dispatch!(self, c => c.insert_rows(table, rows), c.insert_rows(table, rows).await)
    }
}

/// `$1`, `$2`… to SQLite's `?1`, `?2`… (outside quoted text).
#[cfg(feature = "sqlite")]
pub(crate) fn to_sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for ch in sql.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '$' if !quoted => out.push('?'),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    #[test]
    fn placeholders_convert_outside_quotes_only() {
        assert_eq!(
            to_sqlite_placeholders("SELECT $1, '$2' FROM t WHERE a = $12"),
            "SELECT ?1, '$2' FROM t WHERE a = ?12"
        );
    }
}
