//! CRMTOP activities, opportunities and templates over HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, assert_field_error, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const NIL: &str = "00000000-0000-0000-0000-000000000000";

fn activity_body(subject: &str, primary_type: i32, primary_id: &str) -> Value {
    json!({
        "id": NIL, "type": 1, "subject": subject, "description": "Gọi lại báo giá",
        "status": 1, "priority": 2, "startTime": "2026-03-02T09:00:00+07:00",
        "endTime": "2026-03-02T09:30:00+07:00", "dueDate": "2026-03-03T00:00:00+07:00",
        "isAllDay": false, "ownerId": NIL, "ownerName": "Nhân viên A", "orgUnitId": NIL,
        "orgUnitName": "", "extraData": "{\"callId\":42}", "primaryType": primary_type,
        "primaryId": primary_id, "primaryName": "client value is replaced", "relatedType": 0,
        "relatedId": NIL, "relatedName": ""
    })
}

async fn activities(app: &TestApp) {
    let a = app.tenant("act").await;
    let other = app.tenant("act-other").await;
    let customer = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Công ty Hoà Bình"}),
        )
        .await;
    let lead = app
        .create(
            "/api/v1/lead/create",
            &a.token,
            json!({"fullName": "Phạm Minh Đức"}),
        )
        .await;
    let call = app
        .create(
            "/api/v1/activity/create",
            &a.token,
            activity_body("Gọi điện chào hàng", 1, &customer),
        )
        .await;
    let mut meeting = activity_body("Họp demo sản phẩm", 3, &lead);
    meeting["type"] = json!(2);
    meeting["startTime"] = json!("2026-03-10T14:00:00+07:00");
    meeting["endTime"] = json!("2026-03-10T15:00:00+07:00");
    meeting["relatedType"] = json!(1);
    meeting["relatedId"] = json!(customer);
    let meeting = app
        .create("/api/v1/activity/create", &a.token, meeting)
        .await;

    let (status, got) = app
        .get(&format!("/api/v1/activity/get/{call}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_crmtop_ok(&got);
    assert_eq!(
        got["data"],
        json!({
            "id": call, "type": 1, "subject": "Gọi điện chào hàng",
            "description": "Gọi lại báo giá", "status": 1, "priority": 2,
            "startTime": "2026-03-02T09:00:00+07:00", "endTime": "2026-03-02T09:30:00+07:00",
            "dueDate": "2026-03-03T00:00:00+07:00", "isAllDay": false, "ownerId": null,
            "ownerName": "Nhân viên A", "orgUnitId": null, "orgUnitName": null,
            "extraData": "{\"callId\":42}", "primaryType": 1, "primaryId": customer,
            "primaryName": "Công ty Hoà Bình", "relatedType": null, "relatedId": null,
            "relatedName": null
        })
    );

    // Status change on GET, then every documented filter.
    let (status, body) = app
        .get(&format!("/api/v1/activity/status/{call}/3"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!(true));
    for (query, expected) in [
        (json!({"status": 3}), vec![&call]),
        (json!({"status": 1}), vec![&meeting]),
        (json!({"type": 2}), vec![&meeting]),
        (json!({"priority": 2}), vec![&meeting, &call]),
        (json!({"primaryType": 3}), vec![&meeting]),
        (json!({"primaryId": customer}), vec![&call]),
        (json!({"primaryName": "hoa binh"}), vec![&call]),
        (json!({"subject": "demo"}), vec![&meeting]),
        (json!({"search": "goi dien"}), vec![&call]),
        (
            json!({"fieldDate": "startTime", "from": "2026-03-05T00:00:00+07:00"}),
            vec![&meeting],
        ),
        (json!({"to": "2026-03-02"}), vec![&call]),
        (
            json!({"fieldDate": "createdOn", "from": "2020-01-01T00:00:00Z"}),
            vec![&meeting, &call],
        ),
    ] {
        let page = app
            .search("/api/v1/activity/search", &a.token, query.clone())
            .await;
        let ids: Vec<&str> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{query}: {page}");
    }
    let page = app
        .search(
            "/api/v1/activity/search",
            &a.token,
            json!({"subject": "demo"}),
        )
        .await;
    let item = &page["data"][0];
    assert_eq!(item["relatedName"], json!("Công ty Hoà Bình"));
    assert!(item["createdOn"].as_str().unwrap().ends_with("+07:00"));

    // Bad input.
    let (status, body) = app
        .get(&format!("/api/v1/activity/status/{call}/9"), &a.token)
        .await;
    assert_field_error(status, &body, "status");
    let (status, body) = app
        .post(
            "/api/v1/activity/create",
            &a.token,
            activity_body("x", 1, &uuid::Uuid::new_v4().to_string()),
        )
        .await;
    assert_field_error(status, &body, "primaryId");
    let (status, body) = app
        .post(
            "/api/v1/activity/create",
            &other.token,
            activity_body("x", 1, &customer),
        )
        .await;
    assert_field_error(status, &body, "primaryId");
    let mut bad = activity_body("x", 1, &customer);
    bad["endTime"] = json!("2026-03-01T00:00:00+07:00");
    let (status, body) = app.post("/api/v1/activity/create", &a.token, bad).await;
    assert_field_error(status, &body, "endTime");
    let (status, body) = app
        .post(
            "/api/v1/activity/search",
            &a.token,
            json!({"fieldDate": "birthday", "from": "2026-01-01"}),
        )
        .await;
    assert_field_error(status, &body, "fieldDate");
    let (status, body) = app
        .post(
            "/api/v1/activity/search",
            &a.token,
            json!({"from": "yesterday"}),
        )
        .await;
    assert_field_error(status, &body, "from");
    let (status, body) = app
        .get(&format!("/api/v1/activity/get/{call}"), &other.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    let mut update = activity_body("Gọi điện lần 2", 1, &customer);
    update["id"] = json!(call);
    let (status, body) = app.put("/api/v1/activity/update", &a.token, update).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!(call));
    let (status, body) = app
        .delete(&format!("/api/v1/activity/delete/{call}"), &a.token)
        .await;
    assert_eq!(
        (status, body["data"].clone()),
        (StatusCode::OK, json!(true))
    );
    let page = app
        .search("/api/v1/activity/search", &a.token, json!({}))
        .await;
    assert_eq!(page["totalCount"], json!(1));
}

async fn opportunities(app: &TestApp) {
    let a = app.tenant("opp").await;
    let customer = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Siêu thị Minh Châu"}),
        )
        .await;
    let contact = app
        .create(
            "/api/v1/contact/create",
            &a.token,
            json!({"fullName": "Lê Văn Tám", "customerId": customer}),
        )
        .await;
    let stranger = app
        .create(
            "/api/v1/contact/create",
            &a.token,
            json!({"fullName": "Người Lạ"}),
        )
        .await;
    let body = json!({
        "id": NIL, "code": "", "name": "Cung cấp máy POS", "description": "20 máy",
        "customerId": customer, "customerName": "", "contactId": contact, "contactName": "",
        "leadId": NIL, "leadName": "", "amount": 150000000.0, "currency": "vnd",
        "probability": 60.5, "stage": 2, "priority": 1, "source": "Website",
        "expectedCloseDate": "2026-04-30T00:00:00+07:00", "actualCloseDate": null,
        "ownerId": NIL, "ownerName": "", "orgUnitId": NIL, "orgUnitName": ""
    });
    let id = app
        .create("/api/v1/opportunity/create", &a.token, body.clone())
        .await;
    let (_, got) = app
        .get(&format!("/api/v1/opportunity/get/{id}"), &a.token)
        .await;
    assert_crmtop_ok(&got);
    let d = &got["data"];
    assert_eq!(d["code"], json!("CH000001"));
    assert_eq!(d["customerName"], json!("Siêu thị Minh Châu"));
    assert_eq!(d["contactName"], json!("Lê Văn Tám"));
    assert_eq!(d["amount"], json!(150000000.0));
    assert_eq!(d["currency"], json!("VND"));
    assert_eq!(d["probability"], json!(60.5));
    assert_eq!(d["expectedCloseDate"], json!("2026-04-30T00:00:00+07:00"));
    assert_eq!(d["leadId"], Value::Null);

    for query in [
        json!({"customerId": customer}),
        json!({"customerName": "minh chau"}),
        json!({"contactId": contact}),
        json!({"contactName": "van tam"}),
        json!({"search": "may pos"}),
        json!({"search": "CH000001"}),
    ] {
        let page = app
            .search("/api/v1/opportunity/search", &a.token, query.clone())
            .await;
        assert_eq!(page["totalCount"], json!(1), "{query}: {page}");
        assert_eq!(page["data"][0]["id"], json!(id));
    }
    let page = app
        .search(
            "/api/v1/opportunity/search",
            &a.token,
            json!({"leadName": "minh"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(0));

    let mut bad = body.clone();
    bad["contactId"] = json!(stranger);
    // A contact of no customer may join any deal; one of another customer may not.
    let other_customer = app
        .create("/api/v1/customer/create", &a.token, json!({"name": "Khác"}))
        .await;
    let foreign_contact = app
        .create(
            "/api/v1/contact/create",
            &a.token,
            json!({"fullName": "Trần Khác", "customerId": other_customer}),
        )
        .await;
    bad["contactId"] = json!(foreign_contact);
    let (status, resp) = app.post("/api/v1/opportunity/create", &a.token, bad).await;
    assert_field_error(status, &resp, "contactId");
    for (field, value) in [
        ("probability", json!(120)),
        ("amount", json!(-1)),
        ("currency", json!("đồng")),
        ("amount", json!("nhiều")),
        ("name", json!("  ")),
        ("leadId", json!(uuid::Uuid::new_v4())),
    ] {
        let mut bad = body.clone();
        bad[field] = value;
        let (status, resp) = app.post("/api/v1/opportunity/create", &a.token, bad).await;
        assert_field_error(status, &resp, field);
    }
    let page = app
        .search("/api/v1/opportunity/search", &a.token, json!({}))
        .await;
    assert_eq!(page["totalCount"], json!(1), "no partial writes");
}

async fn templates(app: &TestApp) {
    let a = app.tenant("tpl").await;
    let id = app
        .create(
            "/api/v1/template/create",
            &a.token,
            json!({"id": NIL, "type": 3, "name": "Nhắc lịch hẹn",
                   "content": "Chào {{ten_khach}}, lịch hẹn {{ngay}} của {{ten_khach}}"}),
        )
        .await;
    app.create(
        "/api/v1/template/create",
        &a.token,
        json!({"type": 1, "name": "Bản tin tháng", "content": "<h1>Tin mới</h1>"}),
    )
    .await;
    let (_, got) = app
        .get(&format!("/api/v1/template/get/{id}"), &a.token)
        .await;
    assert_eq!(
        got["data"],
        json!({"id": id, "type": 3, "name": "Nhắc lịch hẹn",
               "content": "Chào {{ten_khach}}, lịch hẹn {{ngay}} của {{ten_khach}}"})
    );
    let page = app
        .search("/api/v1/template/search", &a.token, json!({"type": 3}))
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(
        page["data"][0]["placeholders"],
        json!(["ten_khach", "ngay"])
    );
    let page = app
        .search(
            "/api/v1/template/search",
            &a.token,
            json!({"search": "ban tin"}),
        )
        .await;
    assert_eq!(page["data"][0]["type"], json!(1));
    for (field, body) in [
        ("type", json!({"type": 7, "name": "x", "content": "y"})),
        (
            "content",
            json!({"type": 1, "name": "x", "content": "Chào {{ten"}),
        ),
        ("content", json!({"type": 1, "name": "x"})),
        ("name", json!({"type": 1, "content": "x"})),
    ] {
        let (status, resp) = app.post("/api/v1/template/create", &a.token, body).await;
        assert_field_error(status, &resp, field);
    }
}

on_both_backends!(activities, opportunities, templates);
