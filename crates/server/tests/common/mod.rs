//! Test harness: a fresh database per test (SQLite file or PostgreSQL database), the real
//! server on port 0, and helpers that speak HTTP to it.
//!
//! PostgreSQL comes from `CRM_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it is unreachable the PostgreSQL variant of each test says so and skips, unless
//! `CRM_TEST_REQUIRE_POSTGRES=1` (set by `.ci/run`), which turns that into a failure.
//!
//! With `CRM_TEST_PGBOUNCER_URL` (pgbouncer in transaction mode in front of that PostgreSQL,
//! say `postgres://postgres@127.0.0.1:6432/test`), each PostgreSQL test's server runs as two
//! nodes on one database, both through pgbouncer, behind a proxy that hands each connection to
//! the next node in turn; the test client opens a connection per request, so consecutive
//! requests alternate between the nodes (`.ci/run`'s second PostgreSQL pass).

#![allow(dead_code, clippy::unwrap_used)]

pub mod console;
pub mod gateway;
pub mod process;
pub mod receiver;
pub mod smtp;
pub mod zalo;

use std::sync::atomic::{AtomicU32, Ordering};

use crm_server::{App, Config};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn pg_base_url() -> String {
    std::env::var("CRM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn pg_required() -> bool {
    std::env::var("CRM_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

impl TestDb {
    /// `None` when PostgreSQL is wanted but unavailable and not required.
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/crm.db", dir.path().display());
                Some(Self {
                    url,
                    _dir: Some(dir),
                    pg: None,
                })
            }
            Backend::Postgres => {
                let base = pg_base_url();
                let mut admin = match sqlx::PgConnection::connect(&base).await {
                    Ok(c) => c,
                    Err(e) if !pg_required() => {
                        eprintln!("SKIPPED (PostgreSQL unreachable at {base}: {e}); set CRM_TEST_REQUIRE_POSTGRES=1 to fail instead");
                        return None;
                    }
                    Err(e) => panic!("PostgreSQL required but unreachable at {base}: {e}"),
                };
                let name = format!(
                    "crmtest_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                let _ = admin.close().await;
                let url = match base.rsplit_once('/') {
                    Some((prefix, _)) => format!("{prefix}/{name}"),
                    None => unreachable!("a PostgreSQL URL has a path"),
                };
                Some(Self {
                    url,
                    _dir: None,
                    pg: Some((base, name)),
                })
            }
        }
    }

    pub async fn drop_db(self) {
        if let Some((base, name)) = &self.pg {
            if let Ok(mut admin) = sqlx::PgConnection::connect(base).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }
}

/// pgbouncer's URL when the PostgreSQL tests run through it.
pub fn pgbouncer_url() -> Option<String> {
    std::env::var("CRM_TEST_PGBOUNCER_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// `url` with the database of `db_url` (pgbouncer's `*` entry reaches any database).
fn with_database(url: &str, db_url: &str) -> String {
    let name = db_url.rsplit('/').next().unwrap();
    match url.rsplit_once('/') {
        Some((prefix, _)) => format!("{prefix}/{name}"),
        None => unreachable!("a PostgreSQL URL has a path"),
    }
}

/// A second server node on the first one's configuration, and a proxy that hands each
/// accepted connection to the two nodes in turn.
struct SecondNode {
    base: String,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    proxy: tokio::task::JoinHandle<()>,
}

impl SecondNode {
    async fn start(config: &Config, first: &str) -> Self {
        let app = App::connect(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let second = listener.local_addr().unwrap().to_string();
        let (shutdown, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async {
            let _ = rx.await;
        }));
        let nodes = [first.trim_start_matches("http://").to_owned(), second];
        let front = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", front.local_addr().unwrap());
        let proxy = tokio::spawn(async move {
            let mut turn = 0usize;
            while let Ok((mut inbound, _)) = front.accept().await {
                let node = nodes[turn % 2].clone();
                turn += 1;
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&node).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self {
            base,
            shutdown,
            task,
            proxy,
        }
    }

    async fn stop(self) {
        self.proxy.abort();
        let _ = self.shutdown.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// Credentials of one tenant's API client, with a fresh access token.
#[derive(Debug, Clone)]
pub struct Creds {
    pub tenant: String,
    pub client_id: String,
    pub secret: String,
    pub token: String,
}

/// A running server on a fresh database.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub app: App,
    pub backend: Backend,
    db: Option<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The second node and the proxy in front of both (`CRM_TEST_PGBOUNCER_URL`).
    second: Option<SecondNode>,
    /// Where this server keeps uploaded files (removed on stop).
    pub files_dir: std::path::PathBuf,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with a chance to change the configuration.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let db = TestDb::new(backend).await?;
        let mut config = Config::with_database(&db.url);
        config.auth_cache_secs = 0;
        config.db_max_connections = 4;
        static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        config.files_dir =
            std::env::temp_dir().join(format!("crm-test-files-{}-{n}", std::process::id()));
        let bouncer = pgbouncer_url().filter(|_| backend == Backend::Postgres);
        if let Some(bouncer) = &bouncer {
            config.database_direct_url = Some(db.url.clone());
            config.database_url = with_database(bouncer, &db.url);
            config.database_pooler = "transaction".to_owned();
        }
        tweak(&mut config);
        let files_dir = config.files_dir.clone();
        let app = App::connect(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(app.clone().serve(listener, async {
            let _ = rx.await;
        }));
        let mut http = reqwest::Client::new();
        let second = match bouncer {
            Some(_) => {
                let node = SecondNode::start(&config, &base).await;
                base = node.base.clone();
                // A connection per request, so that requests alternate between the nodes.
                http = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .build()
                    .unwrap();
                Some(node)
            }
            None => None,
        };
        Some(Self {
            base,
            http,
            app,
            backend,
            db: Some(db),
            files_dir,
            shutdown: Some(tx),
            task: Some(task),
            second,
        })
    }

    /// Whether this server runs as two nodes behind a proxy (`CRM_TEST_PGBOUNCER_URL`): a
    /// test of what one node keeps in memory (a throttle's count, its metrics) checks that
    /// and says so.
    pub fn two_nodes(&self) -> bool {
        self.second.is_some()
    }

    /// The database URL this server runs on (for the CLI against the same database).
    pub fn db_url(&self) -> String {
        self.db.as_ref().map(|d| d.url.clone()).unwrap_or_default()
    }

    /// Runs SQL straight on this server's database, beside the server (to stage what an older
    /// build left behind).
    pub async fn sql(&self, statements: &str) {
        let url = self.db_url();
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(statements).execute(&mut c).await.unwrap();
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(statements).execute(&mut c).await.unwrap();
            }
        }
    }

    /// Another node on this server's database, started as the binary starts one (what a
    /// restart after an upgrade runs); its base URL, and what stops it.
    pub async fn another_node(&self) -> (String, oneshot::Sender<()>) {
        let mut config = Config::with_database(&self.db_url());
        config.auth_cache_secs = 0;
        config.db_max_connections = 4;
        config.files_dir = self.files_dir.clone();
        let app = App::connect(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.serve(listener, async {
            let _ = rx.await;
        }));
        // Serving starts once the start-up work is done.
        for _ in 0..200 {
            if reqwest::get(format!("{base}/health")).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        (base, tx)
    }

    /// Shuts the server down gracefully and drops the database.
    pub async fn stop(mut self) {
        if let Some(second) = self.second.take() {
            second.stop().await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        let _ = std::fs::remove_dir_all(&self.files_dir);
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }

    /// A server whose jobs call local peers (webhook receivers, providers) and retry fast.
    pub async fn spawn_outbound(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |c| {
            c.webhook_allow_private = true;
            c.job_backoff_ms = 50;
            c.job_poll_ms = 50;
        })
        .await
    }

    /// Configures the tenant's three channels at addresses where nobody listens: campaigns that
    /// say to send are accepted (they are refused without channels), and send nowhere.
    pub async fn channels_nowhere(&self, token: &str) {
        for (channel, settings) in [
            (
                "email",
                json!({"smtp_url": "smtp://127.0.0.1:9", "tls": "none", "from": "shop@shop.vn"}),
            ),
            (
                "zns",
                json!({"api_url": "http://127.0.0.1:9", "access_token": "t"}),
            ),
            (
                "sms",
                json!({"api_url": "http://127.0.0.1:9", "api_key": "k", "secret_key": "s", "brandname": "B"}),
            ),
        ] {
            let (st, b) = self
                .call(
                    Method::PUT,
                    &format!("/crm/v1/channels/{channel}"),
                    Some(token),
                    Some(json!({ "settings": settings })),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{b}");
        }
    }

    /// A new tenant with one API client and an access token from the CRMTOP flow.
    pub async fn tenant(&self, slug: &str) -> Creds {
        let auth = &self.app.state.auth;
        let tenant = auth.create_tenant(slug, Some(slug), None).await.unwrap();
        let issued = auth
            .create_client(&tenant, "tests", crm_domain::scope::Scope::ALL)
            .await
            .unwrap();
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/get-token-for-develop",
                None,
                Some(json!({"clientId": issued.client.client_id, "clientSecret": issued.secret.0})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        Creds {
            tenant: slug.to_owned(),
            client_id: issued.client.client_id,
            secret: issued.secret.0,
            token: body["data"]["accessToken"].as_str().unwrap().to_owned(),
        }
    }

    /// Sends a request with an optional bearer token and JSON body; returns status and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("accept", "application/json");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, value)
    }

    /// Sends a raw body with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, value)
    }

    /// Announces a body of `length` bytes, sends `sent` of them (from another task, whatever the
    /// server does with the connection) and reads the answer: a server that refuses past its
    /// limit answers without reading the rest, and must still let the client read that answer.
    pub async fn announce_body(
        &self,
        path: &str,
        token: &str,
        length: usize,
        sent: usize,
    ) -> (StatusCode, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let addr = self.base.trim_start_matches("http://");
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut stream, mut writer) = stream.into_split();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        );
        writer.write_all(head.as_bytes()).await.unwrap();
        let mut partial = b"{\"name\": \"".to_vec();
        partial.resize(sent, b'a');
        let sending = tokio::spawn(async move {
            // The server may stop reading and close; what it answered is what counts.
            let _ = writer.write_all(&partial).await;
            writer
        });
        // Read the head, then exactly the announced answer body.
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let split = loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before an answer");
            raw.extend_from_slice(&buf[..n]);
            if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
        };
        let headers = String::from_utf8_lossy(&raw[..split]).to_string();
        let code: u16 = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
        let length: usize = headers
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .expect("a Content-Length");
        let mut body = raw[split + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed mid-answer");
            body.extend_from_slice(&buf[..n]);
        }
        let value = serde_json::from_slice(&body[..length]).unwrap();
        sending.abort();
        (StatusCode::from_u16(code).unwrap(), value)
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// A CRMTOP search: asserts the success envelope and the page object, returns `data`.
    pub async fn search(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, resp) = self.post(path, token, body).await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        assert_crmtop_ok(&resp);
        let page = resp["data"].clone();
        for key in ["currentPage", "totalPages", "totalCount", "pageSize"] {
            assert!(page[key].is_u64(), "{key} in {page}");
        }
        for key in ["hasPreviousPage", "hasNextPage"] {
            assert!(page[key].is_boolean(), "{key} in {page}");
        }
        assert!(page["data"].is_array(), "{page}");
        page
    }

    /// Creates a record through a CRMTOP `create` endpoint and returns its id.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> String {
        let (status, resp) = self.post(path, token, body).await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        assert_crmtop_ok(&resp);
        resp["data"].as_str().unwrap().to_owned()
    }
}

/// A real Excel workbook: a header row and rows, every cell text.
pub fn workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    // A fixed creation time: the same rows make the same bytes, whenever they are written.
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 1).unwrap();
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// CRMTOP's success envelope, exactly.
pub fn assert_crmtop_ok(body: &Value) {
    let obj = body.as_object().expect("envelope is an object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut expected = vec!["code", "data", "errors", "message", "meta", "success"];
    let mut got = keys.clone();
    got.sort_unstable();
    expected.sort_unstable();
    assert_eq!(got, expected, "{body}");
    assert_eq!(body["success"], json!(true), "{body}");
    assert_eq!(body["code"], json!(200), "{body}");
    assert_eq!(body["message"], Value::Null, "{body}");
    assert_eq!(body["errors"], Value::Null, "{body}");
    assert_eq!(body["meta"], Value::Null, "{body}");
}

/// CRMTOP's failure envelope with the given status; returns the message.
pub fn assert_crmtop_err(status: StatusCode, body: &Value, expected: StatusCode) -> String {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["success"], json!(false), "{body}");
    assert_eq!(body["code"], json!(expected.as_u16()), "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["meta"], Value::Null, "{body}");
    let message = body["message"].as_str().expect("message is a string");
    assert!(!message.is_empty());
    message.to_owned()
}

/// Asserts a 400 whose `errors` names `field`.
pub fn assert_field_error(status: StatusCode, body: &Value, field: &str) {
    let message = assert_crmtop_err(status, body, StatusCode::BAD_REQUEST);
    assert!(
        message.contains(field),
        "message should name {field}: {body}"
    );
    assert!(
        body["errors"][field].is_array(),
        "errors should hold {field}: {body}"
    );
}

/// Runs each named `async fn(&TestApp)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) =
                        $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await
                    else {
                        return;
                    };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

/// Reads a spawned `crm`'s stderr until it says where it listens; returns the base URL and keeps
/// draining stderr in the background.
pub async fn listening(child: &mut tokio::process::Child) -> String {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if let Some(rest) = line.split("addr=").nth(1) {
                let addr = rest.split_whitespace().next().unwrap();
                let addr = addr.trim_matches(|c: char| !c.is_ascii_digit() && c != '.' && c != ':');
                return format!("http://{addr}");
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server did not start within 30 s");
    tokio::spawn(async move {
        while let Ok(Some(l)) = stderr.next_line().await {
            if std::env::var_os("CRM_TEST_ECHO").is_some() {
                eprintln!("server: {l}");
            }
        }
    });
    base
}

/// The first item of a list answer (a bare array, or `data` holding one), or the answer itself.
fn first_item(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(items) => items.first(),
        Value::Object(o) => match o.get("data") {
            Some(Value::Array(items)) => items.first(),
            _ => Some(v),
        },
        _ => None,
    }
}

/// The JSON type of a value.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Asserts that `got` (a list or a record) has every key of the response example the vendor's
/// doc gives for `GET path` in catalog `seed`, each with the example's JSON type where both are
/// non-null.
pub fn assert_documented_keys(seed: &str, path: &str, got: &Value) {
    let catalog: Vec<Value> = match seed {
        "003" => serde_json::from_str(include_str!("../fixtures/catalog-003.json")).unwrap(),
        other => panic!("no catalog {other}"),
    };
    let entry = catalog
        .iter()
        .find(|e| e["method"] == "GET" && e["path"] == path)
        .unwrap_or_else(|| panic!("GET {path} is not in catalog {seed}"));
    let documented = first_item(&entry["response_example"]).expect("an example item");
    let ours = first_item(got).unwrap_or_else(|| panic!("GET {path}: no item in {got}"));
    let mut wrong = Vec::new();
    for (key, example) in documented.as_object().expect("an object example") {
        match ours.get(key) {
            None => wrong.push(format!("`{key}` missing")),
            Some(value)
                if !example.is_null() && !value.is_null() && kind(value) != kind(example) =>
            {
                wrong.push(format!("`{key}` is {value}, the doc shows {example}"));
            }
            Some(_) => {}
        }
    }
    assert!(
        wrong.is_empty(),
        "GET {path}: {} in {ours}",
        wrong.join("; ")
    );
}

/// Sends `n` requests at once, released together by a barrier; returns each answer.
pub async fn at_once(
    n: usize,
    request: impl Fn(usize) -> reqwest::RequestBuilder,
) -> Vec<(StatusCode, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, req) = (barrier.clone(), request(i));
            tokio::spawn(async move {
                barrier.wait().await;
                let r = req.send().await.unwrap();
                (r.status(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Runs each named `async fn(&TestApp)` on SQLite and on PostgreSQL, on servers started by the
/// caller's `async fn $spawn(Backend) -> Option<TestApp>` (custom settings).
#[macro_export]
macro_rules! on_both_spawned {
    ($spawn:ident; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = super::$spawn($crate::common::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                super::$name(&app).await;
                app.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = super::$spawn($crate::common::Backend::Postgres).await else {
                    return;
                };
                super::$name(&app).await;
                app.stop().await;
            }
        }
    )*};
}
