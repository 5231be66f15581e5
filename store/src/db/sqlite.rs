//! The embedded backend: one SQLite file in WAL mode, so readers (the web view, a summary)
//! never wait for a running ingest and one writer at a time commits.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, ToSql, params_from_iter};

use super::{Param, Row, Table, to_sqlite_placeholders};
use crate::error::Error;

/// Statements kept prepared per connection.
const STATEMENT_CACHE: usize = 64;

pub(crate) struct SqliteConn {
    conn: Connection,
    lock_timeout: Duration,
}

impl SqliteConn {
    pub(crate) fn open(path: &Path, lock_timeout: Duration) -> Result<Self, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Io {
                what: format!("cannot create the directory {}", dir.display()),
                source: e,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let err = |e| Error::sqlite(e, lock_timeout);
        let conn = Connection::open_with_flags(path, flags).map_err(err)?;
        conn.busy_timeout(lock_timeout).map_err(err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // WAL: readers and one writer at once (RFC-free, SQLite's own documentation);
        // synchronous=NORMAL is durable across application crashes in WAL mode, and a power
        // loss can only lose the last transactions, never corrupt the file.
        // Switching a new database to WAL takes an exclusive lock without consulting the busy
        // handler: a second process creating the same store at that moment gets SQLITE_BUSY at
        // once. Waiting here gives it the same lock timeout as every other statement.
        let deadline = std::time::Instant::now() + lock_timeout;
        loop {
            match conn.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA temp_store = MEMORY;
                 PRAGMA cache_size = -32768;
                 PRAGMA wal_autocheckpoint = 8192;",
            ) {
                Ok(()) => break,
                Err(e)
                    if matches!(
                        e.sqlite_error_code(),
                        Some(
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        )
                    ) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(err(e)),
            }
        }
        Ok(Self { conn, lock_timeout })
    }

    pub(crate) fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| Error::sqlite(e, self.lock_timeout))
    }

    pub(crate) fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        let sql = to_sqlite_placeholders(sql);
        let timeout = self.lock_timeout;
        let err = |e| Error::sqlite(e, timeout);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(err)?;
        let n = stmt
            .execute(params_from_iter(params.iter().map(Bind)))
            .map_err(err)?;
        Ok(n as u64)
    }

    pub(crate) fn for_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        f: &mut (dyn FnMut(&dyn Row) -> Result<(), Error> + Send),
    ) -> Result<(), Error> {
        let sql = to_sqlite_placeholders(sql);
        let timeout = self.lock_timeout;
        let err = |e| Error::sqlite(e, timeout);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(err)?;
        let mut rows = stmt
            .query(params_from_iter(params.iter().map(Bind)))
            .map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            f(&SqliteRow(row))?;
        }
        Ok(())
    }

    pub(crate) fn insert_rows(
        &mut self,
        table: &Table,
        rows: &[Vec<Param<'_>>],
    ) -> Result<u64, Error> {
        let columns: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}){}",
            table.name,
            columns.join(", "),
            placeholders.join(", "),
            table.on_conflict
        );
        let timeout = self.lock_timeout;
        let err = |e| Error::sqlite(e, timeout);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(err)?;
        let mut inserted = 0u64;
        for row in rows {
            inserted += stmt
                .execute(params_from_iter(row.iter().map(Bind)))
                .map_err(err)? as u64;
        }
        Ok(inserted)
    }
}

struct Bind<'a, 'b>(&'a Param<'b>);

impl ToSql for Bind<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput;
        Ok(match *self.0 {
            Param::Int(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Param::Text(Some(v)) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Param::Blob(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            Param::Int(None) | Param::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

impl Row for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> Result<Option<i64>, Error> {
        match self.0.get_ref(i).map_err(Error::sqlite_any)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            _ => Err(Error::Corrupt("expected an integer column")),
        }
    }

    fn text(&self, i: usize) -> Result<Option<&str>, Error> {
        match self.0.get_ref(i).map_err(Error::sqlite_any)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(Some)
                .map_err(|_| Error::Corrupt("text column is not UTF-8")),
            _ => Err(Error::Corrupt("expected a text column")),
        }
    }

    fn blob(&self, i: usize) -> Result<Option<&[u8]>, Error> {
        match self.0.get_ref(i).map_err(Error::sqlite_any)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b)),
            _ => Err(Error::Corrupt("expected a binary column")),
        }
    }
}
