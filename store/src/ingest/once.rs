//! One stored copy per report identity, for each kind of report (aggregate and SMTP TLS):
//! the insert of a new identity, the choice between a duplicate and a more complete copy that
//! replaces the stored one, and the record of which inputs delivered each report.

use super::Provenance;
use crate::db::{Conn, Param};
use crate::error::Error;

/// The statements that keep one kind of report once per identity.
#[derive(Debug)]
pub(crate) struct KeptOnce {
    /// Inserts a report, its identity columns first; does nothing when the identity is stored
    /// already, and otherwise returns the new `id`.
    pub(crate) insert: &'static str,
    /// How many of the insert's parameters, from the first, are the identity.
    pub(crate) identity: usize,
    /// The stored copy of an identity (the parameters are the insert's identity ones): its
    /// `id`, the [`Completeness::counts`] columns in their order, then `defect_count`.
    #[cfg(feature = "sqlite")]
    pub(crate) select_stored: &'static str,
    /// [`select_stored`](Self::select_stored) ending in `FOR UPDATE`: the row stays locked
    /// until the transaction ends, so two workers never both replace it.
    #[cfg(feature = "postgres")]
    pub(crate) select_stored_for_update: &'static str,
    /// Delete the child rows of report `$1`, before a more complete copy writes its own.
    pub(crate) children: &'static [&'static str],
    /// Rewrites a stored report: the parameters are the columns other than identity and
    /// provenance, then [`Provenance::params`], then the `id`.
    pub(crate) update: &'static str,
    /// Which inputs delivered each report.
    pub(crate) deliveries: Deliveries,
}

/// How complete one copy of a report is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Completeness<'a> {
    /// What a more complete copy has more of, the first deciding (records; policies, then
    /// failure details).
    pub(crate) counts: &'a [i64],
    /// Its content defects ([`content_defects`](super::content_defects)): with the same
    /// counts, the copy with fewer is the more complete.
    pub(crate) defects: i64,
}

/// What [`KeptOnce::insert_or_compare`] did with a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// A new identity, inserted as report `id`: its child rows are to be written.
    New(i64),
    /// A copy no more complete than the stored one: nothing more to do.
    Duplicate,
    /// A more complete copy of report `id`, whose child rows are deleted: the report is to
    /// be [updated](KeptOnce::update) and its child rows written again.
    Replacing(i64),
}

impl KeptOnce {
    /// Inserts a report (`params` as [`insert`](Self::insert) takes them), or, when its
    /// identity is stored already (by an earlier input, or by another worker that committed
    /// while this insert waited on the unique key), compares it with the stored copy. In
    /// every case `from` is recorded as a delivery of the report.
    pub(crate) async fn insert_or_compare(
        &self,
        conn: &mut Conn,
        params: &[Param<'_>],
        candidate: Completeness<'_>,
        from: &Provenance<'_>,
    ) -> Result<Kept, Error> {
        if let Some(pk) = conn.int_opt(self.insert, params).await? {
            self.deliveries.insert(conn, pk, from).await?;
            return Ok(Kept::New(pk));
        }
        let select = match conn.dialect() {
            #[cfg(feature = "sqlite")]
            crate::db::Dialect::Sqlite => self.select_stored,
            #[cfg(feature = "postgres")]
            crate::db::Dialect::Postgres => self.select_stored_for_update,
        };
        let counts = candidate.counts.len();
        let identity = params.get(..self.identity).unwrap_or_default();
        let stored = conn
            .collect(select, identity, |row| {
                let values = (0..counts + 2)
                    .map(|i| row.req_int(i))
                    .collect::<Result<Vec<i64>, Error>>()?;
                Ok(values)
            })
            .await?;
        let Some([pk, stored_counts @ .., stored_defects]) = stored.first().map(Vec::as_slice)
        else {
            return Err(Error::Corrupt("a conflicting report vanished"));
        };
        let pk = *pk;
        self.deliveries.count(conn, pk, from).await?;
        let more_complete = candidate.counts > stored_counts
            || (candidate.counts == stored_counts && candidate.defects < *stored_defects);
        if !more_complete {
            return Ok(Kept::Duplicate);
        }
        for sql in self.children {
            conn.execute(sql, &[Param::int(pk)]).await?;
        }
        Ok(Kept::Replacing(pk))
    }

    /// Rewrites report `pk` with `columns` (the columns other than identity and provenance)
    /// and `from`.
    pub(crate) async fn update(
        &self,
        conn: &mut Conn,
        pk: i64,
        mut columns: Vec<Param<'_>>,
        from: &Provenance<'_>,
    ) -> Result<(), Error> {
        columns.extend(from.params());
        columns.push(Param::int(pk));
        conn.execute(self.update, &columns).await.map(|_| ())
    }
}

/// The statements that record which inputs delivered a stored report, for one kind of report
/// (aggregate or SMTP TLS): each distinct input once, and the report's count of them.
#[derive(Debug)]
pub(crate) struct Deliveries {
    /// Inserts `(report, content_hash, source, container, message_id, ingested_at)`, doing
    /// nothing when these bytes delivered the report already.
    pub(crate) insert: &'static str,
    /// Adds one to the `deliveries` of report `$1`.
    pub(crate) count: &'static str,
}

impl Deliveries {
    /// Records that `from` carried report `pk`; `false` when these bytes already did.
    async fn insert(&self, conn: &mut Conn, pk: i64, from: &Provenance<'_>) -> Result<bool, Error> {
        let n = conn
            .execute(
                self.insert,
                &[
                    Param::int(pk),
                    Param::from(from.content_hash),
                    Param::from(from.source),
                    Param::from(from.container),
                    Param::from(from.message_id),
                    Param::int(from.now),
                ],
            )
            .await?;
        Ok(n > 0)
    }

    /// [`insert`](Self::insert) for a report stored before: a new input also counts in its
    /// `deliveries`.
    async fn count(&self, conn: &mut Conn, pk: i64, from: &Provenance<'_>) -> Result<(), Error> {
        if self.insert(conn, pk, from).await? {
            conn.execute(self.count, &[Param::int(pk)]).await?;
        }
        Ok(())
    }
}
