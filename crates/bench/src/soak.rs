//! The soak scenario (`cargo bench -p crm-server --bench soak`): mixed traffic of every dialect
//! at a share of the measured peak (80 % by default), for minutes (10 by default), measured in
//! windows: each window's throughput, p50/p99 and errors, and the server's resident memory at
//! its end; then whether memory stayed flat (within 10 % of the warmed-up level), latency
//! stayed stable (no window's p99 over twice the median window's, no upward drift) and nothing
//! failed. Not part of CI: it runs for minutes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use crm_domain::auth::{AuthService, AuthSettings};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::gen::{international, Person};
use crate::load::{drive, drive_paced, Req, Stats};
use crate::{load_tenant, rss_mb, start_server, token, Scratch};
use crm_store::{Db, PoolSettings, SqlStore};

/// Soak options.
#[derive(Debug, Clone, Parser)]
#[command(name = "crm-soak")]
pub struct SoakOptions {
    /// `sqlite` or a PostgreSQL URL (a fresh database is made next to the one named).
    #[arg(long, default_value = "sqlite")]
    pub database: String,
    /// Customers loaded before the traffic starts.
    #[arg(long, default_value_t = 100_000)]
    pub customers: usize,
    /// How long the traffic runs, in minutes.
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// The offered rate as a share of the measured peak.
    #[arg(long, default_value_t = 0.8)]
    pub share: f64,
    /// Seconds per measured window.
    #[arg(long, default_value_t = 30.0)]
    pub window: f64,
    /// Seconds the peak is measured for (closed loop, same mix).
    #[arg(long, default_value_t = 20.0)]
    pub peak_seconds: f64,
    /// Concurrent connections while the peak is measured (closed loop).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Senders of the paced traffic: enough that a slow answer does not hold back the
    /// schedule (an open loop), each on its own connection.
    #[arg(long, default_value_t = 64)]
    pub senders: usize,
    #[arg(long, default_value_t = 20_261_207)]
    pub seed: u64,
    /// Where to write the JSON report (default `<workspace>/target/bench-results/soak-…`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// `cargo bench` passes this; ignored.
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// One measured window.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub at_seconds: f64,
    #[serde(flatten)]
    pub stats: Stats,
    pub rss_mb: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub backend: String,
    pub customers: usize,
    pub concurrency: usize,
    pub peak_per_second: f64,
    pub offered_per_second: f64,
    /// What the windows carried, on average.
    pub achieved_per_second: f64,
    pub senders: usize,
    pub windows: Vec<Window>,
    /// Resident memory after the first two windows (warmed up) and the most of any later one.
    pub rss_warm_mb: f64,
    pub rss_max_mb: f64,
    pub rss_flat: bool,
    pub p99_median_ms: f64,
    pub p99_max_ms: f64,
    pub p99_first_third_ms: f64,
    pub p99_last_third_ms: f64,
    pub p99_stable: bool,
    pub errors: u64,
}

/// Entry point of the `soak` bench target.
pub fn main_with(crm_exe: &str) -> anyhow::Result<()> {
    let opts = SoakOptions::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let scratch = Scratch::new(&opts.database).await?;
        let r = soak(&opts, Path::new(crm_exe), &scratch).await;
        scratch.remove().await;
        r
    })?;
    print(&report);
    crate::save_report(
        opts.out.as_deref(),
        &format!("soak-{}", report.backend),
        &report,
    )
}

