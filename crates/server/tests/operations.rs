//! What operators rely on: request ids echoed and in the log line of their request (text and
//! JSON logs), Prometheus metrics after traffic, readiness.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::process::{crm, printed_value};
use common::{Backend, TestApp, TestDb};
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

on_both_backends!(request_ids_are_echoed, metrics_count_the_traffic);

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
        printed.push(line);
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
