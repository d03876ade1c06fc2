//! NextX's shop API over HTTP: branches, categories, products with units, and stock that is
//! true through purchases, sales and returns; customers shared with CRMTOP and OMI.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn nx(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, path, Some(token), body).await
}

async fn ok(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (st, b) = nx(app, method, path, token, body).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b
}

fn refused(st: StatusCode, b: &Value, http: StatusCode, field: &str) {
    assert_eq!(st, http, "{b}");
    assert_eq!(b["meta"]["status_code"], json!(http.as_u16()), "{b}");
    assert_eq!(b["data"], json!([]), "{b}");
    assert!(
        b["meta"]["message"].as_str().unwrap().contains(field),
        "{field} in {b}"
    );
}

async fn qty(app: &TestApp, t: &str, product: i64, branch: i64) -> f64 {
    let d = ok(
        app,
        Method::GET,
        &format!("/api/product/product-detail?variation_id={product}&branch_id={branch}"),
        t,
        None,
    )
    .await;
    d["qty_available"].as_f64().unwrap()
}

async fn stock_flows(app: &TestApp) {
    let a = app.tenant("nx").await;
    let other = app.tenant("nx-other").await;
    let t = &a.token;
    // Branch (ours) with its default store; a category.
    let b = ok(
        app,
        Method::POST,
        "/api/branch/branch",
        t,
        Some(json!({"code": "CN1", "name": "Chi nhánh Quận 1", "address": "1 Lê Lợi"})),
    )
    .await;
    let branch = b["data"]["id"].as_i64().unwrap();
    let branches = ok(app, Method::GET, "/api/branch/branch", t, None).await;
    assert_eq!(
        branches[0],
        json!({"id": branch, "name": "Chi nhánh Quận 1", "code": "CN1", "tel": null, "fax": null, "avatar": null, "address": "1 Lê Lợi", "description": null})
    );
    let stores = ok(
        app,
        Method::GET,
        &format!("/api/branch/store?branch_id={branch}"),
        t,
        None,
    )
    .await;
    let store = stores[0]["id"].as_i64().unwrap();
    let cat = ok(app, Method::POST, "/api/cate/category", t, Some(json!({"name": "Đồ uống", "parent_id": 0, "category_type": "product_category", "description": ""}))).await;
    let cat_id = cat[0]["id"].as_i64().unwrap();
    let sub = ok(
        app,
        Method::POST,
        "/api/cate/category",
        t,
        Some(json!({"name": "Nước ngọt", "parent_id": cat_id})),
    )
    .await;
    assert_eq!(sub[0]["parent_id"], json!(cat_id));
    let tree = ok(
        app,
        Method::GET,
        "/api/cate/category-list/product_category",
        t,
        None,
    )
    .await;
    assert_eq!(tree[0]["child"][0]["name"], json!("Nước ngọt"));
    let got = ok(
        app,
        Method::GET,
        &format!("/api/cate/category/{cat_id}"),
        t,
        None,
    )
    .await;
    assert_eq!(got[0]["childs"].as_array().unwrap().len(), 1);
    assert_eq!(got.as_array().unwrap().len(), 1, "{got}");
    let put = ok(
        app,
        Method::PUT,
        &format!("/api/cate/category/{cat_id}"),
        t,
        Some(json!({"name": "Đồ uống có ga", "parent_id": 0, "description": "x"})),
    )
    .await;
    assert_eq!(
        put,
        json!([{"status_code": 0, "message": "Category updated successfully"}])
    );

    // A product sold by the bottle and by the carton of 12, with 24 bottles of opening stock.
    let product = ok(app, Method::POST, "/api/product/product", t, Some(json!({
        "name": "Nước cam ép", "code": "", "sku": "", "brand_id": null, "branch_id": branch, "category_id": cat_id,
        "media": [{"url": "https://cdn.shop.vn/cam.png"}], "purchase_price": 8000, "sell_price": 12000,
        "weight": 350, "height": 15, "width": 6, "length": 6, "qty_begin_stock": 24, "begin_purchase_price": 8000,
        "specification": "", "unit": {"unit_base": {"name": "Chai", "is_direct_sell": "true"}, "sub_unit": [{"name": "Thùng", "f_Convert": 12, "price": 130000, "is_direct_sell": "true"}]},
        "description": "", "product_custom_field1": "", "product_custom_field2": "", "composition_variation": [], "qty_warning_stock": 30
    }))).await;
    let pid = product["id"].as_i64().unwrap();
    assert_eq!(product["units"].as_array().unwrap().len(), 1);
    assert_eq!(product["type"], json!("single"));
    let detail = ok(
        app,
        Method::GET,
        &format!(
            "/api/product/product-detail?variation_id={pid}&branch_id={branch}&store_id={store}"
        ),
        t,
        None,
    )
    .await;
    assert_eq!(detail["qty_available"], json!(24.0));
    assert_eq!(detail["unit"], json!("Chai"));
    assert_eq!(detail["stock_warning"], json!(true));
    let carton = detail["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == json!("Thùng"))
        .unwrap()
        .clone();
    assert_eq!(carton["multiplier"], json!(12.0));
    let carton = carton["id"].as_i64().unwrap();
    let list = ok(
        app,
        Method::GET,
        &format!("/api/product/product?page=0&pageLimit=15&branch_id={branch}&strSearch=cam"),
        t,
        None,
    )
    .await;
    assert_eq!(list[0]["product_id"], json!(pid));
    assert_eq!(list[0]["qty_available"], json!(24.0));
    assert_eq!(list[0]["category_name"], json!("Đồ uống có ga"));
    for (types, n) in [
        ("type%5B%5D=single", 1),
        ("type%5B%5D=combo&type%5B%5D=variable", 0),
    ] {
        let l = ok(
            app,
            Method::GET,
            &format!("/api/product/product?branch_id={branch}&{types}"),
            t,
            None,
        )
        .await;
        assert_eq!(l.as_array().unwrap().len(), n, "{types}");
    }

    // A supplier and a customer.
    let sup = ok(app, Method::POST, "/api/customer/customer", t, Some(json!({"avatar": "", "contact_id": "", "name": "Công ty Nước Sạch", "mobile": "0281234567", "email": "", "address": "", "tax_number": "0312345678", "type": "supplier", "customer_group_id": null, "birthday": "2000-01-01", "gender": 0, "opening_balance": 0, "credit_limit": 0, "per_turn_debt": null, "branch_id": null, "resources": [], "account_name": "", "account_address": "", "account_no": ""}))).await;
    let supplier = sup["data"]["id"].as_i64().unwrap();
    let cus = ok(app, Method::POST, "/api/customer/customer", t, Some(json!({"name": "Chị Lan", "mobile": "0912 888 777", "type": "customer", "opening_balance": 50000, "credit_limit": 1000000, "resources": [{"id": 26, "name": "Facebook"}]}))).await;
    let customer = cus["data"]["id"].as_i64().unwrap();
    // `branch_id` on customers: stored, returned, and filtered in the query.
    let cus2 = ok(
        app,
        Method::POST,
        "/api/customer/customer",
        t,
        Some(json!({"name": "Anh Tú", "type": "customer", "branch_id": branch})),
    )
    .await;
    let in_branch = cus2["data"]["id"].as_i64().unwrap();
    let listed = ok(
        app,
        Method::GET,
        &format!("/api/customer/customer?branch_id={branch}"),
        t,
        None,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], json!(in_branch));
    assert_eq!(listed[0]["branch_id"], json!(branch));
    let none = ok(
        app,
        Method::GET,
        "/api/customer/customer?category_id=7",
        t,
        None,
    )
    .await;
    assert_eq!(none, json!([]));
    let all = ok(
        app,
        Method::GET,
        "/api/customer/customer?category_id=0",
        t,
        None,
    )
    .await;
    assert!(all.as_array().unwrap().len() >= 3, "{all}");
    let (st, b) = nx(
        app,
        Method::POST,
        "/api/customer/customer",
        t,
        Some(json!({"name": "X", "branch_id": 999999})),
    )
    .await;
    refused(st, &b, StatusCode::BAD_REQUEST, "branch_id");

    // Purchase 10 cartons of 12: received at once, stock +120.
    let po = ok(app, Method::POST, "/api/purchase/purchase", t, Some(json!({
        "invoice_no": "", "transaction_date": "2026-03-01", "customer_id": supplier, "branch_id": branch, "store_id": store,
        "discount_type": "fixed", "discount_amount": 0, "total_before_tax": 0, "tax_amount": 0, "final_total": 0,
        "shipping_status": "received", "approved_status": false, "additional_notes": "", "staff_note": "",
        "products": [{"id_sort": 0, "product_id": pid, "variation_id": pid, "unit_price": 96000, "unit_id": carton, "f_convert": 12, "f_convert1": 1, "f_convert2": 1, "f_convert3": 1, "tax_id": null, "item_tax": 0, "quantity": 10, "sell_line_note": "", "line_discount_type": "fixed", "line_discount_amount": 0}],
        "payment": [{"note": "", "payment_type": "in_come", "method": "cash", "amount": 960000, "account_id": null}]
    }))).await;
    assert_eq!(po["message"], json!("Purchase order created successfully"));
    assert_eq!(po["data"]["final_total"], json!(960000.0));
    let code = po["data"]["invoice_no"].as_str().unwrap().to_owned();
    assert_eq!(qty(app, t, pid, branch).await, 144.0);
    // Ordered, then received once: +24, and not again.
    let po2 = ok(app, Method::POST, "/api/purchase/purchase", t, Some(json!({"customer_id": supplier, "branch_id": branch, "shipping_status": "ordered", "products": [{"product_id": pid, "unit_id": carton, "quantity": 2, "unit_price": 96000}]}))).await;
    let po2_id = po2["data"]["id"].as_i64().unwrap();
    assert_eq!(qty(app, t, pid, branch).await, 144.0);
    for _ in 0..2 {
        let r = ok(
            app,
            Method::PUT,
            &format!("/api/purchase/update-shipping/{po2_id}"),
            t,
            Some(json!({"comment": "Đã nhận", "shipping_status": "received"})),
        )
        .await;
        assert_eq!(
            r,
            json!({"comment": "Đã nhận", "shipping_status": "received"})
        );
    }
    assert_eq!(qty(app, t, pid, branch).await, 168.0);
    let by_code = ok(
        app,
        Method::GET,
        &format!("/api/purchase/purchase-by-code/{code}"),
        t,
        None,
    )
    .await;
    assert_eq!(by_code["products"][0]["unit"], json!("Thùng"));
    assert_eq!(by_code["customer"]["name"], json!("Công ty Nước Sạch"));
    let pos = ok(
        app,
        Method::GET,
        &format!("/api/purchase/purchase?page=0&pageLimit=15&branch_id={branch}"),
        t,
        None,
    )
    .await;
    assert_eq!(pos.as_array().unwrap().len(), 2);
    assert_eq!(pos[1]["payment_status"], json!("paid"));
    // `type[]`: documents with a line of a product of those types.
    for (kinds, count) in [("type[]=single", 2), ("type[]=combo&type[]=variable", 0)] {
        let pos = ok(
            app,
            Method::GET,
            &format!("/api/purchase/purchase?branch_id={branch}&{kinds}"),
            t,
            None,
        )
        .await;
        assert_eq!(pos.as_array().unwrap().len(), count, "{kinds}: {pos}");
    }

    // A sale of 2 cartons and 6 bottles (30 bottles), part paid.
    let sale = ok(app, Method::POST, "/api/sell/sell", t, Some(json!({
        "transaction_date": "2026-03-05", "store_id": null, "customer_id": customer, "price_book_id": null,
        "discount_type": "fixed", "discount_amount": 10000, "total_before_tax": 0, "tax_amount": 0, "final_total": 0,
        "additional_notes": "", "staff_note": "", "user_id": 0, "surcharges": 0, "invoice_no": "", "branch_id": branch,
        "products": [
            {"id_sort": 0, "product_id": pid, "variation_id": pid, "unit_price": 130000, "unit_id": carton, "f_convert": 12, "tax_id": null, "item_tax": 0, "quantity": 2, "sell_line_note": "", "line_discount_type": "fixed", "line_discount_amount": 0},
            {"id_sort": 1, "product_id": pid, "variation_id": pid, "unit_price": 12000, "tax_id": null, "item_tax": 1000, "quantity": 6, "line_discount_type": "fixed", "line_discount_amount": 0}
        ],
        "payment": [{"note": "", "payment_type": "in_come", "method": "cash", "amount": 200000, "account_id": null}]
    }))).await;
    assert_eq!(sale["status_code"], json!(200));
    assert_eq!(sale["data"]["payment_status"], json!("partial"));
    // 2×130,000 + 6×12,000 − 10,000 + 6×1,000 = 328,000.
    assert_eq!(sale["data"]["final_total"], json!(328000.0));
    let sale_id = sale["data"]["id"].as_i64().unwrap();
    let bottle_line = sale["data"]["sell_lines"][1]["id"].as_i64().unwrap();
    let carton_line = sale["data"]["sell_lines"][0]["id"].as_i64().unwrap();
    assert_eq!(qty(app, t, pid, branch).await, 138.0);
    let c = ok(
        app,
        Method::GET,
        &format!("/api/customer/customer/{customer}"),
        t,
        None,
    )
    .await;
    assert_eq!(
        c["current_due"],
        json!("178000.0000"),
        "opening 50,000 + 128,000 unpaid"
    );

    // Selling more than is in stock is refused and writes nothing.
    let (st, b) = nx(app, Method::POST, "/api/sell/sell", t, Some(json!({"branch_id": branch, "customer_id": customer, "products": [{"product_id": pid, "unit_id": carton, "quantity": 12, "unit_price": 130000}]}))).await;
    refused(st, &b, StatusCode::BAD_REQUEST, "products[0].quantity");
    assert_eq!(qty(app, t, pid, branch).await, 138.0);

    // A partial return: 1 carton back, refunded 100,000.
    let ret = ok(app, Method::POST, "/api/sell-return/sell-return", t, Some(json!({
        "transaction_date": "2026-03-06", "store_id": null, "customer_id": null, "discount_type": "fixed", "discount_amount": 0,
        "total_before_tax": 0, "tax_amount": 0, "final_total": 0, "additional_notes": "", "staff_note": "", "user_id": 0, "return_charges": 0,
        "products": [{"id_sort": 0, "product_id": pid, "variation_id": pid, "unit_price": 130000, "unit_id": carton, "f_convert": 12, "tax_id": null, "item_tax": 0, "quantity": 1, "sell_line_note": "", "line_discount_type": "fixed", "line_discount_amount": 0, "sell_line_id": carton_line}],
        "payment": [{"note": "", "payment_type": "in_come", "method": "cash", "amount": 100000, "account_id": null}]
    }))).await;
    assert_eq!(ret["transaction_id"], json!(sale_id));
    assert_eq!(ret["final_total"], json!(130000.0));
    let ret_id = ret["id"].as_i64().unwrap();
    assert_eq!(qty(app, t, pid, branch).await, 150.0);
    let c = ok(
        app,
        Method::GET,
        &format!("/api/customer/customer/{customer}"),
        t,
        None,
    )
    .await;
    assert_eq!(
        c["current_due"],
        json!("148000.0000"),
        "178,000 − (130,000 − 100,000)"
    );

    // Returning more than was sold, across returns, is refused.
    let (st, b) = nx(app, Method::POST, "/api/sell-return/sell-return", t, Some(json!({"products": [{"product_id": pid, "unit_id": carton, "quantity": 2, "unit_price": 130000, "sell_line_id": carton_line}]}))).await;
    refused(st, &b, StatusCode::BAD_REQUEST, "products[0].quantity");
    let (st, b) = nx(app, Method::POST, "/api/sell-return/sell-return", t, Some(json!({"products": [{"product_id": pid, "quantity": 7, "unit_price": 12000, "sell_line_id": bottle_line}]}))).await;
    refused(st, &b, StatusCode::BAD_REQUEST, "products[0].quantity");
    // 6 bottles of the bottle line are fine; so is returning the return's carton as 12 bottles? No: other unit is priced per its own unit.
    let ok6 = ok(app, Method::POST, "/api/sell-return/sell-return", t, Some(json!({"products": [{"product_id": pid, "quantity": 6, "unit_price": 12000, "sell_line_id": bottle_line}]}))).await;
    assert_eq!(ok6["transaction_id"], json!(sale_id));
    assert_eq!(qty(app, t, pid, branch).await, 156.0);
    // Updating the first return to 2 cartons is allowed (it replaces itself)…
    let upd = ok(app, Method::PUT, &format!("/api/sell-return/sell-return/{ret_id}"), t, Some(json!({"products": [{"product_id": pid, "unit_id": carton, "quantity": 2, "unit_price": 130000, "sell_line_id": carton_line}], "payment": []}))).await;
    assert_eq!(upd["status_code"], json!(0));
    assert_eq!(qty(app, t, pid, branch).await, 168.0);
    // …and served at both documented paths.
    for path in [
        format!("/api/sell-return/sell-return/{ret_id}"),
        format!("/api/ell-return/ell-return/{ret_id}"),
    ] {
        let d = ok(app, Method::GET, &path, t, None).await;
        assert_eq!(d["return_parent_id"], json!(sale_id));
        assert_eq!(d["sell_lines"][0]["quantity"], json!(2.0));
        assert_eq!(d["customer"]["name"], json!("Chị Lan"));
    }
    let rets = ok(
        app,
        Method::GET,
        "/api/sell-return/sell-return?page=0",
        t,
        None,
    )
    .await;
    assert_eq!(rets.as_array().unwrap().len(), 2);
    let sells = ok(
        app,
        Method::GET,
        &format!("/api/sell/sell?branch_id={branch}&customer_id={customer}"),
        t,
        None,
    )
    .await;
    assert_eq!(sells[0]["id"], json!(sale_id));
    assert_eq!(sells[0]["payment_status"], json!("partial"));
    // `strSearch`: a product's name on a line, or the invoice number.
    let invoice = sells[0]["invoice_no"].as_str().unwrap().to_owned();
    for (q, found) in [
        ("nuoc%20cam", true),
        (invoice.as_str(), true),
        ("tra%20sua", false),
    ] {
        let hits = ok(
            app,
            Method::GET,
            &format!("/api/sell/sell?branch_id={branch}&strSearch={q}"),
            t,
            None,
        )
        .await;
        let ids: Vec<&Value> = hits.as_array().unwrap().iter().map(|s| &s["id"]).collect();
        assert_eq!(ids.contains(&&json!(sale_id)), found, "{q}: {hits}");
    }
    let d = ok(
        app,
        Method::GET,
        &format!("/api/sell/sell/{sale_id}"),
        t,
        None,
    )
    .await;
    assert_eq!(d["products"].as_array().unwrap().len(), 2);
    // Every key the doc's response example shows is there, with the example's JSON type.
    for (doc_path, path) in [
        ("/api/branch/branch", "/api/branch/branch".to_owned()),
        (
            "/api/branch/store",
            format!("/api/branch/store?branch_id={branch}"),
        ),
        (
            "/api/cate/category-list/product_category",
            "/api/cate/category-list/product_category".to_owned(),
        ),
        (
            "/api/product/product",
            format!("/api/product/product?branch_id={branch}&store_id={store}"),
        ),
        (
            "/api/customer/customer/{id}",
            format!("/api/customer/customer/{customer}"),
        ),
        (
            "/api/purchase/purchase",
            format!("/api/purchase/purchase?branch_id={branch}"),
        ),
        (
            "/api/purchase/purchase-by-code/{code}",
            format!("/api/purchase/purchase-by-code/{code}"),
        ),
        (
            "/api/sell/sell",
            format!("/api/sell/sell?branch_id={branch}"),
        ),
        ("/api/sell/sell/{id}", format!("/api/sell/sell/{sale_id}")),
        (
            "/api/sell-return/sell-return",
            "/api/sell-return/sell-return".to_owned(),
        ),
        (
            "/api/ell-return/ell-return/{id}",
            format!("/api/ell-return/ell-return/{ret_id}"),
        ),
    ] {
        let got = ok(app, Method::GET, &path, t, None).await;
        common::assert_documented_keys("003", doc_path, &got);
    }

    // The NextX customer is CRMTOP's and OMI's too.
    let page = app
        .search(
            "/api/v1/customer/search",
            t,
            json!({"search": "0912888777"}),
        )
        .await;
    assert_eq!(page["data"][0]["name"], json!("Chị Lan"));
    // Kept while it has sales.
    let uuid = page["data"][0]["id"].as_str().unwrap().to_owned();
    let (st, b) = app
        .delete(&format!("/api/v1/customer/delete/{uuid}"), t)
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    let (st, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/search",
            Some(t),
            Some(json!({"keyword": "chi lan"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["payload"]["total_items"], json!(1));

    // Bad input and other tenants.
    let (st, b) = nx(app, Method::GET, "/api/product/product", t, None).await;
    refused(st, &b, StatusCode::BAD_REQUEST, "branch_id");
    let (st, b) = nx(
        app,
        Method::GET,
        &format!("/api/product/product?branch_id={branch}&pageLimit=500"),
        t,
        None,
    )
    .await;
    refused(st, &b, StatusCode::BAD_REQUEST, "pageLimit");
    let (st, b) = nx(app, Method::POST, "/api/purchase/purchase", t, Some(json!({"customer_id": supplier, "branch_id": branch, "products": [{"product_id": 999999, "quantity": 1}]}))).await;
    refused(st, &b, StatusCode::BAD_REQUEST, "products[0].product_id");
    let (st, b) = nx(app, Method::POST, "/api/purchase/purchase", t, Some(json!({"customer_id": supplier, "branch_id": branch, "products": [{"product_id": pid, "quantity": "many"}]}))).await;
    refused(st, &b, StatusCode::BAD_REQUEST, "quantity");
    let (st, b) = nx(
        app,
        Method::POST,
        "/api/customer/customer",
        t,
        Some(json!({"name": "X", "type": "partner"})),
    )
    .await;
    refused(st, &b, StatusCode::BAD_REQUEST, "type");
    let (st, b) = nx(
        app,
        Method::GET,
        &format!("/api/sell/sell/{sale_id}"),
        &other.token,
        None,
    )
    .await;
    refused(st, &b, StatusCode::NOT_FOUND, "not found");
    let (st, b) = nx(
        app,
        Method::GET,
        &format!("/api/customer/customer/{customer}"),
        &other.token,
        None,
    )
    .await;
    refused(st, &b, StatusCode::NOT_FOUND, "not found");
    let (st, b) = app
        .call(Method::GET, "/api/branch/branch", None, None)
        .await;
    refused(st, &b, StatusCode::UNAUTHORIZED, "Token expired");
}

on_both_backends!(stock_flows);
