//! NextX tasks over HTTP: the same records CRMTOP lists as activities.

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

async fn tasks(app: &TestApp) {
    let a = app.tenant("nxt").await;
    let other = app.tenant("nxt-other").await;
    let t = &a.token;
    let c = ok(
        app,
        Method::POST,
        "/api/customer/customer",
        t,
        Some(json!({"name": "Khách Tân Phú", "mobile": "0911222333"})),
    )
    .await;
    let customer = c["data"]["id"].as_i64().unwrap();
    // A staff user to assign tasks to: `assigned` is filled from the user directory (in a
    // tenant of its own, so the counts below stay the same).
    let st = app.tenant("nxt-staff").await;
    let u = ok(app, Method::POST, "/api/user/users", &st.token, Some(json!({"username": "halinh", "firstname": "tran ha", "lastname": "linh", "designation": "Sales"}))).await;
    let staff = u[0]["id"].as_i64().unwrap();
    let assigned = ok(
        app,
        Method::POST,
        "/api/task/task",
        &st.token,
        Some(json!({"task": "Gọi lại", "assigned_to": staff})),
    )
    .await;
    let assigned_id = assigned["data"]["id"].as_i64().unwrap();
    let got = ok(
        app,
        Method::GET,
        &format!("/api/task/task/{assigned_id}"),
        &st.token,
        None,
    )
    .await;
    assert_eq!(
        got["assigned"],
        json!({"id": staff, "name": "halinh", "email": "", "firstname": "tran ha", "lastname": "linh", "picture": null, "designation": "Sales", "employee_id": staff})
    );
    let created = ok(app, Method::POST, "/api/task/task", t, Some(json!({
        "task": "Đi gặp khách", "description": "Mang catalogue", "start": "2026-03-10 09:00:00", "end": "2026-03-10 10:30:00",
        "priority": "Ưu tiên", "progress": 0, "is_complete": 0, "category_id": 404, "color": "rgba(47, 117, 181, 1)",
        "assigned_to": 6120, "parent_id": 0, "model_name": "App\\Models\\Task\\Task", "checkins": [], "checklists": [],
        "customer_id": customer
    }))).await;
    assert_eq!(
        created["meta"],
        json!({"status_code": 0, "message": "Successfully"})
    );
    let id = created["data"]["id"].as_i64().unwrap();
    let task = ok(app, Method::GET, &format!("/api/task/task/{id}"), t, None).await;
    assert_eq!(task["task"], json!("Đi gặp khách"));
    common::assert_documented_keys("003", "/api/task/task/{id}", &task);
    assert_eq!(task["start"], json!("2026-03-10 09:00:00"));
    assert_eq!(task["priority"], json!("Ưu tiên"));
    assert_eq!(task["assigned_to"], json!(6120));
    assert_eq!(task["model_name"], json!("App\\Models\\Task\\Task"));
    assert_eq!(task["about"]["name"], json!("Khách Tân Phú"));
    assert!(task["created_at"].as_str().unwrap().contains('/'));
    // Progress, then completion (the samples POST the update).
    let r = ok(
        app,
        Method::PUT,
        &format!("/api/task/task/{id}"),
        t,
        Some(json!({"progress": "40"})),
    )
    .await;
    assert_eq!(r["meta"]["status_code"], json!(0));
    let task = ok(app, Method::GET, &format!("/api/task/task/{id}"), t, None).await;
    assert_eq!(
        (task["progress"].clone(), task["status"].clone()),
        (json!(40), json!(2))
    );
    ok(
        app,
        Method::POST,
        &format!("/api/task/task/{id}"),
        t,
        Some(json!({"is_complete": 1})),
    )
    .await;
    let task = ok(app, Method::GET, &format!("/api/task/task/{id}"), t, None).await;
    assert_eq!(
        (
            task["progress"].clone(),
            task["is_complete"].clone(),
            task["task"].clone()
        ),
        (json!(100), json!(1), json!("Đi gặp khách"))
    );
    // CRMTOP sees a done task activity about the customer.
    let page = app
        .search(
            "/api/v1/activity/search",
            t,
            json!({"type": 3, "status": 3}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(page["data"][0]["subject"], json!("Đi gặp khách"));
    assert_eq!(page["data"][0]["primaryName"], json!("Khách Tân Phú"));
    // Lists: paging from 1, search, status, dates.
    ok(
        app,
        Method::POST,
        "/api/task/task",
        t,
        Some(json!({"task": "Gọi lại", "start": "2026-04-01 08:00:00"})),
    )
    .await;
    for (q, n) in [
        ("", 2),
        ("?strSreach=goi%20lai", 1),
        ("?search%5Bstatus%5D=3", 1),
        ("?start=2026-03-20&end=2026-04-30", 1),
        ("?page=2&pageLimit=1", 1),
        ("?page=3&pageLimit=1", 0),
    ] {
        let l = ok(app, Method::GET, &format!("/api/task/task{q}"), t, None).await;
        assert_eq!(l.as_array().unwrap().len(), n, "{q}: {l}");
        if n > 0 {
            common::assert_documented_keys("003", "/api/task/task", &l);
        }
    }
    // Failures.
    let (st, b) = app
        .call(
            Method::POST,
            "/api/task/task",
            Some(t),
            Some(json!({"task": " "})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["meta"]["message"].as_str().unwrap().starts_with("task"));
    let (st, b) = app
        .call(
            Method::POST,
            "/api/task/task",
            Some(t),
            Some(json!({"task": "x", "priority": "gấp lắm"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, b) = app
        .call(
            Method::POST,
            "/api/task/task",
            Some(t),
            Some(json!({"task": "x", "start": "10/03/2026"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, b) = app
        .call(
            Method::POST,
            "/api/task/task",
            Some(t),
            Some(json!({"task": "x", "progress": 150})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, _) = app
        .call(
            Method::GET,
            &format!("/api/task/task/{id}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// The doc's 401 shapes: flat on the CRM host, `{meta, data}` on the shop host.
async fn unauthorized_shapes(app: &TestApp) {
    let (st, b) = app.call(Method::GET, "/api/task/task", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(b, json!({"status_code": 401, "message": "Token expired"}));
    let (st, b) = app
        .call(
            Method::GET,
            "/api/product/product?branch_id=1",
            Some("expired-token"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(
        b,
        json!({"meta": {"message": "Token expired", "status_code": 401}, "data": []})
    );
}

on_both_backends!(tasks, unauthorized_shapes);
