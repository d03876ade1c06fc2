//! Where statements run: pooled connections, write transactions (with the record counts they
//! keep), readers for a unit of work or what is committed, relaxed writers, and the executor
//! that renders sea-query statements for the connected backend.

use super::{AnyRow, Db, PgAside, Pooler};
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_binder::SqlxBinder;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection};

pub(crate) enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
    /// Through a pooler in transaction mode ([`Pooler`]).
    PostgresTx(sqlx::Transaction<'static, Postgres>),
}

impl Conn {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Conn::Sqlite(c) => Exec::Sqlite(c),
            Conn::Postgres(c) => Exec::Postgres(c, true, None),
            Conn::PostgresTx(t) => Exec::Postgres(t, false, None),
        }
    }
}

/// A write transaction, with the changes to its tenants' record counts that it writes when it
/// commits ([`crate::counts`]).
pub(crate) struct Tx {
    conn: TxConn,
    counts: crate::counts::Deltas,
}

/// A write transaction's connection; on PostgreSQL with whether statements may be named
/// ([`Pooler`]) and the code counters' pool.
pub(crate) enum TxConn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    /// The transaction, whether statements may be named, and the code counters' pool until a
    /// bump had to run inside the transaction (from then on they all do: the transaction
    /// holds its counter row, so a bump outside it would wait for it forever).
    Postgres(sqlx::Transaction<'static, Postgres>, bool, Option<PgPool>),
}

impl From<TxConn> for Tx {
    fn from(conn: TxConn) -> Self {
        Tx {
            conn,
            counts: Default::default(),
        }
    }
}

impl Tx {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match &mut self.conn {
            TxConn::Sqlite(t) => Exec::Sqlite(t),
            TxConn::Postgres(t, named, counters) => Exec::Postgres(t, *named, Some(counters)),
        }
    }

    /// Notes that this transaction made `n` records of kind `entity` live in `tenant` (or,
    /// negative, no longer live).
    pub(crate) fn count(&mut self, tenant: uuid::Uuid, entity: i16, n: i64) {
        self.counts.add(tenant, entity, n);
    }

    /// Writes the record counts' changes, then commits.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let counts = std::mem::take(&mut self.counts);
        let shards = match self.conn {
            TxConn::Sqlite(_) => 1,
            TxConn::Postgres(..) => crate::counts::PG_SHARDS,
        };
        if let Some(q) = counts.upsert(shards) {
            self.exec().execute(&q).await?;
        }
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await,
            TxConn::Postgres(t, _, _) => t.commit().await,
        }
    }
}

#[async_trait::async_trait]
impl crm_domain::work::Transaction for Tx {
    async fn commit(
        self: Box<Self>,
        audit: Vec<crm_domain::audit::Entry>,
    ) -> crm_domain::DomainResult<()> {
        let mut tx = *self;
        crate::audit::append(&mut tx.exec(), &audit).await?;
        tx.commit().await.map_err(crate::error::db_error)
    }

    /// A transaction-scoped advisory lock on PostgreSQL, keyed by tenant and scope. SQLite
    /// needs none: `BEGIN IMMEDIATE` holds the only write lock there is.
    async fn lock(
        &mut self,
        tenant: crm_domain::ids::TenantId,
        lock: crm_domain::work::Lock,
    ) -> crm_domain::DomainResult<()> {
        if let TxConn::Postgres(t, named, _) = &mut self.conn {
            let bytes = tenant.0.as_bytes();
            let mut key = [0u8; 8];
            for (i, b) in bytes.iter().enumerate() {
                key[i % 8] ^= *b;
            }
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(
                    i32::from_le_bytes([key[0], key[1], key[2], key[3]])
                        ^ i32::from_le_bytes([key[4], key[5], key[6], key[7]]),
                )
                .bind(lock.code() as i32)
                .persistent(*named)
                .execute(&mut **t)
                .await
                .map_err(crate::error::db_error)?;
        }
        Ok(())
    }

    fn as_any(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// The store's transaction inside a domain unit of work.
pub(crate) fn tx(w: &mut crm_domain::work::Work) -> crm_domain::DomainResult<&mut Tx> {
    w.downcast::<Tx>()
}

/// Where a read runs: a pooled connection, or the unit of work's transaction.
pub(crate) enum Reader<'a> {
    Pool(Conn),
    Tx(&'a mut Tx),
}

impl Reader<'_> {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Reader::Pool(c) => c.exec(),
            Reader::Tx(t) => t.exec(),
        }
    }
}

