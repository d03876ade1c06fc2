//! One database handle over SQLite or PostgreSQL.
//!
//! Statements are built once with sea-query and rendered for whichever backend is
//! connected; rows decode into structs that derive `FromRow` for both.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

mod conn;

pub(crate) use conn::{tx, Conn, Exec, Scalar, Tx, TxConn};

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{FromRow, PgPool, SqlitePool};

/// A row type both backends can decode.
pub trait AnyRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> AnyRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A row of `R` and the column `total_matches` beside it (a window count of the rows a page
/// was cut from), so a page and its total come back in one statement.
pub struct Counted<R> {
    pub row: R,
    pub total: i64,
}

impl<'r, R: FromRow<'r, SqliteRow>> FromRow<'r, SqliteRow> for Counted<R> {
    fn from_row(row: &'r SqliteRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        Ok(Self {
            row: R::from_row(row)?,
            total: row.try_get("total_matches")?,
        })
    }
}

impl<'r, R: FromRow<'r, PgRow>> FromRow<'r, PgRow> for Counted<R> {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        Ok(Self {
            row: R::from_row(row)?,
            total: row.try_get("total_matches")?,
        })
    }
}

/// The file a SQLite URL names.
pub fn sqlite_path(url: &str) -> anyhow::Result<std::path::PathBuf> {
    let opts = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("parsing the SQLite URL '{url}'"))?;
    Ok(opts.get_filename().to_owned())
}

/// Pool sizes and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// What stands between us and PostgreSQL.
    pub pooler: Pooler,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
            pooler: Pooler::None,
        }
    }
}

/// How statements reach PostgreSQL (`CRM_DATABASE_POOLER`).
///
/// Straight (`None`), each connection keeps its statements prepared under names. Through a
/// pooler in transaction mode (`Transaction`, pgbouncer's `pool_mode = transaction`), a
/// connection of ours is a different server connection from one transaction to the next, so
/// nothing may outlive a transaction there: statements are unnamed (no cache), and every one
/// runs inside a transaction, reads included (between an unnamed statement's parse and its
/// execution the pooler could otherwise hand us another server). Locks are transaction-scoped
/// advisory locks already; migrations need a direct connection (`CRM_DATABASE_DIRECT_URL`),
/// because sqlx's migrator holds a session lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooler {
    #[default]
    None,
    Transaction,
}

impl Pooler {
    /// Whether statements may be kept prepared under a name.
    fn named(self) -> bool {
        self == Pooler::None
    }
}

/// The connected database. SQLite gets a read pool and a single-connection write pool,
/// so writers queue in-process instead of fighting over the file lock.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    /// The pool, the pooler in front, and the pools beside it ([`PgAside`]).
    Postgres(PgPool, Pooler, PgAside),
}

/// PostgreSQL's pools beside the main one, each opened lazily and never holding a connection
/// while the main pool is waited for.
#[derive(Debug, Clone)]
pub struct PgAside {
    /// Reserves codes outside the unit of work ([`Exec::counter`]).
    counters: PgPool,
    /// Reads point term searches ([`Db::point_reader`]): its connections run prepared
    /// statements on their generic plan (`plan_cache_mode = force_generic_plan`). A phone,
    /// e-mail or code search is planned for 0.6-1.7 ms against 0.4 ms of execution, and
    /// PostgreSQL keeps re-planning it for its parameters (the custom plan looks cheaper than
    /// the generic one); its generic plan is the same index-range plan, planned once per
    /// connection. Not for other reads: a page's `LIMIT`/`OFFSET` and a range's bounds are
    /// what a generic plan cannot see (a deep page took 1.5 s on generic plans against 0.13 s).
    /// `None` behind a pooler in transaction mode, whose statements are unnamed (planned once
    /// each anyway).
    point_reads: Option<PgPool>,
}

