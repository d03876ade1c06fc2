//! `cargo bench -p crm-server --bench jobs -- [--database postgres://…] [--jobs N]`
//!
//! The job engine against a raw baseline written directly in SQL on the same database in the
//! same run: enqueue rate (one job per transaction, 4 callers) and no-op job throughput (4
//! workers; raw: a `SKIP LOCKED` claim-and-delete loop), then the latency from a customer
//! create (a unit of work that emits `customer.created`) to the signed webhook arriving at a
//! local receiver, on an idle server. Prints a table; nothing is asserted.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crm_domain::customer::{Customer, CustomerInput};
use crm_domain::jobs::NewJob;
use crm_server::{App, Config};
use sqlx::Connection;

const CALLERS: usize = 4;

struct Bench {
    app: App,
    url: String,
    actor: crm_domain::Actor,
    pg: bool,
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

async fn setup(pg_base: Option<&str>, dir: &std::path::Path) -> Bench {
    let url = match pg_base {
        Some(base) => {
            let name = format!("crm_jobs_bench_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(base).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
        None => format!("sqlite://{}/bench.db", dir.display()),
    };
    let mut config = Config::with_database(&url);
    config.workers = CALLERS;
    config.job_poll_ms = 10;
    config.webhook_allow_private = true;
    let app = App::connect(&config).await.unwrap();
    let tenant = app
        .state
        .auth
        .create_tenant("Bench", Some("bench"), None)
        .await
        .unwrap();
    let actor = tenant.actor(uuid::Uuid::nil(), "bench");
    Bench {
        app,
        url,
        actor,
        pg: pg_base.is_some(),
    }
}

/// The raw baseline's own connection pool on the same database.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    /// Durable commits (as enqueueing is), and relaxed ones (as job bookkeeping is).
    Pg(sqlx::PgPool, sqlx::PgPool),
}

async fn raw(b: &Bench) -> Raw {
    if b.pg {
        // The engine's bookkeeping commits without waiting for the disk
        // (`synchronous_commit = off`); so does the baseline, so the two compare like for like.
        let opts: sqlx::postgres::PgConnectOptions = b.url.parse().unwrap();
        let pool = |o: sqlx::postgres::PgConnectOptions| async move {
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(CALLERS as u32)
                .connect_with(o)
                .await
                .unwrap()
        };
        Raw::Pg(
            pool(opts.clone()).await,
            pool(opts.options([("synchronous_commit", "off")])).await,
        )
    } else {
        let opts: sqlx::sqlite::SqliteConnectOptions = b.url.parse().unwrap();
        Raw::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(
                    opts.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(30)),
                )
                .await
                .unwrap(),
        )
    }
}

const INSERT_PG: &str = "INSERT INTO jobs (id, tenant_id, kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at) VALUES ($1, $2, 'raw', '{}', 'queued', 0, 3, $3, $3, $3)";
const INSERT_SQLITE: &str = "INSERT INTO jobs (id, tenant_id, kind, payload, state, attempts, max_attempts, run_at, created_at, updated_at) VALUES (?1, ?2, 'raw', '{}', 'queued', 0, 3, ?3, ?3, ?3)";
const CLAIM_PG: &str = "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND kind = 'raw' AND run_at <= $1 ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id";
const CLAIM_SQLITE: &str = "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND kind = 'raw' AND run_at <= ?1 ORDER BY run_at LIMIT 1) RETURNING id";

async fn raw_insert(raw: &Raw, tenant: uuid::Uuid) {
    let now = chrono::Utc::now();
    match raw {
        Raw::Pg(p, _) => {
            sqlx::query(INSERT_PG)
                .bind(uuid::Uuid::now_v7())
                .bind(tenant)
                .bind(now)
                .execute(p)
                .await
                .unwrap();
        }
        Raw::Sqlite(p) => {
            sqlx::query(INSERT_SQLITE)
                .bind(uuid::Uuid::now_v7())
                .bind(tenant)
                .bind(now)
                .execute(p)
                .await
                .unwrap();
        }
    }
}

/// Claims and deletes one due raw job; `false` when none is left.
async fn raw_claim(raw: &Raw) -> bool {
    let now = chrono::Utc::now();
    match raw {
        Raw::Pg(_, p) => sqlx::query(CLAIM_PG)
            .bind(now)
            .fetch_optional(p)
            .await
            .unwrap()
            .is_some(),
        Raw::Sqlite(p) => sqlx::query(CLAIM_SQLITE)
            .bind(now)
            .fetch_optional(p)
            .await
            .unwrap()
            .is_some(),
    }
}

