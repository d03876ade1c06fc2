//! What operators rely on: request ids echoed and in the log line of their request (text and
//! JSON logs), Prometheus metrics after traffic, readiness; `Idempotency-Key` on the writes of
//! every dialect.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::process::{crm, first_run_lines, printed_value};
use common::{Backend, TestApp, TestDb};
use crm_store::{Db, PoolSettings};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

async fn request_ids_are_echoed(app: &TestApp) {
    let a = app.tenant("ops").await;
    let send = |id: Option<&'static str>, path: &'static str, token: Option<String>| {
        let mut r = app
            .http
            .post(format!("{}{path}", app.base))
            .json(&json!({}));
        if let Some(id) = id {
            r = r.header("X-Request-Id", id);
        }
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    // Given: echoed, on success and on failure alike.
    for (token, status) in [(Some(a.token.clone()), 200), (None, 401)] {
        let r = send(
            Some("don-hang-42:retry.1"),
            "/api/v1/customer/search",
            token,
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(r.headers()["x-request-id"], "don-hang-42:retry.1");
    }
    // Made when missing or unusable (spaces, too long), and on paths no route serves.
    for (id, path) in [
        (None, "/api/v1/customer/search"),
        (Some("không hợp lệ"), "/api/v1/customer/search"),
        (None, "/api/v1/khong-co"),
    ] {
        let r = send(id, path, Some(a.token.clone())).await.unwrap();
        let made = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(made.len(), 32, "{made}");
        assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    }
    let long = "x".repeat(129);
    let r = app
        .http
        .get(format!("{}/health", app.base))
        .header("X-Request-Id", &long)
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], long.as_str());
}

