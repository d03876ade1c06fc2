//! API client scopes (`crm_domain::scope`): a read-only client reads and is refused every
//! write in each dialect's envelope, with nothing written; a client limited to some dialects
//! is refused the others, and one limited to some resources the other records in every
//! dialect; a client makes clients no wider than itself; the command line sets and shows a
//! scope.

#![allow(clippy::unwrap_used)]

mod common;

use common::process::{crm, run_json};
use common::{assert_crmtop_err, assert_crmtop_ok, Backend, TestApp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A new client of the caller's tenant with `scope`, and an access token of it.
async fn client(app: &TestApp, token: &str, scope: &str) -> (Value, String) {
    let (status, made) = app
        .post(
            "/crm/v1/clients",
            token,
            json!({"name": format!("{scope} client"), "scope": scope}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": made["client_id"], "clientSecret": made["client_secret"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        made,
        body["data"]["accessToken"].as_str().unwrap().to_owned(),
    )
}

/// How many customers the tenant holds, read through CRMTOP with a full token.
async fn customers(app: &TestApp, token: &str) -> i64 {
    let page = app
        .search("/api/v1/customer/search", token, json!({}))
        .await;
    page["totalCount"].as_i64().unwrap()
}

fn assert_nextx_forbidden(status: StatusCode, b: &Value) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["meta"]["status_code"], json!(403), "{b}");
    assert!(
        b["meta"]["message"].as_str().unwrap().contains("scope"),
        "{b}"
    );
}

fn assert_omi_forbidden(status: StatusCode, b: &Value) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["status_code"], json!(-9999), "{b}");
    assert_eq!(b["error"], "forbidden", "{b}");
    assert!(b["message"].as_str().unwrap().contains("scope"), "{b}");
}

fn assert_vbot_forbidden(status: StatusCode, b: &Value) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["status"], json!(0), "{b}");
    assert_eq!(b["error"], json!(12), "{b}");
    assert_eq!(b["data"], Value::Null, "{b}");
    assert!(b["message"].as_str().unwrap().contains("scope"), "{b}");
}

fn assert_own_forbidden(status: StatusCode, b: &Value) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{b}");
    assert!(b["message"].as_str().unwrap().contains("scope"), "{b}");
}

async fn read_only_clients_only_read(app: &TestApp) {
    let a = app.tenant("acme").await;
    let full = &a.token;
    app.create(
        "/api/v1/customer/create",
        full,
        json!({"name": "Nguyễn Văn Đức", "phone": "0912345678"}),
    )
    .await;
    let (made, ro) = client(app, full, "read").await;
    assert_eq!(made["scope"], "read", "{made}");
    let before = customers(app, full).await;
    assert_eq!(before, 1);

    // CRMTOP: a search (a POST) and a get read; a create, an update and a delete do not.
    let (status, b) = app.post("/api/v1/customer/search", &ro, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_crmtop_ok(&b);
    assert_eq!(b["data"]["data"].as_array().map(Vec::len), Some(1), "{b}");
    let id = b["data"]["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, b) = app.get(&format!("/api/v1/customer/get/{id}"), &ro).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["name"], "Nguyễn Văn Đức", "{b}");
    let (status, b) = app
        .post(
            "/api/v1/customer/create",
            &ro,
            json!({"name": "Trần Thị Mai"}),
        )
        .await;
    let message = assert_crmtop_err(status, &b, StatusCode::FORBIDDEN);
    assert!(message.contains("read-only"), "{b}");
    let (status, b) = app
        .put(
            "/api/v1/customer/update",
            &ro,
            json!({"id": id, "name": "Đổi tên"}),
        )
        .await;
    assert_crmtop_err(status, &b, StatusCode::FORBIDDEN);
    let (status, b) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), &ro)
        .await;
    assert_crmtop_err(status, &b, StatusCode::FORBIDDEN);

    // NextX: a list reads; a create does not.
    let (status, b) = app
        .call(Method::GET, "/api/customer/customer", Some(&ro), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let (status, b) = app
        .call(
            Method::POST,
            "/api/customer/customer",
            Some(&ro),
            Some(json!({"name": "Chị Lan", "type": "customer"})),
        )
        .await;
    assert_nextx_forbidden(status, &b);

    // OMI: a search reads; an add does not.
    let (status, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/search",
            Some(&ro),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let (status, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/add",
            Some(&ro),
            Some(json!({"fullName": "Anh Tú", "phoneNumber": "0987000111"})),
        )
        .await;
    assert_omi_forbidden(status, &b);

    // VBot: every endpoint writes.
    let (status, b) = app
        .call(
            Method::POST,
            "/api/crm/customer/create",
            Some(&ro),
            Some(json!({"vbot_id": "acme", "customer_no": "KH9", "customer_name": "Bà Hoa"})),
        )
        .await;
    assert_vbot_forbidden(status, &b);

    // Our own: it lists clients, shows its scope, and cannot make one.
    let (status, b) = app.get("/crm/v1/clients", &ro).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let me = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["current"] == json!(true))
        .unwrap();
    assert_eq!(me["scope"], "read", "{b}");
    let (status, b) = app
        .post("/crm/v1/clients", &ro, json!({"name": "more"}))
        .await;
    assert_own_forbidden(status, &b);

    // Nothing was written.
    assert_eq!(customers(app, full).await, before);
    let (_, b) = app.get("/crm/v1/clients", full).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 2, "{b}");
}

