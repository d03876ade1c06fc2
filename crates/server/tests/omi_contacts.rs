//! OMI's contact API v2 over HTTP, and the flows across CRMTOP, VBot and OMI on one core.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn omi(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body).await
}

fn ok(status: StatusCode, body: &Value) -> Value {
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "instance_id",
            "instance_name",
            "key_enabled",
            "payload",
            "status_code"
        ],
        "{body}"
    );
    assert_eq!(body["status_code"], json!(9999));
    assert_eq!(body["key_enabled"], json!(false));
    assert!(body["instance_id"].is_string() && body["instance_name"].is_string());
    body["payload"].clone()
}

fn failed(status: StatusCode, body: &Value, http: StatusCode, error: &str) -> String {
    assert_eq!(status, http, "{body}");
    assert_eq!(body["status_code"], json!(-9999), "{body}");
    assert_eq!(body["error"], json!(error), "{body}");
    assert_eq!(body["payload"], Value::Null);
    body["message"].as_str().unwrap().to_owned()
}

fn attr<'a>(item: &'a Value, code: &str) -> &'a Value {
    item["attribute_structure"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["field_code"] == json!(code))
        .unwrap_or_else(|| panic!("no {code} in {item}"))
}

async fn contacts(app: &TestApp) {
    let a = app.tenant("omi").await;
    let other = app.tenant("omi-other").await;
    let t = &a.token;
    // A funnel (our admin call) and a dynamic attribute (VBot's field/create).
    let funnel = ok_call(app, t, "/api/v2/contact/filterContact/add", json!({"name": "Bán hàng", "statuses": [{"name": "Mới", "children": []}, {"name": "Đang chăm sóc", "children": ["Gọi lần 1", "Gọi lần 2"]}]})).await;
    let funnel = funnel.as_str().unwrap().to_owned();
    let (st, b) = app
        .call(Method::POST, "/api/crm/field/create", Some(t), Some(json!({"vbot_id": "omi", "project_code": "P1", "field_no": "more_infomation", "field_name": "Thông tin thêm", "field_type": "customize"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");

    // add, with the doc's `jobTitlte` spelling.
    let contact = json!({
        "refId": "P-001", "tags": ["Lead", "Contact"], "business": ["Food"], "categories": ["High Prioriry"],
        "userOwnerEmail": "sale1@shop.vn", "avatarUrl": "https://cdn.shop.vn/a.png", "fullName": "Trần Văn Tiến",
        "gender": "male", "passport": "079090001234", "jobTitlte": "Giám đốc", "address": "Số 6, đường 16, Thủ Đức",
        "refCode": "KH-P-001", "refType": "retail", "note": "Khách hàng VIP",
        "phones": [{"data": "0395187319", "type": "personal", "valueType": "Cá nhân"}, {"data": "0912000111", "type": "office", "valueType": "Công ty"}],
        "emails": [{"data": "tientv@example.vn", "type": "personal", "valueType": "Cá nhân"}],
        "filterContacts": [{"id": funnel, "index": 1, "secondLevelIndex": 0}]
    });
    let (st, b) = omi(
        app,
        Method::POST,
        "/api/v2/contact/add",
        t,
        Some(contact.clone()),
    )
    .await;
    assert_eq!(ok(st, &b), json!(true));
    // Replaying the same refId does not duplicate: it is refused.
    let (st, b) = omi(
        app,
        Method::POST,
        "/api/v2/contact/add",
        t,
        Some(contact.clone()),
    )
    .await;
    failed(st, &b, StatusCode::CONFLICT, "duplicate_ref_id");

    // get by refId, then by public id.
    let (st, b) = omi(app, Method::GET, "/api/v2/contact/get/P-001", t, None).await;
    let item = ok(st, &b);
    let id = item["public_id"].as_str().unwrap().to_owned();
    for key in [
        "public_id",
        "create_by",
        "last_update_by",
        "created_date",
        "last_updated_date",
        "contact_type",
        "tags_view",
        "is_deleted",
        "tags",
        "attribute_structure",
    ] {
        assert!(item.get(key).is_some(), "{key} in {item}");
    }
    assert!(item["created_date"].is_i64());
    assert_eq!(item["contact_type"], json!("contact"));
    assert_eq!(item["tags"], json!(["Lead", "Contact"]));
    assert_eq!(
        attr(&item, "full_name")["value"][0]["display_value"],
        json!("Trần Văn Tiến")
    );
    assert_eq!(
        attr(&item, "job_title")["value"][0]["display_value"],
        json!("Giám đốc")
    );
    assert_eq!(attr(&item, "gender")["field_type"], json!("radio"));
    let phones = &attr(&item, "phone_number")["value"];
    assert_eq!(
        phones[0],
        json!({"display_value": "0395187319", "data_type": "personal", "value_type": "Cá nhân"})
    );
    assert_eq!(phones[1]["data_type"], json!("office"));
    assert_eq!(
        attr(&item, "mail")["value"][0]["display_value"],
        json!("tientv@example.vn")
    );
    assert_eq!(item["filter_contacts"][0]["index"], json!(1));
    let (st, b) = omi(
        app,
        Method::GET,
        &format!("/api/v2/contact/get/{id}"),
        t,
        None,
    )
    .await;
    assert_eq!(ok(st, &b)["public_id"], json!(id));

    // update by refId: labels added and removed, dynamic attributes written.
    let (st, b) = omi(app, Method::POST, "/api/v2/contact/update", t, Some(json!({
        "refId": "P-001", "tags": ["Company"], "tagRemoves": ["contact"], "business": ["E-Commerce"], "businessRemoves": ["Food"],
        "categoriesRemoves": ["High Prioriry"], "jobTitle": "Chủ tịch",
        "otherDynamicUpdates": [{"fieldCode": "more_infomation", "values": [{"data": "Nguyễn Văn B", "type": "value1", "valueType": "Người thân"}, {"data": "Vàng", "type": "label2", "valueType": "Màu sắc yêu thích"}]}]
    }))).await;
    assert_eq!(ok(st, &b), json!(true));
    let (_, b) = omi(
        app,
        Method::GET,
        &format!("/api/v2/contact/get/{id}"),
        t,
        None,
    )
    .await;
    let item = &b["payload"];
    assert_eq!(item["tags"], json!(["Lead", "Company"]));
    assert_eq!(item["business"], json!(["E-Commerce"]));
    assert_eq!(item["categories"], json!([]));
    assert_eq!(
        attr(item, "job_title")["value"][0]["display_value"],
        json!("Chủ tịch")
    );
    assert_eq!(
        attr(item, "full_name")["value"][0]["display_value"],
        json!("Trần Văn Tiến"),
        "absent fields stay"
    );
    let more = attr(item, "more_infomation");
    assert_eq!(more["field_type"], json!("customize"));
    assert_eq!(
        more["value"][1],
        json!({"display_value": "Vàng", "data_type": "label2", "value_type": "Màu sắc yêu thích"})
    );
    // update by _id.
    let (st, b) = omi(
        app,
        Method::POST,
        "/api/v2/contact/update",
        t,
        Some(json!({"_id": id, "note": "Đã gọi"})),
    )
    .await;
    assert_eq!(ok(st, &b), json!(true));

    // Search: keyword (phone, e-mail, name), labels, ranges, include/exclude ids, paging.
    let second = ok_call(app, t, "/api/v2/contact/addMany", json!({"data": [{"refId": "P-002", "fullName": "Lê Thị Hoa", "tags": ["Demo"], "phones": [{"data": "0988777666"}]}]})).await;
    assert_eq!(second["created"], json!(1));
    let hoa = second["items"][0]["public_id"].as_str().unwrap().to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (page, body, expected) in [
        ("", json!({"keyword": "0912 000 111"}), vec![&id]),
        ("", json!({"keyword": "tientv@example.vn"}), vec![&id]),
        ("", json!({"keyword": "van tien"}), vec![&id]),
        // As people type (docs/search.md): last digits, given name first, a domain.
        ("", json!({"keyword": "000 111"}), vec![&id]),
        ("", json!({"keyword": "7666"}), vec![&hoa]),
        ("", json!({"keyword": "tien tran"}), vec![&id]),
        ("", json!({"keyword": "@example.vn"}), vec![&id]),
        ("", json!({"tags": ["demo"]}), vec![&hoa]),
        ("", json!({"tags": ["Company", "Demo"]}), vec![&hoa, &id]),
        ("", json!({"business": ["e-commerce"]}), vec![&id]),
        (
            "",
            json!({"ranges": [{"field": "created_date", "from": now - 600_000, "to": now + 600_000}]}),
            vec![&hoa, &id],
        ),
        (
            "",
            json!({"ranges": [{"field": "last_updated_date", "to": 1_000}]}),
            vec![],
        ),
        ("", json!({"includeIds": [id]}), vec![&id]),
        ("", json!({"excludeIds": [id]}), vec![&hoa]),
        ("?page=2&size=1", json!({}), vec![&id]),
    ] {
        let (st, b) = omi(
            app,
            Method::POST,
            &format!("/api/v2/contact/search{page}"),
            t,
            Some(body.clone()),
        )
        .await;
        let p = ok(st, &b);
        let ids: Vec<&str> = p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["public_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{body} {page}: {p}");
    }
    let (st, b) = omi(
        app,
        Method::POST,
        "/api/v2/contact/search?page=2&size=1",
        t,
        Some(json!({})),
    )
    .await;
    let p = ok(st, &b);
    assert_eq!(
        (
            p["page_number"].clone(),
            p["next_page"].clone(),
            p["previous_page"].clone(),
            p["has_next"].clone(),
            p["has_previous"].clone(),
            p["total_pages"].clone(),
            p["total_items"].clone(),
            p["page_size"].clone()
        ),
        (
            json!(2),
            json!(2),
            json!(1),
            json!(false),
            json!(true),
            json!(2),
            json!(2),
            json!(1)
        )
    );
    let (st, b) = omi(app, Method::POST, "/api/v2/contact/search", t, None).await;
    assert_eq!(ok(st, &b)["page_size"], json!(50));

    // layout/list and filterContact/list.
    let (st, b) = omi(app, Method::GET, "/api/v2/contact/layout/list", t, None).await;
    let layout = ok(st, &b);
    let codes: Vec<&str> = layout
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field_code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "full_name",
            "job_title",
            "gender",
            "phone_number",
            "mail",
            "address",
            "passport",
            "note",
            "more_infomation"
        ]
    );
    let (st, b) = omi(
        app,
        Method::GET,
        "/api/v2/contact/filterContact/list",
        t,
        None,
    )
    .await;
    let f = ok(st, &b);
    assert_eq!(f[0]["id"], json!(funnel));
    assert_eq!(
        f[0]["statuses"][1]["children"][1]["name"],
        json!("Gọi lần 2")
    );

    // Bad input and other tenants.
    for (body, error, http) in [
        (
            json!({"fullName": "x", "gender": "nam"}),
            "invalid_field",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"fullName": "x", "phones": [{"data": "12"}]}),
            "invalid_field",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"fullName": "x", "filterContacts": [{"id": funnel, "index": 7}]}),
            "invalid_field",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"fullName": "x", "tags": "Lead"}),
            "invalid_field",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"tags": ["x"]}),
            "invalid_field",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (st, b) = omi(app, Method::POST, "/api/v2/contact/add", t, Some(body)).await;
        failed(st, &b, http, error);
    }
    let (st, b) = omi(app, Method::POST, "/api/v2/contact/update", t, Some(json!({"refId": "P-001", "otherDynamicUpdates": [{"fieldCode": "khong_co", "values": []}]}))).await;
    assert!(
        failed(st, &b, StatusCode::BAD_REQUEST, "invalid_field").contains("otherDynamicUpdates")
    );
    let (st, b) = omi(
        app,
        Method::POST,
        "/api/v2/contact/search?size=900",
        t,
        Some(json!({})),
    )
    .await;
    failed(st, &b, StatusCode::BAD_REQUEST, "invalid_field");
    let (st, b) = omi(
        app,
        Method::GET,
        &format!("/api/v2/contact/get/{id}"),
        &other.token,
        None,
    )
    .await;
    failed(st, &b, StatusCode::NOT_FOUND, "not_found");
    let (st, b) = omi(
        app,
        Method::POST,
        "/api/v2/contact/update",
        &other.token,
        Some(json!({"refId": "P-001", "note": "x"})),
    )
    .await;
    failed(st, &b, StatusCode::NOT_FOUND, "not_found");
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/search",
            None,
            Some(json!({})),
        )
        .await;
    failed(st, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let resp = app
        .http
        .post(format!("{}/api/v2/contact/add", app.base))
        .bearer_auth(t)
        .body("{")
        .send()
        .await
        .unwrap();
    let st = resp.status();
    failed(
        st,
        &resp.json().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_json",
    );
}

