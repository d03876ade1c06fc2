//! VBot's customer API over HTTP: every documented endpoint with its example's shape,
//! renamed codes still resolving, the account check, and the shared core.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn vbot(
    app: &TestApp,
    token: &str,
    path: &str,
    mut body: Value,
    account: &str,
) -> (StatusCode, Value) {
    if body.get("vbot_id").is_none() {
        body["vbot_id"] = json!(account);
    }
    if body.get("project_code").is_none() {
        body["project_code"] = json!("PR202102231520001");
    }
    app.call(Method::POST, path, Some(token), Some(body)).await
}

fn assert_ok(status: StatusCode, body: &Value, data: Value) {
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{body}");
    assert_eq!(body["status"], json!(1), "{body}");
    assert_eq!(body["error"], json!(0), "{body}");
    assert_eq!(body["message"], json!("success"), "{body}");
    assert_eq!(body["data"], data, "{body}");
}

fn assert_fail(status: StatusCode, body: &Value, http: StatusCode, error: i64) -> String {
    assert_eq!(status, http, "{body}");
    assert_eq!(body["status"], json!(0), "{body}");
    assert_eq!(body["error"], json!(error), "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    body["message"].as_str().unwrap().to_owned()
}

async fn vocabularies_and_customers(app: &TestApp) {
    let a = app.tenant("45681001").await;
    let t = &a.token;
    let acct = "45681001";
    let call = |path: &'static str, body: Value| vbot(app, t, path, body, acct);

    // Statuses, types, groups and fields, as the doc's examples shape them.
    let (st, b) = call(
        "/api/crm/status/create",
        json!({"status_no": "MOI", "status_name": "Khách mới"}),
    )
    .await;
    assert_ok(st, &b, json!("MOI"));
    let (st, b) = call(
        "/api/crm/status/update",
        json!({"status_no": "MOI", "status_name": "Khách hàng mới"}),
    )
    .await;
    assert_ok(st, &b, json!("MOI"));
    let (st, b) = call(
        "/api/crm/type/create",
        json!({"type_no": "LE", "type_name": "Khách lẻ"}),
    )
    .await;
    assert_ok(st, &b, json!("LE"));
    let (st, b) = call(
        "/api/crm/type/update",
        json!({"type_no": "LE", "type_name": "Khách bán lẻ"}),
    )
    .await;
    assert_ok(st, &b, json!("LE"));
    let (st, b) = call(
        "/api/crm/group/create",
        json!({"group_no": "VIP", "group_name": "Khách VIP", "group_description": ""}),
    )
    .await;
    assert_ok(st, &b, json!("VIP"));
    let (st, b) = call(
        "/api/crm/group/update",
        json!({"group_no": "VIP", "group_name": "Khách Vàng", "group_description": "Mua nhiều"}),
    )
    .await;
    assert_ok(st, &b, json!("VIP"));
    let (st, b) = call("/api/crm/field/create", json!({"field_no": "NGAY_SINH", "field_name": "Ngày sinh", "field_type": "date", "field_description": ""})).await;
    assert_ok(st, &b, json!("NGAY_SINH"));
    let (st, b) = call("/api/crm/field/create", json!({"field_no": "THONG_TIN_KHAC", "field_name": "Thông tin khác", "field_type": "CUSTOMER_INFORMATION_KIND"})).await;
    assert_ok(st, &b, json!("THONG_TIN_KHAC"));
    let (st, b) = call("/api/crm/field/update", json!({"field_no": "THONG_TIN_KHAC", "field_name": "Ghi chú khác", "field_type": "CUSTOMER_INFORMATION_KIND"})).await;
    assert_ok(st, &b, json!("THONG_TIN_KHAC"));

    // A customer, with the example's `files` spelling of `fields`.
    let customer = json!({
        "customer_name": "VP Media", "customer_no": "VPMEDIA01",
        "customer_address": "163 Nguyễn Khang, Cầu Giấy, Hà Nội", "customer_email": "canh@vpmedia.vn",
        "customer_phones": ["0365 296 111", "0965713222"], "customer_status_code": "MOI",
        "customer_type_code": "LE", "customer_group_name": "khach vang",
        "files": [{"field_key": "THONG_TIN_KHAC", "field_value": "Khách quen"}, {"field_key": "NGAY_SINH", "field_value": "1990-05-01"}]
    });
    let (st, b) = call("/api/crm/customer/create", customer.clone()).await;
    assert_ok(st, &b, json!("VPMEDIA01"));
    // The same customer through CRMTOP, and found by its second phone.
    let page = app
        .search(
            "/api/v1/customer/search",
            t,
            json!({"search": "0965713222"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1), "{page}");
    let id = page["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(got["data"]["code"], json!("VPMEDIA01"));
    assert_eq!(got["data"]["name"], json!("VP Media"));
    assert_eq!(got["data"]["phone"], json!("0365 296 111"));
    assert_eq!(got["data"]["groupName"], json!("Khách Vàng"));
    assert_eq!(
        got["data"]["address"],
        json!("163 Nguyễn Khang, Cầu Giấy, Hà Nội")
    );

    // Renaming codes does not break what refers to them.
    let (st, b) = call(
        "/api/crm/status/updateNo",
        json!({"status_no_old": "MOI", "status_no_new": "MOI_2026"}),
    )
    .await;
    assert_ok(st, &b, json!("MOI_2026"));
    let (st, b) = call(
        "/api/crm/type/updateNo",
        json!({"type_no_old": "LE", "type_no_new": "BAN_LE"}),
    )
    .await;
    assert_ok(st, &b, json!("BAN_LE"));
    let (st, b) = call(
        "/api/crm/group/updateNo",
        json!({"group_no_old": "VIP", "group_no_new": "VANG"}),
    )
    .await;
    assert_ok(st, &b, json!("VANG"));
    // The table's key names for group/updateNo work too.
    let (st, b) = call(
        "/api/crm/group/updateNo",
        json!({"customer_no_old": "VANG", "customer_name_new": "VIP_VANG"}),
    )
    .await;
    assert_ok(st, &b, json!("VIP_VANG"));
    let (st, b) = call("/api/crm/field/updateNo", json!({"field_no_old": "THONG_TIN_KHAC", "field_no_new": "GHI_CHU", "field_name": "ignored"})).await;
    assert_ok(st, &b, json!("GHI_CHU"));
    // The old codes are gone; the customer still holds the renamed entries.
    let mut update = customer.clone();
    update["customer_name"] = json!("VP Media JSC");
    update["customer_phones"] = json!(["0365296111"]);
    let (st, b) = call("/api/crm/customer/update", update.clone()).await;
    assert!(
        assert_fail(st, &b, StatusCode::BAD_REQUEST, 6).contains("MOI"),
        "{b}"
    );
    update["customer_status_code"] = json!("MOI_2026");
    update["customer_type_code"] = json!("BAN_LE");
    update["fields"] = json!([{"field_key": "GHI_CHU", "field_value": "Đã đổi mã"}]);
    update.as_object_mut().unwrap().remove("files");
    let (st, b) = call("/api/crm/customer/update", update).await;
    assert_ok(st, &b, json!("VPMEDIA01"));
    let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(got["data"]["name"], json!("VP Media JSC"));
    assert_eq!(got["data"]["phone"], json!("0365296111"));
    // Both spellings of the customer rename.
    let (st, b) = call(
        "/api/crm/customer/updateNO",
        json!({"customer_no_old": "VPMEDIA01", "customer_no_new": "VPM01"}),
    )
    .await;
    assert_ok(st, &b, json!("VPM01"));
    let (st, b) = call(
        "/api/crm/customer/updateNo",
        json!({"customer_no_old": "VPM01", "customer_no_new": "VPM-01"}),
    )
    .await;
    assert_ok(st, &b, json!("VPM-01"));
    let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(got["data"]["code"], json!("VPM-01"));

    // Failures: each with its code.
    let (st, b) = call(
        "/api/crm/status/create",
        json!({"status_no": "MOI_2026", "status_name": "x"}),
    )
    .await;
    assert_fail(st, &b, StatusCode::CONFLICT, 5);
    let (st, b) = call("/api/crm/status/delete", json!({"status_no": "MOI_2026"})).await;
    assert_fail(st, &b, StatusCode::CONFLICT, 7);
    let (st, b) = call("/api/crm/customer/update", json!({"customer_no": "NOPE", "customer_name": "x", "customer_phones": ["0912345678"], "customer_status_code": "MOI_2026", "customer_type_code": "BAN_LE", "customer_group_name": "Khách Vàng"})).await;
    assert_fail(st, &b, StatusCode::NOT_FOUND, 4);
    let (st, b) = call("/api/crm/customer/create", json!({"customer_no": "X1"})).await;
    assert!(assert_fail(st, &b, StatusCode::BAD_REQUEST, 1).contains("customer_name"));
    let mut bad = customer.clone();
    bad["customer_no"] = json!("X2");
    bad["customer_status_code"] = json!("MOI_2026");
    bad["customer_type_code"] = json!("BAN_LE");
    bad["files"] = json!([{"field_key": "NGAY_SINH", "field_value": "không phải ngày"}]);
    let (st, b) = call("/api/crm/customer/create", bad.clone()).await;
    assert!(
        assert_fail(st, &b, StatusCode::BAD_REQUEST, 1).contains("fields"),
        "{b}"
    );
    bad["files"] = json!([{"field_key": "KHONG_CO", "field_value": "x"}]);
    let (st, b) = call("/api/crm/customer/create", bad).await;
    assert_fail(st, &b, StatusCode::BAD_REQUEST, 6);
    let (st, b) = vbot(
        app,
        t,
        "/api/crm/status/create",
        json!({"vbot_id": "someone-else", "status_no": "A", "status_name": "A"}),
        acct,
    )
    .await;
    assert_fail(st, &b, StatusCode::FORBIDDEN, 3);
    let (st, b) = app
        .call(
            Method::POST,
            "/api/crm/status/create",
            None,
            Some(json!({})),
        )
        .await;
    assert_fail(st, &b, StatusCode::UNAUTHORIZED, 2);
    let (st, b) = call(
        "/api/crm/status/create",
        json!({"status_no": ["A"], "status_name": "A"}),
    )
    .await;
    assert_fail(st, &b, StatusCode::BAD_REQUEST, 1);
    let (st, b) = call("/api/crm/status/merge", json!({})).await;
    assert_fail(st, &b, StatusCode::NOT_FOUND, 4);
    let resp = app
        .http
        .post(format!("{}/api/crm/status/create", app.base))
        .bearer_auth(t)
        .body("{")
        .send()
        .await
        .unwrap();
    let status = resp.status();
    assert_fail(
        status,
        &resp.json().await.unwrap(),
        StatusCode::BAD_REQUEST,
        1,
    );

    // Codes are per project: the same code in another project is another entry.
    let (st, b) = vbot(
        app,
        t,
        "/api/crm/status/create",
        json!({"project_code": "PR_KHAC", "status_no": "MOI_2026", "status_name": "Khác"}),
        acct,
    )
    .await;
    assert_ok(st, &b, json!("MOI_2026"));

    // Deletes: the doc's `status_no` key on type and group delete.
    let (st, b) = call(
        "/api/crm/customer/delete",
        json!({"customer_no": "VPM-01", "customer_name": "VP Media"}),
    )
    .await;
    assert_ok(st, &b, json!(true));
    let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(got["code"], json!(404));
    let (st, b) = call("/api/crm/type/delete", json!({"status_no": "BAN_LE"})).await;
    assert_ok(st, &b, json!(true));
    let (st, b) = call("/api/crm/group/delete", json!({"status_no": "VIP_VANG"})).await;
    assert_ok(st, &b, json!(true));
    let (st, b) = call("/api/crm/field/delete", json!({"field_no": "GHI_CHU"})).await;
    assert_ok(st, &b, json!(true));
    let (st, b) = call("/api/crm/status/delete", json!({"status_no": "MOI_2026"})).await;
    assert_ok(st, &b, json!(true));
    let (st, b) = call("/api/crm/status/delete", json!({"status_no": "MOI_2026"})).await;
    assert_fail(st, &b, StatusCode::NOT_FOUND, 4);
}

async fn other_tenants_are_invisible(app: &TestApp) {
    let a = app.tenant("acct-a").await;
    let b = app.tenant("acct-b").await;
    let (st, body) = vbot(
        app,
        &a.token,
        "/api/crm/status/create",
        json!({"status_no": "S", "status_name": "S"}),
        "acct-a",
    )
    .await;
    assert_ok(st, &body, json!("S"));
    // B cannot act as A's account, and does not see A's codes.
    let (st, body) = vbot(
        app,
        &b.token,
        "/api/crm/status/update",
        json!({"status_no": "S", "status_name": "x"}),
        "acct-a",
    )
    .await;
    assert_fail(st, &body, StatusCode::FORBIDDEN, 3);
    let (st, body) = vbot(
        app,
        &b.token,
        "/api/crm/status/update",
        json!({"status_no": "S", "status_name": "x"}),
        "acct-b",
    )
    .await;
    assert_fail(st, &body, StatusCode::NOT_FOUND, 4);
}

on_both_backends!(vocabularies_and_customers, other_tenants_are_invisible);