impl Db {
    /// A reader for `at`.
    pub(crate) async fn reader<'a>(
        &self,
        at: crm_domain::work::At<'a>,
    ) -> crm_domain::DomainResult<Reader<'a>> {
        Ok(match at {
            crm_domain::work::At::Committed => {
                Reader::Pool(self.read().await.map_err(crate::error::db_error)?)
            }
            crm_domain::work::At::Work(w) => Reader::Tx(tx(w)?),
        })
    }

    /// A reader for a point term search at `at` (a phone, an e-mail, a code: few matches,
    /// whatever the parameters): on PostgreSQL outside a unit of work, a connection that runs
    /// it on its generic plan ([`PgAside`]); else [`Db::reader`].
    pub(crate) async fn point_reader<'a>(
        &self,
        at: crm_domain::work::At<'a>,
    ) -> crm_domain::DomainResult<Reader<'a>> {
        match (self, &at) {
            (
                Db::Postgres(
                    _,
                    _,
                    PgAside {
                        point_reads: Some(pool),
                        ..
                    },
                ),
                crm_domain::work::At::Committed,
            ) => Ok(Reader::Pool(Conn::Postgres(
                pool.acquire().await.map_err(crate::error::db_error)?,
            ))),
            _ => self.reader(at).await,
        }
    }
}

impl Db {
    /// A writer for bookkeeping that may be lost in a crash without harm, such as a job's
    /// claim or outcome (the job then simply runs again); never for domain writes. On
    /// PostgreSQL a transaction whose commit does not wait for the disk
    /// (`synchronous_commit = off`); on SQLite the writer connection with each statement
    /// committing on its own (each is atomic, and the connection is the only writer), which
    /// spares the `BEGIN`/`COMMIT` round trips.
    pub(crate) async fn begin_relaxed(&self) -> Result<Relaxed, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { write, .. } => Relaxed::Sqlite(write.acquire().await?),
            Db::Postgres(pool, pooler, _) => {
                let mut t = pool.begin().await?;
                sqlx::query("SET LOCAL synchronous_commit TO OFF")
                    .persistent(pooler.named())
                    .execute(&mut *t)
                    .await?;
                Relaxed::Postgres(t, pooler.named())
            }
        })
    }

    /// One statement through a [`Db::begin_relaxed`] writer; returns the rows it touched.
    pub(crate) async fn write_relaxed<S: SqlxBinder + Sync>(
        &self,
        stmt: &S,
    ) -> crm_domain::DomainResult<u64> {
        use crate::error::db_error;
        let mut w = self.begin_relaxed().await.map_err(db_error)?;
        let n = w.exec().execute(stmt).await.map_err(db_error)?;
        w.commit().await.map_err(db_error)?;
        Ok(n)
    }

    /// Runs one durable write statement that commits on its own (the statement is its own
    /// transaction: no `BEGIN`/`COMMIT` round trips) and fetches the rows it returns.
    pub(crate) async fn fetch_alone<T: AnyRow, S: SqlxBinder + Sync>(
        &self,
        stmt: &S,
    ) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Db::Sqlite { write, .. } => {
                let mut c = write.acquire().await?;
                Exec::Sqlite(&mut c).fetch_all(stmt).await
            }
            Db::Postgres(pool, Pooler::None, _) => {
                let mut c = pool.acquire().await?;
                Exec::Postgres(&mut c, true, None).fetch_all(stmt).await
            }
            Db::Postgres(pool, Pooler::Transaction, _) => {
                let mut t = pool.begin().await?;
                let rows = Exec::Postgres(&mut t, false, None).fetch_all(stmt).await?;
                t.commit().await?;
                Ok(rows)
            }
        }
    }

    /// Runs one statement in a write transaction of its own; returns the rows it touched.
    pub(crate) async fn write<S: SqlxBinder + Sync>(
        &self,
        stmt: &S,
    ) -> crm_domain::DomainResult<u64> {
        use crate::error::db_error;
        let mut tx = self.begin().await.map_err(db_error)?;
        let n = tx.exec().execute(stmt).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }
}

/// See [`Db::begin_relaxed`].
pub(crate) enum Relaxed {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>, bool),
}