async fn ok_call(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (st, b) = app.call(Method::POST, path, Some(token), Some(body)).await;
    ok(st, &b)
}

/// `addMany` with 1,000 items, some invalid: the valid ones land, the answer names the others.
async fn add_many_keeps_the_valid(app: &TestApp) {
    let a = app.tenant("bulk").await;
    let items: Vec<Value> = (0..1000)
        .map(|i| match i % 100 {
            7 => json!({"refId": format!("R{i}"), "fullName": "", "phones": [{"data": "0912345678"}]}),
            13 => json!({"refId": format!("R{i}"), "fullName": format!("Khách {i}"), "emails": [{"data": "không-phải-email"}]}),
            21 => json!({"refId": "R0", "fullName": "trùng refId"}),
            _ => json!({"refId": format!("R{i}"), "fullName": format!("Khách số {i}"), "phones": [{"data": format!("09{:08}", i)}], "tags": ["Nhập hàng loạt"]}),
        })
        .collect();
    let p = ok_call(
        app,
        &a.token,
        "/api/v2/contact/addMany",
        json!({"data": items}),
    )
    .await;
    assert_eq!(p["created"], json!(970), "{}", p["error"]);
    assert_eq!(p["failed"], json!(30));
    assert_eq!(p["success"], json!(false));
    assert_eq!(p["items"].as_array().unwrap().len(), 1000);
    assert_eq!(p["items"][7]["status"], json!("error"));
    assert!(
        p["items"][7]["message"]
            .as_str()
            .unwrap()
            .contains("fullName"),
        "{}",
        p["items"][7]
    );
    assert!(
        p["items"][13]["message"]
            .as_str()
            .unwrap()
            .contains("emails"),
        "{}",
        p["items"][13]
    );
    assert_eq!(p["items"][21]["error"], json!("duplicate_ref_id"));
    assert!(p["error"]["107"].is_string());
    assert_eq!(p["items"][0]["status"], json!("created"));
    assert!(p["items"][0]["public_id"].is_string());
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/search?size=1",
            Some(&a.token),
            Some(json!({"tags": ["nhap hang loat"]})),
        )
        .await;
    assert_eq!(ok(st, &b)["total_items"], json!(970));
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"fullName": format!("x{i}")}))
        .collect();
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/addMany",
            Some(&a.token),
            Some(json!({"data": too_many})),
        )
        .await;
    failed(st, &b, StatusCode::BAD_REQUEST, "invalid_field");
}

