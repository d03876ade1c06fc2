//! CRMTOP contacts and leads (including conversion) over HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, assert_field_error, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const NIL: &str = "00000000-0000-0000-0000-000000000000";

fn contact_body(customer: &str, name: &str, phone: &str) -> Value {
    json!({
        "id": NIL, "customerId": customer, "customerName": "ignored", "code": "",
        "fullName": name, "position": "Giám đốc", "department": "Kinh doanh",
        "phone": phone, "email": "lien.he@example.vn", "gender": 2,
        "birthday": "1990-05-01T00:00:00+07:00", "nationalId": "079190000123",
        "address": "Hà Nội", "status": "active", "isPrimary": true, "note": "",
        "ownerId": NIL, "ownerName": "", "orgUnitId": NIL, "orgUnitName": ""
    })
}

fn lead_body(name: &str, company: &str, phone: &str) -> Value {
    json!({
        "id": NIL, "source": 1, "status": 1, "fullName": name, "email": "lead@example.vn",
        "phone": phone, "company": company, "position": "Trưởng phòng", "industry": 1,
        "rating": 1, "probability": 40, "notes": "gặp ở hội chợ", "assignedTo": 0,
        "ownerId": NIL, "ownerName": "Sales 1", "orgUnitId": NIL, "orgUnitName": ""
    })
}

async fn page(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (status, resp) = app.post(path, token, body).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_crmtop_ok(&resp);
    resp["data"].clone()
}

