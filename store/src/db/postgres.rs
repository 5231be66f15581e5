//! The shared backend: PostgreSQL through tokio-postgres, for several ingest workers on
//! several machines. Each connection keeps its prepared statements; bulk inserts send one
//! array per column (`INSERT … SELECT * FROM UNNEST(…)`), one round trip per table.

use std::collections::HashMap;

use futures_util::{StreamExt as _, pin_mut};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Statement};

use super::{ColumnType, Param, Row, Table};
use crate::error::Error;

pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PgConn {
    pub(crate) async fn connect(url: &str) -> Result<Self, Error> {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(Error::postgres)?;
        // The connection drives the socket; it ends when the client is dropped.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            client,
            statements: HashMap::new(),
        })
    }

    /// A closed connection is never reused (transactions are tracked by `Conn`).
    pub(crate) fn in_transaction(&self) -> bool {
        self.client.is_closed()
    }

    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(Error::postgres)
    }

    async fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).await.map_err(Error::postgres)?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub(crate) async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Error> {
        self.execute_bound(sql, &bind(params)).await
    }

    /// Executes `sql` (prepared once per connection) with `values`; returns the rows changed.
    async fn execute_bound(
        &mut self,
        sql: &str,
        values: &[Box<dyn ToSql + Sync + Send>],
    ) -> Result<u64, Error> {
        let stmt = self.statement(sql).await?;
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        self.client
            .execute(&stmt, &refs)
            .await
            .map_err(Error::postgres)
    }

    pub(crate) async fn for_each(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        f: &mut (dyn FnMut(&dyn Row) -> Result<(), Error> + Send),
    ) -> Result<(), Error> {
        let stmt = self.statement(sql).await?;
        let values = bind(params);
        let stream = self
            .client
            .query_raw(
                &stmt,
                values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)),
            )
            .await
            .map_err(Error::postgres)?;
        pin_mut!(stream);
        while let Some(row) = stream.next().await {
            let row = row.map_err(Error::postgres)?;
            f(&PgRow(&row))?;
        }
        Ok(())
    }

    pub(crate) async fn insert_rows(
        &mut self,
        table: &Table,
        rows: &[Vec<Param<'_>>],
    ) -> Result<u64, Error> {
        let mut columns: Vec<Box<dyn ToSql + Sync + Send>> =
            Vec::with_capacity(table.columns.len());
        let mut casts = Vec::with_capacity(table.columns.len());
        for (i, (_, col)) in table.columns.iter().enumerate() {
            match col {
                ColumnType::Int => {
                    let mut v: Vec<Option<i64>> = Vec::with_capacity(rows.len());
                    for row in rows {
                        v.push(match row.get(i) {
                            Some(Param::Int(x)) => *x,
                            _ => return Err(Error::Corrupt("bulk insert: expected an integer")),
                        });
                    }
                    columns.push(Box::new(v));
                    casts.push(format!("${}::BIGINT[]", i + 1));
                }
                ColumnType::Text => {
                    let mut v: Vec<Option<String>> = Vec::with_capacity(rows.len());
                    for row in rows {
                        v.push(match row.get(i) {
                            Some(Param::Text(x)) => x.map(str::to_owned),
                            _ => return Err(Error::Corrupt("bulk insert: expected text")),
                        });
                    }
                    columns.push(Box::new(v));
                    casts.push(format!("${}::TEXT[]", i + 1));
                }
            }
        }
        let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}){}",
            table.name,
            names.join(", "),
            casts.join(", "),
            table.on_conflict
        );
        self.execute_bound(&sql, &columns).await
    }
}

fn bind(params: &[Param<'_>]) -> Vec<Box<dyn ToSql + Sync + Send>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match *p {
                Param::Int(v) => Box::new(v),
                Param::Text(v) => Box::new(v.map(str::to_owned)),
                Param::Blob(v) => Box::new(v.to_vec()),
            }
        })
        .collect()
}

struct PgRow<'a>(&'a tokio_postgres::Row);

impl Row for PgRow<'_> {
    fn int(&self, i: usize) -> Result<Option<i64>, Error> {
        let ty = self
            .0
            .columns()
            .get(i)
            .map(|c| c.type_().clone())
            .ok_or(Error::Corrupt("column index out of range"))?;
        if ty == Type::INT4 {
            return Ok(self
                .0
                .try_get::<_, Option<i32>>(i)
                .map_err(Error::postgres)?
                .map(i64::from));
        }
        if ty == Type::INT2 {
            return Ok(self
                .0
                .try_get::<_, Option<i16>>(i)
                .map_err(Error::postgres)?
                .map(i64::from));
        }
        self.0.try_get(i).map_err(Error::postgres)
    }

    fn text(&self, i: usize) -> Result<Option<&str>, Error> {
        self.0.try_get(i).map_err(Error::postgres)
    }

    fn blob(&self, i: usize) -> Result<Option<&[u8]>, Error> {
        self.0.try_get(i).map_err(Error::postgres)
    }
}
