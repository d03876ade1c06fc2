//! CRMTOP segments and campaigns with their members, over HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, assert_field_error, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const NIL: &str = "00000000-0000-0000-0000-000000000000";

async fn people(app: &TestApp, token: &str) -> (String, String, String) {
    let customer = app
        .create(
            "/api/v1/customer/create",
            token,
            json!({"name": "Nguyễn Thị Hồng", "phone": "0903 111 222", "email": "hong@example.vn"}),
        )
        .await;
    let contact = app
        .create(
            "/api/v1/contact/create",
            token,
            json!({"fullName": "Đỗ Quang Huy", "phone": "0988777666"}),
        )
        .await;
    let lead = app
        .create(
            "/api/v1/lead/create",
            token,
            json!({"fullName": "Bùi Thanh Tâm", "email": "tam@example.vn"}),
        )
        .await;
    (customer, contact, lead)
}

async fn members(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    app.search(path, token, body).await
}

async fn segments(app: &TestApp) {
    let a = app.tenant("seg").await;
    let other = app.tenant("seg-other").await;
    let (customer, contact, lead) = people(app, &a.token).await;
    let seg = app
        .create(
            "/api/v1/segment/create",
            &a.token,
            json!({"id": NIL, "name": "Khách VIP", "description": "Mua trên 10 triệu"}),
        )
        .await;
    for (kind, id) in [(1, &customer), (2, &contact), (3, &lead)] {
        let (status, body) = app
            .post(
                "/api/v1/segment/member/add",
                &a.token,
                json!({"segmentId": seg, "type": kind, "ids": [id, id], "maktReports": [null]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_crmtop_ok(&body);
        assert_eq!(body["data"], json!(true));
    }
    // Adding again keeps one row each.
    let (status, _) = app
        .post(
            "/api/v1/segment/member/add",
            &a.token,
            json!({"segmentId": seg, "type": 1, "ids": [customer]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, got) = app
        .get(&format!("/api/v1/segment/get/{seg}"), &a.token)
        .await;
    assert_crmtop_ok(&got);
    let d = &got["data"];
    let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        7,
        "SearchSegmentDto has exactly its documented keys: {d}"
    );
    assert_eq!(d["id"], json!(seg));
    assert_eq!(d["name"], json!("Khách VIP"));
    assert_eq!(d["totalMember"], json!(3));
    assert_eq!(d["description"], json!("Mua trên 10 triệu"));
    assert!(d["createdBy"].is_string() && d["createdByName"].is_string());
    assert!(d["createdOn"].as_str().unwrap().ends_with("+07:00"));

    let page = members(
        app,
        "/api/v1/segment/member/search",
        &a.token,
        json!({"segmentId": seg}),
    )
    .await;
    assert_eq!(page["totalCount"], json!(3));
    let first = &page["data"][0];
    assert_eq!(first["type"], json!(3));
    assert_eq!(first["memberId"], json!(lead));
    assert_eq!(first["name"], json!("Bùi Thanh Tâm"));
    assert_eq!(first["email"], json!("tam@example.vn"));
    assert!(first["id"].is_i64());
    let page = members(
        app,
        "/api/v1/segment/member/search",
        &a.token,
        json!({"segmentId": seg, "search": "quang huy"}),
    )
    .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(page["data"][0]["memberId"], json!(contact));
    let page = members(
        app,
        "/api/v1/segment/member/search",
        &a.token,
        json!({"segmentId": seg, "search": "+84903111222"}),
    )
    .await;
    assert_eq!(page["data"][0]["memberId"], json!(customer));
    // The last digits of a phone, as people type them.
    let page = members(
        app,
        "/api/v1/segment/member/search",
        &a.token,
        json!({"segmentId": seg, "search": "111 222"}),
    )
    .await;
    assert_eq!(page["totalCount"], json!(1), "{page}");
    assert_eq!(page["data"][0]["memberId"], json!(customer));
    let page = members(
        app,
        "/api/v1/segment/member/search",
        &a.token,
        json!({"segmentId": seg, "type": 2}),
    )
    .await;
    assert_eq!(page["totalCount"], json!(1));
    let contact_row = page["data"][0]["id"].as_i64().unwrap();

    // Removing: all-or-nothing.
    let (status, body) = app
        .post(
            "/api/v1/segment/member/delete",
            &a.token,
            json!({"segmentId": seg, "ids": [contact_row, 999_999]}),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            "/api/v1/segment/member/delete",
            &a.token,
            json!({"segmentId": seg, "ids": [contact_row]}),
        )
        .await;
    assert_eq!(
        (status, body["data"].clone()),
        (StatusCode::OK, json!(true))
    );
    // A deleted customer leaves every list.
    app.delete(&format!("/api/v1/customer/delete/{customer}"), &a.token)
        .await;
    let page = app
        .search("/api/v1/segment/search", &a.token, json!({"search": "vip"}))
        .await;
    assert_eq!(page["data"][0]["totalMember"], json!(1), "{page}");

    // Bad input and other tenants.
    for (body, field) in [
        (json!({"segmentId": seg, "type": 9, "ids": [lead]}), "type"),
        (json!({"segmentId": seg, "type": 3, "ids": ["abc"]}), "ids"),
        (json!({"segmentId": seg, "type": 3, "ids": []}), "ids"),
        (
            json!({"segmentId": seg, "type": 1, "ids": [uuid::Uuid::new_v4()]}),
            "ids",
        ),
        (json!({"type": 3, "ids": [lead]}), "segmentId"),
    ] {
        let (status, resp) = app.post("/api/v1/segment/member/add", &a.token, body).await;
        assert_field_error(status, &resp, field);
    }
    let (status, body) = app
        .post(
            "/api/v1/segment/member/add",
            &other.token,
            json!({"segmentId": seg, "type": 3, "ids": [lead]}),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (other_lead_status, body) = app
        .post(
            "/api/v1/lead/create",
            &other.token,
            json!({"fullName": "Khác"}),
        )
        .await;
    assert_eq!(other_lead_status, StatusCode::OK);
    let (status, resp) = app
        .post(
            "/api/v1/segment/member/add",
            &a.token,
            json!({"segmentId": seg, "type": 3, "ids": [body["data"]]}),
        )
        .await;
    assert_field_error(status, &resp, "ids");
    let (status, body) = app
        .post(
            "/api/v1/segment/member/search",
            &other.token,
            json!({"segmentId": seg}),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    let (status, body) = app
        .put(
            "/api/v1/segment/update",
            &a.token,
            json!({"id": seg, "name": "Khách thân thiết", "description": ""}),
        )
        .await;
    assert_eq!((status, body["data"].clone()), (StatusCode::OK, json!(seg)));
    let (status, body) = app
        .delete(&format!("/api/v1/segment/delete/{seg}"), &a.token)
        .await;
    assert_eq!(
        (status, body["data"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (status, body) = app
        .post(
            "/api/v1/segment/member/search",
            &a.token,
            json!({"segmentId": seg}),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
}

async fn campaigns(app: &TestApp) {
    let a = app.tenant("camp").await;
    let other = app.tenant("camp-other").await;
    let (customer, _contact, lead) = people(app, &a.token).await;
    let campaign = json!({
        "id": NIL, "code": "", "name": "Khuyến mãi Tết 2027", "type": 2, "status": 1,
        "startDate": "2027-01-15T00:00:00+07:00", "endDate": "2027-02-15T00:00:00+07:00",
        "expectedRevenue": 500000000.0, "budgetedCost": 20000000.0, "actualCost": 0.0,
        "expectedResponseRate": 12.5, "actualResponseRate": 0.0, "note": "Tết",
        "ownerId": NIL, "ownerName": "", "orgUnitId": NIL, "orgUnitName": ""
    });
    let id = app
        .create("/api/v1/campaign/create", &a.token, campaign.clone())
        .await;
    let (_, got) = app
        .get(&format!("/api/v1/campaign/get/{id}"), &a.token)
        .await;
    let d = &got["data"];
    assert_eq!(d["code"], json!("CD000001"));
    assert_eq!(d["type"], json!(2));
    assert_eq!(d["startDate"], json!("2027-01-15T00:00:00+07:00"));
    assert_eq!(d["expectedResponseRate"], json!(12.5));
    assert_eq!(d["ownerId"], Value::Null);

    let (status, resp) = app
        .post(
            "/api/v1/campaign/member/add",
            &a.token,
            json!({"campaignId": id, "type": 1, "ids": [customer]}),
        )
        .await;
    assert_eq!(
        (status, resp["data"].clone()),
        (StatusCode::OK, json!(true))
    );
    app.post(
        "/api/v1/campaign/member/add",
        &a.token,
        json!({"campaignId": id, "type": 3, "ids": [lead]}),
    )
    .await;
    let page = app
        .search(
            "/api/v1/campaign/member/search",
            &a.token,
            json!({"campaignId": id, "type": 1}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(page["data"][0]["campaignId"], json!(id));
    assert_eq!(page["data"][0]["name"], json!("Nguyễn Thị Hồng"));
    let row = page["data"][0]["id"].as_i64().unwrap();
    let page = app
        .search(
            "/api/v1/campaign/search",
            &a.token,
            json!({"type": 2, "status": 1, "search": "tet"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(page["data"][0]["totalMember"], json!(2));

    let (status, body) = app
        .delete(
            &format!("/api/v1/campaign/member/delete/{row}"),
            &other.token,
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .delete(&format!("/api/v1/campaign/member/delete/{row}"), &a.token)
        .await;
    assert_eq!(
        (status, body["data"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (status, body) = app
        .delete(&format!("/api/v1/campaign/member/delete/{row}"), &a.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .delete("/api/v1/campaign/member/delete/abc", &a.token)
        .await;
    assert_field_error(status, &body, "id");

    for (field, value) in [
        ("endDate", json!("2027-01-01T00:00:00+07:00")),
        ("budgetedCost", json!(-5)),
        ("expectedResponseRate", json!(101)),
        ("name", json!(null)),
    ] {
        let mut bad = body_with(&campaign, field, value);
        bad["id"] = json!(NIL);
        let (status, resp) = app.post("/api/v1/campaign/create", &a.token, bad).await;
        assert_field_error(status, &resp, field);
    }
    let (status, body) = app
        .get(&format!("/api/v1/campaign/get/{id}"), &other.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
}

fn body_with(body: &Value, field: &str, value: Value) -> Value {
    let mut b = body.clone();
    b[field] = value;
    b
}

on_both_backends!(segments, campaigns);
