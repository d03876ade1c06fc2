//! CRMTOP products (units, multi-unit prices) and orders (lines, amounts, approval,
//! printouts) over HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, assert_field_error, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const NIL: &str = "00000000-0000-0000-0000-000000000000";

async fn unit(app: &TestApp, token: &str, name: &str) -> i64 {
    let (status, body) = app
        .post(
            "/api/v1/product/crm/unit/create",
            token,
            json!({"id": 0, "name": name, "note": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_crmtop_ok(&body);
    body["data"].as_i64().unwrap()
}

async fn products_and_units(app: &TestApp) {
    let a = app.tenant("prod").await;
    let other = app.tenant("prod-other").await;
    let lon = unit(app, &a.token, "Lon").await;
    let thung = unit(app, &a.token, "Thùng").await;
    assert!(thung > lon);
    // Renaming keeps the id.
    let (_, body) = app
        .post(
            "/api/v1/product/crm/unit/create",
            &a.token,
            json!({"id": lon, "name": "Lon 330ml"}),
        )
        .await;
    assert_eq!(body["data"], json!(lon));
    let (status, body) = app
        .post(
            "/api/v1/product/crm/unit/create",
            &other.token,
            json!({"id": lon, "name": "x"}),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    let product = json!({
        "id": NIL, "code": "", "name": "Nước ngọt Cam", "groupId": 3, "groupName": "Đồ uống",
        "unitId": lon, "unitName": "ignored", "importPrice": 7000.0, "retailPrice": 10000.0,
        "wholesalePrice": 9000.0, "config": "{}", "note": "", "image": "https://cdn.example.vn/cam.png"
    });
    let id = app
        .create("/api/v1/product/crm/create", &a.token, product.clone())
        .await;
    let (_, got) = app
        .get(&format!("/api/v1/product/crm/get/{id}"), &a.token)
        .await;
    assert_eq!(
        got["data"],
        json!({
            "id": id, "code": "SP000001", "name": "Nước ngọt Cam", "groupId": 3,
            "groupName": "Đồ uống", "unitId": lon, "unitName": "Lon 330ml", "importPrice": 7000.0,
            "retailPrice": 10000.0, "wholesalePrice": 9000.0, "config": "{}", "note": null,
            "image": "https://cdn.example.vn/cam.png"
        })
    );
    let page = app
        .search(
            "/api/v1/product/crm/search",
            &a.token,
            json!({"search": "nuoc ngot"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(page["data"][0]["unitName"], json!("Lon 330ml"));
    assert!(page["data"][0]["createdOn"].is_string());

    // Multi-unit: a carton of 24 cans.
    let (status, body) = app
        .post(
            "/api/v1/product/crm/multi-unit/save",
            &a.token,
            json!({"units": [{"id": NIL, "productId": id, "unitId": thung, "unitName": "",
                "unitRate": 24, "importPrice": 160000, "retailPrice": 220000,
                "wholesalePrice": 200000, "note": "thùng 24 lon", "entityState": null}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!(true));
    let (_, list) = app
        .get(&format!("/api/v1/product/crm/multi-unit/{id}"), &a.token)
        .await;
    assert_crmtop_ok(&list);
    let items = list["data"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["productId"], json!(id));
    assert_eq!(items[0]["unitId"], json!(thung));
    assert_eq!(items[0]["unitName"], json!("Thùng"));
    assert_eq!(items[0]["unitRate"], json!(24.0));
    assert_eq!(items[0]["retailPrice"], json!(220000.0));
    assert_eq!(items[0]["entityState"], Value::Null);
    assert!(items[0]["id"].is_string());

    for (units, field) in [
        (
            json!([{"productId": id, "unitId": lon, "unitRate": 1}]),
            "units[0].unitId",
        ),
        (
            json!([{"productId": id, "unitId": 999, "unitRate": 2}]),
            "units[0].unitId",
        ),
        (
            json!([{"productId": id, "unitId": thung, "unitRate": 0}]),
            "units[0].unitRate",
        ),
        (
            json!([{"productId": id, "unitId": thung, "unitRate": 2}, {"productId": id, "unitId": thung, "unitRate": 3}]),
            "units[1].unitId",
        ),
        (
            json!([{"productId": uuid::Uuid::new_v4(), "unitId": thung, "unitRate": 2}]),
            "units[0].productId",
        ),
        (json!([]), "units"),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/product/crm/multi-unit/save",
                &a.token,
                json!({"units": units}),
            )
            .await;
        assert_field_error(status, &body, field);
    }
    // Still the one unit: failures wrote nothing.
    let (_, list) = app
        .get(&format!("/api/v1/product/crm/multi-unit/{id}"), &a.token)
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (status, body) = app
        .get(
            &format!("/api/v1/product/crm/multi-unit/{id}"),
            &other.token,
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    // Deleting through entityState.
    app.post(
        "/api/v1/product/crm/multi-unit/save",
        &a.token,
        json!({"units": [{"productId": id, "unitId": thung, "unitRate": 24, "entityState": "Deleted"}]}),
    )
    .await;
    let (_, list) = app
        .get(&format!("/api/v1/product/crm/multi-unit/{id}"), &a.token)
        .await;
    assert_eq!(list["data"], json!([]));

    let mut bad = product.clone();
    bad["unitId"] = json!(thung + 100);
    let (status, body) = app.post("/api/v1/product/crm/create", &a.token, bad).await;
    assert_field_error(status, &body, "unitId");
    let mut bad = product.clone();
    bad["retailPrice"] = json!(-1);
    let (status, body) = app.post("/api/v1/product/crm/create", &a.token, bad).await;
    assert_field_error(status, &body, "retailPrice");
}

async fn orders(app: &TestApp) {
    let a = app.tenant("ord").await;
    let other = app.tenant("ord-other").await;
    let lon = unit(app, &a.token, "Lon").await;
    let thung = unit(app, &a.token, "Thùng").await;
    let cam = app
        .create(
            "/api/v1/product/crm/create",
            &a.token,
            json!({"name": "Nước cam", "unitId": lon, "retailPrice": 10000}),
        )
        .await;
    app.post(
        "/api/v1/product/crm/multi-unit/save",
        &a.token,
        json!({"units": [{"productId": cam, "unitId": thung, "unitRate": 24, "retailPrice": 220000}]}),
    )
    .await;
    let banh = app
        .create(
            "/api/v1/product/crm/create",
            &a.token,
            json!({"name": "Bánh quy <bơ>", "retailPrice": 45000}),
        )
        .await;
    let customer = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Tạp hoá Cô Ba"}),
        )
        .await;
    let lines = json!([
        {"productId": cam, "quantity": 3},
        {"productId": cam, "unitId": thung, "quantity": 2, "discount": 40000, "taxRate": 10},
        {"productId": banh, "quantity": 1.5, "price": 40000}
    ]);
    let body = json!({
        "id": NIL, "code": "", "customerId": customer, "customerName": "",
        "orderDate": "2026-03-01T10:00:00+07:00", "dueDate": "2026-03-05T00:00:00+07:00",
        "totalAmount": 1, "taxAmount": 0, "discountAmount": 0, "status": 1, "approved": true,
        "note": "Giao buổi sáng", "receiverName": "Cô Ba", "receiverPhone": "0903 123 456",
        "receiverEmail": "coba@example.vn", "receiverAddress": "12 Lê Lợi, Q.1, TP.HCM",
        "products": lines.to_string()
    });
    let id = app
        .create("/api/v1/order/crm/create", &a.token, body.clone())
        .await;
    let (_, got) = app
        .get(&format!("/api/v1/order/crm/get/{id}"), &a.token)
        .await;
    assert_crmtop_ok(&got);
    let d = &got["data"];
    assert_eq!(d["code"], json!("DH000001"));
    assert_eq!(d["customerName"], json!("Tạp hoá Cô Ba"));
    // 3×10,000 + (2×220,000 − 40,000) + 1.5×40,000 = 30,000 + 400,000 + 60,000; tax 40,000.
    assert_eq!(d["discountAmount"], json!(40000.0));
    assert_eq!(d["taxAmount"], json!(40000.0));
    assert_eq!(d["totalAmount"], json!(530000.0));
    assert_eq!(d["approved"], json!(false), "approval only through approve");
    assert_eq!(d["orderDate"], json!("2026-03-01T10:00:00+07:00"));
    let stored: Value = serde_json::from_str(d["products"].as_str().unwrap()).unwrap();
    assert_eq!(stored[1]["unitName"], json!("Thùng"));
    assert_eq!(stored[1]["price"], json!(220000.0));
    assert_eq!(stored[1]["amount"], json!(400000.0));
    assert_eq!(stored[1]["tax"], json!(40000.0));
    assert_eq!(stored[0]["productName"], json!("Nước cam"));

    // Approval, once.
    let (status, resp) = app
        .post(
            "/api/v1/order/crm/approve",
            &a.token,
            json!({"id": id, "approve": true, "note": "OK"}),
        )
        .await;
    assert_eq!(
        (status, resp["data"].clone()),
        (StatusCode::OK, json!(true)),
        "{resp}"
    );
    let (status, resp) = app
        .post(
            "/api/v1/order/crm/approve",
            &a.token,
            json!({"id": id, "approve": false}),
        )
        .await;
    assert_crmtop_err(status, &resp, StatusCode::CONFLICT);
    let (status, resp) = app
        .post(
            "/api/v1/order/crm/approve",
            &other.token,
            json!({"id": id, "approve": true}),
        )
        .await;
    assert_crmtop_err(status, &resp, StatusCode::NOT_FOUND);
    // An update keeps the decision.
    let mut update = body.clone();
    update["id"] = json!(id);
    update["status"] = json!(3);
    update["products"] = json!([{"productId": banh, "quantity": 2}]);
    let (status, resp) = app.put("/api/v1/order/crm/update", &a.token, update).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    let second = app
        .create(
            "/api/v1/order/crm/create",
            &a.token,
            json!({"customerId": customer, "orderDate": "2026-04-10T08:00:00+07:00",
                   "totalAmount": 120000, "products": ""}),
        )
        .await;

    for (query, expected) in [
        (json!({"approved": true}), vec![&id]),
        (json!({"approved": false}), vec![&second]),
        (json!({"status": 3}), vec![&id]),
        (json!({"customerId": customer}), vec![&second, &id]),
        (json!({"search": "DH000002"}), vec![&second]),
        (json!({"search": "co ba"}), vec![&second, &id]),
        (
            json!({"fieldDate": "orderDate", "from": "2026-04-01", "to": "2026-04-30"}),
            vec![&second],
        ),
        (
            json!({"fieldDate": "dueDate", "to": "2026-03-05"}),
            vec![&id],
        ),
    ] {
        let page = app
            .search("/api/v1/order/crm/search", &a.token, query.clone())
            .await;
        let ids: Vec<&str> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{query}: {page}");
    }
    let page = app
        .search(
            "/api/v1/order/crm/search",
            &a.token,
            json!({"approved": true}),
        )
        .await;
    let item = &page["data"][0];
    assert_eq!(item["totalAmount"], json!(90000.0));
    assert_eq!(item["approved"], json!(true));
    assert_eq!(item["approvalNote"], json!("OK"));
    assert!(item["approvedOn"].as_str().unwrap().ends_with("+07:00"));
    assert_eq!(item["status"], json!(3));

    // Printouts: one page per order, Vietnamese, VND, escaped.
    for (path, marker) in [
        ("/api/v1/order/crm/print-8cm", "80mm"),
        ("/api/v1/order/crm/print-a4", "size:A4"),
    ] {
        let (status, resp) = app.post(path, &a.token, json!({"ids": [id, second]})).await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        assert_crmtop_ok(&resp);
        let html = resp["data"].as_str().unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains(marker));
        assert_eq!(html.matches("<section class=\"page").count(), 2, "{html}");
        assert!(html.contains("HOÁ ĐƠN BÁN HÀNG"));
        assert!(html.contains("DH000001") && html.contains("DH000002"));
        assert!(html.contains("90.000 ₫"), "{html}");
        assert!(html.contains("120.000 ₫"), "{html}");
        assert!(html.contains("Bánh quy &lt;bơ&gt;"), "{html}");
        assert!(html.contains("Tổng cộng"));
    }
    let (status, resp) = app
        .post("/api/v1/order/crm/print-a4", &a.token, json!({"ids": []}))
        .await;
    assert_field_error(status, &resp, "ids");
    let (status, resp) = app
        .post(
            "/api/v1/order/crm/print-a4",
            &other.token,
            json!({"ids": [id]}),
        )
        .await;
    assert_crmtop_err(status, &resp, StatusCode::NOT_FOUND);

    // Bad orders write nothing.
    for (field, products) in [
        (
            "products[1].quantity",
            json!([{"productId": cam, "quantity": 1}, {"productId": cam, "quantity": 0}]),
        ),
        (
            "products[0].productId",
            json!([{"productId": uuid::Uuid::new_v4(), "quantity": 1}]),
        ),
        (
            "products[0].unitId",
            json!([{"productId": banh, "unitId": thung, "quantity": 1}]),
        ),
        (
            "products[0].discount",
            json!([{"productId": banh, "quantity": 1, "discount": 50000}]),
        ),
        (
            "products[0].taxRate",
            json!([{"productId": banh, "quantity": 1, "taxRate": 150}]),
        ),
        ("products", json!("not json")),
        ("products", json!({"productId": banh})),
    ] {
        let mut bad = body.clone();
        bad["products"] = if products.is_string() {
            products
        } else {
            json!(products.to_string())
        };
        let (status, resp) = app.post("/api/v1/order/crm/create", &a.token, bad).await;
        assert_field_error(status, &resp, field);
    }
    for (field, value) in [
        ("customerId", json!(NIL)),
        ("receiverPhone", json!("12")),
        ("dueDate", json!("2026-02-01T00:00:00+07:00")),
        ("status", json!(9)),
    ] {
        let mut bad = body.clone();
        bad[field] = value;
        let (status, resp) = app.post("/api/v1/order/crm/create", &a.token, bad).await;
        assert_field_error(status, &resp, field);
    }
    let page = app
        .search("/api/v1/order/crm/search", &a.token, json!({}))
        .await;
    assert_eq!(page["totalCount"], json!(2), "no partial writes");

    // A customer with orders is kept.
    let (status, resp) = app
        .delete(&format!("/api/v1/customer/delete/{customer}"), &a.token)
        .await;
    let message = assert_crmtop_err(status, &resp, StatusCode::CONFLICT);
    assert!(message.contains("2 order(s)"), "{message}");
}

on_both_backends!(products_and_units, orders);