async fn metrics_count_the_traffic(app: &TestApp) {
    let a = app.tenant("metrics").await;
    for _ in 0..3 {
        let (status, _) = app
            .post("/api/v1/customer/search", &a.token, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = app
        .call(
            Method::GET,
            "/api/customer/customer/999999",
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    let counted = |needle: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with("crm_http_requests_total{") && l.contains(needle))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0)
    };
    // (The recorder is the test process's: other tests add to the same counters.)
    assert!(
        counted(r#"dialect="crmtop",route="/api/v1/customer/search",method="POST",status="200""#)
            >= 3.0,
        "{text}"
    );
    assert!(
        counted(r#"dialect="nextx",route="/api/customer/customer/{id}",method="GET",status="404""#)
            >= 1.0,
        "{text}"
    );
    assert!(
        text.contains("crm_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("crm_db_pool_connections "), "{text}");
    // The route's pattern, never the raw path: ids do not become labels.
    assert!(!text.contains("customer/999999"), "{text}");
    let r = app
        .http
        .get(format!("{}/ready", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ready"}));
}

/// Sends a write with an `Idempotency-Key`.
async fn keyed(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, Value, bool) {
    let r = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let replayed = r
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    (status, r.json().await.unwrap(), replayed)
}

async fn idempotency_keys_replay_writes_in_every_dialect(app: &TestApp) {
    let a = app.tenant("idem").await;
    let t = a.token.as_str();
    // (path, first body, another body, how the dialect says "refused")
    type Case = (&'static str, Value, Value, fn(&Value) -> bool);
    let cases: [Case; 4] = [
        (
            "/api/v1/customer/create",
            json!({"name": "Nguyễn Văn Một", "phone": "0912000001"}),
            json!({"name": "Nguyễn Văn Hai", "phone": "0912000002"}),
            |b| b["success"] == false && b["code"] == 422,
        ),
        (
            "/api/customer/customer",
            json!({"name": "Trần Thị Ba", "mobile": "0912000003", "type": "customer"}),
            json!({"name": "Trần Thị Bốn", "mobile": "0912000004", "type": "customer"}),
            |b| b["meta"]["status_code"] == 422,
        ),
        (
            "/api/crm/group/create",
            json!({"vbot_id": "idem", "project_code": "P1", "group_no": "G1", "group_name": "Nhóm một"}),
            json!({"vbot_id": "idem", "project_code": "P1", "group_no": "G2", "group_name": "Nhóm hai"}),
            |b| b["status"] == 0,
        ),
        (
            "/api/v2/contact/add",
            json!({"fullName": "Lê Văn Năm", "phones": [{"data": "0912000005"}]}),
            json!({"fullName": "Lê Văn Sáu", "phones": [{"data": "0912000006"}]}),
            |b| b["status_code"] == -9999,
        ),
    ];
    for (i, (path, body, other, refused)) in cases.iter().enumerate() {
        let key = format!("tao-ban-ghi-{i}");
        let (s1, first, r1) = keyed(app, t, Method::POST, path, &key, body.clone()).await;
        assert_eq!(s1, StatusCode::OK, "{path}: {first}");
        assert!(!r1);
        let (s2, again, r2) = keyed(app, t, Method::POST, path, &key, body.clone()).await;
        assert_eq!((s2, &again, r2), (StatusCode::OK, &first, true), "{path}");
        let (s3, b3, _) = keyed(app, t, Method::POST, path, &key, other.clone()).await;
        assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {b3}");
        assert!(refused(&b3), "{path}: {b3}");
    }
    // One customer each, though each create was sent twice.
    for phone in ["0912000001", "0912000003", "0912000005"] {
        let (_, found) = app
            .post("/api/v1/customer/search", t, json!({"search": phone}))
            .await;
        assert_eq!(found["data"]["totalCount"], 1, "{phone}: {found}");
    }
    // A refusal is kept too: the same bad request replays it.
    let bad = json!({"name": ""});
    let (s1, b1, _) = keyed(
        app,
        t,
        Method::POST,
        "/api/v1/customer/create",
        "bad-1",
        bad.clone(),
    )
    .await;
    let (s2, b2, r2) = keyed(
        app,
        t,
        Method::POST,
        "/api/v1/customer/create",
        "bad-1",
        bad,
    )
    .await;
    assert_eq!(
        (s1, s2, r2),
        (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST, true)
    );
    assert_eq!(b1, b2);
    // Keys are the client's own: another client's same key runs its own request.
    let b = app.app.state.auth.find_tenant("idem").await.unwrap();
    let other = app
        .app
        .state
        .auth
        .create_client(&b, "second", crm_domain::scope::Scope::ALL)
        .await
        .unwrap();
    let (_, tok) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": other.client.client_id, "clientSecret": other.secret.0})),
        )
        .await;
    let t2 = tok["data"]["accessToken"].as_str().unwrap();
    let (s, fresh, replayed) = keyed(
        app,
        t2,
        Method::POST,
        "/api/v1/customer/create",
        "tao-ban-ghi-0",
        json!({"name": "Khách của máy hai", "phone": "0912000009"}),
    )
    .await;
    assert_eq!((s, replayed), (StatusCode::OK, false), "{fresh}");
    // Keys on reads are ignored; a key that is not one is refused.
    let r = app
        .http
        .post(format!("{}/api/v1/customer/search", app.base))
        .bearer_auth(t)
        .header("Idempotency-Key", "tim-1")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (s, _, _) = keyed(
        app,
        t,
        Method::GET,
        "/api/customer/customer",
        "doc-1",
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b, _) = keyed(
        app,
        t,
        Method::POST,
        "/api/v1/customer/create",
        &"k".repeat(256),
        json!({"name": "X"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("Idempotency-Key"),
        "{b}"
    );
    // Past their time, keys are gone and the request runs again.
    use crm_domain::idempotency::IdempotencyStore;
    let purged = app
        .app
        .store
        .purge_keys(chrono::Utc::now() + chrono::Duration::seconds(5))
        .await
        .unwrap();
    assert!(purged >= 6, "{purged}");
    let (s, _, replayed) = keyed(
        app,
        t,
        Method::POST,
        "/api/v1/customer/create",
        "tao-ban-ghi-0",
        json!({"name": "Nguyễn Văn Một", "phone": "0912000001"}),
    )
    .await;
    assert_eq!((s, replayed), (StatusCode::OK, false));
}

/// Many callers with one key at once: one request runs; the others are told it is in
/// progress, or get its answer.
async fn one_key_many_callers_one_write(app: &TestApp) {
    let a = app.tenant("idem-race").await;
    let answers = common::at_once(8, |_| {
        app.http
            .post(format!("{}/api/v1/customer/create", app.base))
            .bearer_auth(&a.token)
            .header("Idempotency-Key", "dua-1")
            .json(&json!({"name": "Khách Đua", "phone": "0933000001"}))
    })
    .await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b["data"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    for (s, b) in &answers {
        assert!(
            *s == StatusCode::OK || (*s == StatusCode::CONFLICT && b["code"] == 409),
            "{s} {b}"
        );
    }
    let (_, found) = app
        .post(
            "/api/v1/customer/search",
            &a.token,
            json!({"search": "0933000001"}),
        )
        .await;
    assert_eq!(found["data"]["totalCount"], 1, "{found}");
}

on_both_backends!(
    request_ids_are_echoed,
    metrics_count_the_traffic,
    idempotency_keys_replay_writes_in_every_dialect,
    one_key_many_callers_one_write,
);

/// Starts `crm` with `format` logs; answers it, its base URL and its stderr lines.
async fn logged_server(
    db: &TestDb,
    format: &str,
) -> (
    tokio::process::Child,
    String,
    tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    Vec<String>,
) {
    let mut child = crm(db)
        .env("CRM_LOG", "info")
        .env("CRM_LOG_FORMAT", format)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if !line.contains("listening") {
                continue;
            }
            let addr = match serde_json::from_str::<Value>(&line) {
                Ok(v) => v["fields"]["addr"].as_str().unwrap().to_owned(),
                Err(_) => line
                    .split("addr=")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_matches(|c: char| !c.is_ascii_digit() && c != '.' && c != ':')
                    .to_owned(),
            };
            return format!("http://{addr}");
        }
        panic!("no listening line");
    })
    .await
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_millis(300), stdout.next_line()).await
    {
        printed.extend(first_run_lines(line));
    }
    (child, base, stderr, printed)
}

/// The first stderr line holding `needle` (within 10 s).
async fn line_with(
    stderr: &mut tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    needle: &str,
) -> String {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no line with {needle}");
    })
    .await
    .unwrap()
}

/// The access line of a request carries its id, route, status, tenant and client; no line
/// carries the client's secret or its token.
#[tokio::test]
async fn the_access_line_names_the_request() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    for format in ["text", "json"] {
        let (mut child, base, mut stderr, printed) = logged_server(&db, format).await;
        let http = reqwest::Client::new();
        let (id, secret) = if format == "text" {
            (
                printed_value(&printed, "client_id:"),
                printed_value(&printed, "client_secret:"),
            )
        } else {
            // Second start: the tenant exists; a client made for this one.
            let out = crm(&db)
                .args([
                    "client", "create", "--tenant", "default", "--name", "j", "--json",
                ])
                .output()
                .await
                .unwrap();
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            (
                v["client_id"].as_str().unwrap().to_owned(),
                v["client_secret"].as_str().unwrap().to_owned(),
            )
        };
        let token: Value = http
            .post(format!("{base}/api/v1/auth/get-token-for-develop"))
            .json(&json!({"clientId": id, "clientSecret": secret}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["data"]["accessToken"].as_str().unwrap().to_owned();
        let rid = format!("log-{format}-7");
        let r = http
            .post(format!("{base}/api/v1/customer/search"))
            .bearer_auth(&token)
            .header("X-Request-Id", &rid)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let line = line_with(&mut stderr, &rid).await;
        match format {
            "text" => {
                for part in [
                    "route=/api/v1/customer/search",
                    "status=200",
                    "tenant=\"default\"",
                    "dialect=\"crmtop\"",
                ] {
                    assert!(line.contains(part), "{part}: {line}");
                }
            }
            _ => {
                let v: Value = serde_json::from_str(&line).unwrap();
                assert_eq!(v["fields"]["status"], 200, "{line}");
                assert_eq!(v["span"]["request_id"], rid, "{line}");
                assert_eq!(v["span"]["route"], "/api/v1/customer/search", "{line}");
                assert_eq!(v["span"]["tenant"], "default", "{line}");
            }
        }
        assert!(!line.contains(&secret) && !line.contains(&token), "{line}");
        child.kill().await.unwrap();
    }
}

/// Through a pooler in transaction mode the server needs a direct URL for its migrations:
/// without one it refuses to start and says what to set; with one it migrates over it and
/// serves through the pooler's URL (here PostgreSQL itself stands in for the pooler).
#[tokio::test]
async fn a_pooled_server_migrates_over_its_direct_url() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let out = crm(&db)
        .args(["tenant", "list", "--json"])
        .env("CRM_DATABASE_POOLER", "transaction")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CRM_DATABASE_DIRECT_URL"), "{err}");
    let out = crm(&db)
        .args(["tenant", "create", "Pooled", "--slug", "pooled", "--json"])
        .env("CRM_DATABASE_POOLER", "transaction")
        .env("CRM_DATABASE_DIRECT_URL", &db.url)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["slug"], "pooled", "{v}");
    db.drop_db().await;
}

/// The server's minute maintenance keeps PostgreSQL's plans and counts from decaying as tables
/// grow: a table that took many rows is analysed, and where autovacuum is off (this project's CI
/// machine) vacuumed as well, so its new rows enter the visibility map and a count of them is an
/// index-only scan again.
#[tokio::test]
async fn maintenance_analyses_and_vacuums_grown_tables() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let conn = Db::connect(&db.url, PoolSettings::default()).await.unwrap();
    conn.migrate().await.unwrap();
    conn.refresh_statistics().await.unwrap();
    let pg = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE grown (id bigint PRIMARY KEY);
         INSERT INTO grown SELECT generate_series(1, 20000);",
    )
    .execute(&pg)
    .await
    .unwrap();
    let (autovacuum,): (bool,) = sqlx::query_as("SELECT current_setting('autovacuum') = 'on'")
        .fetch_one(&pg)
        .await
        .unwrap();
    // The statistics of other sessions reach pg_stat_user_tables when they flush (at most a
    // second after their transactions); autovacuum, where it is on, may analyse it first.
    let mut seen = (false, false);
    for _ in 0..100 {
        conn.refresh_statistics().await.unwrap();
        seen = sqlx::query_as(
            "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL, \
                    last_vacuum IS NOT NULL \
             FROM pg_stat_user_tables WHERE relname = 'grown'",
        )
        .fetch_one(&pg)
        .await
        .unwrap();
        if seen.0 && (seen.1 || autovacuum) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen.0, "the grown table was not analysed");
    if !autovacuum {
        assert!(
            seen.1,
            "autovacuum is off and the grown table was not vacuumed"
        );
    }
    pg.close().await;
    conn.close().await;
    db.drop_db().await;
}

/// SQLite: a server copies its WAL into the database file between commits (a passive
/// checkpoint from a reader), instead of a commit doing it every 1,000 pages while every other
/// writer waits: soon after a burst of writes, the database file holds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_checkpoints_its_wal_between_commits() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let a = app.tenant("wal").await;
    let path = app.db_url().trim_start_matches("sqlite://").to_owned();
    let size = || std::fs::metadata(&path).unwrap().len();
    // Whatever start-up wrote is copied first.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = size();
    let items: Vec<Value> = (0..500)
        .map(|i| json!({"refId": format!("W-{i}"), "fullName": format!("Khách Ghi {i}"), "phones": [{"data": format!("0912{i:06}")}]}))
        .collect();
    let (st, b) = app
        .post(
            "/api/v2/contact/addMany",
            &a.token,
            json!({ "data": items }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["payload"]["created"], json!(500), "{b}");
    // Far fewer pages than the writer's own threshold (8,000), so only the server's
    // checkpoints can have copied them.
    let mut grown = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        grown = size().saturating_sub(before);
        if grown > 40_000 {
            break;
        }
    }
    assert!(grown > 40_000, "the database file grew by {grown} bytes");
}
