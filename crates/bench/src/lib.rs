//! The benchmark harness (`cargo bench -p crm-server --bench load`): loads generated Vietnamese
//! customers into a fresh database, starts the real `crm` server, drives it over HTTP, measures
//! the same operations done raw in the same run, and prints one table (also written as JSON).

mod console;
pub mod gen;
mod report;
pub use report::print;
pub mod load;
pub mod raw;
pub mod soak;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use crm_domain::auth::{AuthService, AuthSettings};
use crm_domain::customer::Customer;
use crm_domain::text::fold;
use crm_domain::Actor;
use crm_store::{Db, PoolSettings, SqlStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;
use sqlx::Connection;

use gen::{international, Person};
use load::{drive, drive_with, MakeReq, Req, Stats};

/// Benchmark options.
#[derive(Debug, Clone, Parser)]
#[command(name = "crm-bench")]
pub struct Options {
    /// `sqlite` (a fresh file in a temporary directory) or a PostgreSQL URL; a fresh database
    /// named `crm_bench_<pid>` is created next to the one named there and dropped at the end.
    #[arg(long, default_value = "sqlite")]
    pub database: String,
    /// Customers in the main tenant (a second tenant gets a tenth as many).
    #[arg(long, default_value_t = 1_000_000)]
    pub customers: usize,
    /// Seconds each load scenario runs.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Concurrent connections of the load generator (8 saturates a 2-core machine without
    /// turning latency into queueing time).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Customers created through the bulk path.
    #[arg(long, default_value_t = 100_000)]
    pub bulk: usize,
    /// Where to write the JSON report (default `<workspace>/target/bench-results/<backend>-<time>.json`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only the scenarios whose names contain one of these (comma-separated; for profiling
    /// one of them). Every scenario runs when it is absent.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// RNG seed of the generated data and requests.
    #[arg(long, default_value_t = 20_261_122)]
    pub seed: u64,
    /// `cargo bench` passes this; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub name: String,
    #[serde(flatten)]
    pub stats: Stats,
    /// Our throughput as a share of the raw baseline's, where there is one.
    pub ratio: Option<f64>,
    pub target: String,
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub backend: String,
    pub cores: usize,
    pub concurrency: usize,
    pub seconds_per_scenario: f64,
    pub customers: usize,
    pub second_tenant_customers: usize,
    pub load_rows_per_second: f64,
    pub cold_start_ms: f64,
    pub peak_rss_mb: f64,
    pub bulk_rows: usize,
    pub bulk_rows_per_second: f64,
    pub raw_bulk_rows_per_second: f64,
    pub average_matches: serde_json::Value,
    /// Leads, deals and orders each (and a fifth as many activities) for the console's pages.
    pub sales_rows: usize,
    pub sales_rows_per_second: f64,
    /// The size of each console page's answer, in KB.
    pub console_page_kb: serde_json::Value,
    pub lines: Vec<Line>,
}

/// Entry point of the bench target: parses the command line and runs.
pub fn main_with(crm_exe: &str) -> anyhow::Result<()> {
    let opts = Options::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(run(&opts, Path::new(crm_exe)))?;
    print(&report);
    save_report(opts.out.as_deref(), &report.backend, &report)
}

/// Writes a run's JSON report to `out`, or to `<target>/bench-results/<stem>-<time>.json`.
pub(crate) fn save_report(
    out: Option<&Path>,
    stem: &str,
    report: &impl Serialize,
) -> anyhow::Result<()> {
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| {
        target_dir().join("bench-results").join(format!(
            "{stem}-{}.json",
            chrono::Utc::now().format("%Y%m%dT%H%M%S")
        ))
    });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(report)?)?;
    println!("report written to {}", out.display());
    Ok(())
}

