//! What a hostile or careless client must not be able to do: crash, stall or exhaust the server,
//! or leave the search index out of step with the records. Each refusal is checked in the
//! envelope of the vendor whose path was called, and the server must still answer `/health`
//! quickly afterwards.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{assert_crmtop_err, at_once, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

/// `/health` answers within 100 ms.
async fn healthy(app: &TestApp) {
    let started = Instant::now();
    let (status, body) = app.call(Method::GET, "/health", None, None).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(took < Duration::from_millis(100), "/health took {took:?}");
}

async fn omi(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    app.post("/api/v2/contact/search", token, body).await
}

async fn shapes_are_bounded(app: &TestApp) {
    let a = app.tenant("hard").await;
    let t = &a.token;
    // 20,000 tags (about 100 KB): refused before any work, naming the place.
    let tags: Vec<String> = (0..20_000).map(|i| format!("t{i}")).collect();
    for key in ["tags", "business", "categories"] {
        let (st, b) = omi(app, t, json!({ key: tags })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["status_code"], json!(-9999), "{b}");
        assert_eq!(b["error"], json!("invalid_field"), "{b}");
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{key}[1000]")),
            "{b}"
        );
        healthy(app).await;
    }
    // 1,000 tags is allowed and answers (one IN list, not 1,000 OR nodes).
    let (st, b) = omi(app, t, json!({"tags": &tags[..1000]})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["payload"]["items"], json!([]), "{b}");
    // Ranges: at most 10.
    let ranges: Vec<Value> = (0..20)
        .map(|_| json!({"field": "created_date", "from": 0, "to": 1}))
        .collect();
    let (st, b) = omi(app, t, json!({ "ranges": ranges })).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("ranges"), "{b}");
    // NextX `type[]` repeated: 100 is fine, 101 refused naming it.
    let branch = nx_branch(app, t).await;
    let kinds = |n: usize| vec!["type[]=single"; n].join("&");
    let (st, b) = app
        .get(
            &format!("/api/product/product?branch_id={branch}&{}", kinds(100)),
            t,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b, json!([]));
    let (st, b) = app
        .get(
            &format!("/api/product/product?branch_id={branch}&{}", kinds(1000)),
            t,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["meta"]["status_code"], json!(400), "{b}");
    assert!(
        b["meta"]["message"].as_str().unwrap().starts_with("type:"),
        "{b}"
    );
    healthy(app).await;
    // Nesting deeper than 32 levels, and an object with more than 256 keys.
    let deep: Value = (0..40).fold(json!(1), |v, _| json!([v]));
    let (st, b) = app
        .post("/api/v1/customer/search", t, json!({"search": deep}))
        .await;
    let m = assert_crmtop_err(st, &b, StatusCode::BAD_REQUEST);
    assert!(m.contains("deeper than 32"), "{b}");
    // 16,000 unknown keys and one wrongly typed field: refused at once by the key limit.
    let (st, b) = wide_search(app, t, 16_000, json!(1)).await;
    let m = assert_crmtop_err(st, &b, StatusCode::BAD_REQUEST);
    assert!(m.contains("more than 256 properties"), "{b}");
    // Within the key limit, the wrongly typed field is still named, in linear time.
    let (st, b) = wide_search(app, t, 250, json!("x".repeat(2000))).await;
    assert_crmtop_err(st, &b, StatusCode::BAD_REQUEST);
    assert!(b["errors"]["pageSize"].is_array(), "{b}");
    healthy(app).await;
    // A search term of 60 KB: no match, not a 500 (SQLite refuses LIKE patterns over 50 KB).
    let long = "a".repeat(60_000);
    for path in ["/api/v1/ticket/type/search", "/api/v1/customer/search"] {
        let (st, b) = app
            .post(
                path,
                t,
                json!({"pageNumber": 1, "pageSize": 20, "search": long}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{path}: {b}");
    }
    let (st, b) = app
        .get(
            &format!("/api/product/product?branch_id={branch}&strSearch={long}"),
            t,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    healthy(app).await;
}

/// A CRMTOP search body with `keys` unknown properties holding `value` and a wrongly typed
/// `pageSize`; it must be answered within 500 ms.
async fn wide_search(app: &TestApp, t: &str, keys: usize, value: Value) -> (StatusCode, Value) {
    let mut wide = serde_json::Map::new();
    for i in 0..keys {
        wide.insert(format!("unknown{i}"), value.clone());
    }
    wide.insert("pageSize".to_owned(), json!({"not": "a number"}));
    let started = Instant::now();
    let answer = app
        .post("/api/v1/customer/search", t, Value::Object(wide))
        .await;
    assert!(started.elapsed() < Duration::from_millis(500));
    answer
}

async fn nx_branch(app: &TestApp, t: &str) -> i64 {
    let (st, b) = app
        .post(
            "/api/branch/branch",
            t,
            json!({"code": "CN1", "name": "Chi nhánh 1"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["data"]["id"].as_i64().unwrap()
}

async fn nul_is_refused_everywhere(app: &TestApp) {
    let a = app.tenant("nul").await;
    let t = &a.token;
    let (st, b) = app
        .post("/api/v1/customer/create", t, json!({"name": "a\u{0}b"}))
        .await;
    let m = assert_crmtop_err(st, &b, StatusCode::BAD_REQUEST);
    assert!(m.starts_with("name: "), "{b}");
    assert!(b["errors"]["name"].is_array(), "{b}");
    // The token endpoint needs no token.
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": "x\u{0}", "clientSecret": "y"})),
        )
        .await;
    assert_crmtop_err(st, &b, StatusCode::BAD_REQUEST);
    // Query strings and paths.
    let (st, b) = app.get("/api/customer/customer?strSearch=%00", t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["meta"]["message"]
            .as_str()
            .unwrap()
            .starts_with("strSearch"),
        "{b}"
    );
    let (st, b) = app.get("/api/v1/customer/get/%00", t).await;
    assert_crmtop_err(st, &b, StatusCode::BAD_REQUEST);
    let (st, b) = app
        .post(
            "/api/crm/customer/create",
            t,
            json!({"vbot_id": "nul", "project_code": "P", "customer_name": "x\u{0}"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(
        (b["status"].clone(), b["error"].clone()),
        (json!(0), json!(1)),
        "{b}"
    );
    let (st, b) = omi(app, t, json!({"keyword": "\u{0}"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["error"], json!("invalid_field"), "{b}");
    // Nothing was written.
    let found = app
        .search(
            "/api/v1/customer/search",
            t,
            json!({"pageNumber": 1, "pageSize": 20}),
        )
        .await;
    assert_eq!(found["totalCount"], json!(0));
    healthy(app).await;
}

/// 20 concurrent renames of one record: all succeed, and exactly the final name finds it.
async fn concurrent_renames_keep_search_true(app: &TestApp) {
    let a = app.tenant("race").await;
    let t = a.token.clone();
    let id = app
        .create(
            "/api/v1/customer/create",
            &t,
            json!({"name": "Khách Ban Đầu", "phone": "0912000111"}),
        )
        .await;
    let answers = at_once(20, |i| {
        app.http
            .put(format!("{}/api/v1/customer/update", app.base))
            .bearer_auth(&t)
            .json(&json!({"id": id, "name": format!("Tên Mới Số{i}x"), "phone": "0912000111"}))
    })
    .await;
    for (st, b) in answers {
        assert_eq!(st, StatusCode::OK, "{b}");
        common::assert_crmtop_ok(&b);
        assert_eq!(b["data"], json!(id), "{b}");
    }
    let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), &t).await;
    let last = got["data"]["name"].as_str().unwrap().to_owned();
    for i in 0..20 {
        let name = format!("Tên Mới Số{i}x");
        let expected = i64::from(name == last);
        assert_eq!(
            hits(app, &t, format!("so{i}x")).await,
            expected,
            "{name} (final {last})"
        );
    }
    assert_eq!(hits(app, &t, "ban dau".to_owned()).await, 0);
    // The repair command rebuilds the same index from the records.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["search", "reindex", "--tenant", "race", "--json"])
        .env("CRM_DATABASE_URL", app.db_url())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tenant"], json!("race"));
    assert_eq!(report["reindexed"]["customer"], json!(1), "{report}");
    let suffix = last.rsplit("Số").next().unwrap().to_owned();
    assert_eq!(hits(app, &t, format!("so{suffix}")).await, 1);
    assert_eq!(hits(app, &t, "0912000111".to_owned()).await, 1);
}

/// Concurrent "received" on one purchase: every caller gets the state, the stock moves once.
async fn concurrent_receipts_are_idempotent(app: &TestApp) {
    let a = app.tenant("recv").await;
    let t = a.token.clone();
    let branch = nx_branch(app, &t).await;
    let (st, p) = app
        .post(
            "/api/product/product",
            &t,
            json!({"name": "Nước suối", "branch_id": branch, "sell_price": 5000, "unit": {"unit_base": {"name": "Chai"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let pid = p["id"].as_i64().unwrap();
    let (_, sup) = app
        .post(
            "/api/customer/customer",
            &t,
            json!({"name": "NCC", "type": "supplier"}),
        )
        .await;
    let supplier = sup["data"]["id"].as_i64().unwrap();
    let (st, po) = app.post("/api/purchase/purchase", &t, json!({"customer_id": supplier, "branch_id": branch, "shipping_status": "ordered", "products": [{"product_id": pid, "quantity": 7, "unit_price": 3000}]})).await;
    assert_eq!(st, StatusCode::OK, "{po}");
    let po = po["data"]["id"].as_i64().unwrap();
    let answers = at_once(10, |_| {
        app.http
            .put(format!("{}/api/purchase/update-shipping/{po}", app.base))
            .bearer_auth(&t)
            .json(&json!({"comment": "", "shipping_status": "received"}))
    })
    .await;
    for (st, b) in answers {
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(b["shipping_status"], json!("received"), "{b}");
    }
    let (_, d) = app
        .get(
            &format!("/api/product/product-detail?variation_id={pid}&branch_id={branch}"),
            &t,
        )
        .await;
    assert_eq!(d["qty_available"].as_f64(), Some(7.0), "{d}");
}

/// How many customers a CRMTOP search for `q` finds.
async fn hits(app: &TestApp, t: &str, q: String) -> i64 {
    let found = app
        .search(
            "/api/v1/customer/search",
            t,
            json!({"pageNumber": 1, "pageSize": 20, "search": q}),
        )
        .await;
    found["totalCount"].as_i64().unwrap()
}

/// A word most of a tenant's names start with reads at most `MAX_TERM_MATCHES` (2,000) index
/// entries per typed term: the answer is bounded, the name typed whole still comes first, and a
/// longer phrase still finds a record past the bound.
async fn a_common_word_reads_a_bounded_slice_of_the_index(app: &TestApp) {
    let a = app.tenant("common").await;
    let t = &a.token;
    let (st, b) = app
        .post(
            "/api/v1/customer/create",
            t,
            json!({"name": "Nguyễn", "type": 1}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    for batch in 0..3 {
        let items: Vec<Value> = (0..1000)
            .map(|i| json!({"fullName": format!("Nguyễn Văn K{:05}", batch * 1000 + i)}))
            .collect();
        let (st, b) = app
            .post("/api/v2/contact/addMany", t, json!({ "data": items }))
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(b["payload"]["created"], json!(1000), "{b}");
    }
    // 3,001 customers start with `nguyen`; the scan stops at 2,000 entries, taken in the
    // terms' order: `nguyen`, then `nguyen k00000` … (family and given name).
    let found = app
        .search(
            "/api/v1/customer/search",
            t,
            json!({"pageNumber": 1, "pageSize": 20, "search": "nguyen"}),
        )
        .await;
    assert_eq!(found["totalCount"], json!(2_000), "{found}");
    let items = found["data"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["name"], json!("Nguyễn"), "{found}");
    assert!(items[1..]
        .iter()
        .all(|c| c["name"].as_str().unwrap().starts_with("Nguyễn Văn K")));
    // The same bound for one letter, and on the last page it allows.
    assert_eq!(hits(app, t, "n".into()).await, 2_000);
    let last = app
        .search(
            "/api/v1/customer/search",
            t,
            json!({"pageNumber": 100, "pageSize": 20, "search": "n"}),
        )
        .await;
    assert_eq!(last["data"].as_array().unwrap().len(), 20, "{last}");
    assert_eq!(last["totalCount"], json!(2_000), "{last}");
    // A page past the last still says how many there are (counted on their own).
    let past = app
        .search(
            "/api/v1/customer/search",
            t,
            json!({"pageNumber": 101, "pageSize": 20, "search": "n"}),
        )
        .await;
    assert_eq!(past["data"], json!([]), "{past}");
    assert_eq!(past["totalCount"], json!(2_000), "{past}");
    assert_eq!(past["hasPreviousPage"], json!(true), "{past}");
    // A phrase past the bound is its own scan: found.
    assert_eq!(hits(app, t, "nguyen van k02999".into()).await, 1);
    assert_eq!(hits(app, t, "k02999 nguyen".into()).await, 1);
    healthy(app).await;
}

on_both_backends!(
    a_common_word_reads_a_bounded_slice_of_the_index,
    shapes_are_bounded,
    nul_is_refused_everywhere,
    concurrent_renames_keep_search_true,
    concurrent_receipts_are_idempotent,
    an_oversized_upload_reads_its_413_not_a_reset,
);

/// Peak resident memory of this process (the server runs inside it), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_burst_is_bounded_and_the_real_client_still_gets_in() {
    // One failure a minute locks the client id, so the lock outlasts the test however slow.
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.auth_failures_per_minute = 1)
        .await
        .unwrap();
    let auth = &app.app.state.auth;
    let tenant = auth
        .create_tenant("burst", Some("burst"), None)
        .await
        .unwrap();
    let issued = auth
        .create_client(&tenant, "erp", crm_domain::scope::Scope::ALL)
        .await
        .unwrap();
    let (id, secret) = (issued.client.client_id.clone(), issued.secret.0.clone());
    let token_url = format!("{}/api/v1/auth/get-token-for-develop", app.base);
    // The real integration runs at 127.0.0.2 and has signed in from there before.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let sign_in = || {
        elsewhere
            .post(&token_url)
            .json(&json!({"clientId": id, "clientSecret": secret}))
            .send()
    };
    assert_eq!(sign_in().await.unwrap().status(), StatusCode::OK);
    let mut tasks = Vec::new();
    for i in 0..128 {
        let (http, url, id) = (app.http.clone(), token_url.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .json(&json!({"clientId": id, "clientSecret": format!("wrong{i}")}))
                .send()
                .await
                .unwrap();
            let retry = r.headers().get("retry-after").is_some();
            (r.status(), retry, r.json::<Value>().await.unwrap())
        }));
    }
    // The real client, from another address, while the burst is in flight.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let r = sign_in().await.unwrap();
    let took = started.elapsed();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(body["data"]["accessToken"].is_string(), "{body}");
    assert!(
        took < Duration::from_secs(2),
        "the real client waited {took:?}"
    );
    let (mut refused, mut limited) = (0, 0);
    for task in tasks {
        let (st, retry, b) = task.await.unwrap();
        assert_eq!(b["success"], json!(false), "{b}");
        match st {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry, "Retry-After on {st}");
                limited += 1;
            }
            other => panic!("unexpected {other}: {b}"),
        }
    }
    println!(
        "burst: {refused} refused, {limited} throttled; peak RSS {} MiB",
        peak_rss_mib()
    );
    assert!(limited > 0 && refused > 0);
    assert!(peak_rss_mib() < 200, "peak RSS {} MiB", peak_rss_mib());
    // The attacking address is refused even with the right secret (the client id is locked for
    // it, and its own budget is spent); the address that signed in before is not.
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": id, "clientSecret": secret})),
        )
        .await;
    assert_crmtop_err(st, &b, StatusCode::TOO_MANY_REQUESTS);
    let r = sign_in().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert!(body["data"]["accessToken"].is_string(), "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_do_not_starve_the_server() {
    crm_server::net::raise_fd_limit();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.header_timeout_secs = 2)
        .await
        .unwrap();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stalled = Vec::new();
    for i in 0..1100 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // Half a request line, or a head without its end.
        let part: &[u8] = if i % 2 == 0 {
            b"GET /hea"
        } else {
            b"POST /api/v1/customer/search HTTP/1.1\r\nHost: x\r\n"
        };
        s.write_all(part).await.unwrap();
        stalled.push(s);
    }
    let started = Instant::now();
    let (st, _) = app.call(Method::GET, "/health", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // After the header timeout the server has closed them.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut closed = 0;
    for s in &mut stalled {
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(
            Duration::from_millis(20),
            tokio::io::AsyncReadExt::read(s, &mut buf),
        )
        .await
        {
            if n == 0 || buf.starts_with(b"HTTP/1.1 408") {
                closed += 1;
            }
        }
    }
    assert!(
        closed >= 1000,
        "only {closed} of 1100 stalled connections were closed"
    );
    drop(stalled);
    app.stop().await;
}

/// A client that sends a whole oversized body reads the 413 every time: the server refuses at
/// its limit without reading the rest, and its lingering close keeps the kernel from answering
/// the unread bytes with a reset that would destroy the 413 before the client reads it (or
/// before a proxy in front forwards it: the PostgreSQL pass through pgbouncer has one).
async fn an_oversized_upload_reads_its_413_not_a_reset(app: &TestApp) {
    let a = app.tenant("upload").await;
    let path = "/api/v1/customer/create";
    for _ in 0..24 {
        let length = 3 * 1024 * 1024;
        let (status, body) = app.announce_body(path, &a.token, length, length).await;
        let message = assert_crmtop_err(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(message.contains("too large"), "{message}");
    }
    healthy(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_stalled_requests_exits_within_the_deadline() {
    let db = common::TestDb::new(Backend::Sqlite).await.unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .env("CRM_DATABASE_URL", &db.url)
        .env("CRM_LISTEN", "127.0.0.1:0")
        .env("CRM_SHUTDOWN_DEADLINE_SECS", "2")
        .env("CRM_HEADER_TIMEOUT_SECS", "60")
        .env("CRM_BODY_TIMEOUT_SECS", "60")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = common::listening(&mut child).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let mut open = Vec::new();
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"POST /api/v1/customer/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"pa")
            .await
            .unwrap();
        open.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().unwrap().to_string();
    let started = Instant::now();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(6), child.wait())
        .await
        .expect("the server did not exit within the deadline")
        .unwrap();
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
    drop(open);
}

/// Every documented endpoint of the four APIs, with its documented example mutated: wrong
/// types, extreme numbers, NUL and very long strings, deep nesting, dropped and unknown keys,
/// broken JSON, odd path and query values. No answer may be a 5xx or take a second.
async fn fuzz_every_documented_endpoint(app: &TestApp) {
    let a = app.tenant("fuzz").await;
    let mut endpoints: Vec<(String, String, Value, Vec<String>)> = Vec::new();
    for (file, body_key) in [
        (include_str!("fixtures/catalog-000.json"), "request_example"),
        (include_str!("fixtures/catalog-003.json"), "request_example"),
        (
            include_str!("fixtures/catalog-vbot-omi.json"),
            "request_example",
        ),
    ] {
        let catalog: Vec<Value> = serde_json::from_str(file).unwrap();
        for e in catalog {
            let method = e["method"].as_str().unwrap_or("GET").to_owned();
            let path = e["path"].as_str().unwrap_or("/").to_owned();
            let body = e[body_key].clone();
            let query: Vec<String> = e["query_params"]
                .as_array()
                .map(|q| {
                    q.iter()
                        .filter_map(|p| p["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            endpoints.push((method, path, body, query));
        }
    }
    assert!(endpoints.len() >= 180, "{}", endpoints.len());
    let odd_values = [
        json!(null),
        json!(-1),
        json!(1e308),
        json!(18446744073709551615u64),
        json!(""),
        json!("x".repeat(5000)),
        json!("a\u{0}b"),
        json!([]),
        json!({}),
        json!(true),
        json!("' OR 1=1 --"),
        json!("00000000-0000-0000-0000-000000000000"),
        json!("2026-13-45"),
        json!("😀 Nguyễn"),
        (0..30).fold(json!(1), |v, _| json!([v])),
    ];
    let odd_segments = [
        "-1",
        "99999999999999999999",
        "abc",
        "%00",
        "%FF",
        &"9".repeat(300),
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut sent, mut slowest) = (0usize, Duration::ZERO);
    for (method, path, body, query) in &endpoints {
        for round in 0..10 {
            let segment = odd_segments[next(odd_segments.len())];
            let url_path: String = path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        if round % 2 == 0 {
                            "1"
                        } else {
                            segment
                        }
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
                .replace(' ', "%20");
            let mut qs: Vec<String> = query
                .iter()
                .map(|q| {
                    let v = match next(6) {
                        0 => "1".to_owned(),
                        1 => "%00".to_owned(),
                        2 => "x".repeat(3000),
                        3 => "%FF%FE".to_owned(),
                        4 => "-99999999999999999999".to_owned(),
                        _ => "2026-01-01".to_owned(),
                    };
                    format!("{}={v}", q.replace('[', "%5B").replace(']', "%5D"))
                })
                .collect();
            if round == 9 {
                qs.extend((0..150).map(|i| format!("k{}=1", i % 3)));
            }
            let mut mutated = body.clone();
            if let Some(obj) = mutated.as_object_mut() {
                let keys: Vec<String> = obj.keys().cloned().collect();
                if !keys.is_empty() {
                    let k = &keys[next(keys.len())];
                    match round % 3 {
                        0 => {
                            obj.insert(k.clone(), odd_values[next(odd_values.len())].clone());
                        }
                        1 => {
                            obj.remove(k);
                        }
                        _ => {
                            for k in &keys {
                                obj.insert(k.clone(), odd_values[next(odd_values.len())].clone());
                            }
                        }
                    }
                }
                obj.insert("unknownKey".to_owned(), json!({"a": [1, 2]}));
            } else if round % 2 == 1 {
                mutated = odd_values[next(odd_values.len())].clone();
            }
            let raw = match round {
                7 => b"{\"broken\": ".to_vec(),
                8 => vec![0xff, 0xfe, b'{'],
                _ => serde_json::to_vec(&mutated).unwrap(),
            };
            let url = if qs.is_empty() {
                format!("{}{url_path}", app.base)
            } else {
                format!("{}{url_path}?{}", app.base, qs.join("&"))
            };
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let mut req = app
                .http
                .request(m.clone(), &url)
                .bearer_auth(&a.token)
                .header("content-type", "application/json");
            if m != Method::GET {
                req = req.body(raw);
            }
            let started = Instant::now();
            let r = req.send().await.unwrap();
            let took = started.elapsed();
            let status = r.status();
            let text = r.text().await.unwrap();
            assert!(
                !status.is_server_error(),
                "{method} {url_path} (round {round}) answered {status}: {text}"
            );
            // Whatever the answer, it is JSON with a message when it is a failure.
            let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
                panic!("{method} {url_path} (round {round}): not JSON: {text}")
            });
            if !status.is_success() {
                let said = ["message", "error_description"]
                    .iter()
                    .chain(std::iter::once(&"meta"))
                    .any(|k| !body[*k].is_null());
                assert!(
                    said,
                    "{method} {url_path} (round {round}): no message in {body}"
                );
            }
            assert!(
                took < Duration::from_secs(1),
                "{method} {url_path} took {took:?}"
            );
            slowest = slowest.max(took);
            sent += 1;
        }
    }
    println!(
        "fuzz: {sent} requests over {} endpoints, 0 server errors, slowest {slowest:?}",
        endpoints.len()
    );
    healthy(app).await;
}

mod fuzz {
    use super::*;
    on_both_backends!(fuzz_every_documented_endpoint);
}
