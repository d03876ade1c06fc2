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
            "kind=customers&mapping=%7B%22C%E1%BB%99t%20A%22%3A%22salary%22%7D",
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
    // Bounds: a cell too long fails its row; more columns than 200 fail the file; an
    // all-or-nothing import of more than 100,000 rows is refused before anything is stored.
    let long = format!("Họ và tên,Ghi chú\nAn,{}\nBình,ok\n", "x".repeat(4_001));
    let t = import(app, &a, "kind=customers", "dai.csv", long.into()).await;
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(1), Some(1)),
        "{t}"
    );
    let (_, errs) = app
        .get(
            &format!("/crm/v1/imports/{}/errors", t["id"].as_str().unwrap()),
            &a.token,
        )
        .await;
    assert_eq!(errs["data"][0]["column"], "Ghi chú");
    assert!(
        errs["data"][0]["reason"].as_str().unwrap().contains("4000"),
        "{errs}"
    );
    let wide = format!(
        "Họ và tên,{}\nAn\n",
        (0..201)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let t = import(app, &a, "kind=customers", "rong.csv", wide.into()).await;
    assert_eq!(t["state"], "failed", "{t}");
    assert!(t["error"].as_str().unwrap().contains("200 columns"), "{t}");
    let mut many = String::from("Họ và tên\n");
    for i in 0..100_001 {
        many.push_str(&format!("K{i}\n"));
    }
    let t = import(
        app,
        &a,
        "kind=customers&all_or_nothing=true",
        "nhieu.csv",
        many.into(),
    )
    .await;
    assert_eq!(t["state"], "failed", "{t}");
    assert!(
        t["error"].as_str().unwrap().contains("at most 100000 rows"),
        "{t}"
    );
    assert_eq!(t["created"], 0);
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

/// Text as Windows-1258 writes Vietnamese (shapes precomposed, tones as combining marks).
fn windows_1258(text: &str) -> Vec<u8> {
    use unicode_normalization::UnicodeNormalization;
    let tones = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
    let mut form = String::new();
    for c in text.chars() {
        let d: String = c.nfd().collect();
        let base: String = d.chars().filter(|c| !tones.contains(c)).nfc().collect();
        form.push_str(&base);
        form.extend(d.chars().filter(|c| tones.contains(c)));
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&form);
    assert!(!unmappable);
    bytes.into_owned()
}

/// A workbook as people make them: a merged title, an empty row, a two-row header whose cells
/// are merged down and across, and an empty row among the data.
fn contacts_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let plain = rust_xlsxwriter::Format::new();
    sheet
        .merge_range(0, 0, 0, 4, "DANH SÁCH LIÊN HỆ", &plain)
        .unwrap();
    sheet.merge_range(2, 0, 3, 0, "Họ và tên", &plain).unwrap();
    sheet.merge_range(2, 1, 3, 1, "Mã KH", &plain).unwrap();
    sheet.merge_range(2, 2, 3, 2, "Chức vụ", &plain).unwrap();
    sheet.merge_range(2, 3, 2, 4, "Liên lạc", &plain).unwrap();
    sheet.write_string(3, 3, "Điện thoại").unwrap();
    sheet.write_string(3, 4, "Email").unwrap();
    let rows = [
        [
            "Trần Thị Mai",
            "KH-IMP-1",
            "Kế toán",
            "0901000001",
            "mai@abc.vn",
        ],
        [
            "Lê Văn Hùng",
            "KH-IMP-1",
            "Giám đốc",
            "0901000002",
            "hung@abc.vn",
        ],
        ["", "", "", "", ""],
        ["Phạm Minh", "Công ty Không Có", "", "0901000003", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                sheet.write_string(4 + r as u32, c as u16, *cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Starts an export and waits for it: the finished export and its file.
async fn export(app: &TestApp, c: &Creds, body: Value) -> (Value, Vec<u8>) {
    let (status, t) = app.post("/crm/v1/exports", &c.token, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{t}");
    let t = finished(
        app,
        c,
        &format!("/crm/v1/exports/{}", t["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(t["state"], "done", "{t}");
    let (status, bytes, disposition) = download(app, c, t["download"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        disposition.contains(t["file_name"].as_str().unwrap()),
        "{disposition}"
    );
    (t, bytes)
}

/// The customers as CRMTOP returns them, without the times an update moves.
async fn customers_as_stored(app: &TestApp, c: &Creds) -> Vec<Value> {
    let mut all = crmtop_find(app, c, "").await;
    if all.is_empty() {
        let (_, b) = app
            .post(
                "/api/v1/customer/search",
                &c.token,
                json!({"pageNumber": 1, "pageSize": 100}),
            )
            .await;
        all = b["data"]["data"].as_array().unwrap().clone();
    }
    for v in &mut all {
        let o = v.as_object_mut().unwrap();
        o.retain(|k, _| !k.starts_with("updated") && !k.starts_with("modified"));
    }
    all.sort_by_key(|v| v["code"].as_str().unwrap().to_owned());
    all
}

async fn every_kind_and_file_shape_and_a_round_trip(app: &TestApp) {
    let a = app.tenant("imp-kinds").await;
    let t_ = &a.token;

    // Customers in Windows-1258, as older Vietnamese Excel saves a CSV.
    let text = "Mã KH,Tên khách hàng,Di động,Email,Địa chỉ,Giới tính,Ngày sinh,Loại khách hàng\n\
                KH-IMP-1,Công ty Ánh Dương,0281234567,lienhe@anhduong.vn,Quận 1 TP Hồ Chí Minh,,,Doanh nghiệp\n\
                KH-IMP-2,Nguyễn Thị Hồng Nhung,0912345001,nhung@gmail.com,Hà Nội,Nữ,05/03/1992,Cá nhân\n";
    let t = import(app, &a, "kind=customers", "cu.csv", windows_1258(text)).await;
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(2), Some(0)),
        "{t}"
    );
    let found = crmtop_find(app, &a, "nguyen thi hong nhung").await;
    assert_eq!(found[0]["name"], "Nguyễn Thị Hồng Nhung");
    assert_eq!(found[0]["address"], "Hà Nội");
    assert_eq!(found[0]["code"], "KH-IMP-2");
    let found = crmtop_find(app, &a, "anh duong").await;
    assert_eq!(found[0]["type"], 2, "{found:?}");

    // Contacts from a workbook with a merged title, a two-row merged header, an empty row.
    let t = import(
        app,
        &a,
        "kind=contacts",
        "lien-he.xlsx",
        contacts_workbook(),
    )
    .await;
    assert_eq!(t["format"], "xlsx");
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(2), Some(1)),
        "{t}"
    );
    let (_, errs) = app
        .get(
            &format!("/crm/v1/imports/{}/errors", t["id"].as_str().unwrap()),
            t_,
        )
        .await;
    assert_eq!(errs["data"][0]["row"], 8, "{errs}");
    assert_eq!(errs["data"][0]["column"], "Mã KH");
    assert!(errs["data"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("Công ty Không Có"));
    let (_, report, _) = download(app, &a, t["download"].as_str().unwrap()).await;
    let sheet = calamine_rows(&report);
    assert_eq!(
        sheet[0],
        [
            "Dòng",
            "Họ và tên",
            "Mã KH",
            "Chức vụ",
            "Điện thoại",
            "Email",
            "Lỗi"
        ]
    );
    assert_eq!(sheet[1][1], "Phạm Minh");
    let (_, contacts) = app
        .post(
            "/api/v1/contact/search",
            t_,
            json!({"pageNumber": 1, "pageSize": 50, "search": "mai"}),
        )
        .await;
    let mai = &contacts["data"]["data"][0];
    assert_eq!(mai["fullName"], "Trần Thị Mai", "{contacts}");
    assert_eq!(mai["position"], "Kế toán");
    assert_eq!(mai["customerName"], "Công ty Ánh Dương");

    // Leads: 200 rows, 5 % of them with an e-mail that is not one.
    let mut text = String::from("Họ và tên,Số điện thoại,Email,Công ty,Nguồn\n");
    for i in 0..200 {
        let email = if i % 20 == 3 {
            format!("khong-phai-email-{i}")
        } else {
            format!("lead{i}@shop.vn")
        };
        text.push_str(&format!(
            "Khách Tiềm Năng {i},0977{i:06},{email},Cty {i},Facebook\n"
        ));
    }
    let t = import(app, &a, "kind=leads", "leads.csv", text.into()).await;
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(190), Some(10)),
        "{t}"
    );
    let (_, report, _) = download(app, &a, t["download"].as_str().unwrap()).await;
    let report = csv_rows(&report);
    assert_eq!(report.len(), 11);
    assert!(
        report[1..].iter().all(|r| r[6].starts_with("Email: ")),
        "{report:?}"
    );
    let (_, leads) = app
        .post(
            "/api/v1/lead/search",
            t_,
            json!({"pageNumber": 1, "pageSize": 5, "search": "0977000001"}),
        )
        .await;
    assert_eq!(
        leads["data"]["data"][0]["fullName"], "Khách Tiềm Năng 1",
        "{leads}"
    );

    // Products with a second unit and opening stock in two stores.
    let b = app
        .post(
            "/api/branch/branch",
            t_,
            json!({"code": "CN1", "name": "Chi nhánh 1"}),
        )
        .await
        .1;
    let branch = b["data"]["id"].as_i64().unwrap();
    let (_, store2) = app
        .post(
            "/api/branch/store",
            t_,
            json!({"branch_id": branch, "code": "K2", "name": "Kho Quận 3"}),
        )
        .await;
    assert!(store2["data"]["id"].is_i64(), "{store2}");
    let text = "Mã hàng;Tên hàng;ĐVT;Giá bán;Giá nhập;Đơn vị quy đổi;Tồn kho: Kho mặc định;Tồn kho: Kho Quận 3\n\
                SP-IMP-1;Nước cam ép;Chai;12.000;8.000;Thùng=24:250.000;10;5\n\
                SP-IMP-2;Trà xanh;Chai;10.000;7.000;;0;\n\
                SP-IMP-3;Bánh quy;Hộp;-5;;;;\n\
                SP-IMP-4;Kẹo;Gói;5.000;;;3;Kho không có\n";
    let t = import(app, &a, "kind=products", "hang.csv", text.into()).await;
    assert_eq!(
        (t["created"].as_i64(), t["failed"].as_i64()),
        (Some(2), Some(2)),
        "{t}"
    );
    let (_, errs) = app
        .get(
            &format!("/crm/v1/imports/{}/errors", t["id"].as_str().unwrap()),
            t_,
        )
        .await;
    assert_eq!(errs["data"][0]["column"], "Giá bán", "{errs}");
    assert_eq!(errs["data"][1]["column"], "Tồn kho: Kho Quận 3", "{errs}");
    let (_, list) = app
        .get(
            &format!("/api/product/product?branch_id={branch}&strSearch=SP-IMP-1"),
            t_,
        )
        .await;
    assert_eq!(list[0]["qty_available"], json!(15.0), "{list}");
    assert_eq!(list[0]["selling_price"], json!(12000.0), "{list}");

    // Exports: products with stock per store, as xlsx with VND and the stores' columns.
    let (t, bytes) = export(app, &a, json!({"kind": "products", "search": "SP-IMP"})).await;
    assert_eq!(
        (t["format"].as_str(), t["done"].as_i64()),
        (Some("xlsx"), Some(2)),
        "{t}"
    );
    let sheet = calamine_rows(&bytes);
    assert_eq!(
        &sheet[0][..4],
        ["Mã hàng", "Tên hàng", "Đơn vị tính", "Giá bán"]
    );
    assert!(
        sheet[0].contains(&"Tồn kho: Kho Quận 3".to_owned()),
        "{:?}",
        sheet[0]
    );
    let cam = sheet.iter().find(|r| r[0] == "SP-IMP-1").unwrap();
    assert_eq!(cam[3], "12000");
    assert!(cam[5].starts_with("Thùng=24:250000"), "{cam:?}");
    let q3 = sheet[0]
        .iter()
        .position(|h| h == "Tồn kho: Kho Quận 3")
        .unwrap();
    assert_eq!(cam[q3], "5");

    // Orders with their lines.
    let customer = crmtop_find(app, &a, "KH-IMP-2").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, unit) = app
        .post(
            "/api/v1/product/crm/unit/create",
            t_,
            json!({"id": 0, "name": "Cái", "note": ""}),
        )
        .await;
    let unit = unit["data"].as_i64().unwrap();
    let p1 = app
        .create(
            "/api/v1/product/crm/create",
            t_,
            json!({"name": "Ấm trà", "unitId": unit, "retailPrice": 150000}),
        )
        .await;
    let order = app
        .create(
            "/api/v1/order/crm/create",
            t_,
            json!({"customerId": customer, "products": [
            {"productId": p1, "quantity": 2}, {"productId": p1, "quantity": 1, "price": 140000}]}),
        )
        .await;
    assert!(!order.is_empty());
    let (t, bytes) = export(app, &a, json!({"kind": "orders", "format": "csv"})).await;
    assert_eq!(t["done"], 2, "{t}");
    let rows = csv_rows(&bytes);
    assert_eq!(rows[0][0], "Mã đơn hàng");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][2], "Nguyễn Thị Hồng Nhung");
    assert_eq!(rows[1][6], "Ấm trà");

    // The round trip: customers out and back in (updating) change nothing.
    let before = customers_as_stored(app, &a).await;
    assert_eq!(before.len(), 2);
    let (t, bytes) = export(app, &a, json!({"kind": "customers", "format": "csv"})).await;
    assert_eq!(t["done"], 2);
    let rows = csv_rows(&bytes);
    assert_eq!(rows[0][..3], ["Mã KH", "Họ và tên", "Loại khách hàng"]);
    let t = import(
        app,
        &a,
        "kind=customers&on_duplicate=update",
        "back.csv",
        bytes.clone(),
    )
    .await;
    assert_eq!(
        (
            t["updated"].as_i64(),
            t["created"].as_i64(),
            t["failed"].as_i64()
        ),
        (Some(2), Some(0), Some(0)),
        "{t}"
    );
    assert_eq!(customers_as_stored(app, &a).await, before);
    let (_, xlsx) = export(app, &a, json!({"kind": "customers"})).await;
    let t = import(
        app,
        &a,
        "kind=customers&on_duplicate=update",
        "back.xlsx",
        xlsx,
    )
    .await;
    assert_eq!(
        (t["updated"].as_i64(), t["failed"].as_i64()),
        (Some(2), Some(0)),
        "{t}"
    );
    assert_eq!(customers_as_stored(app, &a).await, before);

    // Send records.
    app.channels_nowhere(t_).await;
    let (status, m) = app
        .post("/crm/v1/messages", t_, json!({"channel": "sms", "to": "0912345001", "text": "Chào chị Nhung", "campaign": "thu-export"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{m}");
    let (t, bytes) = export(
        app,
        &a,
        json!({"kind": "messages", "format": "csv", "campaign": "thu-export"}),
    )
    .await;
    assert_eq!(t["done"], 1, "{t}");
    let rows = csv_rows(&bytes);
    assert_eq!(rows[1][0], "sms");
    assert_eq!(rows[1][1], "thu-export");

    // Exports refuse what they cannot do, in our envelope.
    for (body, field) in [
        (json!({"kind": "tickets"}), "kind"),
        (json!({"kind": "customers", "format": "pdf"}), "format"),
        (json!({"kind": "customers", "extra": 1}), "extra"),
        (json!({}), "kind"),
    ] {
        let (status, b) = app.post("/crm/v1/exports", t_, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {b}");
        assert!(
            b["message"].as_str().unwrap().contains(field) || b["field"] == field,
            "{b}"
        );
    }
}

/// A workbook's first sheet as text.
fn calamine_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// `crm import` and `crm export` as a user runs them: the report beside the file, JSON
/// summaries, a workbook out that reads back.
async fn command_line(backend: common::Backend) {
    use common::process::{crm, run_json};
    let Some(db) = common::TestDb::new(backend).await else {
        return;
    };
    run_json(
        &db,
        &["tenant", "create", "Shop", "--slug", "shop", "--json"],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("khach hang.csv");
    std::fs::write(
        &file,
        "Họ và tên;Số điện thoại\nNguyễn Văn An;0912345678\nLê Bình;12ab\nTrần Chi;0987654321\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = run_json(
        &db,
        &["import", "customers", path, "--tenant", "shop", "--json"],
    )
    .await;
    assert_eq!(out["state"], "done", "{out}");
    assert_eq!(
        (out["created"].as_i64(), out["failed"].as_i64()),
        (Some(2), Some(1)),
        "{out}"
    );
    let report = dir.path().join("khach hang.errors.csv");
    assert_eq!(out["file"], report.to_str().unwrap());
    let rows = csv_rows(&std::fs::read(&report).unwrap());
    assert_eq!(rows[1][..3], ["3", "Lê Bình", "12ab"]);
    // A dry run of the same file with updates: nothing written.
    let out = run_json(
        &db,
        &[
            "import",
            "customers",
            path,
            "--tenant",
            "shop",
            "--on-duplicate",
            "update",
            "--dry-run",
            "--json",
        ],
    )
    .await;
    assert_eq!(out["updated"], 2, "{out}");
    // Out as a workbook, which reads back.
    let xlsx = dir.path().join("ra.xlsx");
    let out = run_json(
        &db,
        &[
            "export",
            "customers",
            "--tenant",
            "shop",
            "-o",
            xlsx.to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    assert_eq!(out["done"], 2, "{out}");
    let sheet = calamine_rows(&std::fs::read(&xlsx).unwrap());
    assert_eq!(sheet.len(), 3);
    assert!(sheet.iter().any(|r| r[1] == "Trần Chi"), "{sheet:?}");
    // Human output, and a refusal.
    let o = crm(&db)
        .args(["import", "customers", path, "--tenant", "shop"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("2 skipped, 1 failed"), "{text}");
    let o = crm(&db)
        .args(["import", "orders", path, "--tenant", "shop"])
        .output()
        .await
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only customers"),
        "{o:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_sqlite() {
    command_line(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_postgres() {
    command_line(common::Backend::Postgres).await;
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

/// A server that takes imports of at most 1 KiB.
async fn small_uploads(backend: common::Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |c| c.max_import_bytes = 1024).await
}

async fn an_upload_over_the_limit_is_refused(app: &TestApp) {
    let a = app.tenant("imp-big").await;
    let body = format!("Họ và tên\n{}", "Nguyễn Văn An\n".repeat(100));
    let (status, b) = upload(app, &a, "kind=customers", "lon.csv", body.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
    assert_eq!(b["field"], "file");
    assert!(b["message"].as_str().unwrap().contains("1024 bytes"), "{b}");
    let (_, list) = app.get("/crm/v1/imports", &a.token).await;
    assert_eq!(list["data"], json!([]));
}

on_both_spawned!(small_uploads; an_upload_over_the_limit_is_refused);

on_both_backends!(
    customers_csv_with_failures_duplicates_and_a_report,
    bad_uploads_are_refused,
    every_kind_and_file_shape_and_a_round_trip,
);
