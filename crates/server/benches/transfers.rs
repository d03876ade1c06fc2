//! `cargo bench -p crm-server --bench transfers -- [--database postgres://…] [--rows N]
//! [--skip-xlsx]`
//!
//! Imports and exports against a raw baseline in the same run: N generated Vietnamese customers
//! (100,000 by default) imported by the real `crm` binary from a `.csv` and from an `.xlsx`
//! (each into a tenant of its own, over `POST /crm/v1/imports`, default options: duplicates
//! looked up and skipped), then exported to `.xlsx` and `.csv`. The raw rate is the same rows
//! inserted into a table of the customers' shape by multi-row statements of 500, one
//! transaction each, through sqlx and nothing else. Each phase runs on a fresh server process,
//! so its peak RSS is that phase's. Prints rows/s, the ratio and the peak RSS; asserts nothing.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crm_server::{App, Config};
use rand::SeedableRng;
use serde_json::{json, Value};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

const HEADER: [&str; 4] = ["Họ và tên", "Số điện thoại", "Email", "Địa chỉ"];

fn write_csv(path: &Path, people: &[crm_bench::gen::Person]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(HEADER).unwrap();
    for p in people {
        w.write_record([&p.name, &p.phone, &p.email, &p.address])
            .unwrap();
    }
    w.flush().unwrap();
}

/// A workbook as Excel writes one: strings in the shared-strings table.
fn write_xlsx(path: &Path, people: &[crm_bench::gen::Person]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_low_memory().unwrap();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, p) in people.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in [&p.name, &p.phone, &p.email, &p.address].iter().enumerate() {
            sheet.write_string(r, c as u16, v.as_str()).unwrap();
        }
    }
    book.save(path).unwrap();
}

/// The server as a process, on the scratch database; answers it, its base URL and pid.
async fn server(url: &str, files: &Path) -> (tokio::process::Child, String, u32) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .env("CRM_DATABASE_URL", url)
        .env("CRM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CRM_FILES_DIR", files)
        .env(
            "CRM_LOG",
            std::env::var("CRM_LOG").unwrap_or_else(|_| "warn".to_owned()),
        )
        .env("CRM_JOB_POLL_MS", "50")
        .env("CRM_MAX_IMPORT_BYTES", (2u64 << 30).to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap_or_default();
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(120), "no server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, base, pid)
}

async fn token(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> String {
    let t: Value = http
        .post(format!("{base}/api/v1/auth/get-token-for-develop"))
        .json(&json!({"clientId": id, "clientSecret": secret}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t["data"]["accessToken"].as_str().unwrap().to_owned()
}

/// Polls a transfer until it ends; answers it.
async fn wait(http: &reqwest::Client, url: &str, token: &str) -> Value {
    loop {
        let t: Value = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if t["state"] == "done" || t["state"] == "failed" {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Phase {
    what: String,
    rows: f64,
    rate: f64,
    rss: f64,
    note: String,
}

#[tokio::main]
async fn main() {
    let n: usize = arg("--rows").map_or(100_000, |v| v.parse().unwrap());
    let database = arg("--database").unwrap_or_else(|| "sqlite".to_owned());
    let xlsx = !std::env::args().any(|a| a == "--skip-xlsx");
    let scratch = crm_bench::Scratch::new(&database).await.unwrap();
    eprintln!("{n} rows on {}", scratch.backend);

    let mut rng = rand::rngs::StdRng::seed_from_u64(20261206);
    let people: Vec<_> = (0..n)
        .map(|_| crm_bench::gen::Person::generate(&mut rng))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("khach-hang.csv");
    let xlsx_path = dir.path().join("khach-hang.xlsx");
    write_csv(&csv_path, &people);
    if xlsx {
        write_xlsx(&xlsx_path, &people);
    }
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    eprintln!(
        "files: csv {:.1} MB, xlsx {:.1} MB",
        size(&csv_path),
        size(&xlsx_path)
    );

    // Tenants and clients, and the raw baseline, through the core with no server running.
    let config = Config::with_database(&scratch.url);
    let app = App::connect(&config).await.unwrap();
    let mut clients = Vec::new();
    for slug in ["csv", "xlsx"] {
        let t = app
            .state
            .auth
            .create_tenant(slug, Some(slug), None)
            .await
            .unwrap();
        let c = app
            .state
            .auth
            .create_client(&t, "bench", crm_domain::scope::Scope::ALL)
            .await
            .unwrap();
        clients.push((c.client.client_id.clone(), c.secret.0.clone(), t.id.0));
    }
    eprintln!("running: raw batched insert");
    let raw = crm_bench::raw::batched_insert(&app.db, clients[0].2, &people, 500)
        .await
        .unwrap();
    app.db.close().await;
    drop(app);

    let files = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut phases = Vec::new();
    let sources: Vec<(&str, &Path, usize)> = if xlsx {
        vec![
            ("csv", csv_path.as_path(), 0),
            ("xlsx", xlsx_path.as_path(), 1),
        ]
    } else {
        vec![("csv", csv_path.as_path(), 0)]
    };
    for (format, path, client) in sources {
        eprintln!("running: import from .{format}");
        let (mut child, base, pid) = server(&scratch.url, files.path()).await;
        let token = token(&http, &base, &clients[client].0, &clients[client].1).await;
        let bytes = std::fs::read(path).unwrap();
        let started = Instant::now();
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(format!("khach-hang.{format}")),
        );
        let t: Value = http
            .post(format!("{base}/crm/v1/imports?kind=customers"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = format!("{base}/crm/v1/imports/{}", t["id"].as_str().unwrap());
        let t = wait(&http, &url, &token).await;
        let secs = started.elapsed().as_secs_f64();
        phases.push(Phase {
            what: format!("import from .{format}, upload to done"),
            rows: n as f64,
            rate: n as f64 / secs,
            rss: crm_bench::peak_rss_mb(pid),
            note: format!(
                "{} created, {} skipped (the same phone or e-mail twice), {} failed",
                t["created"], t["skipped"], t["failed"]
            ),
        });
        let _ = child.kill().await;
    }
    for format in ["xlsx", "csv"] {
        eprintln!("running: export to .{format}");
        let (mut child, base, pid) = server(&scratch.url, files.path()).await;
        let token = token(&http, &base, &clients[0].0, &clients[0].1).await;
        let started = Instant::now();
        let t: Value = http
            .post(format!("{base}/crm/v1/exports"))
            .bearer_auth(&token)
            .json(&json!({"kind": "customers", "format": format}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = format!("{base}/crm/v1/exports/{}", t["id"].as_str().unwrap());
        let t = wait(&http, &url, &token).await;
        let secs = started.elapsed().as_secs_f64();
        let rows = t["done"].as_f64().unwrap_or(0.0);
        phases.push(Phase {
            what: format!("export to .{format}, request to file written"),
            rows,
            rate: rows / secs,
            rss: crm_bench::peak_rss_mb(pid),
            note: String::new(),
        });
        let _ = child.kill().await;
    }
    scratch.remove().await;

    println!();
    println!(
        "| {} backend, {n} customers | rows | rows/s | of raw ({raw:.0} rows/s) | server peak RSS | |",
        scratch.backend
    );
    println!("|---|---|---|---|---|---|");
    for p in phases {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} % | {:.1} MB | {} |",
            p.what,
            p.rows,
            p.rate,
            100.0 * p.rate / raw,
            p.rss,
            p.note
        );
    }
    println!("targets: import ≥ 50 % of raw; RSS ≤ 100 MB whatever the size");
}