/// The mix: reads and writes of every dialect, on the loaded customers.
fn mix(ids: Arc<Vec<uuid::Uuid>>, samples: Arc<Vec<Person>>) -> crate::load::MakeReq {
    Arc::new(move |r: &mut StdRng| {
        let pick = r.gen_range(0..100);
        let p = &samples[r.gen_range(0..samples.len())];
        match pick {
            // CRMTOP
            0..=29 => Req {
                method: Method::GET,
                path: format!("/api/v1/customer/get/{}", ids[r.gen_range(0..ids.len())]),
                body: None,
            },
            30..=39 => Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": international(&p.phone)}),
                ),
            },
            40..=49 => Req {
                method: Method::POST,
                path: "/api/v1/customer/search".into(),
                body: Some(
                    json!({"pageNumber": 1, "pageSize": 20, "search": p.email.to_uppercase()}),
                ),
            },
            50..=59 => {
                let n = Person::generate(r);
                Req {
                    method: Method::POST,
                    path: "/api/v1/customer/create".into(),
                    body: Some(
                        json!({"name": n.name, "phone": n.written_phone(r), "email": n.email, "type": 1}),
                    ),
                }
            }
            // NextX
            60..=69 => Req {
                method: Method::GET,
                path: "/api/customer/customer?page=1&pageLimit=20".into(),
                body: None,
            },
            70..=79 => {
                let n = Person::generate(r);
                Req {
                    method: Method::POST,
                    path: "/api/customer/customer".into(),
                    body: Some(
                        json!({"name": n.name, "mobile": n.written_phone(r), "type": "customer"}),
                    ),
                }
            }
            // OMI
            80..=89 => Req {
                method: Method::POST,
                path: "/api/v2/contact/search?page=1&size=20".into(),
                body: Some(json!({})),
            },
            // VBot
            _ => {
                let n = Person::generate(r);
                Req {
                    method: Method::POST,
                    path: "/api/crm/customer/create".into(),
                    body: Some(json!({
                        "vbot_id": "bench",
                        "project_code": "SOAK",
                        "customer_no": format!("SOAK{:016x}", r.gen::<u64>()),
                        "customer_name": n.name,
                        "customer_phones": [n.written_phone(r)],
                        "customer_status_code": "MOI",
                        "customer_type_code": "LE",
                        "customer_group_name": "khach vang",
                    })),
                }
            }
        }
    })
}

