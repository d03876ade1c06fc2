//! `cargo bench -p crm-server --bench automations -- [--database postgres://…] [--customers N]`
//!
//! A birthday automation (an SMS the day before) over N customers (100,000 by default) whose
//! birthday is all the same day, run by the real `crm` binary (4 workers, its clock moved to the
//! evaluation's 09:00 with `CRM_TEST_CLOCK`) against a minimal SMS gateway in the bench
//! process. Prints the time from the schedule firing to every send record queued (the newest
//! SMS record's integer id, in a fresh database their count) and to every SMS received, and the
//! server's peak RSS; nothing is asserted.

#![allow(clippy::unwrap_used)]

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_domain::customer::{Customer, CustomerExt, CustomerInput, Party};
use crm_server::{App, Config};
use serde_json::{json, Value};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A minimal eSMS-shaped gateway: every SMS accepted and counted.
async fn gateway(count: Arc<AtomicU64>) -> String {
    async fn send(
        axum::extract::State(count): axum::extract::State<Arc<AtomicU64>>,
        axum::Json(_): axum::Json<Value>,
    ) -> axum::Json<Value> {
        let n = count.fetch_add(1, Ordering::Relaxed);
        axum::Json(json!({"CodeResult": "100", "SMSID": format!("s{n}"), "ErrorMessage": ""}))
    }
    let app = axum::Router::new()
        .route("/sms", axum::routing::post(send))
        .with_state(count);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Seconds from `now` to the next 09:00 in Vietnam, and that day.
fn until_nine(now: chrono::DateTime<chrono::Utc>) -> (i64, chrono::NaiveDate) {
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    let local = now.with_timezone(&tz);
    let nine = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let mut day = local.date_naive();
    if local.time() >= nine {
        day = day.succ_opt().unwrap();
    }
    let at = day.and_time(nine).and_local_timezone(tz).single().unwrap();
    ((at.with_timezone(&chrono::Utc) - now).num_seconds(), day)
}

#[tokio::main]
async fn main() {
    use chrono::Datelike;
    let n: usize = arg("--customers").map_or(100_000, |v| v.parse().unwrap());
    let database = arg("--database").unwrap_or_else(|| "sqlite".to_owned());
    let scratch = crm_bench::Scratch::new(&database).await.unwrap();
    eprintln!("{n} customers on {}", scratch.backend);
    let (wait, fire_day) = until_nine(chrono::Utc::now());
    let birthday = fire_day.succ_opt().unwrap().with_year(1990).unwrap();

    let mut config = Config::with_database(&scratch.url);
    config.workers = 0;
    let app = App::connect(&config).await.unwrap();
    let tenant = app
        .state
        .auth
        .create_tenant("Bench", Some("bench"), None)
        .await
        .unwrap();
    let client = app
        .state
        .auth
        .create_client(&tenant, "bench", crm_domain::scope::Scope::ALL)
        .await
        .unwrap();
    let actor = tenant.actor(client.client.id.0, client.client.name.as_str());
    let loading = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let inputs = chunk
            .iter()
            .map(|i| CustomerInput {
                name: Some(format!("Nguyễn Văn Khách {i}")),
                phone: Some(format!("09{i:08}")),
                ext: Some(CustomerExt {
                    party: Some(Party {
                        kind: "customer".to_owned(),
                        birthday: Some(birthday),
                        ..Party::default()
                    }),
                    ..CustomerExt::default()
                }),
                ..Default::default()
            })
            .collect();
        app.state
            .crm
            .create_many::<Customer>(&actor, inputs)
            .await
            .unwrap();
    }
    eprintln!(
        "loaded {n} customers in {:.0} s",
        loading.elapsed().as_secs_f64()
    );
    drop(app);

    let received = Arc::new(AtomicU64::new(0));
    let sms_url = gateway(received.clone()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .env("CRM_DATABASE_URL", &scratch.url)
        .env("CRM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CRM_LOG", "warn")
        .env("CRM_WORKERS", "4")
        .env("CRM_JOB_POLL_MS", "50")
        .env("CRM_TEST_CLOCK", "true")
        .env("CRM_WEBHOOK_ALLOW_PRIVATE", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap_or_default();
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "no server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let token: Value = http
        .post(format!("{base}/api/v1/auth/get-token-for-develop"))
        .json(&json!({"clientId": client.client.client_id, "clientSecret": client.secret.0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["data"]["accessToken"].as_str().unwrap().to_owned();
    let r = http
        .put(format!("{base}/crm/v1/channels/sms"))
        .bearer_auth(&token)
        .json(&json!({"settings": {"api_url": sms_url, "api_key": "k", "secret_key": "s", "brandname": "SHOP"}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = http
        .post(format!("{base}/api/automation/automation"))
        .bearer_auth(&token)
        .json(&json!({
            "title": "Sinh nhật", "is_active": 1, "component_id": 11,
            "scheduler": {"frequency_type": "D", "run_at": "09:00", "run_before_day": 1},
            "tasks": [{"type": "send_sms", "details": {"message": "Chuc mung sinh nhat {{cus_name}}!"}}]
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // 09:00 the day before: the schedule fires.
    let fired = Instant::now();
    let r = http
        .post(format!("{base}/crm/v1/test/clock"))
        .json(&json!({"advance_seconds": wait + 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    // The token was issued before the clock moved: a fresh one for the polls.
    let token: Value = http
        .post(format!("{base}/api/v1/auth/get-token-for-develop"))
        .json(&json!({"clientId": client.client.client_id, "clientSecret": client.secret.0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["data"]["accessToken"].as_str().unwrap().to_owned();
    let (mut queued_at, mut first_at) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(3_600);
    while (received.load(Ordering::Relaxed) as usize) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if first_at.is_none() && received.load(Ordering::Relaxed) > 0 {
            first_at = Some(fired.elapsed());
        }
        if queued_at.is_none() {
            let newest: Value = http
                .get(format!("{base}/api/sms/history?page=1&pageLimit=1"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap_or(Value::Null);
            if newest[0]["id"].as_i64().unwrap_or(0) as usize >= n {
                queued_at = Some(fired.elapsed());
            }
        }
    }
    let all = fired.elapsed();
    let got = received.load(Ordering::Relaxed);
    let rss = crm_bench::peak_rss_mb(pid);
    let _ = child.kill().await;
    scratch.remove().await;
    let secs =
        |d: Option<Duration>| d.map_or("–".to_owned(), |d| format!("{:.1} s", d.as_secs_f64()));
    println!();
    println!(
        "| {} backend, {n} customers, 4 workers | |",
        scratch.backend
    );
    println!("|---|---|");
    println!(
        "| schedule fired → first SMS received | {} |",
        secs(first_at)
    );
    println!(
        "| schedule fired → every send record queued | {} |",
        secs(queued_at)
    );
    println!(
        "| schedule fired → every SMS received ({got}) | {:.1} s ({:.0}/s) |",
        all.as_secs_f64(),
        got as f64 / all.as_secs_f64()
    );
    println!("| server peak RSS | {rss:.1} MB |");
}