impl Relaxed {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Relaxed::Sqlite(c) => Exec::Sqlite(c),
            Relaxed::Postgres(t, named) => Exec::Postgres(t, *named, None),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Relaxed::Sqlite(_) => Ok(()),
            Relaxed::Postgres(t, _) => t.commit().await,
        }
    }
}

/// A borrowed connection of either backend that runs sea-query statements; on PostgreSQL with
/// whether statements may be kept prepared under a name ([`Pooler`]), and, in a write
/// transaction, the pool that reserves codes outside it ([`Exec::counter`]).
pub(crate) enum Exec<'a> {
    Sqlite(&'a mut SqliteConnection),
    /// The connection, whether statements may be named, and in a write transaction the code
    /// counters' pool (`None` in it once a bump ran inside the transaction).
    Postgres(&'a mut PgConnection, bool, Option<&'a mut Option<PgPool>>),
}

impl Exec<'_> {
    pub(crate) async fn execute<S: SqlxBinder + Sync>(
        &mut self,
        stmt: &S,
    ) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Exec::Sqlite(c) => {
                let (sql, values) = stmt.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(&sql, values)
                    .execute(&mut **c)
                    .await?
                    .rows_affected()
            }
            Exec::Postgres(c, named, _) => {
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(&sql, values)
                    .persistent(*named)
                    .execute(&mut **c)
                    .await?
                    .rows_affected()
            }
        })
    }

    pub(crate) async fn fetch_all<T: AnyRow, S: SqlxBinder + Sync>(
        &mut self,
        stmt: &S,
    ) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Exec::Sqlite(c) => {
                let (sql, values) = stmt.build_sqlx(SqliteQueryBuilder);
                sqlx::query_as_with(&sql, values).fetch_all(&mut **c).await
            }
            Exec::Postgres(c, named, _) => {
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_as_with(&sql, values)
                    .persistent(*named)
                    .fetch_all(&mut **c)
                    .await
            }
        }
    }

    /// Runs a code counter's bump (`crate::common::reserve`). On PostgreSQL inside a write
    /// transaction it is autocommitted on the counters' own pool, so the tenant's counter row
    /// is locked for that one statement instead of until the transaction commits: concurrent
    /// creates no longer queue behind each other's commits. A create that fails after it leaves
    /// a gap in the codes, as a sequence would. Elsewhere (SQLite, whose single writer
    /// serialises creates anyway) it runs in the transaction.
    pub(crate) async fn counter<T: AnyRow, S: SqlxBinder + Sync>(
        &mut self,
        stmt: &S,
    ) -> Result<Option<T>, sqlx::Error> {
        if let Exec::Postgres(_, named, Some(slot)) = self {
            let named = *named;
            let Some(counters) = slot.clone() else {
                return self.fetch_optional(stmt).await;
            };
            // Without a connection to spare (the server at its connection limit, say) the bump
            // runs in the transaction as before: slower under contention, never wrong (a bump
            // that did commit before failing leaves a gap only).
            let outside = match counters.acquire().await {
                Ok(mut c) => Exec::Postgres(&mut c, named, None)
                    .fetch_optional(stmt)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match outside {
                Ok(row) => return Ok(row),
                Err(error) => {
                    tracing::warn!(
                        %error,
                        "reserving codes outside the transaction failed; reserving inside it"
                    );
                    // The transaction now holds its counter row: its later bumps stay inside.
                    if let Exec::Postgres(_, _, Some(slot)) = self {
                        **slot = None;
                    }
                }
            }
        }
        self.fetch_optional(stmt).await
    }

    pub(crate) async fn fetch_optional<T: AnyRow, S: SqlxBinder + Sync>(
        &mut self,
        stmt: &S,
    ) -> Result<Option<T>, sqlx::Error> {
        match self {
            Exec::Sqlite(c) => {
                let (sql, values) = stmt.build_sqlx(SqliteQueryBuilder);
                sqlx::query_as_with(&sql, values)
                    .fetch_optional(&mut **c)
                    .await
            }
            Exec::Postgres(c, named, _) => {
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_as_with(&sql, values)
                    .persistent(*named)
                    .fetch_optional(&mut **c)
                    .await
            }
        }
    }
}

/// A single `i64` column, e.g. `COUNT(*)`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Scalar {
    pub value: i64,
}
