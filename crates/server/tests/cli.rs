//! The `crm` binary as a newcomer and an operator use it: first run, CLI, revocation, SIGTERM.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Backend, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use common::process::{crm, printed_value, run_json, serve};

async fn terminate(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("graceful shutdown within 10 s")
        .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

async fn newcomer_gets_from_first_run_to_a_search(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let (child, printed, base) = serve(&db).await;
    let id = printed_value(&printed, "client_id:");
    let secret = printed_value(&printed, "client_secret:");
    assert!(
        printed
            .iter()
            .any(|l| l.contains("curl") && l.contains("get-token-for-develop")),
        "{printed:?}"
    );

    let http = reqwest::Client::new();
    let health: Value = http
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], json!("ok"));
    assert_eq!(health["database"], json!("ok"));

    let token: Value = http
        .post(format!("{base}/api/v1/auth/get-token-for-develop"))
        .json(&json!({"clientId": id, "clientSecret": secret}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["data"]["accessToken"].as_str().unwrap();
    let resp = http
        .post(format!("{base}/api/v1/customer/search"))
        .bearer_auth(access)
        .json(&json!({"pageNumber": 1, "pageSize": 10, "search": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["success"], json!(true));
    assert_eq!(page["data"]["totalCount"], json!(0));
    terminate(child).await;

    let (child, printed, _) = serve(&db).await;
    assert!(
        !printed.iter().any(|l| l.contains("client_secret")),
        "credentials print once: {printed:?}"
    );
    terminate(child).await;
    db.drop_db().await;
}

async fn operator_manages_tenants_and_clients(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let tenant = run_json(
        &db,
        &["tenant", "create", "Công ty ABC", "--slug", "abc", "--json"],
    )
    .await;
    assert_eq!(tenant["slug"], json!("abc"));
    assert_eq!(tenant["time_zone"], json!("Asia/Ho_Chi_Minh"));
    let client = run_json(
        &db,
        &[
            "client", "create", "--tenant", "abc", "--name", "erp", "--json",
        ],
    )
    .await;
    let id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"].as_str().unwrap().to_owned();
    assert_eq!(client["tenant"], json!("abc"));
    let list = run_json(&db, &["client", "list", "--tenant", "abc", "--json"]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["client_id"], json!(id));
    assert_eq!(list[0]["revoked"], json!(false));
    assert!(
        list[0].get("client_secret").is_none(),
        "secrets are never listed"
    );

    let dup = crm(&db)
        .args(["tenant", "create", "Again", "--slug", "abc"])
        .output()
        .await
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let missing = crm(&db)
        .args(["client", "create", "--tenant", "nope"])
        .output()
        .await
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("tenant not found"));

    let (child, printed, base) = serve(&db).await;
    assert!(
        !printed.iter().any(|l| l.contains("First run")),
        "tenants exist: no bootstrap"
    );
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/api/auth/token"))
        .json(&json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": "public.api"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["data"]["access_token"].as_str().unwrap().to_owned();
    let search = |t: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.post(format!("{base}/api/v1/customer/search"))
                .bearer_auth(t)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(search(access.clone()).await, StatusCode::OK);

    let revoked = run_json(&db, &["client", "revoke", &id, "--json"]).await;
    assert_eq!(revoked["revoked"], json!(true));
    assert_eq!(
        search(access).await,
        StatusCode::UNAUTHORIZED,
        "revoked from the CLI, refused by the server"
    );
    let list = run_json(&db, &["client", "list", "--tenant", "abc", "--json"]).await;
    assert_eq!(list[0]["revoked"], json!(true));
    terminate(child).await;
    db.drop_db().await;
}

/// Webhooks, recurring jobs and the job table from the command line, with `crm serve` running
/// the jobs.
async fn operator_runs_webhooks_and_jobs(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    run_json(
        &db,
        &["tenant", "create", "Shop", "--slug", "shop", "--json"],
    )
    .await;
    let rx = common::receiver::Receiver::start().await;
    let url = format!("{}/cli", rx.base);
    let added = run_json(
        &db,
        &[
            "webhook",
            "add",
            "--tenant",
            "shop",
            "--url",
            &url,
            "--event",
            "customer.created",
            "--json",
        ],
    )
    .await;
    let id = added["id"].as_str().unwrap().to_owned();
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{added}");
    assert_eq!(added["events"], json!(["customer.created"]));
    let list = run_json(&db, &["webhook", "list", "--tenant", "shop", "--json"]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("secret").is_none(), "{list}");

    // A delivery every second, read in the tenant's zone.
    let payload =
        json!({"endpoint_id": id, "msg_id": "msg_tick", "event": "test.tick", "body": "{}"})
            .to_string();
    let sched = run_json(
        &db,
        &[
            "jobs",
            "schedule",
            "--tenant",
            "shop",
            "--name",
            "tick",
            "--kind",
            "webhook",
            "--cron",
            "* * * * * *",
            "--payload",
            &payload,
            "--json",
        ],
    )
    .await;
    assert_eq!(sched["time_zone"], json!("Asia/Ho_Chi_Minh"), "{sched}");
    assert!(sched["next_run_at"].is_string());
    let out = crm(&db)
        .args([
            "jobs",
            "schedule",
            "--tenant",
            "shop",
            "--name",
            "bad",
            "--kind",
            "webhook",
            "--cron",
            "99 * * * *",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cron"));

    let mut node = crm(&db);
    node.env("CRM_WEBHOOK_ALLOW_PRIVATE", "true")
        .env("CRM_JOB_POLL_MS", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = node.spawn().unwrap();
    common::listening(&mut child).await;
    let got = rx.wait("/cli", 2).await;
    assert!(got.iter().all(|g| g.id == "msg_tick"));
    common::receiver::verify(&got[0], &secret);
    terminate(child).await;

    let stats = run_json(&db, &["jobs", "stats", "--json"]).await;
    let webhook = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == json!("webhook"))
        .unwrap();
    assert!(webhook["done"].as_i64().unwrap() >= 2, "{stats}");
    let done = run_json(&db, &["jobs", "list", "--state", "done", "--json"]).await;
    assert!(done.as_array().unwrap().len() >= 2);
    assert_eq!(done[0]["kind"], json!("webhook"));
    assert_eq!(done[0]["state"], json!("done"));
    let shown = run_json(
        &db,
        &["jobs", "show", done[0]["id"].as_str().unwrap(), "--json"],
    )
    .await;
    assert_eq!(shown["id"], done[0]["id"]);
    let log = run_json(
        &db,
        &["webhook", "deliveries", "--tenant", "shop", &id, "--json"],
    )
    .await;
    assert!(log.as_array().unwrap().len() >= 2);
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["status"] == json!(200)));

    run_json(
        &db,
        &[
            "jobs",
            "unschedule",
            "--tenant",
            "shop",
            "--name",
            "tick",
            "--json",
        ],
    )
    .await;
    assert_eq!(
        run_json(&db, &["jobs", "schedules", "--json"]).await,
        json!([])
    );
    let rotated = run_json(
        &db,
        &["webhook", "rotate", "--tenant", "shop", &id, "--json"],
    )
    .await;
    assert_ne!(rotated["secret"], json!(secret));
    let disabled = run_json(
        &db,
        &["webhook", "disable", "--tenant", "shop", &id, "--json"],
    )
    .await;
    assert_eq!(disabled["disabled"], json!(true));
    run_json(
        &db,
        &["webhook", "delete", "--tenant", "shop", &id, "--json"],
    )
    .await;
    assert_eq!(
        run_json(&db, &["webhook", "list", "--tenant", "shop", "--json"]).await,
        json!([])
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newcomer_gets_from_first_run_to_a_search_sqlite() {
    newcomer_gets_from_first_run_to_a_search(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newcomer_gets_from_first_run_to_a_search_postgres() {
    newcomer_gets_from_first_run_to_a_search(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_manages_tenants_and_clients_sqlite() {
    operator_manages_tenants_and_clients(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_manages_tenants_and_clients_postgres() {
    operator_manages_tenants_and_clients(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_runs_webhooks_and_jobs_sqlite() {
    operator_runs_webhooks_and_jobs(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_runs_webhooks_and_jobs_postgres() {
    operator_runs_webhooks_and_jobs(Backend::Postgres).await;
}

/// `crm channel set|show`: settings are checked, secrets never printed.
async fn operator_sets_channels(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    run_json(
        &db,
        &["tenant", "create", "Shop", "--slug", "shop", "--json"],
    )
    .await;
    let set = run_json(
        &db,
        &[
            "channel",
            "set",
            "--tenant",
            "shop",
            "zns",
            "api_url=https://business.openapi.zalo.me",
            "app_id=123",
            "secret_key=s3cr3t",
            "access_token=tok-1",
            "--json",
        ],
    )
    .await;
    assert_eq!(set["channel"], json!("zns"));
    assert_eq!(set["settings"]["app_id"], json!("123"));
    assert_eq!(set["settings"]["secret_key"], json!("set"));
    assert_eq!(set["settings"]["access_token"], json!("set"));
    assert!(!set.to_string().contains("s3cr3t"), "{set}");
    let shown = run_json(
        &db,
        &["channel", "show", "--tenant", "shop", "zns", "--json"],
    )
    .await;
    assert_eq!(shown, set);
    // A removed key is gone; an unknown key fails with a message and changes nothing.
    run_json(
        &db,
        &[
            "channel", "set", "--tenant", "shop", "zns", "app_id=", "--json",
        ],
    )
    .await;
    let out = crm(&db)
        .args([
            "channel",
            "set",
            "--tenant",
            "shop",
            "zns",
            "smtp_url=smtp://x",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("smtp_url"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = run_json(
        &db,
        &["channel", "show", "--tenant", "shop", "zns", "--json"],
    )
    .await;
    assert!(shown["settings"].get("app_id").is_none(), "{shown}");
    assert!(shown["settings"].get("smtp_url").is_none(), "{shown}");
    assert_eq!(shown["settings"]["access_token"], json!("set"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_sets_channels_sqlite() {
    operator_sets_channels(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_sets_channels_postgres() {
    operator_sets_channels(Backend::Postgres).await;
}

/// `crm tenant set|show`: the tenant's document settings, checked; a logo read from a file.
async fn operator_sets_document_settings(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    run_json(
        &db,
        &["tenant", "create", "Shop", "--slug", "shop", "--json"],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.png");
    // A 1×1 PNG.
    let png = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0,
        0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xDE, 0, 0, 0, 12, 0x49, 0x44, 0x41,
        0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0, 0, 0x03, 0x01, 0x01, 0, 0x18, 0xDD, 0x8D,
        0xB0, 0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    std::fs::write(&logo, png).unwrap();
    let logo_arg = format!("logo=@{}", logo.display());
    let set = run_json(
        &db,
        &[
            "tenant",
            "set",
            "--tenant",
            "shop",
            "seller_name=Cửa hàng Hoa Sen",
            "tax_code=0312345678",
            "bank_bin=970436",
            "bank_account=0071000123456",
            &logo_arg,
            "--json",
        ],
    )
    .await;
    assert_eq!(set["scope"], json!("documents"));
    assert_eq!(set["settings"]["seller_name"], json!("Cửa hàng Hoa Sen"));
    assert_eq!(set["settings"]["bank_bin"], json!("970436"));
    assert!(
        set["settings"]["logo"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBOR"),
        "{set}"
    );
    let shown = run_json(&db, &["tenant", "show", "--tenant", "shop", "--json"]).await;
    assert_eq!(shown["tenant"]["slug"], json!("shop"));
    assert_eq!(shown["documents"], set["settings"]);
    // A bad value fails with the key named and changes nothing.
    let out = crm(&db)
        .args([
            "tenant",
            "set",
            "--tenant",
            "shop",
            "tax_code=123",
            "bank_bin=",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tax_code"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = run_json(&db, &["tenant", "show", "--tenant", "shop", "--json"]).await;
    assert_eq!(again, shown);
    // The text form shortens the logo.
    let out = crm(&db)
        .args(["tenant", "show", "--tenant", "shop"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("seller_name = Cửa hàng Hoa Sen"), "{text}");
    assert!(text.contains("characters)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_sets_document_settings_sqlite() {
    operator_sets_document_settings(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_sets_document_settings_postgres() {
    operator_sets_document_settings(Backend::Postgres).await;
}

/// The SQLite database and its directory are created readable by the
/// server's user only (SQLite's WAL and shared-memory files take the database's mode).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_files_are_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let files = data.join("files");
    let out = Command::new(common::process::BIN)
        .env(
            "CRM_DATABASE_URL",
            format!("sqlite://{}", data.join("crm.db").display()),
        )
        .env("CRM_FILES_DIR", &files)
        .args(["tenant", "create", "Shop", "--slug", "shop", "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&data.join("crm.db")), 0o600, "the database");
    for side in ["crm.db-wal", "crm.db-shm"] {
        let p = data.join(side);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
}

/// `crm --version` names the build: the version and the commit it was built from.
#[tokio::test]
async fn version_names_the_build() {
    let out = Command::new(common::process::BIN)
        .arg("--version")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let (name, rest) = text.trim().split_once(' ').unwrap();
    assert_eq!(name, "crm");
    let (version, build) = rest.split_once(" (").unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let commit = build.trim_end_matches(')').trim_end_matches("-modified");
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{text}"
    );
}