/// A fresh database for the run, removed afterwards.
pub struct Scratch {
    pub url: String,
    pub backend: &'static str,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl Scratch {
    /// `sqlite` (a file in a temporary directory) or a PostgreSQL server URL (a new database on
    /// it).
    pub async fn new(database: &str) -> anyhow::Result<Self> {
        if database == "sqlite" {
            let dir = std::env::temp_dir().join(format!("crm-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
            return Ok(Self {
                url: format!("sqlite://{}/crm.db", dir.display()),
                backend: "sqlite",
                dir: Some(dir),
                pg: None,
            });
        }
        if !database.starts_with("postgres") {
            bail!("--database takes `sqlite` or a postgres:// URL");
        }
        let name = format!("crm_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(database).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        let prefix = database.rsplit_once('/').map_or(database, |(p, _)| p);
        Ok(Self {
            url: format!("{prefix}/{name}"),
            backend: "postgres",
            dir: None,
            pg: Some((database.to_owned(), name)),
        })
    }

    pub async fn remove(&self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut c) = sqlx::PgConnection::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

/// The keyword searches measured: what a user types to find a sampled customer.
#[derive(Debug, Clone, Copy)]
enum Query {
    /// The full name without accents.
    Name,
    /// The phone in `+84 912 345 678` form.
    Phone,
    /// The e-mail in upper case.
    Email,
    /// The phone's last six digits, as people type them.
    PhoneTail,
    /// The given name first, then the family name (`duc nguyen`).
    GivenFirst,
    /// The first one to three letters of the name, as a search box sees them while typing
    /// (`n`, `ng`, `ngu`: a third of the names or more start so).
    FirstLetters,
}

impl Query {
    fn of(self, p: &Person) -> String {
        match self {
            Query::Name => fold(&p.name),
            Query::Phone => international(&p.phone),
            Query::Email => p.email.to_uppercase(),
            Query::PhoneTail => {
                let digits: String = p.phone.chars().filter(char::is_ascii_digit).collect();
                digits[digits.len().saturating_sub(6)..].to_owned()
            }
            Query::GivenFirst => {
                let words: Vec<String> = fold(&p.name)
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect();
                match (words.first(), words.last()) {
                    (Some(family), Some(given)) if words.len() > 1 => format!("{given} {family}"),
                    _ => words.join(" "),
                }
            }
            Query::FirstLetters => {
                let letters = 1 + p.phone.bytes().last().map_or(0, |b| usize::from(b % 3));
                fold(&p.name).chars().take(letters).collect()
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            Query::Name => "name",
            Query::Phone => "phone",
            Query::Email => "email",
            Query::PhoneTail => "phone_tail",
            Query::GivenFirst => "given_first",
            Query::FirstLetters => "first_letters",
        }
    }
}

/// The loaded data the scenarios draw on.
pub(crate) struct Loaded {
    pub(crate) ids: Vec<uuid::Uuid>,
    pub(crate) samples: Vec<Person>,
    rate: f64,
}

const LOAD_BATCH: usize = 2_000;

pub(crate) async fn load_tenant(
    db: &Db,
    crm: &crm_domain::service::Crm,
    actor: &Actor,
    n: usize,
    rng: &mut StdRng,
    keep_ids: usize,
) -> anyhow::Result<Loaded> {
    let start = Instant::now();
    let sample_every = (n / 200).max(1);
    let id_every = (n / keep_ids.max(1)).max(1);
    let (mut ids, mut samples) = (Vec::new(), Vec::new());
    let mut done = 0;
    while done < n {
        let size = LOAD_BATCH.min(n - done);
        let mut inputs = Vec::with_capacity(size);
        for i in 0..size {
            let p = Person::generate(rng);
            inputs.push(p.input(rng));
            if (done + i) % sample_every == 0 {
                samples.push(p);
            }
        }
        let created = crm.create_many::<Customer>(actor, inputs).await?;
        // What the running server does once a minute: keep PostgreSQL's statistics fresh.
        if (done / LOAD_BATCH) % 25 == 24 {
            db.refresh_statistics().await?;
        }
        for (i, id) in created.into_iter().enumerate() {
            if (done + i) % id_every == 0 {
                ids.push(id.0);
            }
        }
        done += size;
    }
    Ok(Loaded {
        ids,
        samples,
        rate: n as f64 / start.elapsed().as_secs_f64(),
    })
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A process's peak resident memory (`VmHWM`), in MB.
pub fn peak_rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmHWM:")
}

/// A process's resident memory now (`VmRSS`), in MB.
pub fn rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmRSS:")
}

fn status_mb(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The real server, started on a database and answering `/health`.
pub(crate) struct Server {
    child: tokio::process::Child,
    pub(crate) base: String,
    pub(crate) pid: u32,
    pub(crate) cold_start_ms: f64,
}

/// The environment the package's systemd unit gives the server (its `Environment=` lines),
/// so that the server is measured as it is run.
fn unit_environment() -> impl Iterator<Item = (&'static str, &'static str)> {
    include_str!("../../server/debian/crm-server.service")
        .lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .filter_map(|kv| kv.split_once('='))
}

/// Starts `crm_exe` on `url` at a free port and waits until it is healthy (at most 60 s).
pub(crate) async fn start_server(
    crm_exe: &Path,
    url: &str,
    http: &reqwest::Client,
) -> anyhow::Result<Server> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let child = tokio::process::Command::new(crm_exe)
        .envs(unit_environment())
        .env("CRM_DATABASE_URL", url)
        .env("CRM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CRM_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", crm_exe.display()))?;
    let pid = child.id().unwrap_or_default();
    loop {
        if let Ok(r) = http.get(format!("{base}/health")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            bail!("the server did not answer /health within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(Server {
        child,
        base,
        pid,
        cold_start_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

impl Server {
    /// SIGTERM, then at most 10 s for a graceful exit.
    pub(crate) async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// An access token of `client` from CRMTOP's token endpoint.
pub(crate) async fn token(
    http: &reqwest::Client,
    base: &str,
    client: &crm_domain::auth::IssuedClient,
) -> anyhow::Result<String> {
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/get-token-for-develop"))
        .json(&json!({"clientId": client.client.client_id, "clientSecret": client.secret.0}))
        .send()
        .await?
        .json()
        .await?;
    Ok(token["data"]["accessToken"]
        .as_str()
        .context("no access token")?
        .to_owned())
}

/// Runs the whole benchmark.
pub async fn run(opts: &Options, crm_exe: &Path) -> anyhow::Result<Report> {
    let scratch = Scratch::new(&opts.database).await?;
    let result = run_on(opts, crm_exe, &scratch).await;
    if std::env::var_os("CRM_BENCH_KEEP").is_some() {
        eprintln!("kept the database: {}", scratch.url);
    } else {
        scratch.remove().await;
    }
    result
}

async fn run_on(opts: &Options, crm_exe: &Path, scratch: &Scratch) -> anyhow::Result<Report> {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let db = Db::connect(&scratch.url, PoolSettings::default()).await?;
    db.migrate().await?;
    let store = Arc::new(SqlStore::new(db.clone()));
    let crm = store.crm();
    let auth = AuthService::new(store.clone(), AuthSettings::default());
    let tenant = auth.create_tenant("Bench", Some("bench"), None).await?;
    let other = auth.create_tenant("Bench 2", Some("bench-2"), None).await?;
    let client = auth
        .create_client(&tenant, "bench", crm_domain::scope::Scope::ALL)
        .await?;
    let other_client = auth
        .create_client(&other, "bench", crm_domain::scope::Scope::ALL)
        .await?;
    let actor = |t: &crm_domain::auth::Tenant, c: &crm_domain::auth::IssuedClient| {
        t.actor(c.client.id.0, c.client.name.as_str())
    };

    eprintln!(
        "loading {} customers ({} backend)…",
        opts.customers, scratch.backend
    );
    let main = load_tenant(
        &db,
        &crm,
        &actor(&tenant, &client),
        opts.customers,
        &mut rng,
        10_000,
    )
    .await?;
    let second_n = opts.customers / 10;
    load_tenant(
        &db,
        &crm,
        &actor(&other, &other_client),
        second_n,
        &mut rng,
        1,
    )
    .await?;
    eprintln!("loaded at {:.0} customers/s", main.rate);
    let sales_n = (opts.customers / 20).max(100);
    eprintln!("loading {sales_n} leads, deals and orders for the console…");
    let sales =
        console::load_sales(&crm, &actor(&tenant, &client), &main.ids, sales_n, &mut rng).await?;
    // Measure the steady state: on PostgreSQL autovacuum analyses freshly loaded tables within
    // about a minute, and until then the planner has no statistics. SQLite's plans are fixed by
    // the statements' shape and need none.
    match &db {
        Db::Sqlite { write, .. } => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(write)
                .await?;
        }
        Db::Postgres(pool, ..) => {
            sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await?;
        }
    }

    // Cold start of the real server on the loaded database.
    let http = load::client(opts.concurrency);
    let server = start_server(crm_exe, &scratch.url, &http).await?;
    let (base, pid, cold_start_ms) = (server.base.clone(), server.pid, server.cold_start_ms);
    let token = token(&http, &base, &client).await?;
    let session = console::staff_session(crm_exe, &scratch.url, "bench", &base).await?;

    let duration = Duration::from_secs_f64(opts.seconds);
    let ids = Arc::new(main.ids.clone());
    let samples = Arc::new(main.samples.clone());
    let c = opts.concurrency;
    let mut lines: Vec<(String, Stats)> = Vec::new();
    let mut matches = serde_json::Map::new();

    let scenario = |name: &'static str, make: MakeReq| (name, make);
    let get_ids = ids.clone();
    let by_name = samples.clone();
    let by_phone = samples.clone();
    let by_email = samples.clone();
    let by_tail = samples.clone();
    let by_given = samples.clone();
    let by_letters = samples.clone();
    let deep = (opts.customers / 20 / 2).max(1);
    let scenarios: Vec<(&'static str, MakeReq)> = vec![
        scenario(
            "get by id",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::GET,
                path: format!(
                    "/api/v1/customer/get/{}",
                    get_ids[r.gen_range(0..get_ids.len())]
                ),
                body: None,
            }),
        ),
        scenario(
            "search: name, no accents",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": Query::Name.of(&by_name[r.gen_range(0..by_name.len())])}),
                ),
            }),
        ),
        scenario(
            "search: phone +84",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": Query::Phone.of(&by_phone[r.gen_range(0..by_phone.len())])}),
                ),
            }),
        ),
        scenario(
            "search: email",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": Query::Email.of(&by_email[r.gen_range(0..by_email.len())])}),
                ),
            }),
        ),
        scenario(
            "search: phone, last 6 digits",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": Query::PhoneTail.of(&by_tail[r.gen_range(0..by_tail.len())])}),
                ),
            }),
        ),
        scenario(
            "search: given name first",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": Query::GivenFirst.of(&by_given[r.gen_range(0..by_given.len())])}),
                ),
            }),
        ),
        scenario(
            "search: first letters",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": Query::FirstLetters.of(&by_letters[r.gen_range(0..by_letters.len())])}),
                ),
            }),
        ),
        scenario(
            "search: deep page, unfiltered",
            Arc::new(move |r: &mut StdRng| Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(json!({"pageNumber": deep + r.gen_range(0..10), "pageSize": 20})),
            }),
        ),
        scenario(
            "create",
            Arc::new(move |r: &mut StdRng| {
                let p = Person::generate(r);
                Req {
                    method: Method::POST,
                    path: "/api/v1/customer/create".into(),
                    body: Some(
                        json!({"name": p.name, "phone": p.written_phone(r), "email": p.email, "address": p.address, "type": 1}),
                    ),
                }
            }),
        ),
    ];

    // How selective the search queries are, from the first few samples.
    for kind in [
        Query::Name,
        Query::Phone,
        Query::Email,
        Query::PhoneTail,
        Query::GivenFirst,
        Query::FirstLetters,
    ] {
        let probe: Vec<String> = samples.iter().take(20).map(|p| kind.of(p)).collect();
        let mut total = 0u64;
        for q in &probe {
            let v: serde_json::Value = http
                .post(format!("{base}/api/v1/customer/search"))
                .bearer_auth(&token)
                .json(&json!({"pageSize": 1, "search": q}))
                .send()
                .await?
                .json()
                .await?;
            total += v["data"]["totalCount"].as_u64().unwrap_or(0);
        }
        matches.insert(
            kind.label().into(),
            json!(total as f64 / probe.len() as f64),
        );
    }

    let wanted =
        |name: &str| opts.only.is_empty() || opts.only.iter().any(|o| name.contains(o.as_str()));
    for (name, make) in scenarios.into_iter().filter(|(n, _)| wanted(n)) {
        eprintln!("running: {name}");
        let stats = drive(&http, &base, Some(&token), c, duration, opts.seed, make).await;
        lines.push((name.to_owned(), stats));
    }
    // The console's pages, signed in as a staff member.
    let names: Vec<String> = samples.iter().map(|p| Query::Name.of(p)).collect();
    let tails: Vec<String> = samples.iter().map(|p| Query::PhoneTail.of(p)).collect();
    let console_pages = [
        ("dashboard", "/app/dashboard".to_owned()),
        ("customers", "/app/customers".to_owned()),
        (
            "search",
            format!("/app/customers?q={}", names[0].replace(' ', "%20")),
        ),
        ("customer", format!("/app/customers/{}", ids[0])),
        ("leads", "/app/leads".to_owned()),
        ("deals", "/app/deals".to_owned()),
        ("orders", "/app/orders".to_owned()),
    ];
    let page_kb = console::page_sizes(&http, &base, &session, &console_pages).await?;
    let mut console_lines = Vec::new();
    for (name, make) in console::scenarios(ids.clone(), Arc::new(names), Arc::new(tails))
        .into_iter()
        .filter(|(n, _)| wanted(n))
    {
        eprintln!("running: {name}");
        let credential = Some(("Cookie", session.clone()));
        let stats = drive_with(&http, &base, credential, c, duration, opts.seed, make).await;
        console_lines.push((name.to_owned(), stats));
    }
    lines.extend(console_lines);
    let peak_rss_mb = peak_rss_mb(pid);
    server.stop().await;

    // Raw baselines, same machine, same run.
    let raw_addr = raw::serve(db.clone(), tenant.id.0)?;
    let raw_base = format!("http://{raw_addr}");
    eprintln!("running: raw baselines");
    let raw_json = drive(
        &http,
        &raw_base,
        None,
        c,
        duration,
        opts.seed,
        Arc::new(|_: &mut StdRng| Req {
            method: Method::GET,
            path: "/raw/json".into(),
            body: None,
        }),
    )
    .await;
    let pk_ids = ids.clone();
    let raw_pk = drive(
        &http,
        &raw_base,
        None,
        c,
        duration,
        opts.seed,
        Arc::new(move |r: &mut StdRng| Req {
            method: Method::GET,
            path: format!("/raw/customer/{}", pk_ids[r.gen_range(0..pk_ids.len())]),
            body: None,
        }),
    )
    .await;

    // Bulk creation through the core's batch path, then the same rows raw.
    eprintln!("bulk: {} customers", opts.bulk);
    let people: Vec<Person> = (0..opts.bulk).map(|_| Person::generate(&mut rng)).collect();
    let bulk_actor = actor(&tenant, &client);
    let start = Instant::now();
    for chunk in people.chunks(1_000) {
        let inputs = chunk.iter().map(|p| p.input(&mut rng)).collect();
        crm.create_many::<Customer>(&bulk_actor, inputs).await?;
    }
    let bulk_rate = opts.bulk as f64 / start.elapsed().as_secs_f64();
    let raw_bulk_rate = raw::batched_insert(&db, tenant.id.0, &people, 1_000).await?;
    db.close().await;

    let mut out = Vec::new();
    let ratio = |ours: f64, raw: f64| if raw > 0.0 { Some(ours / raw) } else { None };
    for (name, stats) in lines {
        let (ratio, target, met) = match name.as_str() {
            "get by id" => {
                let r = ratio(stats.per_second, raw_pk.per_second);
                (r, ">= 50% of raw PK select".to_owned(), r.map(|r| r >= 0.5))
            }
            "create" => {
                let r = ratio(stats.per_second, raw_pk.per_second);
                (r, ">= 30% of raw PK select".to_owned(), r.map(|r| r >= 0.3))
            }
            n if n.starts_with("console:") => {
                (None, "p99 <= 50 ms".to_owned(), Some(stats.p99_ms <= 50.0))
            }
            n if n.starts_with("search:") && !n.contains("deep") => {
                (None, "p99 <= 20 ms".to_owned(), Some(stats.p99_ms <= 20.0))
            }
            _ => (None, String::new(), None),
        };
        out.push(Line {
            name,
            stats,
            ratio,
            target,
            met,
        });
    }
    for (name, stats) in [
        ("raw: fixed JSON (axum)", raw_json),
        ("raw: PK select (sqlx)", raw_pk),
    ] {
        out.push(Line {
            name: name.into(),
            stats,
            ratio: None,
            target: String::new(),
            met: None,
        });
    }
    Ok(Report {
        backend: scratch.backend.to_owned(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        concurrency: opts.concurrency,
        seconds_per_scenario: opts.seconds,
        customers: opts.customers,
        second_tenant_customers: second_n,
        load_rows_per_second: main.rate,
        cold_start_ms,
        peak_rss_mb,
        bulk_rows: opts.bulk,
        bulk_rows_per_second: bulk_rate,
        raw_bulk_rows_per_second: raw_bulk_rate,
        average_matches: serde_json::Value::Object(matches),
        sales_rows: sales.orders,
        sales_rows_per_second: sales.rows_per_second,
        console_page_kb: serde_json::Value::Object(page_kb),
        lines: out,
    })
}

/// The workspace's build directory (`CARGO_TARGET_DIR` when set), whatever the working directory
/// `cargo bench` gives: reports never land in a package's own folder.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}
