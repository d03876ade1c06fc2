//! `crm backup` while writes stream in, then `crm restore` into a fresh database, on both
//! backends: every write acknowledged before the backup started is there, the files come
//! back byte for byte, SQLite's integrity check passes, and a restore into a database that
//! holds tenants is refused.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::process::{crm, printed_value, serve_with, Api};
use common::{Backend, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn backup_while_writing(backend: Backend) {
    let Some(source) = TestDb::new(backend).await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let files = root.path().join("files");
    let mut cmd = crm(&source);
    cmd.env("CRM_FILES_DIR", &files);
    let (child, printed, base) = serve_with(cmd).await;
    let api = Api::at(base);
    let token = api
        .token(
            &printed_value(&printed, "client_id:"),
            &printed_value(&printed, "client_secret:"),
        )
        .await;
    // An uploaded file, as the files directory keeps them.
    let upload = files.join("attachments").join("hoa-don.pdf");
    std::fs::create_dir_all(upload.parent().unwrap()).unwrap();
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&upload, &bytes).unwrap();

    // Writes stream in; each acknowledged id is kept in order.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
        let api = Api::at(api.base.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let (st, b) = api
                    .call(
                        Method::POST,
                        "/api/v1/customer/create",
                        &token,
                        Some(json!({"name": format!("Khách {i}"), "phone": format!("09{i:08}")})),
                    )
                    .await;
                assert_eq!(st, StatusCode::OK, "{b}");
                acked
                    .lock()
                    .unwrap()
                    .push(b["data"].as_str().unwrap().to_owned());
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before_backup = acked.lock().unwrap().clone();
    assert!(!before_backup.is_empty());
    let archive = root.path().join("crm-backup.tar");
    let out = crm(&source)
        .env("CRM_FILES_DIR", &files)
        .args(["backup", archive.to_str().unwrap(), "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let told: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(told["files"], json!(1), "{told}");
    assert!(told["bytes"].as_u64().unwrap() > 10_000, "{told}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let all = acked.lock().unwrap().clone();
    drop(child);
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&archive).unwrap().permissions()
        ) & 0o777,
        0o600
    );

    // Into a fresh database and files directory.
    let target = TestDb::new(backend).await.unwrap();
    let restored_files = root.path().join("restored-files");
    let out = crm(&target)
        .env("CRM_FILES_DIR", &restored_files)
        .args(["restore", archive.to_str().unwrap(), "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let told: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(told["files"], json!(1), "{told}");
    assert_eq!(
        std::fs::read(restored_files.join("attachments").join("hoa-don.pdf")).unwrap(),
        bytes
    );
    if backend == Backend::Sqlite {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&target.url).await.unwrap();
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(ok, "ok");
        let _ = c.close().await;
    }

    // The restored server knows the same client, and every write acknowledged before the
    // backup started.
    let mut cmd = crm(&target);
    cmd.env("CRM_FILES_DIR", &restored_files);
    let (child, _, base) = serve_with(cmd).await;
    let api = Api::at(base);
    for id in &before_backup {
        let (st, b) = api
            .call(
                Method::GET,
                &format!("/api/v1/customer/get/{id}"),
                &token,
                None,
            )
            .await;
        assert_eq!(
            st,
            StatusCode::OK,
            "{id} acknowledged before the backup: {b}"
        );
    }
    let (_, found) = api
        .call(
            Method::POST,
            "/api/v1/customer/search",
            &token,
            Some(json!({"pageNumber": 1, "pageSize": 1})),
        )
        .await;
    let restored = found["data"]["totalCount"].as_u64().unwrap();
    println!(
        "{backend:?}: {} writes acknowledged before the backup, {} in all, {restored} restored",
        before_backup.len(),
        all.len()
    );
    assert!(restored as usize >= before_backup.len() && restored as usize <= all.len());
    drop(child);

    // Not into a database that holds tenants.
    let out = crm(&target)
        .env("CRM_FILES_DIR", &restored_files)
        .args(["restore", archive.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already holds tenants"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.drop_db().await;
    source.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_sqlite() {
    backup_while_writing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_writing_postgres() {
    backup_while_writing(Backend::Postgres).await;
}
