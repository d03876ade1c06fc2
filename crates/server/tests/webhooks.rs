//! Durable jobs proven by webhooks, on both backends, against a local receiver that records
//! every request and checks its Standard Webhooks signature.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::receiver::{verify, Receiver};
use common::{Backend, TestApp};
use crm_domain::jobs::{JobFilter, JobState, NewJob};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_outbound(backend).await
}

async fn register(app: &TestApp, token: &str, url: &str, events: Value) -> (String, String) {
    let (st, b) = app
        .call(
            Method::POST,
            "/crm/v1/webhooks",
            Some(token),
            Some(json!({"url": url, "events": events})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["url"], json!(url));
    assert_eq!(b["disabled"], json!(false));
    let secret = b["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{b}");
    (b["id"].as_str().unwrap().to_owned(), secret)
}

async fn events_from_every_dialect(app: &TestApp) {
    let rx = Receiver::start().await;
    let a = app.tenant("wh-a").await;
    let b = app.tenant("wh-b").await;
    let t = &a.token;
    let (endpoint, secret) = register(app, t, &format!("{}/all", rx.base), json!([])).await;

    // Listing shows the endpoint without its secret; the other tenant sees none.
    let (st, list) = app
        .call(Method::GET, "/crm/v1/webhooks", Some(t), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], json!(endpoint));
    assert!(list["data"][0].get("secret").is_none(), "{list}");
    let (_, other) = app
        .call(Method::GET, "/crm/v1/webhooks", Some(&b.token), None)
        .await;
    assert_eq!(other["data"], json!([]));
    let (st, e) = app
        .call(
            Method::GET,
            &format!("/crm/v1/webhooks/{endpoint}"),
            Some(&b.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");

    // CRMTOP: create, update, delete.
    let id = app
        .create(
            "/api/v1/customer/create",
            t,
            json!({"name": "Nguyễn Văn An", "type": 1, "phone": "0912345678"}),
        )
        .await;
    let got = rx.wait("/all", 1).await;
    verify(&got[0], &secret);
    assert_eq!(
        got[0].body["type"],
        json!("customer.created"),
        "{:?}",
        got[0]
    );
    assert_eq!(got[0].body["data"]["object"], json!("customer"));
    assert_eq!(got[0].body["data"]["id"], json!(id));
    assert!(got[0].body["timestamp"].is_string());
    let (st, body) = app
        .put(
            "/api/v1/customer/update",
            t,
            json!({"id": id, "name": "Nguyễn Văn An (VIP)", "type": 1, "phone": "0912345678"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let got = rx.wait("/all", 2).await;
    assert_eq!(got[1].body["type"], json!("customer.updated"));
    assert_eq!(got[1].body["data"]["id"], json!(id));

    // NextX, VBot and OMI writes reach the same endpoint.
    let (st, body) = app
        .call(
            Method::POST,
            "/api/customer/customer",
            Some(t),
            Some(json!({"name": "Chị Lan", "mobile": "0912888777", "type": "customer"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
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
            json!({"group_no": "VIP", "group_name": "Khách VIP", "group_description": ""}),
        ),
    ] {
        let mut body = body;
        body["vbot_id"] = json!("wh-a");
        body["project_code"] = json!("P1");
        let (st, b) = app.call(Method::POST, path, Some(t), Some(body)).await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let (st, body) = app
        .call(
            Method::POST,
            "/api/crm/customer/create",
            Some(t),
            Some(json!({"vbot_id": "wh-a", "project_code": "P1", "customer_name": "VP Media", "customer_no": "VP01", "customer_phones": ["0365296111"], "customer_status_code": "MOI", "customer_type_code": "LE", "customer_group_name": "Khách VIP"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, body) = app
        .call(
            Method::POST,
            "/api/v2/contact/add",
            Some(t),
            Some(json!({"fullName": "Trần Văn Tiến", "phones": [{"data": "0395187319"}]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let got = rx.wait("/all", 5).await;
    for g in &got[2..5] {
        verify(g, &secret);
        assert_eq!(g.body["type"], json!("customer.created"), "{g:?}");
    }
    let (st, body) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), t)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let got = rx.wait("/all", 6).await;
    assert_eq!(got[5].body["type"], json!("customer.deleted"));

    // A write rolled back after its first step sends nothing: a NextX product whose second
    // unit is refused after the product row was written.
    let (st, body) = app
        .call(
            Method::POST,
            "/api/product/product",
            Some(t),
            Some(json!({"name": "Nước cam", "sell_price": 12000, "unit": {"unit_base": {"name": "Chai"}, "sub_unit": [{"name": "Thùng", "f_Convert": -12, "price": 1}]}})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["meta"]["status_code"], json!(400), "{body}");
    assert!(
        body["meta"]["message"]
            .as_str()
            .unwrap()
            .contains("f_Convert"),
        "{body}"
    );
    // Another tenant's writes never reach this endpoint.
    app.create(
        "/api/v1/customer/create",
        &b.token,
        json!({"name": "Khách B", "type": 1}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got = rx.got("/all");
    assert_eq!(got.len(), 6, "{got:?}");
    // Every message once: distinct ids.
    let mut ids: Vec<_> = got.iter().map(|g| g.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);

    // The delivery log.
    let (st, log) = app
        .call(
            Method::GET,
            &format!("/crm/v1/webhooks/{endpoint}/deliveries?limit=100"),
            Some(t),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let log = log["data"].as_array().unwrap().clone();
    assert_eq!(log.len(), 6, "{log:?}");
    assert!(log
        .iter()
        .all(|d| d["status"] == json!(200) && d["attempt"] == json!(1)));
    assert!(log.iter().all(|d| d["latency_ms"].is_i64()));
}

async fn retries_then_success_and_permanent_failures(app: &TestApp) {
    let rx = Receiver::start().await;
    let a = app.tenant("wh-retry").await;
    let t = &a.token;
    rx.script("/flaky", &[500, 500, 200]);
    rx.script("/gone", &[400]);
    let (flaky, secret) = register(
        app,
        t,
        &format!("{}/flaky", rx.base),
        json!(["lead.created"]),
    )
    .await;
    let (gone, _) = register(app, t, &format!("{}/gone", rx.base), json!([])).await;
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v1/lead/create",
            Some(t),
            Some(json!({"fullName": "Lê Thị Hoa", "phone": "0901234567"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let got = rx.wait("/flaky", 3).await;
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|g| g.id == got[0].id),
        "one message id: {got:?}"
    );
    assert!(got.iter().all(|g| g.raw == got[0].raw), "one body");
    for g in &got {
        verify(g, &secret);
    }
    let (_, log) = app
        .call(
            Method::GET,
            &format!("/crm/v1/webhooks/{flaky}/deliveries"),
            Some(t),
            None,
        )
        .await;
    let statuses: Vec<_> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["attempt"].as_i64().unwrap(),
                d["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, vec![(3, 200), (2, 500), (1, 500)], "{log}");

    // A 400 stops at once: one attempt, the job dead with the status kept.
    rx.wait("/gone", 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rx.got("/gone").len(), 1);
    let dead = app
        .app
        .state
        .crm
        .jobs(&JobFilter {
            state: Some(JobState::Dead),
            limit: 10,
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("400"),
        "{dead:?}"
    );
    let (_, log) = app
        .call(
            Method::GET,
            &format!("/crm/v1/webhooks/{gone}/deliveries"),
            Some(t),
            None,
        )
        .await;
    let log = log["data"].as_array().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], json!(400));

    // Redelivery sends the same message again.
    let (st, r) = app
        .call(
            Method::POST,
            &format!(
                "/crm/v1/webhook-deliveries/{}/redeliver",
                log[0]["id"].as_str().unwrap()
            ),
            Some(t),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{r}");
    let again = rx.wait("/gone", 2).await;
    assert_eq!(again[1].id, again[0].id);

    // Disabled endpoints get nothing; bad input is refused with our envelope.
    let (st, d) = app
        .call(
            Method::POST,
            &format!("/crm/v1/webhooks/{flaky}/disable"),
            Some(t),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["disabled"], json!(true));
    for (body, field) in [
        (json!({"url": "ftp://x.vn"}), "url"),
        (json!({"events": []}), "url"),
        (json!({"url": "https://x.vn", "events": ["nope"]}), "events"),
        (json!({"url": 5}), ""),
    ] {
        let (st, e) = app
            .call(
                Method::POST,
                "/crm/v1/webhooks",
                Some(t),
                Some(body.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body} → {e}");
        assert!(e["message"].is_string(), "{e}");
        if !field.is_empty() {
            assert_eq!(e["field"], json!(field), "{e}");
        }
    }
    let (st, e) = app.call(Method::GET, "/crm/v1/webhooks", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
}

/// Loopback targets are refused unless allowed; the job dies without a request.
async fn private_targets_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.job_backoff_ms = 50;
        c.job_poll_ms = 50;
    })
    .await
    else {
        return;
    };
    let rx = Receiver::start().await;
    let a = app.tenant("wh-ssrf").await;
    register(&app, &a.token, &format!("{}/inner", rx.base), json!([])).await;
    // The same receiver by a name that resolves to loopback.
    let by_name = rx.base.replace("127.0.0.1", "localhost");
    register(&app, &a.token, &format!("{by_name}/named"), json!([])).await;
    app.create(
        "/api/v1/customer/create",
        &a.token,
        json!({"name": "Khách", "type": 1}),
    )
    .await;
    let crm = &app.app.state.crm;
    let deadline = Instant::now() + Duration::from_secs(10);
    let dead = loop {
        let dead = crm
            .jobs(&JobFilter {
                state: Some(JobState::Dead),
                limit: 10,
                ..JobFilter::default()
            })
            .await
            .unwrap();
        if dead.len() >= 2 || Instant::now() > deadline {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead.len(), 2, "{dead:?}");
    for d in &dead {
        assert!(
            d.last_error.as_deref().unwrap().contains("loopback"),
            "{dead:?}"
        );
        assert_eq!(d.attempts, 1, "refused at once, not retried: {d:?}");
    }
    assert!(rx.got("/inner").is_empty());
    assert!(rx.got("/named").is_empty());
    app.stop().await;
}

/// Jobs enqueued while no node runs jobs are done once one starts; a scheduled job runs
/// within a second of its time; a unique key makes one job.
async fn jobs_wait_for_a_node(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.workers = 0;
        c.webhook_allow_private = true;
    })
    .await
    else {
        return;
    };
    let rx = Receiver::start().await;
    let a = app.tenant("wh-later").await;
    let (endpoint, _) = register(&app, &a.token, &format!("{}/later", rx.base), json!([])).await;
    for i in 0..3 {
        app.create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": format!("Khách {i}"), "type": 1}),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.got("/later").is_empty(), "an API-only node runs no jobs");
    let crm = app.app.state.crm.clone();
    let stats = crm.job_stats().await.unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!((stats[0].kind.as_str(), stats[0].due), ("webhook", 3));

    // A scheduled delivery, and the same key enqueued twice.
    let tenant = app.app.state.auth.find_tenant("wh-later").await.unwrap().id;
    let run_at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let payload = json!({"endpoint_id": endpoint, "msg_id": "msg_scheduled", "event": "test.scheduled", "body": "{\"type\":\"test.scheduled\"}"}).to_string();
    let job = NewJob {
        run_at: Some(run_at),
        key: Some("scheduled-1".to_owned()),
        ..NewJob::new(tenant, "webhook", payload)
    };
    let first = crm.enqueue(job.clone()).await.unwrap();
    let second = crm.enqueue(job).await.unwrap();
    assert_eq!(first, second, "one job per key");

    // A node starts on the same database.
    let mut config = crm_server::Config::with_database(&app.db_url());
    config.webhook_allow_private = true;
    config.job_poll_ms = 50;
    let worker = crm_server::App::connect(&config).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = worker.runner().unwrap();
    let task = tokio::spawn(runner.run(async {
        let _ = stopped.await;
    }));
    let got = rx.wait("/later", 3).await;
    assert!(got
        .iter()
        .all(|g| g.body["type"] == json!("customer.created")));
    let got = rx.wait("/later", 4).await;
    let scheduled = got.iter().find(|g| g.id == "msg_scheduled").unwrap();
    let delivered_at =
        chrono::Utc::now() - chrono::Duration::from_std(scheduled.at.elapsed()).unwrap();
    let lag = (delivered_at - run_at).num_milliseconds();
    assert!((0..1000).contains(&lag), "ran {lag} ms after run_at");
    let _ = stop.send(());
    task.await.unwrap();
    worker.db.close().await;
    assert_eq!(rx.got("/later").len(), 4);
    // Retention: finished jobs and their delivery logs go once old enough.
    let removed = crm
        .purge_jobs(chrono::Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(removed, 8, "4 done jobs and 4 delivery logs");
    assert!(crm.job_stats().await.unwrap().iter().all(|s| s.done == 0));
    app.stop().await;
}

/// A sale that takes a product's stock to its warning level sends `stock.low`, once per fall.
async fn stock_runs_low(app: &TestApp) {
    let rx = Receiver::start().await;
    let a = app.tenant("wh-stock").await;
    let t = &a.token;
    register(
        app,
        t,
        &format!("{}/stock", rx.base),
        json!(["stock.low", "sale.created"]),
    )
    .await;
    let (st, b) = app
        .post(
            "/api/branch/branch",
            t,
            json!({"code": "CN", "name": "Chi nhánh"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let branch = b["data"]["id"].as_i64().unwrap();
    let (st, p) = app
        .post(
            "/api/product/product",
            t,
            json!({"name": "Bánh mì", "branch_id": branch, "qty_begin_stock": 10, "qty_warning_stock": 3, "sell_price": 20000, "unit": {"unit_base": {"name": "Ổ"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let pid = p["id"].as_i64().unwrap();
    for (i, qty) in [5, 2, 1].into_iter().enumerate() {
        let (st, b) = app
            .post(
                "/api/sell/sell",
                t,
                json!({"branch_id": branch, "products": [{"product_id": pid, "quantity": qty, "unit_price": 20000}]}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        // Each sale's messages arrive before the next sale, so the order below is the sales'.
        rx.wait("/stock", if i == 0 { 1 } else { i + 2 }).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let types: Vec<String> = rx
        .got("/stock")
        .iter()
        .map(|g| g.body["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.len(), 4, "{types:?}");
    assert_eq!(
        types.iter().filter(|t| *t == "stock.low").count(),
        1,
        "{types:?}"
    );
    let low = rx
        .got("/stock")
        .into_iter()
        .find(|g| g.body["type"] == json!("stock.low"))
        .unwrap();
    assert_eq!(low.body["data"]["object"], json!("stock"));
    assert!(low.body["data"]["id"].is_string());
}

on_both_spawned!(
    spawn;
    events_from_every_dialect,
    retries_then_success_and_permanent_failures,
    stock_runs_low
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_targets_sqlite() {
    private_targets_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_targets_postgres() {
    private_targets_are_refused(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_jobs_sqlite() {
    jobs_wait_for_a_node(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_jobs_postgres() {
    jobs_wait_for_a_node(Backend::Postgres).await;
}
