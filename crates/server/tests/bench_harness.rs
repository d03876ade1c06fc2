//! The benchmark harness at small N, so it cannot rot: every figure of the table is produced,
//! and no scenario sees an error.

#![allow(clippy::unwrap_used)]

use clap::Parser;
use crm_bench::{run, Options};

async fn harness_produces_every_figure(database: &str) {
    let opts = Options::parse_from([
        "crm-bench",
        "--database",
        database,
        "--customers",
        "3000",
        "--seconds",
        "0.3",
        "--concurrency",
        "4",
        "--bulk",
        "1000",
    ]);
    let report = run(&opts, std::path::Path::new(env!("CARGO_BIN_EXE_crm")))
        .await
        .unwrap();
    crm_bench::print(&report);
    let names: Vec<&str> = report.lines.iter().map(|l| l.name.as_str()).collect();
    for expected in [
        "get by id",
        "search: name, no accents",
        "search: phone +84",
        "search: email",
        "search: deep page, unfiltered",
        "create",
        "raw: fixed JSON (axum)",
        "raw: PK select (sqlx)",
        "console: dashboard",
        "console: search, name",
        "console: a customer",
        "console: deals board",
        "console: orders",
    ] {
        assert!(names.contains(&expected), "missing {expected}: {names:?}");
    }
    for l in &report.lines {
        assert!(l.stats.requests > 0, "{}: no requests", l.name);
        assert_eq!(l.stats.errors, 0, "{}: {:?}", l.name, l.stats.first_error);
        assert!(l.stats.p99_ms >= l.stats.p50_ms);
    }
    let get = report.lines.iter().find(|l| l.name == "get by id").unwrap();
    assert!(get.ratio.unwrap() > 0.0);
    assert_eq!(report.customers, 3000);
    assert_eq!(report.second_tenant_customers, 300);
    assert!(report.cold_start_ms > 0.0);
    assert!(report.peak_rss_mb > 1.0);
    assert!(report.bulk_rows_per_second > 0.0 && report.raw_bulk_rows_per_second > 0.0);
    assert!(report.cores >= 1);
    for kind in ["name", "phone", "email"] {
        assert!(
            report.average_matches[kind].as_f64().unwrap() >= 1.0,
            "{kind} queries find their customer"
        );
    }
    assert_eq!(report.sales_rows, 150);
    for page in [
        "dashboard",
        "customers",
        "search",
        "customer",
        "leads",
        "deals",
        "orders",
    ] {
        let kb = report.console_page_kb[page].as_f64().unwrap();
        assert!(kb > 1.0 && kb < 200.0, "{page}: {kb} KB");
    }
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["lines"][0]["p99_ms"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_produces_every_figure_sqlite() {
    harness_produces_every_figure("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn harness_produces_every_figure_postgres() {
    let url = std::env::var("CRM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let required = std::env::var("CRM_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if !required && sqlx::PgPool::connect(&url).await.is_err() {
        eprintln!("SKIPPED (PostgreSQL unreachable at {url})");
        return;
    }
    harness_produces_every_figure(&url).await;
}
