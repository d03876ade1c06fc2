//! Replays every request example of CRMTOP's doc (seed 000; `fixtures/catalog-000.json` is
//! the catalog's machine-readable copy) against a real server, with the doc's placeholder
//! values (`"string"`, the empty GUID) replaced by realistic ones, and checks each answer
//! against the documented envelope and `data` type.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::{assert_crmtop_ok, Creds, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

const NIL: &str = "00000000-0000-0000-0000-000000000000";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

/// Records the replayed requests refer to, by what the doc calls them.
struct World {
    ids: HashMap<&'static str, String>,
    ints: HashMap<&'static str, i64>,
}

impl World {
    fn id(&self, name: &str) -> String {
        self.ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in the world"))
    }
}

async fn ok_data(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, resp) = app.call(method, path, Some(token), body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {resp}");
    resp["data"].clone()
}

async fn build_world(app: &TestApp, c: &Creds) -> World {
    let t = &c.token;
    let mut ids = HashMap::new();
    let mut ints = HashMap::new();
    let post = |path: &'static str, body: Value| ok_data(app, Method::POST, path, t, Some(body));
    ids.insert(
        "group",
        post(
            "/api/v1/customer/group/create",
            json!({"name": "Đại lý cấp 1"}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert("customer", post("/api/v1/customer/create", json!({"name": "Công ty TNHH Bình Minh", "phone": "0283 822 1234", "groupId": ids["group"]})).await.as_str().unwrap().to_owned());
    ids.insert(
        "contact",
        post(
            "/api/v1/contact/create",
            json!({"fullName": "Trần Văn Hải", "customerId": ids["customer"]}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert(
        "lead",
        post(
            "/api/v1/lead/create",
            json!({"fullName": "Lê Thu Trang", "phone": "0977 123 456"}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ints.insert(
        "unit",
        post("/api/v1/product/crm/unit/create", json!({"name": "Hộp"}))
            .await
            .as_i64()
            .unwrap(),
    );
    ints.insert(
        "unit2",
        post("/api/v1/product/crm/unit/create", json!({"name": "Thùng"}))
            .await
            .as_i64()
            .unwrap(),
    );
    ids.insert(
        "product",
        post(
            "/api/v1/product/crm/create",
            json!({"name": "Trà xanh", "unitId": ints["unit"], "retailPrice": 25000}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert("order", post("/api/v1/order/crm/create", json!({"customerId": ids["customer"], "products": [{"productId": ids["product"], "quantity": 4}]})).await.as_str().unwrap().to_owned());
    ints.insert(
        "ticketType",
        post("/api/v1/ticket/type/create", json!({"name": "Hỗ trợ"}))
            .await
            .as_i64()
            .unwrap(),
    );
    ids.insert(
        "ticket",
        post(
            "/api/v1/ticket/create",
            json!({"subject": "Cần hướng dẫn", "typeId": ints["ticketType"]}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert(
        "segment",
        post(
            "/api/v1/segment/create",
            json!({"name": "Khách thân thiết"}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert(
        "campaign",
        post("/api/v1/campaign/create", json!({"name": "Hè 2026"}))
            .await
            .as_str()
            .unwrap()
            .to_owned(),
    );
    ids.insert(
        "emailTemplate",
        post(
            "/api/v1/template/create",
            json!({"type": 1, "name": "Chào mừng", "content": "Chào {{ten}}"}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert(
        "smsTemplate",
        post(
            "/api/v1/template/create",
            json!({"type": 3, "name": "Nhắc hẹn", "content": "Hẹn {{ngay}}"}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert(
        "activity",
        post("/api/v1/activity/create", json!({"subject": "Gọi lại"}))
            .await
            .as_str()
            .unwrap()
            .to_owned(),
    );
    ids.insert(
        "opportunity",
        post(
            "/api/v1/opportunity/create",
            json!({"name": "Đơn sỉ", "customerId": ids["customer"]}),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned(),
    );
    ids.insert(
        "maktemail",
        post("/api/v1/maktemail/create", json!({"name": "Bản tin"}))
            .await
            .as_str()
            .unwrap()
            .to_owned(),
    );
    ids.insert(
        "maktzalo",
        post("/api/v1/maktzalo/create", json!({"name": "ZNS"}))
            .await
            .as_str()
            .unwrap()
            .to_owned(),
    );
    World { ids, ints }
}

/// The record a path's resource is about (`/api/v1/<tag>/…`).
fn resource(path: &str) -> &'static str {
    let rest = path.trim_start_matches("/api/v1/");
    for (prefix, name) in [
        ("customer/group", "group"),
        ("customer", "customer"),
        ("contact", "contact"),
        ("lead", "lead"),
        ("activity", "activity"),
        ("opportunity", "opportunity"),
        ("campaign", "campaign"),
        ("segment", "segment"),
        ("template", "template"),
        ("product", "product"),
        ("order", "order"),
        ("ticket", "ticket"),
        ("maktemail", "maktemail"),
        ("maktzalo", "maktzalo"),
    ] {
        if rest.starts_with(prefix) {
            return name;
        }
    }
    panic!("unknown resource of {path}")
}

/// What a request body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Update,
    /// Search bodies: placeholder text filters and the example date range mean "no filter".
    Search,
}

/// A realistic value for a documented field whose example is a placeholder.
fn realistic(field: &str, example: &Value, path: &str, w: &World, mode: Mode) -> Value {
    let f = field.to_ascii_lowercase();
    match example {
        Value::String(s) if s == NIL => {
            let id = match f.as_str() {
                "customerid" => w.id("customer"),
                "contactid" => w.id("contact"),
                "leadid" => w.id("lead"),
                "productid" => w.id("product"),
                "orderid" => w.id("order"),
                "segmentid" => w.id("segment"),
                "campaignid" => w.id("campaign"),
                "templateid" => w.id("emailTemplate"),
                "smstemplateid" => w.id("smsTemplate"),
                "ticketid" => w.id("ticket"),
                "groupid" => w.id("group"),
                "primaryid" => w.id("customer"),
                "relatedid" => w.id("customer"),
                "id" if mode == Mode::Update => {
                    let r = resource(path);
                    if r == "template" {
                        w.id("emailTemplate")
                    } else {
                        w.id(r)
                    }
                }
                _ => return json!(NIL),
            };
            json!(id)
        }
        Value::String(s) if s == "string" && mode == Mode::Search => json!(""),
        Value::String(s) if s == "string" => json!(match f.as_str() {
            "code" | "filepath" | "fielddate" => "",
            "name" if mode == Mode::Update => "Nguyễn Thị Mai (cập nhật)",
            "name" | "fullname" | "customername" | "contactname" | "leadname" | "receivername"
            | "username" => "Nguyễn Thị Mai",
            "phone" | "receiverphone" => "0912 345 678",
            "email" | "receiveremail" | "from" => "mai.nguyen@example.vn",
            "currency" => "VND",
            "content" => "Xin chào {{ten_khach_hang}}",
            "products" =>
                return json!(json!([{"productId": w.id("product"), "quantity": 2}]).to_string()),
            "website" => "https://binhminh.vn",
            "tenantcode" => "replay",
            "extradata" | "config" | "znstemplateparam" => "{}",
            "image" | "znstemplatepreviewurl" => "https://cdn.example.vn/a.png",
            _ => "Nội dung mẫu",
        }),
        Value::String(s) if s.starts_with("2026-02-27T") && mode == Mode::Search => Value::Null,
        other => other.clone(),
    }
}

fn fill(example: &Value, path: &str, w: &World, mode: Mode) -> Value {
    let Value::Object(map) = example else {
        return example.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        out.insert(k.clone(), realistic(k, v, path, w, mode));
    }
    Value::Object(out)
}

/// Special bodies where the doc's example cannot be made realistic field by field.
fn body_for(path: &str, example: &Value, w: &World, member_row: Option<i64>) -> Value {
    match path {
        "/api/v1/product/crm/multi-unit/save" => {
            json!({"units": [{"id": NIL, "productId": w.id("product"),
            "unitId": w.ints["unit2"], "unitName": "Thùng", "unitRate": 24, "importPrice": 500000,
            "retailPrice": 580000, "wholesalePrice": 550000, "note": "", "entityState": null}]})
        }
        "/api/v1/product/crm/unit/create" => json!({"id": 0, "name": "Gói", "note": "replay"}),
        "/api/v1/ticket/type/create" => json!({"id": 0, "name": "Đổi trả", "note": "replay"}),
        "/api/v1/order/crm/print-8cm" | "/api/v1/order/crm/print-a4" => {
            json!({"ids": [w.id("order")]})
        }
        "/api/v1/segment/member/delete" => {
            json!({"segmentId": w.id("segment"), "ids": [member_row.unwrap()]})
        }
        "/api/v1/segment/member/add" | "/api/v1/campaign/member/add" => {
            let mut b = fill(example, path, w, Mode::Update);
            b["ids"] = json!([w.id("customer")]);
            b
        }
        "/api/v1/order/crm/approve" => {
            json!({"id": w.id("order"), "approve": true, "note": "Đồng ý"})
        }
        p if p.ends_with("/create") => fill(example, p, w, Mode::Create),
        p if p.ends_with("/search") => fill(example, p, w, Mode::Search),
        p => fill(example, p, w, Mode::Update),
    }
}

/// A throwaway record for a delete endpoint, so the world stays whole.
async fn disposable(app: &TestApp, t: &str, path: &str, w: &World) -> String {
    let post = |p: &str, b: Value| {
        let p = p.to_owned();
        async move { ok_data(app, Method::POST, &p, t, Some(b)).await }
    };
    let data = match resource(path) {
        "group" => post("/api/v1/customer/group/create", json!({"name": "Nhóm tạm"})).await,
        "customer" => post("/api/v1/customer/create", json!({"name": "Khách tạm"})).await,
        "contact" => post("/api/v1/contact/create", json!({"fullName": "Liên hệ tạm"})).await,
        "lead" => post("/api/v1/lead/create", json!({"fullName": "Tiềm năng tạm"})).await,
        "activity" => post("/api/v1/activity/create", json!({"subject": "Tạm"})).await,
        "opportunity" => post("/api/v1/opportunity/create", json!({"name": "Tạm"})).await,
        "template" => {
            post(
                "/api/v1/template/create",
                json!({"type": 2, "name": "Tạm", "content": "x"}),
            )
            .await
        }
        "product" => post("/api/v1/product/crm/create", json!({"name": "Tạm"})).await,
        "order" => {
            post(
                "/api/v1/order/crm/create",
                json!({"customerId": w.id("customer")}),
            )
            .await
        }
        "maktemail" => post("/api/v1/maktemail/create", json!({"name": "Tạm"})).await,
        "maktzalo" => post("/api/v1/maktzalo/create", json!({"name": "Tạm"})).await,
        "segment" => post("/api/v1/segment/create", json!({"name": "Tạm"})).await,
        "campaign" if path.contains("/member/") => {
            post(
                "/api/v1/campaign/member/add",
                json!({"campaignId": w.id("campaign"), "type": 3, "ids": [w.id("lead")]}),
            )
            .await;
            let page = post(
                "/api/v1/campaign/member/search",
                json!({"campaignId": w.id("campaign"), "type": 3}),
            )
            .await;
            page["data"][0]["id"].clone()
        }
        "campaign" => post("/api/v1/campaign/create", json!({"name": "Tạm"})).await,
        "ticket" if path.contains("/type/") => {
            post("/api/v1/ticket/type/create", json!({"name": "Tạm"})).await
        }
        "ticket" => post("/api/v1/ticket/create", json!({"subject": "Tạm"})).await,
        other => panic!("no disposable {other}"),
    };
    match data {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn check_type(schema: &str, documented: &Value, data: &Value, what: &str) {
    match schema {
        "string(uuid)" => assert!(
            data.as_str()
                .and_then(|s| s.parse::<uuid::Uuid>().ok())
                .is_some(),
            "{what}: {data}"
        ),
        "boolean" => assert_eq!(data, &json!(true), "{what}"),
        "string" => assert!(data.is_string(), "{what}: {data}"),
        "integer(int32)" => assert!(data.is_i64(), "{what}: {data}"),
        "array" => assert!(data.is_array(), "{what}: {data}"),
        s if s.ends_with("PaginationResponse") => {
            for key in ["currentPage", "totalPages", "totalCount", "pageSize"] {
                assert!(data[key].is_u64(), "{what}: {key} in {data}");
            }
            for key in ["hasPreviousPage", "hasNextPage"] {
                assert!(data[key].is_boolean(), "{what}: {key} in {data}");
            }
            assert!(data["data"].is_array(), "{what}: {data}");
        }
        _ => {
            // A DTO: every documented key, with the documented JSON type when not null.
            let doc = documented
                .as_object()
                .unwrap_or_else(|| panic!("{what}: documented {documented}"));
            let got = data.as_object().unwrap_or_else(|| panic!("{what}: {data}"));
            for (key, example) in doc {
                let value = got
                    .get(key)
                    .unwrap_or_else(|| panic!("{what}: no `{key}` in {data}"));
                if value.is_null() || key == "formFile" || key == "formFiles" {
                    continue;
                }
                let same = matches!(
                    (example, value),
                    (Value::String(_), Value::String(_))
                        | (Value::Number(_), Value::Number(_))
                        | (Value::Bool(_), Value::Bool(_))
                        | (Value::Array(_), Value::Array(_))
                        | (Value::Object(_), Value::Object(_))
                );
                assert!(
                    same,
                    "{what}: `{key}` is {value}, documented like {example}"
                );
                if example.is_i64() && !example.to_string().contains('.') {
                    assert!(
                        value.is_i64(),
                        "{what}: `{key}` should be an integer, got {value}"
                    );
                }
            }
        }
    }
}

async fn multipart_call(
    app: &TestApp,
    method: Method,
    path: &str,
    t: &str,
    e: &Value,
    w: &World,
    mode: Mode,
) -> (StatusCode, Value) {
    let mut query = Vec::new();
    for q in e["query_params"].as_array().unwrap() {
        let name = q["name"].as_str().unwrap();
        let kind = q["type"].as_str().unwrap_or("string");
        let lower = {
            let mut c = name.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect::<String>())
                .unwrap_or_default()
        };
        let example = match kind {
            "string(uuid)" => json!(NIL),
            "string(date-time)" => json!("2026-02-27T00:00:00+07:00"),
            "integer" | "integer(int32)" | "integer(int64)" => json!(if lower == "typeid" {
                w.ints["ticketType"]
            } else {
                0
            }),
            "number" | "number(double)" => json!(0),
            k if k.starts_with("string") => json!("string"),
            _ => json!(1),
        };
        let v = realistic(&lower, &example, path, w, mode);
        let text = match v {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        };
        query.push(format!("{name}={}", enc(&text)));
    }
    let (field, file) = if path.contains("maktzalo") {
        (
            "FormFile",
            Part::bytes(common::workbook(&[&["Họ và tên", "Số điện thoại"]])).file_name("ds.xlsx"),
        )
    } else if path.contains("maktemail") {
        (
            "FormFile",
            Part::bytes(PNG.to_vec()).file_name("banner.png"),
        )
    } else {
        ("FormFiles", Part::bytes(PNG.to_vec()).file_name("anh.png"))
    };
    let url = format!("{}{path}?{}", app.base, query.join("&"));
    let resp = app
        .http
        .request(method, url)
        .bearer_auth(t)
        .multipart(Form::new().part(field, file))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn every_documented_example(app: &TestApp) {
    let catalog: Vec<Value> =
        serde_json::from_str(include_str!("fixtures/catalog-000.json")).unwrap();
    assert_eq!(catalog.len(), 90);
    let c = app.tenant("replay").await;
    // The marketing examples say to send: their channels are configured (and send nowhere).
    app.channels_nowhere(&c.token).await;
    let t = c.token.clone();
    let w = build_world(app, &c).await;
    let mut served = 0;
    for e in &catalog {
        let method = Method::from_bytes(e["method"].as_str().unwrap().as_bytes()).unwrap();
        let doc_path = e["path"].as_str().unwrap();
        let what = format!("{method} {doc_path}");
        let mode = if doc_path.ends_with("/create") {
            Mode::Create
        } else {
            Mode::Update
        };
        let deleting = method == Method::DELETE;
        // Path parameters.
        let mut path = doc_path.to_owned();
        if path.contains("{id}") {
            let id = if deleting {
                disposable(app, &t, doc_path, &w).await
            } else {
                let r = resource(doc_path);
                if r == "template" {
                    w.id("emailTemplate")
                } else {
                    w.id(r)
                }
            };
            path = path.replace("{id}", &id);
        }
        path = path
            .replace("{status}", "2")
            .replace("{productId}", &w.id("product"));
        let member_row = if doc_path == "/api/v1/segment/member/delete" {
            ok_data(
                app,
                Method::POST,
                "/api/v1/segment/member/add",
                &t,
                Some(json!({"segmentId": w.id("segment"), "type": 2, "ids": [w.id("contact")]})),
            )
            .await;
            let page = ok_data(
                app,
                Method::POST,
                "/api/v1/segment/member/search",
                &t,
                Some(json!({"segmentId": w.id("segment"), "type": 2})),
            )
            .await;
            page["data"][0]["id"].as_i64()
        } else {
            None
        };
        let (status, resp) = if doc_path == "/api/v1/auth/get-token-for-develop" {
            app.call(
                method,
                &path,
                None,
                Some(json!({"clientId": c.client_id, "clientSecret": c.secret})),
            )
            .await
        } else if e["request_content_type"] == json!("multipart/form-data") {
            multipart_call(app, method, &path, &t, e, &w, mode).await
        } else if e["request_example"].is_null() {
            app.call(method, &path, Some(&t), None).await
        } else {
            let body = body_for(doc_path, &e["request_example"], &w, member_row);
            app.call(method, &path, Some(&t), Some(body)).await
        };
        assert_eq!(status, StatusCode::OK, "{what}: {resp}");
        assert_crmtop_ok(&resp);
        let schema = e["response_schema"].as_str().unwrap();
        check_type(schema, &e["response_example"]["data"], &resp["data"], &what);
        served += 1;
    }
    assert_eq!(served, 90);
}

/// Every documented endpoint refuses a missing token, and every JSON one malformed JSON, a
/// non-object body and a wrongly typed field, in the envelope with a 4xx and nothing written.
async fn every_endpoint_refuses_bad_input(app: &TestApp) {
    let catalog: Vec<Value> =
        serde_json::from_str(include_str!("fixtures/catalog-000.json")).unwrap();
    let c = app.tenant("bad").await;
    let w = build_world(app, &c).await;
    let before = ok_data(
        app,
        Method::POST,
        "/api/v1/customer/search",
        &c.token,
        Some(json!({})),
    )
    .await["totalCount"]
        .clone();
    for e in &catalog {
        let method = Method::from_bytes(e["method"].as_str().unwrap().as_bytes()).unwrap();
        let doc_path = e["path"].as_str().unwrap();
        let path = doc_path
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{status}", "2")
            .replace("{productId}", &w.id("product"));
        let what = format!("{method} {doc_path}");
        if doc_path != "/api/v1/auth/get-token-for-develop" {
            let (status, body) = app.call(method.clone(), &path, None, None).await;
            common::assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);
        }
        if e["request_content_type"] != json!("application/json") {
            continue;
        }
        for raw in ["{", "[1, 2]", "\"text\""] {
            let resp = app
                .http
                .request(method.clone(), format!("{}{path}", app.base))
                .bearer_auth(&c.token)
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let body: Value = resp.json().await.unwrap();
            let message = common::assert_crmtop_err(status, &body, StatusCode::BAD_REQUEST);
            assert!(message.contains("JSON"), "{what} {raw}: {message}");
        }
        // The first documented field that is a number, sent as an object.
        let example = &e["request_example"];
        if let Some((field, _)) = example
            .as_object()
            .and_then(|o| o.iter().find(|(_, v)| v.is_number()))
        {
            let mut body = body_for(doc_path, example, &w, Some(1));
            body[field] = json!({"nested": true});
            let (status, resp) = app
                .call(method.clone(), &path, Some(&c.token), Some(body))
                .await;
            common::assert_field_error(status, &resp, field);
        }
        // Every GUID field, sent as something that is not one.
        if let Some(fields) = example.as_object() {
            for (field, _) in fields.iter().filter(|(_, v)| v.as_str() == Some(NIL)) {
                let mut body = body_for(doc_path, example, &w, Some(1));
                body[field] = json!("not-a-guid");
                let (status, resp) = app
                    .call(method.clone(), &path, Some(&c.token), Some(body))
                    .await;
                common::assert_field_error(status, &resp, field);
            }
        }
    }
    let after = ok_data(
        app,
        Method::POST,
        "/api/v1/customer/search",
        &c.token,
        Some(json!({})),
    )
    .await["totalCount"]
        .clone();
    assert_eq!(before, after, "nothing was written");
}

on_both_backends!(every_documented_example, every_endpoint_refuses_bad_input);
