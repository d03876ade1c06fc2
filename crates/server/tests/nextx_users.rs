//! NextX users and staff over HTTP.

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

async fn users(app: &TestApp) {
    let a = app.tenant("nxu").await;
    let other = app.tenant("nxu-other").await;
    let t = &a.token;
    let b = ok(
        app,
        Method::POST,
        "/api/branch/branch",
        t,
        Some(json!({"code": "CN", "name": "Chi nhánh"})),
    )
    .await;
    let branch = b["data"]["id"].as_i64().unwrap();
    // The doc's example: a copy of a GET record, with a nested employee.
    let created = ok(app, Method::POST, "/api/user/users", t, Some(json!({
        "id": 292, "email": "", "username": "nvtt1", "firstname": "", "lastname": "NVTT1", "joined": "03/09/2019",
        "designation": "", "picture": null, "tel": "0", "crm_extension_id": null, "employee_id": 37423,
        "employee": {"id": 37423, "code": "", "first_name": "", "last_name": "NVTT1", "sex": true, "isPt": false, "isSale": true, "branch_id": branch},
        "isLock": 0, "is_access_crm": 1, "is_validated": 1
    }))).await;
    let u = &created[0];
    let id = u["id"].as_i64().unwrap();
    assert_ne!(id, 292, "the id is the server's");
    assert_eq!(u["username"], json!("nvtt1"));
    assert_eq!(u["joined"], json!("03/09/2019"));
    assert!(u["employee"]["code"].as_str().unwrap().starts_with("NV"));
    assert_eq!(
        (u["isLock"].clone(), u["is_access_crm"].clone()),
        (json!(0), json!(1))
    );
    let second = ok(app, Method::POST, "/api/user/users", t, Some(json!({"username": "ketoan", "firstname": "Lan", "lastname": "Trần", "is_access_crm": 0}))).await;
    let second_id = second[0]["id"].as_i64().unwrap();
    let list = ok(app, Method::GET, "/api/user/users", t, None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let emps = ok(
        app,
        Method::GET,
        &format!("/api/cate/employee?branch_id={branch}"),
        t,
        None,
    )
    .await;
    common::assert_documented_keys("003", "/api/cate/employee", &emps);
    assert_eq!(emps.as_array().unwrap().len(), 1);
    assert_eq!(emps[0]["last_name"], json!("NVTT1"));
    for method in [Method::POST, Method::GET] {
        let sales = ok(app, method, "/api/cate/users", t, None).await;
        assert_eq!(
            sales,
            json!([{"id": id, "name": "nvtt1", "firstname": "", "lastname": "NVTT1"}])
        );
    }
    // Locking removes a user from the sales list.
    let r = ok(
        app,
        Method::PUT,
        &format!("/api/user/users/{id}"),
        t,
        Some(json!({"isLock": 1, "designation": "Thu ngân"})),
    )
    .await;
    assert_eq!(r[0]["status_code"], json!(0));
    let sales = ok(app, Method::GET, "/api/cate/users", t, None).await;
    assert_eq!(sales, json!([]));
    let list = ok(app, Method::GET, "/api/user/users", t, None).await;
    assert_eq!(list[0]["designation"], json!("Thu ngân"));
    let res = ok(app, Method::GET, "/api/cate/resources", t, None).await;
    assert_eq!(res[0], json!({"id": 1, "name": "Facebook"}));
    common::assert_documented_keys("003", "/api/user/users", &list);
    common::assert_documented_keys("003", "/api/cate/resources", &res);
    // Failures.
    let (st, b) = app
        .call(
            Method::POST,
            "/api/user/users",
            Some(t),
            Some(json!({"username": "ketoan"})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    let (st, b) = app
        .call(
            Method::POST,
            "/api/user/users",
            Some(t),
            Some(json!({"username": "x", "isLock": 3})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, b) = app
        .call(
            Method::POST,
            "/api/user/users",
            Some(t),
            Some(json!({"username": "y", "joined": "2019-31-12"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, _) = app
        .call(
            Method::DELETE,
            &format!("/api/user/users/{id}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let r = ok(
        app,
        Method::DELETE,
        &format!("/api/user/users/{second_id}"),
        t,
        None,
    )
    .await;
    assert_eq!(r[0]["status_code"], json!(0));
    let list = ok(app, Method::GET, "/api/user/users", t, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // A deleted user's name is free again.
    ok(
        app,
        Method::POST,
        "/api/user/users",
        t,
        Some(json!({"username": "ketoan"})),
    )
    .await;
}

on_both_backends!(users);