/// One customer seen through every vendor.
async fn across_dialects(app: &TestApp) {
    let a = app.tenant("shop").await;
    let t = &a.token;
    let vbot = |path: &'static str, mut body: Value| {
        body["vbot_id"] = json!("shop");
        body["project_code"] = json!("PR1");
        app.call(Method::POST, path, Some(t), Some(body))
    };
    for (path, body) in [
        (
            "/api/crm/status/create",
            json!({"status_no": "MOI", "status_name": "Mới"}),
        ),
        (
            "/api/crm/type/create",
            json!({"type_no": "LE", "type_name": "Lẻ"}),
        ),
        (
            "/api/crm/group/create",
            json!({"group_no": "G1", "group_name": "Nhóm 1"}),
        ),
        (
            "/api/crm/field/create",
            json!({"field_no": "SO_THICH", "field_name": "Sở thích", "field_type": "single_text"}),
        ),
    ] {
        let (st, b) = vbot(path, body).await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    // VBot creates; CRMTOP reads and finds; OMI finds and shows the VBot field.
    let (st, b) = vbot("/api/crm/customer/create", json!({"customer_no": "VB001", "customer_name": "Phạm Quốc Bảo", "customer_phones": ["0909123456"], "customer_status_code": "MOI", "customer_type_code": "LE", "customer_group_name": "Nhóm 1", "fields": [{"field_key": "SO_THICH", "field_value": "Cà phê"}]})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let page = app
        .search("/api/v1/customer/search", t, json!({"search": "quoc bao"}))
        .await;
    assert_eq!(page["totalCount"], json!(1));
    let id = page["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(got["data"]["code"], json!("VB001"));
    assert_eq!(got["data"]["groupName"], json!("Nhóm 1"));
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/search",
            Some(t),
            Some(json!({"keyword": "0909 123 456"})),
        )
        .await;
    let p = ok(st, &b);
    assert_eq!(p["items"][0]["public_id"], json!(id));
    assert_eq!(
        attr(&p["items"][0], "SO_THICH")["value"][0]["display_value"],
        json!("Cà phê")
    );
    let (st, b) = app
        .call(Method::GET, "/api/v2/contact/layout/list", Some(t), None)
        .await;
    assert!(ok(st, &b)
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["field_code"] == json!("SO_THICH")));

    // OMI addMany creates; VBot updates it by its code; CRMTOP and OMI see the change.
    let p = ok_call(app, t, "/api/v2/contact/addMany", json!({"data": [{"refId": "OMI-9", "fullName": "Đinh Thu Hà", "phones": [{"data": "0933000999", "type": "personal"}], "tags": ["Zalo"]}]})).await;
    let omi_id = p["items"][0]["public_id"].as_str().unwrap().to_owned();
    let (_, got) = app.get(&format!("/api/v1/customer/get/{omi_id}"), t).await;
    let code = got["data"]["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("KH"), "{got}");
    let (st, b) = vbot("/api/crm/customer/update", json!({"customer_no": code, "customer_name": "Đinh Thu Hà (VIP)", "customer_phones": ["0933000999", "0944000111"], "customer_status_code": "MOI", "customer_type_code": "LE", "customer_group_name": "Nhóm 1"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["data"], json!(code));
    let (_, got) = app.get(&format!("/api/v1/customer/get/{omi_id}"), t).await;
    assert_eq!(got["data"]["name"], json!("Đinh Thu Hà (VIP)"));
    let (_, b) = app
        .call(
            Method::GET,
            &format!("/api/v2/contact/get/{omi_id}"),
            Some(t),
            None,
        )
        .await;
    let item = &b["payload"];
    assert_eq!(item["tags"], json!(["Zalo"]), "VBot kept OMI's labels");
    assert_eq!(item["ref_id"], json!("OMI-9"));
    let phones = &attr(item, "phone_number")["value"];
    assert_eq!(
        phones[0]["data_type"],
        json!("personal"),
        "a kept phone keeps its type"
    );
    assert_eq!(phones[1]["display_value"], json!("0944000111"));
    // CRMTOP updates the same customer; OMI's attributes survive.
    let mut body = got["data"].clone();
    body["note"] = json!("Cập nhật từ CRMTOP");
    let (st, b) = app.put("/api/v1/customer/update", t, body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, b) = app
        .call(Method::GET, "/api/v2/contact/get/OMI-9", Some(t), None)
        .await;
    assert_eq!(b["payload"]["tags"], json!(["Zalo"]));
    assert_eq!(
        attr(&b["payload"], "note")["value"][0]["display_value"],
        json!("Cập nhật từ CRMTOP")
    );
    assert_eq!(
        attr(&b["payload"], "phone_number")["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

on_both_backends!(contacts, add_many_keeps_the_valid, across_dialects);
