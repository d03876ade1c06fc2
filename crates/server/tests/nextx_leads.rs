//! NextX leads and web forms over HTTP, on the core lead CRMTOP sees.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn ok(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (st, b) = app.call(method, path, Some(token), body).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b
}

async fn form(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.http.request(method, format!("{}{path}", app.base));
    if let Some(k) = key {
        req = req.header("X-Client-Key", k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let st = resp.status();
    (st, resp.json().await.unwrap())
}

async fn leads_and_webforms(app: &TestApp) {
    let a = app.tenant("nxl").await;
    let other = app.tenant("nxl-other").await;
    let t = &a.token;
    let lead = ok(app, Method::POST, "/api/contact/contact", t, Some(json!({
        "employee_id": null, "branch_id": null, "resources": [{"id": 26, "name": "Facebook"}], "name": "Hoàng Thị Yến",
        "mobile": "0977 555 444", "email": "yen@example.vn", "website": "", "address": "Đà Nẵng", "status": "Mới",
        "date_assigned": "2026-03-01", "code": "", "birthday": "1995-04-12", "sex": "female", "description": "Quan tâm gói A",
        "avatar": "", "account_name": "", "account_address": "", "account_no": ""
    }))).await;
    let id = lead["id"].as_i64().unwrap();
    assert_eq!(lead["name"], json!("Hoàng Thị Yến"));
    assert_eq!(lead["resources"], json!([{"id": 26, "name": "Facebook"}]));
    assert_eq!(lead["birthday"], json!("1995-04-12"));
    // The update's "Example Request Body" sends name as an object.
    let upd = ok(app, Method::PUT, &format!("/api/contact/contact/{id}"), t, Some(json!({"name": {"full": "Hoàng Thị Hải Yến", "first": "Yến", "last": "Hoàng"}, "status": "Đã gọi"}))).await;
    assert_eq!(upd["status_code"], json!(0));
    let got = ok(
        app,
        Method::GET,
        &format!("/api/contact/contact/{id}"),
        t,
        None,
    )
    .await;
    assert_eq!(got["name"], json!("Hoàng Thị Hải Yến"));
    common::assert_documented_keys("003", "/api/contact/contact/{id}", &got);
    assert_eq!(got["status"], json!("Đã gọi"));
    assert_eq!(got["mobile"], json!("0977 555 444"), "absent fields stay");
    let list = ok(
        app,
        Method::GET,
        "/api/contact/contact?page=0&pageLimit=15&sttsearch=hai%20yen",
        t,
        None,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    common::assert_documented_keys("003", "/api/contact/contact", &list);
    // `branch_id` filters in the query, before paging: one lead of the branch among 40 others.
    let b = ok(
        app,
        Method::POST,
        "/api/branch/branch",
        t,
        Some(json!({"code": "CN9", "name": "Chi nhánh 9"})),
    )
    .await;
    let branch = b["data"]["id"].as_i64().unwrap();
    for i in 0..41 {
        let branch_id = if i == 20 { json!(branch) } else { Value::Null };
        ok(
            app,
            Method::POST,
            "/api/contact/contact",
            t,
            Some(json!({"name": format!("Khách {i}"), "branch_id": branch_id})),
        )
        .await;
    }
    let list = ok(
        app,
        Method::GET,
        &format!("/api/contact/contact?page=0&pageLimit=15&branch_id={branch}"),
        t,
        None,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], json!("Khách 20"));
    // The largest page number (schemathesis's first pick) and a page size out of range are
    // the doc's 400, not an overflow.
    let (st, b) = app
        .call(
            Method::GET,
            "/api/contact/contact?page=9223372036854775807",
            Some(t),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["meta"]["message"], json!("page: is too large"), "{b}");
    let (st, b) = app
        .call(
            Method::GET,
            "/api/customer/customer?page=9223372036854775807&pageLimit=-9223372036854775808",
            Some(t),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["meta"]["status_code"], json!(400), "{b}");
    assert!(
        b["meta"]["message"].as_str().unwrap().contains("pageLimit"),
        "{b}"
    );
    assert_eq!(list[0]["branch"]["id"], json!(branch));
    // `employee` is filled from the staff directory.
    let u = ok(app, Method::POST, "/api/user/users", t, Some(json!({"username": "sale1", "firstname": "Minh", "lastname": "Trần", "tel": "0901000111"}))).await;
    let staff = u[0]["id"].as_i64().unwrap();
    let code = u[0]["employee"]["code"].clone();
    let l = ok(
        app,
        Method::POST,
        "/api/contact/contact",
        t,
        Some(json!({"name": "Khách của Minh", "employee_id": staff})),
    )
    .await;
    let got = ok(
        app,
        Method::GET,
        &format!("/api/contact/contact/{}", l["id"]),
        t,
        None,
    )
    .await;
    assert_eq!(
        got["employee"],
        json!({"id": staff, "code": code, "first_name": "Minh", "last_name": "Trần", "avatar": "", "email": "", "tel": "0901000111", "phone": "0901000111", "isSale": false, "branch_id": null})
    );
    // The same lead through CRMTOP.
    let page = app
        .search("/api/v1/lead/search", t, json!({"phone": "0977555444"}))
        .await;
    assert_eq!(page["data"][0]["fullName"], json!("Hoàng Thị Hải Yến"));

    // A web form (ours) and its submissions.
    let f = ok(
        app,
        Method::POST,
        "/api/common/webform",
        t,
        Some(json!({"name": "Landing tháng 3"})),
    )
    .await;
    let key = f["data"]["key"].as_str().unwrap().to_owned();
    let (st, b) = form(
        app,
        Method::GET,
        "/api/common/webform-fields",
        Some(&key),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["data"].as_array().unwrap().len(), 9);
    let submission = json!({"name": "Trịnh Văn Khải", "sex": "male", "mobile": "0901 234 567", "email": "khai@example.vn", "website": "", "address": "Huế", "description": "", "body": "Cho tôi báo giá", "url": "https://shop.vn/landing"});
    let (st, b) = form(
        app,
        Method::POST,
        "/api/common/send-webform-v2",
        Some(&key),
        Some(submission.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(
        (b["status_code"].clone(), b["data"]["created"].clone()),
        (json!(0), json!(true))
    );
    let khai = b["data"]["id"].as_i64().unwrap();
    // Sent again with the phone in another notation: the same lead, updated.
    let mut again = submission.clone();
    again["mobile"] = json!("+84901234567");
    again["body"] = json!("Gọi lại giúp tôi");
    let (st, b) = form(
        app,
        Method::POST,
        "/api/common/send-webform-v2",
        Some(&key),
        Some(again),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (b["data"]["id"].clone(), b["data"]["created"].clone()),
        (json!(khai), json!(false))
    );
    let page = app
        .search("/api/v1/lead/search", t, json!({"search": "van khai"}))
        .await;
    assert_eq!(page["totalCount"], json!(1), "{page}");
    let notes = page["data"][0]["notes"].as_str().unwrap();
    assert!(
        notes.contains("Cho tôi báo giá") && notes.contains("Gọi lại giúp tôi"),
        "{notes}"
    );
    let got = ok(
        app,
        Method::GET,
        &format!("/api/contact/contact/{khai}"),
        t,
        None,
    )
    .await;
    assert_eq!(got["source"], json!("web form Landing tháng 3"));

    // Failures.
    let (st, b) = form(
        app,
        Method::POST,
        "/api/common/send-webform-v2",
        Some("wf_wrong"),
        Some(submission.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    let (st, _) = form(
        app,
        Method::POST,
        "/api/common/send-webform-v2",
        None,
        Some(submission),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, b) = form(
        app,
        Method::POST,
        "/api/common/send-webform-v2",
        Some(&key),
        Some(json!({"name": "Không liên lạc"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["meta"]["message"].as_str().unwrap().contains("mobile"));
    let (st, b) = app
        .call(
            Method::POST,
            "/api/contact/contact",
            Some(t),
            Some(json!({"name": "X", "birthday": "12/04/1995"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, _) = app
        .call(
            Method::GET,
            &format!("/api/contact/contact/{id}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

on_both_backends!(leads_and_webforms);