impl Db {
    /// Connects to `url`: `postgres://…`/`postgresql://…` selects PostgreSQL, `sqlite:…` SQLite
    /// (the file and its directory are created when missing).
    pub async fn connect(url: &str, settings: PoolSettings) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // As on SQLite (below): few statements repeat; the large ones need not stay.
            let opts = PgConnectOptions::from_str(url)
                .context("parsing the PostgreSQL URL")?
                .statement_cache_capacity(if settings.pooler.named() { 24 } else { 0 });
            // Codes are reserved on connections of their own, one autocommitted statement
            // each, so no create holds a tenant's counter row until its commit (two at most,
            // opened when first needed; never held while waiting for the main pool).
            let counters = PgPoolOptions::new()
                .max_connections(2)
                .min_connections(0)
                .test_before_acquire(false)
                // Soon given up: the bump then runs in the transaction (`Exec::counter`).
                .acquire_timeout(settings.acquire_timeout.min(Duration::from_secs(1)))
                .connect_lazy_with(opts.clone());
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .test_before_acquire(false)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts.clone())
                .await
                .context("connecting to PostgreSQL")?;
            let point_reads = settings.pooler.named().then(|| {
                PgPoolOptions::new()
                    .max_connections((settings.max_connections / 2).max(1))
                    .min_connections(0)
                    .test_before_acquire(false)
                    .idle_timeout(Duration::from_secs(60))
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_lazy_with(
                        opts.application_name(POINT_READS_APPLICATION)
                            .options([("plan_cache_mode", "force_generic_plan")]),
                    )
            });
            let aside = PgAside {
                counters,
                point_reads,
            };
            return Ok(Db::Postgres(pool, settings.pooler, aside));
        }
        let opts = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("parsing the SQLite URL '{url}'"))?;
        let path = opts.get_filename().to_owned();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::files::private_dir(dir)
                    .with_context(|| format!("creating the data directory {}", dir.display()))?;
            }
            // Made owner-only before SQLite opens it; its WAL and shared-memory files take the
            // database file's mode.
            crate::files::private_file(&path)
                .with_context(|| format!("creating the database {}", path.display()))?;
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
        // The writer checkpoints only as a safety net (the WAL past about 32 MiB): a server
        // checkpoints from a reader between commits (`Db::checkpoint`), so that no commit
        // waits for the WAL to be copied into the database and the file to be synced.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(
                opts.clone()
                    .pragma("cache_size", "-4096")
                    .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string()),
            )
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
            Db::Postgres(_, Pooler::Transaction, _) => anyhow::bail!(
                "migrations need a direct connection to PostgreSQL, not one through a pooler in \
                 transaction mode: set CRM_DATABASE_DIRECT_URL"
            ),
            Db::Postgres(pool, Pooler::None, _) => sqlx::migrate!("./migrations/postgres")
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
            // The simple protocol: nothing prepared (a pooler may stand between).
            Db::Postgres(pool, _, _) => {
                sqlx::raw_sql("SELECT 1").execute(pool).await.map(|_| ())?
            }
        }
        Ok(())
    }

    /// SQLite: a consistent copy of the whole database at `to` (`VACUUM INTO`, from a read
    /// connection: writers go on meanwhile), made owner-only. `to` must not exist.
    pub async fn snapshot_sqlite(&self, to: &Path) -> anyhow::Result<()> {
        let Db::Sqlite { read, .. } = self else {
            anyhow::bail!("a SQLite snapshot of a PostgreSQL database");
        };
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::private_dir(dir)?;
        }
        sqlx::query("VACUUM INTO ?")
            .bind(to.to_string_lossy().into_owned())
            .execute(read)
            .await
            .with_context(|| format!("VACUUM INTO {}", to.display()))?;
        #[cfg(unix)]
        std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        Ok(())
    }

    /// Whether the table exists (a restore looks before it writes).
    pub async fn has_table(&self, name: &str) -> anyhow::Result<bool> {
        let n: i64 = match self {
            Db::Sqlite { read, .. } => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                )
                .bind(name)
                .fetch_one(read)
                .await?
            }
            Db::Postgres(pool, _, _) => {
                let mut t = pool.begin().await?;
                let n = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = $1",
                )
                .bind(name)
                .persistent(false)
                .fetch_one(&mut *t)
                .await?;
                t.commit().await?;
                n
            }
        };
        Ok(n > 0)
    }

    /// Whether the database holds any tenant (a restore goes only into an empty one).
    pub async fn has_tenants(&self) -> anyhow::Result<bool> {
        let n: i64 = match self {
            Db::Sqlite { read, .. } => {
                sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
                    .fetch_one(read)
                    .await?
            }
            Db::Postgres(pool, _, _) => {
                let mut t = pool.begin().await?;
                let n = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
                    .persistent(false)
                    .fetch_one(&mut *t)
                    .await?;
                t.commit().await?;
                n
            }
        };
        Ok(n > 0)
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool, _, aside) => {
                pool.close().await;
                aside.counters.close().await;
                if let Some(point_reads) = &aside.point_reads {
                    point_reads.close().await;
                }
            }
        }
    }

    /// Analyses the tables that changed much since their statistics were taken (PostgreSQL;
    /// a no-op on SQLite, whose plans are fixed by the statements' shape). Without statistics
    /// PostgreSQL picks scans that grow with the table. Where autovacuum is off, it vacuums
    /// them too, and the tables that took many rows since their last vacuum: without it, the
    /// rows inserted since are missing from the visibility map, so every count of a tenant's
    /// records (each list's total) visits them in the table, at a cost that grows all day.
    /// Returns how many tables were analysed or vacuumed.
    pub async fn refresh_statistics(&self) -> anyhow::Result<usize> {
        let Db::Postgres(pool, _, _) = self else {
            return Ok(0);
        };
        let (autovacuum,): (bool,) = sqlx::query_as("SELECT current_setting('autovacuum') = 'on'")
            .persistent(false)
            .fetch_one(pool)
            .await?;
        // (name, statistics stale, many rows since the last vacuum)
        let stale: Vec<(String, bool, bool)> = sqlx::query_as(
            "SELECT * FROM ( \
               SELECT relname::text AS name, \
                      n_mod_since_analyze > 1000 + n_live_tup / 10 AS stale, \
                      NOT $1 AND n_ins_since_vacuum + n_dead_tup > 1000 + n_live_tup / 50 \
                        AS worn \
               FROM pg_stat_user_tables) t \
             WHERE stale OR worn",
        )
        .bind(autovacuum)
        .persistent(false)
        .fetch_all(pool)
        .await?;
        for (table, analyse, vacuum) in &stale {
            let table = table.replace('"', "\"\"");
            // A vacuum without ANALYZE when the statistics are fresh: sampling a large table
            // holds a snapshot (and the cleanup of hot rows such as the code counters) back.
            // SKIP_LOCKED: another node vacuuming the same table already does the work.
            let statement = match (analyse, vacuum) {
                (true, true) => format!("VACUUM (ANALYZE, SKIP_LOCKED) \"{table}\""),
                (false, true) => format!("VACUUM (SKIP_LOCKED) \"{table}\""),
                _ => format!("ANALYZE \"{table}\""),
            };
            sqlx::raw_sql(&statement).execute(pool).await?;
        }
        Ok(stale.len())
    }

    /// Copies what the SQLite WAL holds into the database file, as far as no reader still
    /// needs it, from a reader connection and without waiting for the writer (a passive
    /// checkpoint): the server does it every [`CHECKPOINT_EVERY`], so that commits on the one
    /// writer never carry a checkpoint themselves. Returns the WAL's frames and how many of
    /// them are in the database now; `None` on PostgreSQL.
    pub async fn checkpoint(&self) -> anyhow::Result<Option<(i64, i64)>> {
        let Db::Sqlite { read, .. } = self else {
            return Ok(None);
        };
        let (_busy, frames, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(read)
                .await?;
        Ok(Some((frames, copied)))
    }

    /// Connections open in the pool (the writer's and readers' on SQLite) and idle among them.
    pub fn pool_state(&self) -> (u32, usize) {
        match self {
            Db::Sqlite { read, write } => (
                read.size() + write.size(),
                read.num_idle() + write.num_idle(),
            ),
            Db::Postgres(pool, _, _) => (pool.size(), pool.num_idle()),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(..) => "postgres",
        }
    }

    /// A pooled connection for reads outside a transaction.
    pub(crate) async fn read(&self) -> Result<Conn, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { read, .. } => Conn::Sqlite(read.acquire().await?),
            Db::Postgres(pool, Pooler::None, _) => Conn::Postgres(pool.acquire().await?),
            // Read in a transaction (see `Pooler`); dropped, it rolls back: nothing was written.
            Db::Postgres(pool, Pooler::Transaction, _) => Conn::PostgresTx(pool.begin().await?),
        })
    }

    /// A write transaction. On SQLite it takes the database's write lock at once
    /// (`BEGIN IMMEDIATE`), so that its reads and writes see no other writer until it ends,
    /// whichever process that writer is in.
    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite { write, .. } => TxConn::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool, pooler, aside) => TxConn::Postgres(
                pool.begin().await?,
                pooler.named(),
                Some(aside.counters.clone()),
            ),
        }
        .into())
    }
}

/// The `application_name` of the point-read connections ([`PgAside`]), as `pg_stat_activity`
/// shows it.
pub const POINT_READS_APPLICATION: &str = "crm point reads";

/// WAL pages after which the SQLite writer checkpoints by itself (SQLite's default is 1,000):
/// only when the server's own checkpoints ([`Db::checkpoint`]) do not run, as in a CLI command.
pub const WRITER_CHECKPOINT_PAGES: u32 = 8_000;

/// How often a server checkpoints the SQLite WAL ([`Db::checkpoint`]).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

fn display(path: &Path) -> String {
    path.display().to_string()
}