async fn contact_lifecycle(app: &TestApp) {
    let a = app.tenant("contacts").await;
    let other = app.tenant("other").await;
    let customer = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Công ty Sao Mai", "phone": "02838221234"}),
        )
        .await;
    let id = app
        .create(
            "/api/v1/contact/create",
            &a.token,
            contact_body(&customer, "Võ Thị Lan", "0912 000 111"),
        )
        .await;

    let (status, got) = app
        .get(&format!("/api/v1/contact/get/{id}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_crmtop_ok(&got);
    assert_eq!(
        got["data"],
        json!({
            "id": id, "customerId": customer, "customerName": "Công ty Sao Mai", "code": "LH000001",
            "fullName": "Võ Thị Lan", "position": "Giám đốc", "department": "Kinh doanh",
            "phone": "0912 000 111", "email": "lien.he@example.vn", "gender": 2,
            "birthday": "1990-05-01T00:00:00+07:00", "nationalId": "079190000123",
            "address": "Hà Nội", "status": "active", "isPrimary": true, "note": null,
            "ownerId": null, "ownerName": null, "orgUnitId": null, "orgUnitName": null
        })
    );

    for query in [
        json!({"search": "vo thi lan"}),
        json!({"customerId": customer}),
        json!({"phone": "+84912000111"}),
        json!({"fullName": "LAN"}),
        json!({"code": "LH000001"}),
    ] {
        let p = page(app, "/api/v1/contact/search", &a.token, query.clone()).await;
        assert_eq!(p["totalCount"], json!(1), "{query}: {p}");
        assert_eq!(p["data"][0]["fullName"], json!("Võ Thị Lan"));
        assert_eq!(p["data"][0]["customerName"], json!("Công ty Sao Mai"));
    }
    let p = page(
        app,
        "/api/v1/contact/search",
        &other.token,
        json!({"search": "lan"}),
    )
    .await;
    assert_eq!(p["totalCount"], json!(0));

    let mut changed = contact_body(&customer, "Võ Thị Lan Anh", "0912000111");
    changed["id"] = json!(id);
    changed["birthday"] = json!("1990-05-02");
    changed["isPrimary"] = json!(false);
    let (status, resp) = app.put("/api/v1/contact/update", &a.token, changed).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    let (_, got) = app
        .get(&format!("/api/v1/contact/get/{id}"), &a.token)
        .await;
    assert_eq!(got["data"]["fullName"], json!("Võ Thị Lan Anh"));
    assert_eq!(got["data"]["birthday"], json!("1990-05-02T00:00:00+07:00"));
    assert_eq!(got["data"]["isPrimary"], json!(false));

    let (status, body) = app
        .post(
            "/api/v1/contact/create",
            &a.token,
            contact_body(&customer, "", "0912000111"),
        )
        .await;
    assert_field_error(status, &body, "fullName");
    let mut bad_date = contact_body(&customer, "X", "0912000111");
    bad_date["birthday"] = json!("01/05/1990");
    let (status, body) = app.post("/api/v1/contact/create", &a.token, bad_date).await;
    assert_field_error(status, &body, "birthday");
    let (status, body) = app
        .post(
            "/api/v1/contact/create",
            &other.token,
            contact_body(&customer, "X", "0912000111"),
        )
        .await;
    assert_field_error(status, &body, "customerId");
    let mut bad_gender = contact_body(&customer, "X", "0912000111");
    bad_gender["gender"] = json!(9);
    let (status, body) = app
        .post("/api/v1/contact/create", &a.token, bad_gender)
        .await;
    assert_field_error(status, &body, "gender");

    let (status, body) = app
        .delete(&format!("/api/v1/contact/delete/{id}"), &other.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .delete(&format!("/api/v1/contact/delete/{id}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!(true));
    let (status, body) = app
        .get(&format!("/api/v1/contact/get/{id}"), &a.token)
        .await;
    let message = assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    assert_eq!(message, "contact not found");
    let p = page(app, "/api/v1/contact/search", &a.token, json!({})).await;
    assert_eq!(p["totalCount"], json!(0));
}

async fn lead_lifecycle_and_conversion(app: &TestApp) {
    let a = app.tenant("leads").await;
    let other = app.tenant("leads-other").await;
    let id = app
        .create(
            "/api/v1/lead/create",
            &a.token,
            lead_body("Hoàng Văn Tùng", "Công ty Ánh Dương", "0987 654 321"),
        )
        .await;

    let (status, got) = app.get(&format!("/api/v1/lead/get/{id}"), &a.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_crmtop_ok(&got);
    assert_eq!(
        got["data"],
        json!({
            "id": id, "source": 1, "status": 1, "fullName": "Hoàng Văn Tùng",
            "email": "lead@example.vn", "phone": "0987 654 321", "company": "Công ty Ánh Dương",
            "position": "Trưởng phòng", "industry": 1, "rating": 1, "probability": 40,
            "notes": "gặp ở hội chợ", "assignedTo": 0, "ownerId": null, "ownerName": "Sales 1",
            "orgUnitId": null, "orgUnitName": null
        })
    );
    let p = page(
        app,
        "/api/v1/lead/search",
        &a.token,
        json!({"search": "anh duong"}),
    )
    .await;
    assert_eq!(p["totalCount"], json!(1), "company words are searchable");
    assert_eq!(p["data"][0]["isConverted"], json!(false));
    let p = page(
        app,
        "/api/v1/lead/search",
        &a.token,
        json!({"phone": "84987654321", "fullName": "tung"}),
    )
    .await;
    assert_eq!(p["totalCount"], json!(1));

    let mut changed = lead_body("Hoàng Văn Tùng", "Công ty Ánh Dương", "0987654321");
    changed["id"] = json!(id);
    changed["probability"] = json!(80);
    let (status, _) = app
        .put("/api/v1/lead/update", &a.token, changed.clone())
        .await;
    assert_eq!(status, StatusCode::OK);
    changed["probability"] = json!(101);
    let (status, body) = app.put("/api/v1/lead/update", &a.token, changed).await;
    assert_field_error(status, &body, "probability");

    let (status, body) = app
        .get(&format!("/api/v1/lead/convert/{id}"), &other.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(&format!("/api/v1/lead/convert/{id}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_crmtop_ok(&body);
    assert_eq!(body["data"], json!(true));

    let customers = page(
        app,
        "/api/v1/customer/search",
        &a.token,
        json!({"search": "anh duong"}),
    )
    .await;
    assert_eq!(customers["totalCount"], json!(1), "{customers}");
    let customer = &customers["data"][0];
    assert_eq!(customer["name"], json!("Công ty Ánh Dương"));
    assert_eq!(customer["type"], json!(2));
    assert_eq!(customer["phone"], json!("0987654321"));
    let contacts = page(
        app,
        "/api/v1/contact/search",
        &a.token,
        json!({"customerId": customer["id"]}),
    )
    .await;
    assert_eq!(contacts["totalCount"], json!(1));
    assert_eq!(contacts["data"][0]["fullName"], json!("Hoàng Văn Tùng"));
    assert_eq!(contacts["data"][0]["isPrimary"], json!(true));
    assert_eq!(contacts["data"][0]["position"], json!("Trưởng phòng"));

    let p = page(
        app,
        "/api/v1/lead/search",
        &a.token,
        json!({"fullName": "tung"}),
    )
    .await;
    assert_eq!(p["data"][0]["isConverted"], json!(true));
    assert_eq!(p["data"][0]["convertedCustomerId"], customer["id"]);

    let (status, body) = app
        .get(&format!("/api/v1/lead/convert/{id}"), &a.token)
        .await;
    let message = assert_crmtop_err(status, &body, StatusCode::CONFLICT);
    assert!(message.contains("already been converted"), "{message}");
    let customers = page(app, "/api/v1/customer/search", &a.token, json!({})).await;
    assert_eq!(
        customers["totalCount"],
        json!(1),
        "a second convert writes nothing"
    );

    let person = app
        .create(
            "/api/v1/lead/create",
            &a.token,
            json!({"fullName": "Bùi Thị Mai", "phone": "0909 111 222"}),
        )
        .await;
    let (status, _) = app
        .get(&format!("/api/v1/lead/convert/{person}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let customers = page(
        app,
        "/api/v1/customer/search",
        &a.token,
        json!({"name": "bui thi mai"}),
    )
    .await;
    assert_eq!(
        customers["data"][0]["type"],
        json!(1),
        "a lead without company becomes an individual"
    );

    let (status, body) = app
        .delete(&format!("/api/v1/lead/delete/{person}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"], json!(true));
    let (status, body) = app
        .get(&format!("/api/v1/lead/get/{person}"), &a.token)
        .await;
    assert_eq!(
        assert_crmtop_err(status, &body, StatusCode::NOT_FOUND),
        "lead not found"
    );
    let (status, body) = app
        .get(
            &format!("/api/v1/lead/convert/{}", uuid::Uuid::new_v4()),
            &a.token,
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            "/api/v1/lead/create",
            &a.token,
            json!({"fullName": "X", "source": "web"}),
        )
        .await;
    assert_field_error(status, &body, "source");
}

on_both_backends!(contact_lifecycle, lead_lifecycle_and_conversion);
