//! Imports and exports over HTTP on both backends: spreadsheets as Vietnamese businesses keep
//! them (a BOM CSV with `;`, Windows-1258, an Excel workbook with a merged title and empty
//! rows), duplicates created, updated or skipped, a dry run, all or nothing, the per-row report,
//! tenants kept apart, and an export → import round trip that changes nothing.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Creds, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Uploads `bytes` as `name` to `POST /crm/v1/imports?{query}`.
async fn upload(
    app: &TestApp,
    c: &Creds,
    query: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let r = app
        .http
        .post(format!("{}/crm/v1/imports?{query}", app.base))
        .bearer_auth(&c.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

/// Polls a transfer until it has ended (or 30 s pass).
async fn finished(app: &TestApp, c: &Creds, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, t) = app.get(path, &c.token).await;
        assert_eq!(status, StatusCode::OK, "{t}");
        if t["state"] == "done" || t["state"] == "failed" || Instant::now() > deadline {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Imports a file and waits for it: the finished import.
async fn import(app: &TestApp, c: &Creds, query: &str, name: &str, bytes: Vec<u8>) -> Value {
    let (status, t) = upload(app, c, query, name, bytes).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{t}");
    assert_eq!(t["direction"], "import");
    assert!(t["id"].is_string(), "{t}");
    finished(
        app,
        c,
        &format!("/crm/v1/imports/{}", t["id"].as_str().unwrap()),
    )
    .await
}

async fn download(app: &TestApp, c: &Creds, path: &str) -> (StatusCode, Vec<u8>, String) {
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let disposition = r
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, r.bytes().await.unwrap().to_vec(), disposition)
}

/// A CSV's rows (BOM dropped).
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn crmtop_find(app: &TestApp, c: &Creds, search: &str) -> Vec<Value> {
    let (status, b) = app
        .post(
            "/api/v1/customer/search",
            &c.token,
            json!({"pageNumber": 1, "pageSize": 100, "search": search}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    b["data"]["data"].as_array().unwrap().clone()
}

async fn customers_csv_with_failures_duplicates_and_a_report(app: &TestApp) {
    let a = app.tenant("imp-a").await;
    let b = app.tenant("imp-b").await;
    // A BOM, `;`, a title above the header, 20 rows: one bad phone, one bad date, one phone
    // repeated in another notation, one empty line.
    let mut text = String::from(
        "\u{feff}DANH SÁCH KHÁCH HÀNG;;;;\n\
         Họ và tên;Số điện thoại;Email;Nhóm khách hàng;Ngày sinh\n",
    );
    for i in 0..20 {
        let phone = match i {
            5 => "12ab".to_owned(),
            9 => "+84 912 000 003".to_owned(),
            _ => format!("0912000{i:03}"),
        };
        let birthday = if i == 7 {
            "31/02/1990".to_owned()
        } else {
            format!("{:02}/03/1990", i + 1)
        };
        text.push_str(&format!(
            "Nguyễn Văn Khách {i};{phone};khach{i}@example.vn;Khách sỉ;{birthday}\n"
        ));
        if i == 10 {
            text.push_str(";;;;\n");
        }
    }
    let t = import(
        app,
        &a,
        "kind=customers",
        "khach-hang.csv",
        text.into_bytes(),
    )
    .await;
    assert_eq!(t["state"], "done", "{t}");
    assert_eq!(t["kind"], "customers");
    assert_eq!(t["format"], "csv");
    assert_eq!(t["total"], 20, "{t}");
    assert_eq!(t["done"], 20, "{t}");
    assert_eq!(t["created"], 17, "{t}");
    assert_eq!(t["failed"], 2, "{t}");
    assert_eq!(t["skipped"], 1, "{t}");
    assert_eq!(t["progress"], 100.0);
    let id = t["id"].as_str().unwrap().to_owned();

    // The rows it rejected or skipped, by their number in the file.
    let (status, errs) = app
        .get(&format!("/crm/v1/imports/{id}/errors"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{errs}");
    let errs = errs["data"].as_array().unwrap();
    let rows: Vec<i64> = errs.iter().map(|e| e["row"].as_i64().unwrap()).collect();
    assert_eq!(rows, [8, 10, 12], "{errs:?}");
    assert_eq!(errs[0]["column"], "Số điện thoại");
    assert!(
        errs[0]["reason"].as_str().unwrap().contains("12ab"),
        "{errs:?}"
    );
    assert_eq!(errs[1]["column"], "Ngày sinh");
    assert!(
        errs[2]["reason"]
            .as_str()
            .unwrap()
            .starts_with("skipped: the same phone as row 6"),
        "{errs:?}"
    );

    // The report: the original columns of those rows, and why.
    let (status, bytes, disposition) =
        download(app, &a, &format!("/crm/v1/imports/{id}/report")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        disposition.contains("khach-hang.errors.csv"),
        "{disposition}"
    );
    assert!(bytes.starts_with("\u{feff}".as_bytes()));
    let report = csv_rows(&bytes);
    assert_eq!(
        report[0],
        [
            "Dòng",
            "Họ và tên",
            "Số điện thoại",
            "Email",
            "Nhóm khách hàng",
            "Ngày sinh",
            "Lỗi"
        ]
    );
    assert_eq!(report.len(), 4, "{report:?}");
    assert_eq!(report[1][0], "8");
    assert_eq!(report[1][2], "12ab");
    assert!(
        report[1][6].starts_with("Số điện thoại: '12ab'"),
        "{report:?}"
    );

    // What was stored is there for every vendor's API, in the group named.
    let found = crmtop_find(app, &a, "0912000001").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Nguyễn Văn Khách 1");
    assert_eq!(found[0]["groupName"], "Khách sỉ");
    assert_eq!(crmtop_find(app, &a, "nguyen van khach").await.len(), 17);

    // Another tenant sees none of it.
    let (status, _) = app.get(&format!("/crm/v1/imports/{id}"), &b.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = download(app, &b, &format!("/crm/v1/imports/{id}/report")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = app.get("/crm/v1/imports", &b.token).await;
    assert_eq!(list["data"], json!([]));
    assert_eq!(crmtop_find(app, &b, "nguyen van khach").await.len(), 0);

    // The same people again: skipped by default, updated on request, never duplicated.
    let again = "Họ và tên,Số điện thoại,Địa chỉ\nKhách Mới Tên,0912000001,12 Lê Lợi\nNgười Mới,0987000999,\n";
    let t = import(app, &a, "kind=customers", "lan2.csv", again.into()).await;
    assert_eq!(
        (t["created"].as_i64(), t["skipped"].as_i64()),
        (Some(1), Some(1)),
        "{t}"
    );
    let t = import(
        app,
        &a,
        "kind=customers&on_duplicate=update",
        "lan3.csv",
        again.into(),
    )
    .await;
    assert_eq!(
        (t["updated"].as_i64(), t["created"].as_i64()),
        (Some(2), Some(0)),
        "{t}"
    );
    let found = crmtop_find(app, &a, "0912000001").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Khách Mới Tên");
    assert_eq!(found[0]["address"], "12 Lê Lợi");
    // What the row leaves empty stays as it was.
    assert_eq!(found[0]["email"], "khach1@example.vn");

    // A dry run says what would happen and writes nothing.
    let more = "Họ và tên,Số điện thoại\nThử Một,0933000001\nThử Hai,0933000002\nThử Ba,xx\n";
    let t = import(
        app,
        &a,
        "kind=customers&dry_run=true",
        "thu.csv",
        more.into(),
    )
    .await;
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(2), Some(1)),
        "{t}"
    );
    assert_eq!(t["dry_run"], true);
    assert_eq!(crmtop_find(app, &a, "0933000001").await.len(), 0);

    // All or nothing: one bad row, nothing stored.
    let t = import(
        app,
        &a,
        "kind=customers&all_or_nothing=true",
        "ton.csv",
        more.into(),
    )
    .await;
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(0), Some(1)),
        "{t}"
    );
    assert!(
        t["error"].as_str().unwrap().contains("nothing was stored"),
        "{t}"
    );
    assert_eq!(crmtop_find(app, &a, "0933000001").await.len(), 0);
    let fixed = "Họ và tên,Số điện thoại\nThử Một,0933000001\nThử Hai,0933000002\n";
    let t = import(
        app,
        &a,
        "kind=customers&all_or_nothing=true",
        "ton2.csv",
        fixed.into(),
    )
    .await;
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(2), Some(0)),
        "{t}"
    );
    assert_eq!(t["download"], Value::Null);
}

async fn bad_uploads_are_refused(app: &TestApp) {
    let a = app.tenant("imp-bad").await;
    for (query, name, body, field) in [
        ("kind=orders", "a.csv", "Họ và tên\nAn\n", "kind"),
        ("kind=khach", "a.csv", "Họ và tên\nAn\n", "kind"),
        ("", "a.csv", "Họ và tên\nAn\n", "kind"),
        ("kind=customers", "a.pdf", "x", "file"),
        ("kind=customers", "a.csv", "", "file"),
        (
            "kind=customers&on_duplicate=merge",
            "a.csv",
            "Họ và tên\nAn\n",
            "on_duplicate",
        ),
        (
            "kind=customers&dry_run=yes",
            "a.csv",
            "Họ và tên\nAn\n",
            "dry_run",
        ),
        (
            "kind=customers&mapping=notjson",
            "a.csv",
            "Họ và tên\nAn\n",
            "mapping",
        ),
        (
            "kind=customers&dry_run=true&all_or_nothing=true",
            "a.csv",
            "Họ và tên\nAn\n",
            "all_or_nothing",
        ),
    ] {
        let (status, b) = upload(app, &a, query, name, body.as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query} {name}: {b}");
        assert_eq!(b["field"], field, "{query}: {b}");
        assert!(b["message"].is_string());
    }
    // Not multipart at all.
    let (status, b) = app
        .raw(
            Method::POST,
            "/crm/v1/imports?kind=customers",
            Some(&a.token),
            "text/csv",
            "Họ và tên\nAn\n".to_owned(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
    // No header the kind knows: the import fails, saying why.
    let t = import(
        app,
        &a,
        "kind=customers",
        "x.csv",
        "Cột A,Cột B\n1,2\n".into(),
    )
    .await;
    assert_eq!(t["state"], "failed", "{t}");
    assert!(t["error"].as_str().unwrap().contains("header"), "{t}");
    // An explicit mapping reads the same file.
    let q = format!(
        "kind=customers&mapping={}",
        urlencode(r#"{"Cột A":"name","Cột B":"phone"}"#)
    );
    let t = import(app, &a, &q, "x.csv", "Cột A,Cột B\nAn,0912345678\n".into()).await;
    assert_eq!(
        (t["state"].as_str(), t["created"].as_i64()),
        (Some("done"), Some(1)),
        "{t}"
    );
    // Unknown ids, another direction.
    let (status, _) = app
        .get(
            "/crm/v1/imports/0193a3c1-0000-7000-8000-000000000001",
            &a.token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(
            &format!("/crm/v1/exports/{}", t["id"].as_str().unwrap()),
            &a.token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

on_both_backends!(
    customers_csv_with_failures_duplicates_and_a_report,
    bad_uploads_are_refused,
);
