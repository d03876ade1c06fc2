//! The `crm` binary as a process: started on a test database, read until it listens.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::TestDb;

pub const BIN: &str = env!("CARGO_BIN_EXE_crm");

pub fn crm(db: &TestDb) -> Command {
    let mut c = Command::new(BIN);
    c.env("CRM_DATABASE_URL", &db.url)
        .env("CRM_LISTEN", "127.0.0.1:0")
        .env("CRM_AUTH_CACHE_SECS", "0")
        .env("CRM_LOG", "info")
        // Uploads go to the system's temporary directory, not into the source tree.
        .env("CRM_FILES_DIR", std::env::temp_dir().join("crm-test-files"))
        .kill_on_drop(true);
    c
}

pub async fn run_json(db: &TestDb, args: &[&str]) -> Value {
    let out = crm(db).args(args).output().await.unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)))
}

/// Starts `crm` (serve) and reads stdout and stderr until it listens; returns its printed
/// lines and base URL.
pub async fn serve(db: &TestDb) -> (Child, Vec<String>, String) {
    serve_with(crm(db)).await
}

/// [`serve`] with a command set up by the caller (more `CRM_` variables).
pub async fn serve_with(mut cmd: Command) -> (Child, Vec<String>, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = super::listening(&mut child).await;
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_millis(300), stdout.next_line()).await
    {
        printed.extend(first_run_lines(line));
    }
    (child, printed, base)
}

/// A line the server printed, followed by the lines of the first run's credentials file when
/// it names one (its output is not a terminal): the file must be readable by its owner only.
pub fn first_run_lines(line: String) -> Vec<String> {
    let file = line
        .split_once("secret are in ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(str::to_owned);
    let mut lines = vec![line];
    if let Some(file) = file {
        let meta = std::fs::metadata(&file).unwrap();
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600,
            "{file} is readable by its owner only"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        lines.extend(text.lines().map(str::to_owned));
        let _ = std::fs::remove_file(&file);
    }
    lines
}

/// The value printed after `label` on one of the lines.
pub fn printed_value(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no '{label}' in {lines:?}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// `crm` with fast job polling and the test clock (`POST /crm/v1/test/clock`), for the tests of
/// schedules and delays.
pub fn clocked(db: &TestDb) -> Command {
    let mut c = crm(db);
    c.env("CRM_WORKERS", "2")
        .env("CRM_JOB_POLL_MS", "50")
        .env("CRM_JOB_BACKOFF_MS", "50")
        .env("CRM_TEST_CLOCK", "true")
        .env("CRM_WEBHOOK_ALLOW_PRIVATE", "true");
    c
}

/// The API of a server started as a process, for the tests that restart it or move its clock.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn ok(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let (st, b) = self.call(method, path, token, body).await;
        assert_eq!(st, StatusCode::OK, "{path}: {b}");
        b
    }

    pub async fn token(&self, id: &str, secret: &str) -> String {
        let r: Value = self
            .http
            .post(format!("{}/api/v1/auth/get-token-for-develop", self.base))
            .json(&json!({"clientId": id, "clientSecret": secret}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["data"]["accessToken"].as_str().unwrap().to_owned()
    }

    pub fn at(base: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base,
        }
    }

    /// Points the tenant's SMS channel at `url` (a test's recording gateway).
    pub async fn sms_to(&self, token: &str, url: &str) {
        self.ok(
            Method::PUT,
            "/crm/v1/channels/sms",
            token,
            Some(
                json!({"settings": {"api_url": url, "api_key": "k", "secret_key": "s",
                                     "brandname": "HOAMAI"}}),
            ),
        )
        .await;
    }

    /// A token for the client the server printed when it created the tenant.
    pub async fn printed_token(&self, printed: &[String]) -> String {
        self.token(
            &printed_value(printed, "client_id:"),
            &printed_value(printed, "client_secret:"),
        )
        .await
    }

    pub async fn advance(&self, seconds: i64) {
        let r = self
            .http
            .post(format!("{}/crm/v1/test/clock", self.base))
            .json(&json!({ "advance_seconds": seconds }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    /// The automation's step runs once `done` holds for them (or 15 s pass).
    pub async fn runs_until(
        &self,
        token: &str,
        id: i64,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let b = self
                .ok(
                    Method::GET,
                    &format!("/crm/v1/automations/{id}/runs"),
                    token,
                    None,
                )
                .await;
            let list = b["data"].as_array().unwrap().clone();
            if done(&list) || Instant::now() > deadline {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