async fn dialect_scopes_fence_the_other_apis(app: &TestApp) {
    let a = app.tenant("acme").await;
    let (made, crmtop) = client(app, &a.token, "crmtop").await;
    assert_eq!(made["scope"], "crmtop", "{made}");
    // It writes in CRMTOP.
    let (status, b) = app
        .post(
            "/api/v1/customer/create",
            &crmtop,
            json!({"name": "Lê Văn Bình"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_crmtop_ok(&b);
    // Not even a read elsewhere.
    let (status, b) = app
        .call(Method::GET, "/api/customer/customer", Some(&crmtop), None)
        .await;
    assert_nextx_forbidden(status, &b);
    assert!(
        b["meta"]["message"].as_str().unwrap().contains("nextx"),
        "{b}"
    );
    let (status, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/search",
            Some(&crmtop),
            Some(json!({})),
        )
        .await;
    assert_omi_forbidden(status, &b);
    let (status, b) = app.get("/crm/v1/tenant", &crmtop).await;
    assert_own_forbidden(status, &b);

    // A client of our own API and OMI makes clients no wider than itself.
    let (_, own_omi) = client(app, &a.token, "crm,omi").await;
    for wider in ["all", "crmtop", "read"] {
        let (status, b) = app
            .post(
                "/crm/v1/clients",
                &own_omi,
                json!({"name": "wider", "scope": wider}),
            )
            .await;
        assert_own_forbidden(status, &b);
        assert!(b["message"].as_str().unwrap().contains("wider"), "{b}");
    }
    let (status, b) = app
        .post(
            "/crm/v1/clients",
            &own_omi,
            json!({"name": "omi reader", "scope": "read,omi"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(b["scope"], "read,omi", "{b}");
    // Without a scope, a new client gets its maker's.
    let (status, b) = app
        .post("/crm/v1/clients", &own_omi, json!({"name": "same"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(b["scope"], "omi,crm", "{b}");
    // An unknown word is bad input, named.
    let (status, b) = app
        .post(
            "/crm/v1/clients",
            &a.token,
            json!({"name": "x", "scope": "read,owner"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("owner"), "{b}");
    let long = "omi,".repeat(30);
    let (status, b) = app
        .post(
            "/crm/v1/clients",
            &a.token,
            json!({"name": "x", "scope": long}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("100"), "{b}");
}

/// A client limited to some resources reaches them in every dialect it reaches, and is refused
/// every other record in each dialect's envelope, naming the resource.
async fn resource_scopes_fence_the_other_records(app: &TestApp) {
    let a = app.tenant("acme").await;
    let (made, people) = client(app, &a.token, "customers").await;
    assert_eq!(made["scope"], "customers", "{made}");
    // Customers in CRMTOP, NextX, OMI and VBot (an undocumented letter case of its path too).
    let (status, b) = app
        .post(
            "/api/v1/customer/create",
            &people,
            json!({"name": "Trần Thị Mai", "phone": "0912345670"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_crmtop_ok(&b);
    assert_eq!(customers(app, &people).await, 1);
    let (status, b) = app
        .call(Method::GET, "/api/customer/customer", Some(&people), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b[0]["name"], "Trần Thị Mai", "{b}");
    let (status, b) = app
        .call(
            Method::POST,
            "/api/v2/contact/search",
            Some(&people),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    for path in ["/api/crm/customer/create", "/api/crm/CUSTOMER/CREATE"] {
        let (status, b) = app
            .call(
                Method::POST,
                path,
                Some(&people),
                Some(json!({"vbot_id": "nobody"})),
            )
            .await;
        // Past the scope (error 12): the VBot check of its body answers (3, not its account).
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {b}");
        assert_eq!(b["error"], json!(3), "{path}: {b}");
    }
    // Orders, tickets and activities in CRMTOP, opportunities in NextX, the tenant in ours.
    for (path, resource) in [
        ("/api/v1/order/crm/search", "sales"),
        ("/api/v1/ticket/search", "support"),
        ("/api/v1/activity/search", "activities"),
    ] {
        let (status, b) = app
            .call(Method::POST, path, Some(&people), Some(json!({})))
            .await;
        let message = assert_crmtop_err(status, &b, StatusCode::FORBIDDEN);
        assert!(message.contains(resource), "{path}: {b}");
    }
    let (status, b) = app
        .call(Method::GET, "/api/crm/opportunity", Some(&people), None)
        .await;
    // (NextX's CRM module answers errors as `{message, status_code}`.)
    assert_eq!(status, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["status_code"], json!(403), "{b}");
    assert!(b["message"].as_str().unwrap().contains("sales"), "{b}");
    let (status, b) = app.get("/crm/v1/tenant", &people).await;
    assert_own_forbidden(status, &b);
    assert!(b["message"].as_str().unwrap().contains("admin"), "{b}");
    // Nothing was written by the refused calls, and a write refused in its resource stores
    // nothing either.
    let (status, b) = app
        .post(
            "/api/v1/ticket/create",
            &people,
            json!({"title": "Hỏng máy", "customerId": 1}),
        )
        .await;
    assert_crmtop_err(status, &b, StatusCode::FORBIDDEN);
    let tickets = app
        .search("/api/v1/ticket/search", &a.token, json!({}))
        .await;
    assert_eq!(tickets["totalCount"], json!(0), "{tickets}");

    // Dialects and resources together: CRMTOP tickets only.
    let (made, desk) = client(app, &a.token, "support,crmtop").await;
    assert_eq!(made["scope"], "crmtop,support", "{made}");
    let (status, b) = app
        .call(
            Method::POST,
            "/api/v1/ticket/search",
            Some(&desk),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_crmtop_ok(&b);
    let (status, b) = app
        .call(
            Method::POST,
            "/api/v1/customer/search",
            Some(&desk),
            Some(json!({})),
        )
        .await;
    let message = assert_crmtop_err(status, &b, StatusCode::FORBIDDEN);
    assert!(message.contains("customers"), "{b}");

    // An administrating client of some resources makes clients within them only.
    let (_, admin) = client(app, &a.token, "admin,customers").await;
    for wider in ["all", "sales", "customers,support", "crmtop"] {
        let (status, b) = app
            .post(
                "/crm/v1/clients",
                &admin,
                json!({"name": "wider", "scope": wider}),
            )
            .await;
        assert_own_forbidden(status, &b);
        assert!(b["message"].as_str().unwrap().contains("wider"), "{b}");
    }
    let (status, b) = app
        .post(
            "/crm/v1/clients",
            &admin,
            json!({"name": "reader", "scope": "read, customers, omi"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(b["scope"], "read,omi,customers", "{b}");
}

on_both_backends!(
    read_only_clients_only_read,
    dialect_scopes_fence_the_other_apis,
    resource_scopes_fence_the_other_records
);

/// `crm client create --scope` stores the scope, and `crm client list` shows it.
#[tokio::test]
async fn the_command_line_sets_and_shows_scopes() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    run_json(
        &db,
        &["tenant", "create", "Shop", "--slug", "shop", "--json"],
    )
    .await;
    let made = run_json(
        &db,
        &[
            "client", "create", "--tenant", "shop", "--scope", "read,omi", "--json",
        ],
    )
    .await;
    assert_eq!(made["scope"], "read,omi", "{made}");
    let list = run_json(&db, &["client", "list", "--tenant", "shop", "--json"]).await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == made["client_id"])
        .unwrap();
    assert_eq!(listed["scope"], "read,omi", "{list}");
    let out = crm(&db)
        .args([
            "client",
            "create",
            "--tenant",
            "shop",
            "--scope",
            "superuser",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("superuser"), "{err}");
    db.drop_db().await;
}