/// Runs `n` calls of `f` from `CALLERS` tasks; returns calls per second.
async fn rate<F, Fut>(n: usize, f: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let left = Arc::new(std::sync::atomic::AtomicUsize::new(n));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let (f, left) = (f.clone(), left.clone());
        tasks.push(tokio::spawn(async move {
            while left
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |l| l.checked_sub(1),
                )
                .is_ok()
            {
                f().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

struct Noop;

#[async_trait::async_trait]
impl crm_jobs::Handler for Noop {
    async fn run(&self, _job: &crm_domain::jobs::Job) -> Result<(), crm_jobs::JobError> {
        Ok(())
    }
}

async fn bench(b: Bench, n: usize) -> Vec<(String, f64, f64)> {
    let raw = Arc::new(raw(&b).await);
    let crm = b.app.state.crm.clone();
    let tenant = b.actor.tenant_id;
    let mut out = Vec::new();

    // Enqueue: one job per transaction.
    let r = raw.clone();
    let raw_enqueue = rate(n, move || {
        let r = r.clone();
        async move { raw_insert(&r, tenant.0).await }
    })
    .await;
    let c = crm.clone();
    let ours_enqueue = rate(n, move || {
        let c = c.clone();
        async move {
            c.enqueue(NewJob::new(tenant, "noop", "{}".to_owned()))
                .await
                .unwrap();
        }
    })
    .await;
    out.push(("enqueue (jobs/s)".to_owned(), raw_enqueue, ours_enqueue));

    // Throughput: drain what was enqueued.
    let r = raw.clone();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let r = r.clone();
        tasks.push(tokio::spawn(async move { while raw_claim(&r).await {} }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let raw_drain = n as f64 / started.elapsed().as_secs_f64();
    let config = crm_jobs::RunnerConfig {
        concurrency: CALLERS,
        poll: Duration::from_millis(10),
        ..crm_jobs::RunnerConfig::default()
    };
    let runner = crm_jobs::Runner::new(crm.clone(), config).handle("noop", Arc::new(Noop));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let task = tokio::spawn(runner.run(async {
        let _ = stopped.await;
    }));
    loop {
        let stats = crm.job_stats().await.unwrap();
        let done: i64 = stats
            .iter()
            .filter(|s| s.kind == "noop")
            .map(|s| s.done)
            .sum();
        if done as usize >= n {
            break;
        }
        // Counting scans the table: look rarely, so the count does not slow what it counts.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ours_drain = n as f64 / started.elapsed().as_secs_f64();
    let _ = stop.send(());
    task.await.unwrap();
    out.push((
        "no-op job throughput (jobs/s)".to_owned(),
        raw_drain,
        ours_drain,
    ));

    // Event to webhook, idle server: a local receiver, the app's own runner.
    let seen: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let s2 = seen.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let s = s2.clone();
            async move {
                s.lock().unwrap().push(Instant::now());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    crm.add_webhook(&b.actor, &hook, vec!["customer.created".to_owned()])
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(b.app.runner().unwrap().run(async {
        let _ = stopped.await;
    }));
    let mut lat = Vec::new();
    for i in 0..200 {
        let before = seen.lock().unwrap().len();
        let started = Instant::now();
        crm.create::<Customer>(
            &b.actor,
            CustomerInput {
                name: Some(format!("Khách {i}")),
                kind: Some(1),
                ..CustomerInput::default()
            },
        )
        .await
        .unwrap();
        let at = loop {
            if let Some(t) = seen.lock().unwrap().get(before) {
                break *t;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        lat.push(at.duration_since(started));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    task.await.unwrap();
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    out.push((
        "create → webhook received, p50 / p99 (ms)".to_owned(),
        ms(lat[lat.len() / 2]),
        ms(lat[lat.len() * 99 / 100]),
    ));
    b.app.db.close().await;
    out
}

#[tokio::main]
async fn main() {
    let n: usize = arg("--jobs").and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let pg = arg("--database");
    let dir = tempfile::tempdir().unwrap();
    let b = setup(pg.as_deref(), dir.path()).await;
    let backend = if b.pg { "PostgreSQL" } else { "SQLite" };
    let rows = bench(b, n).await;
    println!("\njobs benchmark, {backend}, {n} jobs, {CALLERS} callers/workers\n");
    println!("| scenario | raw SQL | crm | ratio |");
    println!("|---|---|---|---|");
    for (name, raw, ours) in rows {
        if name.starts_with("create") {
            println!("| {name} | p50 {raw:.1} | p99 {ours:.1} | |");
        } else {
            println!(
                "| {name} | {raw:.0} | {ours:.0} | {:.0} % |",
                100.0 * ours / raw
            );
        }
    }
    if let Some(base) = pg {
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS crm_jobs_bench_{} WITH (FORCE)",
            std::process::id()
        ))
        .execute(&mut admin)
        .await;
    }
}