async fn soak(opts: &SoakOptions, crm_exe: &Path, scratch: &Scratch) -> anyhow::Result<SoakReport> {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let db = Db::connect(&scratch.url, PoolSettings::default()).await?;
    db.migrate().await?;
    let store = Arc::new(SqlStore::new(db.clone()));
    let crm = store.crm();
    let auth = AuthService::new(store.clone(), AuthSettings::default());
    let tenant = auth.create_tenant("Bench", Some("bench"), None).await?;
    let client = auth
        .create_client(&tenant, "soak", crm_domain::scope::Scope::ALL)
        .await?;
    let actor = tenant.actor(client.client.id.0, client.client.name.as_str());
    eprintln!(
        "loading {} customers ({})…",
        opts.customers, scratch.backend
    );
    let loaded = load_tenant(&db, &crm, &actor, opts.customers, &mut rng, 10_000).await?;
    db.refresh_statistics().await?;
    db.close().await;

    let http = crate::load::client(opts.concurrency.max(opts.senders));
    let server = start_server(crm_exe, &scratch.url, &http).await?;
    let token = token(&http, &server.base, &client).await?;
    // The status, type and group VBot's customers are made with.
    for (path, body) in [
        (
            "/api/crm/status/create",
            json!({"status_no": "MOI", "status_name": "Khách mới"}),
        ),
        (
            "/api/crm/type/create",
            json!({"type_no": "LE", "type_name": "Khách lẻ"}),
        ),
        (
            "/api/crm/group/create",
            json!({"group_no": "VANG", "group_name": "Khách Vàng", "group_description": ""}),
        ),
    ] {
        let mut body = body;
        body["vbot_id"] = json!("bench");
        body["project_code"] = json!("SOAK");
        let r = http
            .post(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "{path}: {}", r.text().await?);
    }
    let make = mix(Arc::new(loaded.ids), Arc::new(loaded.samples));
    let c = opts.concurrency;

    eprintln!("measuring the peak of the mix for {} s…", opts.peak_seconds);
    let peak = drive(
        &http,
        &server.base,
        Some(&token),
        c,
        Duration::from_secs_f64(opts.peak_seconds),
        opts.seed,
        make.clone(),
    )
    .await;
    anyhow::ensure!(
        peak.errors == 0,
        "the mix failed at peak: {}",
        peak.first_error.unwrap_or_default()
    );
    let rate = peak.per_second * opts.share;
    let count = ((opts.minutes * 60.0) / opts.window).ceil().max(3.0) as usize;
    eprintln!(
        "peak {:.0} req/s; offering {:.0} req/s for {count} windows of {} s",
        peak.per_second, rate, opts.window
    );
    let mut windows = Vec::with_capacity(count);
    for i in 0..count {
        let stats = drive_paced(
            &http,
            &server.base,
            Some(&token),
            opts.senders,
            rate,
            Duration::from_secs_f64(opts.window),
            opts.seed.wrapping_add(i as u64 + 1),
            make.clone(),
        )
        .await;
        let rss = rss_mb(server.pid);
        eprintln!(
            "window {:>2}: {:>6.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  rss {:.1} MB",
            i + 1,
            stats.per_second,
            stats.p50_ms,
            stats.p99_ms,
            stats.errors,
            rss
        );
        windows.push(Window {
            at_seconds: (i + 1) as f64 * opts.window,
            stats,
            rss_mb: rss,
        });
    }
    server.stop().await;
    Ok(judge(scratch.backend, opts, peak.per_second, rate, windows))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The verdicts over the windows.
fn judge(
    backend: &str,
    opts: &SoakOptions,
    peak: f64,
    offered: f64,
    windows: Vec<Window>,
) -> SoakReport {
    let warm = windows.iter().take(2).map(|w| w.rss_mb).fold(0.0, f64::max);
    let rss_max = windows
        .iter()
        .skip(2)
        .map(|w| w.rss_mb)
        .fold(warm, f64::max);
    let p99s: Vec<f64> = windows.iter().map(|w| w.stats.p99_ms).collect();
    let third = (p99s.len() / 3).max(1);
    let first = median(p99s[..third].to_vec());
    let last = median(p99s[p99s.len() - third..].to_vec());
    let med = median(p99s.clone());
    let max = p99s.iter().copied().fold(0.0, f64::max);
    SoakReport {
        backend: backend.to_owned(),
        customers: opts.customers,
        concurrency: opts.concurrency,
        peak_per_second: peak,
        offered_per_second: offered,
        achieved_per_second: windows.iter().map(|w| w.stats.per_second).sum::<f64>()
            / windows.len().max(1) as f64,
        senders: opts.senders,
        rss_warm_mb: warm,
        rss_max_mb: rss_max,
        rss_flat: rss_max <= warm * 1.10,
        p99_median_ms: med,
        p99_max_ms: max,
        p99_first_third_ms: first,
        p99_last_third_ms: last,
        p99_stable: max <= 2.0 * med && last <= 1.2 * first,
        errors: windows.iter().map(|w| w.stats.errors).sum(),
        windows,
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "(met)"
    } else {
        "(MISSED)"
    }
}

/// Prints the windows and the verdicts.
pub fn print(r: &SoakReport) {
    println!();
    println!(
        "crm soak — backend {}, {} customers, peak {:.0} req/s ({} connections), offered {:.0} req/s ({:.0} %) by {} senders, carried {:.0} req/s",
        r.backend,
        r.customers,
        r.peak_per_second,
        r.concurrency,
        r.offered_per_second,
        100.0 * r.offered_per_second / r.peak_per_second.max(1e-9),
        r.senders,
        r.achieved_per_second
    );
    println!(
        "{:>8} {:>9} {:>7} {:>9} {:>9} {:>9}",
        "at s", "req/s", "errors", "p50 ms", "p99 ms", "rss MB"
    );
    for w in &r.windows {
        println!(
            "{:>8.0} {:>9.0} {:>7} {:>9.2} {:>9.2} {:>9.1}",
            w.at_seconds,
            w.stats.per_second,
            w.stats.errors,
            w.stats.p50_ms,
            w.stats.p99_ms,
            w.rss_mb
        );
    }
    println!(
        "memory: {:.1} MB warmed up, at most {:.1} MB after ({:+.1} %)  target within 10 % {}",
        r.rss_warm_mb,
        r.rss_max_mb,
        100.0 * (r.rss_max_mb / r.rss_warm_mb.max(1e-9) - 1.0),
        verdict(r.rss_flat)
    );
    println!(
        "p99: median window {:.2} ms, worst {:.2} ms, first third {:.2} ms, last third {:.2} ms  target stable {}",
        r.p99_median_ms,
        r.p99_max_ms,
        r.p99_first_third_ms,
        r.p99_last_third_ms,
        verdict(r.p99_stable)
    );
    println!(
        "errors: {}  target none {}",
        r.errors,
        verdict(r.errors == 0)
    );
}
