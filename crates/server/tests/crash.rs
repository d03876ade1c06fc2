//! Kill -9 in the middle of long work, then a restart on the same database:
//! - a 10,000-recipient SMS campaign (a CRMTOP Zalo campaign on the SMS channel, to an uploaded
//!   list): the campaign completes and the gateway saw every recipient, each once (a send in
//!   flight at the kill may repeat; the test counts and prints such duplicates);
//! - a 100,000-row customer import (`on_duplicate=create`, so that a row stored twice would
//!   show): the import completes and every row is stored exactly once.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::gateway::FakeGateway;
use common::process::{crm, serve_with, Api};
use common::{Backend, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

const RECIPIENTS: usize = 10_000;

const WORKERS: usize = 4;

fn node(db: &TestDb) -> tokio::process::Command {
    let mut c = crm(db);
    c.env("CRM_JOB_LEASE_SECS", "3")
        .env("CRM_WORKERS", WORKERS.to_string())
        .env("CRM_JOB_POLL_MS", "50")
        .env("CRM_JOB_BACKOFF_MS", "50")
        .env("CRM_WEBHOOK_ALLOW_PRIVATE", "true");
    c
}

async fn killed_mid_campaign(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let gw = FakeGateway::start().await;
    let http = reqwest::Client::new();
    let (mut child, printed, base) = serve_with(node(&db)).await;
    let token = Api::at(base.clone()).printed_token(&printed).await;
    let resp = http
        .put(format!("{base}/crm/v1/channels/sms"))
        .bearer_auth(&token)
        .json(&json!({"settings": {"api_url": gw.url, "api_key": "k", "secret_key": "s", "brandname": "SHOP"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A CRMTOP Zalo campaign on the SMS channel, to an uploaded list of 10,000 rows.
    let template: Value = http
        .post(format!("{base}/api/v1/template/create"))
        .bearer_auth(&token)
        .json(&json!({"type": 3, "name": "Chào", "content": "Chào {{Họ và tên}}"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let template = template["data"].as_str().unwrap().to_owned();
    let mut csv = String::from("Họ và tên,Số điện thoại\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("Khách {i},09{i:08}\n"));
    }
    let form = reqwest::multipart::Form::new().part(
        "FormFile",
        reqwest::multipart::Part::bytes(csv.into_bytes())
            .file_name("ds.csv")
            .mime_str("text/csv; charset=utf-8")
            .unwrap(),
    );
    let resp = http
        .post(format!(
            "{base}/api/v1/maktzalo/create?Name=Muoi%20nghin&Channel=2&SendType=1&SmsTemplateId={template}"
        ))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let saved: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{saved}");
    let campaign = saved["data"].as_str().unwrap().to_owned();

    // Kill -9 once a fifth of the campaign has gone out.
    let deadline = Instant::now() + Duration::from_secs(120);
    while gw.calls().len() < RECIPIENTS / 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().await.unwrap();
    let at_kill = gw.calls().len();
    assert!(at_kill < RECIPIENTS, "the campaign ended before the kill");

    // Restart on the same database: the rest is sent (leases of the dead node run out first).
    let (mut child, _, base) = serve_with(node(&db)).await;
    let path = format!("{base}/api/v1/maktzalo/get/{campaign}");
    let deadline = Instant::now() + Duration::from_secs(240);
    let done = loop {
        let got: Value = http
            .get(&path)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if got["data"]["sendTotals"]["sent"] == json!(RECIPIENTS) || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let calls = gw.calls();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for c in &calls {
        *seen
            .entry(c["Phone"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let duplicates = calls.len() - seen.len();
    println!(
        "{backend:?}: killed after {at_kill} sends; {} sends in all to {} numbers; {duplicates} duplicate(s)",
        calls.len(),
        seen.len()
    );
    let d = &done["data"];
    assert_eq!(d["status"], json!(4), "{done}");
    assert_eq!(d["sendTotals"]["recipients"], json!(RECIPIENTS), "{done}");
    assert_eq!(d["sendTotals"]["sent"], json!(RECIPIENTS), "{done}");
    assert_eq!(d["sendTotals"]["duplicates"], json!(0), "{done}");
    assert_eq!(seen.len(), RECIPIENTS, "every recipient reached");
    // Only sends not yet recorded at the kill may repeat: at most each worker's batch's bound.
    let bound = WORKERS * crm_jobs::messages::UNRECORDED;
    assert!(
        duplicates <= bound,
        "{duplicates} duplicates (at most {bound})"
    );
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    killed_mid_campaign(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    killed_mid_campaign(Backend::Postgres).await;
}

const ROWS: usize = 100_000;

async fn import_state(http: &reqwest::Client, base: &str, token: &str, id: &str) -> Value {
    http.get(format!("{base}/crm/v1/imports/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Uploads `rows` customers as a CSV import; answers the import's id.
async fn upload_rows(http: &reqwest::Client, base: &str, token: &str, rows: usize) -> String {
    let mut csv = String::from("Họ và tên,Số điện thoại,Email\n");
    for i in 0..rows {
        csv.push_str(&format!("Khách Hàng {i},09{i:08},kh{i}@shop.vn\n"));
    }
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("tram-nghin.csv"),
    );
    let resp = http
        .post(format!(
            "{base}/crm/v1/imports?kind=customers&on_duplicate=create"
        ))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let started: Value = resp.json().await.unwrap();
    started["id"].as_str().unwrap().to_owned()
}

async fn killed_mid_import(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let http = reqwest::Client::new();
    let (mut child, printed, base) = serve_with(node(&db)).await;
    let token = Api::at(base.clone()).printed_token(&printed).await;
    let id = upload_rows(&http, &base, &token, ROWS).await;

    // Kill -9 once a fifth of the rows are stored.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut at_kill = 0;
    while Instant::now() < deadline {
        let t = import_state(&http, &base, &token, &id).await;
        at_kill = t["done"].as_i64().unwrap_or(0);
        if at_kill >= (ROWS / 5) as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().await.unwrap();
    assert!(at_kill < ROWS as i64, "the import ended before the kill");
    assert!(
        at_kill > 0,
        "{backend:?}: the import stored no row in 180 s (a machine that slow cannot tell a resume)"
    );

    // Restart: the import resumes after the last chunk it committed.
    let (mut child, _, base) = serve_with(node(&db)).await;
    let deadline = Instant::now() + Duration::from_secs(300);
    let done = loop {
        let t = import_state(&http, &base, &token, &id).await;
        if t["state"] == "done" || Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!("{backend:?}: killed with {at_kill} of {ROWS} rows stored; then {done}");
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["done"], json!(ROWS), "{done}");
    assert_eq!(done["created"], json!(ROWS), "{done}");
    assert_eq!(done["failed"], json!(0), "{done}");
    // Every row once: as many customers as rows, and the rows around the kill once each.
    let count: Value = http
        .post(format!("{base}/api/v1/customer/search"))
        .bearer_auth(&token)
        .json(&json!({"pageNumber": 1, "pageSize": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count["data"]["totalCount"], json!(ROWS), "{count}");
    for i in [
        0,
        at_kill as usize - 1,
        at_kill as usize,
        at_kill as usize + 300,
        ROWS - 1,
    ] {
        let i = i.min(ROWS - 1);
        let found: Value = http
            .post(format!("{base}/api/v1/customer/search"))
            .bearer_auth(&token)
            .json(&json!({"pageNumber": 1, "pageSize": 10, "search": format!("09{i:08}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["data"]["totalCount"], json!(1), "row {i}: {found}");
    }
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_sqlite() {
    killed_mid_import(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_postgres() {
    killed_mid_import(Backend::Postgres).await;
}

/// A run that outlasts its lease keeps its job: with leases of one second, an import reads its
/// 400,000 rows in one step (longer than a lease) and that run happens once, neither cut off
/// nor taken over by another worker, because the runner renews the leases of what it runs
/// (before, such an import was cut off and read its file again, for ever).
async fn outlasting_its_lease(backend: Backend) {
    const MANY: usize = 400_000;
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let http = reqwest::Client::new();
    let mut cmd = node(&db);
    cmd.env("CRM_JOB_LEASE_SECS", "1");
    let (mut child, printed, base) = serve_with(cmd).await;
    let token = Api::at(base.clone()).printed_token(&printed).await;
    let id = upload_rows(&http, &base, &token, MANY).await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(120);
    let mut staged_after = None;
    let t = loop {
        let t = import_state(&http, &base, &token, &id).await;
        if staged_after.is_none() && t["total"].as_i64().is_some_and(|n| n >= 0) {
            staged_after = Some(started.elapsed());
        }
        if t["done"].as_i64().unwrap_or(0) >= 1_000 || Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("{backend:?}: staged after {staged_after:?}; {t}");
    assert_eq!(t["total"], json!(MANY), "staged in two minutes: {t}");
    assert!(t["done"].as_i64().unwrap() >= 1_000, "{t}");
    let staged_after = staged_after.unwrap();
    assert!(
        staged_after > Duration::from_secs(1),
        "reading the file ({staged_after:?}) must outlast a lease for this test to tell"
    );
    let jobs = common::process::run_json(
        &db,
        &[
            "jobs", "list", "--kind", "import", "--limit", "1000", "--json",
        ],
    )
    .await;
    let first = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["key"] == json!(format!("{id}:0:0")))
        .unwrap_or_else(|| panic!("the import's first job: {jobs}"));
    assert_eq!(first["attempts"], json!(1), "read once: {first}");
    assert_eq!(first["last_error"], Value::Null, "{first}");
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_renewed_sqlite() {
    outlasting_its_lease(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_renewed_postgres() {
    outlasting_its_lease(Backend::Postgres).await;
}
