//! One database handle over SQLite or PostgreSQL.
//!
//! Statements are built once with sea-query and rendered for whichever backend is
//! connected; rows decode into structs that derive `FromRow` for both.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_binder::SqlxBinder;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{FromRow, PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};

/// A row type both backends can decode.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// Pool sizes and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The connected database. SQLite gets a read pool and a single-connection write pool,
/// so writers queue in-process instead of fighting over the file lock.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

impl Db {
    /// Connects to `url`: `postgres://…`/`postgresql://…` selects PostgreSQL, `sqlite:…` SQLite
    /// (the file and its directory are created when missing).
    pub async fn connect(url: &str, settings: PoolSettings) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // As on SQLite (below): few statements repeat; the large ones need not stay.
            let opts = PgConnectOptions::from_str(url)
                .context("parsing the PostgreSQL URL")?
                .statement_cache_capacity(24);
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .test_before_acquire(false)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts)
                .await
                .context("connecting to PostgreSQL")?;
            return Ok(Db::Postgres(pool));
        }
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("parsing the SQLite URL '{url}'"))?;
        let path = opts.get_filename().to_owned();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the data directory {}", dir.display()))?;
            }
        }
        let opts = opts
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // Prepared statements kept per connection: a multi-row insert or a long `IN` list
            // prepares to a large program (hundreds of KiB), so a long cache of them (sqlx keeps
            // 100) holds tens of MiB; the statements that repeat are far fewer than this.
            .statement_cache_capacity(24);
        // Page cache per connection (KiB): the one writer keeps the indexes it updates at
        // hand; the readers, which the pool multiplies, share the operating system's cache of
        // the file and keep little of their own (16 of them hold at most 8 MiB).
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(opts.clone().pragma("cache_size", "-4096"))
            .await
            .with_context(|| format!("opening SQLite database {}", display(&path)))?;
        // Separate connections see one database only when it is a file.
        let read = SqlitePoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .test_before_acquire(false)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(opts.pragma("cache_size", "-512"))
            .await
            .with_context(|| format!("opening SQLite database {}", display(&path)))?;
        Ok(Db::Sqlite { read, write })
    }

    /// Applies pending migrations for the connected backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite")
                .run(write)
                .await
                .context("migrating SQLite")?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres")
                .run(pool)
                .await
                .context("migrating PostgreSQL")?,
        }
        Ok(())
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { read, .. } => sqlx::query("SELECT 1").execute(read).await.map(|_| ())?,
            Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Analyses the tables that changed much since their statistics were taken (PostgreSQL;
    /// a no-op on SQLite, whose plans are fixed by the statements' shape). Without statistics
    /// PostgreSQL picks scans that grow with the table, and autovacuum may be off.
    /// Returns how many tables were analysed.
    pub async fn refresh_statistics(&self) -> anyhow::Result<usize> {
        let Db::Postgres(pool) = self else {
            return Ok(0);
        };
        let stale: Vec<(String,)> = sqlx::query_as(
            "SELECT relname::text FROM pg_stat_user_tables \
             WHERE n_mod_since_analyze > 1000 + n_live_tup / 10",
        )
        .fetch_all(pool)
        .await?;
        for (table,) in &stale {
            sqlx::raw_sql(&format!("ANALYZE \"{}\"", table.replace('"', "\"\"")))
                .execute(pool)
                .await?;
        }
        Ok(stale.len())
    }

    /// Connections open in the pool (the writer's and readers' on SQLite) and idle among them.
    pub fn pool_state(&self) -> (u32, usize) {
        match self {
            Db::Sqlite { read, write } => (
                read.size() + write.size(),
                read.num_idle() + write.num_idle(),
            ),
            Db::Postgres(pool) => (pool.size(), pool.num_idle()),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// A pooled connection for reads outside a transaction.
    pub(crate) async fn read(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { read, .. } => Conn::Sqlite(read.acquire().await?),
            Db::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }

    /// A write transaction. On SQLite it takes the database's write lock at once
    /// (`BEGIN IMMEDIATE`), so that its reads and writes see no other writer until it ends,
    /// whichever process that writer is in.
    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

pub(crate) enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Conn {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Conn::Sqlite(c) => Exec::Sqlite(c),
            Conn::Postgres(c) => Exec::Postgres(c),
        }
    }
}

pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Tx::Sqlite(t) => Exec::Sqlite(t),
            Tx::Postgres(t) => Exec::Postgres(t),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

#[async_trait::async_trait]
impl crm_domain::work::Transaction for Tx {
    async fn commit(self: Box<Self>) -> crm_domain::DomainResult<()> {
        (*self).commit().await.map_err(crate::error::db_error)
    }

    /// A transaction-scoped advisory lock on PostgreSQL, keyed by tenant and scope. SQLite
    /// needs none: `BEGIN IMMEDIATE` holds the only write lock there is.
    async fn lock(
        &mut self,
        tenant: crm_domain::ids::TenantId,
        lock: crm_domain::work::Lock,
    ) -> crm_domain::DomainResult<()> {
        if let Tx::Postgres(t) = self {
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
            Db::Postgres(pool) => {
                let mut t = pool.begin().await?;
                sqlx::query("SET LOCAL synchronous_commit TO OFF")
                    .execute(&mut *t)
                    .await?;
                Relaxed::Postgres(t)
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
            Db::Postgres(pool) => {
                let mut c = pool.acquire().await?;
                Exec::Postgres(&mut c).fetch_all(stmt).await
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
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Relaxed {
    pub(crate) fn exec(&mut self) -> Exec<'_> {
        match self {
            Relaxed::Sqlite(c) => Exec::Sqlite(c),
            Relaxed::Postgres(t) => Exec::Postgres(t),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Relaxed::Sqlite(_) => Ok(()),
            Relaxed::Postgres(t) => t.commit().await,
        }
    }
}

/// A borrowed connection of either backend that runs sea-query statements.
pub(crate) enum Exec<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
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
            Exec::Postgres(c) => {
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(&sql, values)
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
            Exec::Postgres(c) => {
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_as_with(&sql, values).fetch_all(&mut **c).await
            }
        }
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
            Exec::Postgres(c) => {
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_as_with(&sql, values)
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
