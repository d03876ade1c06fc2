//! One transaction per use case: concurrent callers over HTTP (released together by a barrier)
//! on both backends, and the store-level seam: a unit of work that fails leaves nothing.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use common::{at_once, Backend, TestApp, TestDb};
use crm_domain::auth::{AuthService, AuthSettings};
use crm_domain::customer::{Customer, CustomerInput};
use crm_domain::repo::Repository;
use crm_domain::sales::{Product, ProductData};
use crm_domain::search::{Filter, PageRequest};
use crm_domain::stock::{NamedUnit, Opening};
use crm_domain::work::At;
use crm_domain::{Actor, DomainError};
use crm_store::{Db, PoolSettings, SqlStore};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn nx_ok(app: &TestApp, path: &str, t: &str, body: Value) -> Value {
    let (st, b) = app.post(path, t, body).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b
}

/// 40 NextX sales of one unit at once against a stock of 10: exactly 10 go through, the others
/// are refused in NextX's envelope naming the line, none is a 5xx, and the stock ends at 0.
async fn sales_never_oversell(app: &TestApp) {
    let a = app.tenant("oversell").await;
    let t = a.token.clone();
    let b = nx_ok(
        app,
        "/api/branch/branch",
        &t,
        json!({"code": "CN", "name": "Chi nhánh"}),
    )
    .await;
    let branch = b["data"]["id"].as_i64().unwrap();
    let p = nx_ok(app, "/api/product/product", &t, json!({"name": "Bánh mì", "branch_id": branch, "qty_begin_stock": 10, "sell_price": 20000, "unit": {"unit_base": {"name": "Ổ"}}})).await;
    let pid = p["id"].as_i64().unwrap();
    let answers = at_once(40, |_| {
        app.http
            .post(format!("{}/api/sell/sell", app.base))
            .bearer_auth(&t)
            .json(&json!({"branch_id": branch, "products": [{"product_id": pid, "quantity": 1, "unit_price": 20000}]}))
    })
    .await;
    let mut sold = 0;
    for (st, body) in &answers {
        assert!(!st.is_server_error(), "{st}: {body}");
        if *st == StatusCode::OK {
            sold += 1;
            assert_eq!(body["data"]["final_total"], json!(20000.0), "{body}");
        } else {
            assert_eq!(*st, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(body["meta"]["status_code"], json!(400), "{body}");
            assert_eq!(body["data"], json!([]), "{body}");
            let message = body["meta"]["message"].as_str().unwrap();
            assert!(message.contains("products[0].quantity"), "{message}");
        }
    }
    assert_eq!(sold, 10, "exactly the stock is sold");
    let (_, d) = app
        .get(
            &format!("/api/product/product-detail?variation_id={pid}&branch_id={branch}"),
            &t,
        )
        .await;
    assert_eq!(d["qty_available"], json!(0.0), "{d}");
    let (_, sales) = app
        .get(
            &format!("/api/sell/sell?branch_id={branch}&pageLimit=100"),
            &t,
        )
        .await;
    assert_eq!(sales.as_array().unwrap().len(), 10, "{sales}");
}

/// 10 conversions of one lead at once: one creates the customer and contact, the others are
/// told it was converted already; exactly one customer exists afterwards.
async fn one_conversion_per_lead(app: &TestApp) {
    let a = app.tenant("convert").await;
    let t = a.token.clone();
    let id = app
        .create(
            "/api/v1/lead/create",
            &t,
            json!({"id": "00000000-0000-0000-0000-000000000000", "source": 1, "status": 1, "fullName": "Trần Thị Mai", "company": "Công ty Hoa Sen Đỏ", "phone": "0903111222", "email": "mai@hoasen.vn", "probability": 40}),
        )
        .await;
    let answers = at_once(10, |_| {
        app.http
            .get(format!("{}/api/v1/lead/convert/{id}", app.base))
            .bearer_auth(&t)
    })
    .await;
    let mut won = 0;
    for (st, body) in &answers {
        assert!(!st.is_server_error(), "{st}: {body}");
        if *st == StatusCode::OK {
            won += 1;
            common::assert_crmtop_ok(body);
        } else {
            let message = common::assert_crmtop_err(*st, body, StatusCode::CONFLICT);
            assert!(message.contains("already been converted"), "{message}");
        }
    }
    assert_eq!(won, 1);
    let found = app
        .search(
            "/api/v1/customer/search",
            &t,
            json!({"pageNumber": 1, "pageSize": 20, "search": "hoa sen do"}),
        )
        .await;
    assert_eq!(found["totalCount"], json!(1), "{found}");
    let contacts = app
        .search(
            "/api/v1/contact/search",
            &t,
            json!({"pageNumber": 1, "pageSize": 20, "search": "tran thi mai"}),
        )
        .await;
    assert_eq!(contacts["totalCount"], json!(1), "{contacts}");
}

/// 50 customers created at once without a code: 50 distinct generated codes.
async fn concurrent_creates_get_distinct_codes(app: &TestApp) {
    let a = app.tenant("codes").await;
    let t = a.token.clone();
    let answers = at_once(50, |i| {
        app.http
            .post(format!("{}/api/v1/customer/create", app.base))
            .bearer_auth(&t)
            .json(&json!({"name": format!("Khách Hàng {i}")}))
    })
    .await;
    let mut codes = HashSet::new();
    for (st, body) in &answers {
        assert_eq!(*st, StatusCode::OK, "{body}");
        common::assert_crmtop_ok(body);
        let id = body["data"].as_str().unwrap();
        let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), &t).await;
        let code = got["data"]["code"].as_str().unwrap().to_owned();
        assert!(code.starts_with("KH"), "{code}");
        codes.insert(code);
    }
    assert_eq!(codes.len(), 50);
}

/// Two OMI `addMany` calls at once with the same partner ids: each id is stored once, and every
/// item of both answers has its outcome (created, or a duplicate for that item alone).
async fn racing_add_many_store_each_ref_once(app: &TestApp) {
    let a = app.tenant("refs").await;
    let t = a.token.clone();
    let batch = |who: usize| {
        let mut items: Vec<Value> = (0..20)
            .map(|i| json!({"refId": format!("R-{i}"), "fullName": format!("Khách {who}-{i}"), "phones": [{"data": format!("09{who}{i:07}")}]}))
            .collect();
        items.push(json!({"refId": format!("OWN-{who}"), "fullName": format!("Riêng {who}")}));
        json!({ "data": items })
    };
    let answers = at_once(2, |who| {
        app.http
            .post(format!("{}/api/v2/contact/addMany", app.base))
            .bearer_auth(&t)
            .json(&batch(who))
    })
    .await;
    let mut created: HashMap<String, usize> = HashMap::new();
    for (st, body) in &answers {
        assert_eq!(*st, StatusCode::OK, "{body}");
        let p = &body["payload"];
        let items = p["items"].as_array().unwrap();
        assert_eq!(items.len(), 21, "{p}");
        for (i, item) in items.iter().enumerate() {
            assert_eq!(item["index"], json!(i));
            let rid = item["refId"].as_str().unwrap().to_owned();
            match item["status"].as_str().unwrap() {
                "created" => {
                    assert!(item["public_id"].is_string(), "{item}");
                    *created.entry(rid).or_default() += 1;
                }
                "error" => {
                    assert_eq!(item["error"], json!("duplicate_ref_id"), "{item}");
                    assert!(rid.starts_with("R-"), "{item}");
                }
                other => panic!("status {other}"),
            }
        }
        let made = p["created"].as_u64().unwrap();
        assert_eq!(made + p["failed"].as_u64().unwrap(), 21);
    }
    assert_eq!(created.len(), 22, "{created:?}");
    assert!(created.values().all(|n| *n == 1), "{created:?}");
}

/// Concurrent OMI updates of one contact, each adding its own tag: the updates take turns on
/// the stored contact, so every tag is kept.
async fn concurrent_updates_lose_nothing(app: &TestApp) {
    let a = app.tenant("merge").await;
    let t = a.token.clone();
    let (st, b) = app
        .post(
            "/api/v2/contact/add",
            &t,
            json!({"refId": "M-1", "fullName": "Phạm Minh Khang", "phones": [{"data": "0977000111"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let answers = at_once(12, |i| {
        app.http
            .post(format!("{}/api/v2/contact/update", app.base))
            .bearer_auth(&t)
            .json(&json!({"refId": "M-1", "tags": [format!("Nhãn {i}")]}))
    })
    .await;
    for (st, body) in &answers {
        assert_eq!(*st, StatusCode::OK, "{body}");
        assert_eq!(body["payload"], json!(true), "{body}");
    }
    let (st, got) = app
        .post(
            "/api/v2/contact/search",
            &t,
            json!({"keyword": "0977 000 111"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{got}");
    let items = got["payload"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{got}");
    let tags: HashSet<String> = items[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    for i in 0..12 {
        assert!(tags.contains(&format!("Nhãn {i}")), "Nhãn {i} in {tags:?}");
    }
}

/// A NextX product whose second step fails (a unit with no name) stores nothing: no product,
/// no units, no stock; the refusal names the wire field.
async fn a_failed_step_writes_nothing(app: &TestApp) {
    let a = app.tenant("atomic").await;
    let t = a.token.clone();
    let b = nx_ok(
        app,
        "/api/branch/branch",
        &t,
        json!({"code": "CN", "name": "Chi nhánh"}),
    )
    .await;
    let branch = b["data"]["id"].as_i64().unwrap();
    let (st, body) = app
        .post(
            "/api/product/product",
            &t,
            json!({"name": "Sữa chua", "branch_id": branch, "qty_begin_stock": 5, "unit": {"unit_base": {"name": "Hũ"}, "sub_unit": [{"name": "Lốc", "f_Convert": 4}, {"name": " ", "f_Convert": 6}]}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    let message = body["meta"]["message"].as_str().unwrap();
    assert!(message.contains("unit.sub_unit[1].name"), "{message}");
    let (st, body) = app
        .post(
            "/api/product/product",
            &t,
            json!({"name": "Sữa chua", "branch_id": branch, "unit": {"sub_unit": [{"name": "Lốc", "f_Convert": 0}]}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    let message = body["meta"]["message"].as_str().unwrap();
    assert!(message.contains("unit.sub_unit[0].f_Convert"), "{message}");
    // References are checked inside the same unit of work, after the base unit is found or
    // created by name: an unknown category or component stores nothing either.
    for (body, field) in [
        (
            json!({"name": "Sữa chua", "branch_id": branch, "category_id": 999, "unit": {"unit_base": {"name": "Hũ"}}}),
            "category_id",
        ),
        (
            json!({"name": "Combo", "branch_id": branch, "type": "combo", "composition_variation": [{"product_id": 0}, {"product_id": 424242, "quantity": 2}]}),
            "composition_variation[1].product_id",
        ),
    ] {
        let (st, b) = app.post("/api/product/product", &t, body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["meta"]["status_code"], json!(400), "{b}");
        let message = b["meta"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{field} in {message}");
    }
    let (_, list) = app
        .get(&format!("/api/product/product?branch_id={branch}"), &t)
        .await;
    assert_eq!(list, json!([]), "{list}");
}

/// The unfiltered totals (CRMTOP `totalCount`, OMI `total_items`), kept by the writes
/// themselves, follow concurrent creates, a batch, deletes racing for the same records,
/// restores and erasures, per tenant, and agree with a filtered count of the same rows.
async fn unfiltered_totals_follow_every_write(app: &TestApp) {
    let a = app.tenant("counted").await;
    let other = app.tenant("counted-other").await;
    let t = a.token.clone();
    async fn totals(app: &TestApp, t: &str) -> (Value, Value, Value) {
        let all = app
            .search(
                "/api/v1/customer/search",
                t,
                json!({"pageNumber": 1, "pageSize": 5}),
            )
            .await;
        let (st, omi) = app.post("/api/v2/contact/search", t, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{omi}");
        // The same rows through a filter, counted row by row.
        let some = app
            .search(
                "/api/v1/customer/search",
                t,
                json!({"pageNumber": 1, "pageSize": 5, "search": "Đếm"}),
            )
            .await;
        (
            all["totalCount"].clone(),
            omi["payload"]["total_items"].clone(),
            some["totalCount"].clone(),
        )
    }
    let n = |k: u64| (json!(k), json!(k), json!(k));
    assert_eq!(totals(app, &t).await, n(0));
    let answers = at_once(24, |i| {
        app.http
            .post(format!("{}/api/v1/customer/create", app.base))
            .bearer_auth(&t)
            .json(&json!({"name": format!("Đếm {i}")}))
    })
    .await;
    let ids: Vec<String> = answers
        .iter()
        .map(|(st, b)| {
            assert_eq!(*st, StatusCode::OK, "{b}");
            b["data"].as_str().unwrap().to_owned()
        })
        .collect();
    for i in 0..3 {
        app.create(
            "/api/v1/customer/create",
            &other.token,
            json!({"name": format!("Đếm {i}")}),
        )
        .await;
    }
    let items: Vec<Value> = (0..10)
        .map(|i| json!({"refId": format!("C-{i}"), "fullName": format!("Đếm lô {i}")}))
        .collect();
    let (st, b) = app
        .post("/api/v2/contact/addMany", &t, json!({ "data": items }))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["payload"]["created"], json!(10), "{b}");
    assert_eq!(totals(app, &t).await, n(34));
    assert_eq!(totals(app, &other.token).await, n(3));

    // Six customers deleted, each by two callers at once: each leaves the count once.
    let answers = at_once(12, |i| {
        app.http
            .delete(format!(
                "{}/api/v1/customer/delete/{}",
                app.base,
                ids[i / 2]
            ))
            .bearer_auth(&t)
    })
    .await;
    for (st, b) in &answers {
        assert!(
            *st == StatusCode::OK || *st == StatusCode::NOT_FOUND,
            "{st}: {b}"
        );
    }
    assert_eq!(
        answers
            .iter()
            .filter(|(st, _)| *st == StatusCode::OK)
            .count(),
        6
    );
    assert_eq!(totals(app, &t).await, n(28));
    // Another tenant deletes nothing of ours.
    let (st, _) = app
        .delete(
            &format!("/api/v1/customer/delete/{}", ids[10]),
            &other.token,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(totals(app, &t).await, n(28));

    // Restored: back in the count; erased while deleted: no change; erased live: out.
    let call = |id: &str, what: &str| format!("/crm/v1/records/customer/{id}/{what}");
    let (st, b) = app.post(&call(&ids[0], "restore"), &t, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(totals(app, &t).await, n(29));
    let (st, b) = app.post(&call(&ids[1], "erase"), &t, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(totals(app, &t).await, n(29));
    let (st, b) = app.post(&call(&ids[20], "erase"), &t, json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(totals(app, &t).await, n(28));
    assert_eq!(totals(app, &other.token).await, n(3));
}

/// Creates that arrive together are written in groups on SQLite (one unit of work and one commit
/// per group), and every caller still gets exactly its own answer: its record with its generated
/// code, its own request in the audit trail, through whichever vendor's API it called. A create
/// whose code is taken fails alone, with the vendor's error, and nothing else is lost with it.
async fn concurrent_creates_are_written_in_groups(app: &TestApp) {
    let a = app.tenant("grouped").await;
    let t = a.token.clone();
    let (st, b) = app
        .post(
            "/api/v1/customer/create",
            &t,
            json!({"name": "Đã Có Mã", "code": "KHTAKEN"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let before = app.app.state.crm.create_groups();
    // Every third through NextX; two CRMTOP creates ask for the code that is taken.
    let nextx = |i: usize| i % 3 == 2;
    let taken = |i: usize| !nextx(i) && i.is_multiple_of(20);
    let n = 60;
    let answers = at_once(n, |i| {
        let (path, body) = if nextx(i) {
            (
                "/api/customer/customer",
                json!({"name": format!("Nhóm NextX {i}"), "type": "customer"}),
            )
        } else if taken(i) {
            (
                "/api/v1/customer/create",
                json!({"name": format!("Trùng Mã {i}"), "code": "KHTAKEN"}),
            )
        } else {
            (
                "/api/v1/customer/create",
                json!({"name": format!("Nhóm CRMTOP {i}")}),
            )
        };
        app.http
            .post(format!("{}{path}", app.base))
            .bearer_auth(&t)
            .json(&body)
    })
    .await;
    let after = app.app.state.crm.create_groups();
    // SQLite's one writer writes them in groups; PostgreSQL side by side, each on its own.
    match app.backend {
        Backend::Sqlite => assert!(
            after.0 > before.0 && after.1 >= before.1 + 2,
            "no group of creates was written: {before:?} -> {after:?}"
        ),
        Backend::Postgres => assert_eq!(after, before),
    }
    let mut codes = HashSet::new();
    let mut crmtop_ids = HashMap::new();
    for (i, (st, body)) in answers.iter().enumerate() {
        if taken(i) {
            assert_eq!(*st, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["success"], json!(false), "{body}");
            assert_eq!(body["data"], Value::Null, "{body}");
            let message = body["message"].as_str().unwrap_or_default();
            assert!(message.contains("already has this code"), "{body}");
        } else if nextx(i) {
            assert_eq!(*st, StatusCode::OK, "{body}");
            assert!(body["data"]["id"].is_i64(), "{body}");
            let code = body["data"]["code"].as_str().unwrap().to_owned();
            assert!(code.starts_with("KH") && code != "KHTAKEN", "{code}");
            codes.insert(code);
        } else {
            assert_eq!(*st, StatusCode::OK, "{body}");
            common::assert_crmtop_ok(body);
            let id = body["data"].as_str().unwrap().to_owned();
            let (_, got) = app.get(&format!("/api/v1/customer/get/{id}"), &t).await;
            assert_eq!(
                got["data"]["name"],
                json!(format!("Nhóm CRMTOP {i}")),
                "{got}"
            );
            let code = got["data"]["code"].as_str().unwrap().to_owned();
            assert!(code.starts_with("KH") && code != "KHTAKEN", "{code}");
            codes.insert(code);
            crmtop_ids.insert(id, i);
        }
    }
    let nextxs = (0..n).filter(|i| nextx(*i)).count();
    let crmtops = (0..n).filter(|i| !nextx(*i) && !taken(*i)).count();
    assert_eq!(codes.len(), nextxs + crmtops);
    // Exactly the stored ones, once each: the first customer and every create that succeeded.
    let all = app
        .search(
            "/api/v1/customer/search",
            &t,
            json!({"pageNumber": 1, "pageSize": 1}),
        )
        .await;
    assert_eq!(all["totalCount"], json!(1 + nextxs + crmtops), "{all}");
    let named = app
        .search(
            "/api/v1/customer/search",
            &t,
            json!({"pageNumber": 1, "pageSize": 100, "search": "Nhóm NextX"}),
        )
        .await;
    assert_eq!(named["totalCount"], json!(nextxs), "{named}");
    // Each record's audit entry names its own request: its dialect, route and request id.
    let (st, trail) = app.get("/crm/v1/audit?object=customer&limit=500", &t).await;
    assert_eq!(st, StatusCode::OK, "{trail}");
    let entries = trail["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1 + nextxs + crmtops, "{trail}");
    let mut requests = HashSet::new();
    let mut through_nextx = 0;
    for e in entries {
        assert_eq!(e["action"], json!("created"), "{e}");
        requests.insert(e["request_id"].as_str().unwrap().to_owned());
        let record = e["record_id"].as_str().unwrap();
        match e["dialect"].as_str().unwrap() {
            "nextx" => {
                assert_eq!(e["route"], json!("POST /api/customer/customer"), "{e}");
                through_nextx += 1;
            }
            "crmtop" => {
                assert_eq!(e["route"], json!("POST /api/v1/customer/create"), "{e}");
                let first = e["seq"] == entries.last().unwrap()["seq"];
                assert!(first || crmtop_ids.contains_key(record), "{e}");
            }
            other => panic!("an entry from {other}: {e}"),
        }
    }
    assert_eq!(through_nextx, nextxs);
    assert_eq!(requests.len(), entries.len(), "{trail}");
}

on_both_backends!(
    sales_never_oversell,
    one_conversion_per_lead,
    concurrent_creates_get_distinct_codes,
    racing_add_many_store_each_ref_once,
    concurrent_updates_lose_nothing,
    a_failed_step_writes_nothing,
    unfiltered_totals_follow_every_write,
    concurrent_creates_are_written_in_groups,
);

/// The store under the domain, without HTTP: a unit of work is all or nothing.
mod seam {
    use super::*;

    async fn store(backend: Backend) -> Option<(TestDb, Arc<SqlStore>, Actor)> {
        let db = TestDb::new(backend).await?;
        let conn = Db::connect(&db.url, PoolSettings::default()).await.unwrap();
        conn.migrate().await.unwrap();
        let store = Arc::new(SqlStore::new(conn));
        let auth = AuthService::new(store.clone(), AuthSettings::default());
        let tenant = auth
            .create_tenant("Seam", Some("seam"), None)
            .await
            .unwrap();
        let client = auth
            .create_client(&tenant, "seam", crm_domain::scope::Scope::ALL)
            .await
            .unwrap();
        let actor = tenant.actor(client.client.id.0, client.client.name);
        Some((db, store, actor))
    }

    fn customer(name: &str) -> CustomerInput {
        CustomerInput {
            name: Some(name.to_owned()),
            ..CustomerInput::default()
        }
    }

    async fn count<E: crm_domain::service::Managed>(
        crm: &crm_domain::service::Crm,
        actor: &Actor,
    ) -> u64 {
        crm.search::<E>(actor, &Filter::all(), PageRequest::of(1, 1))
            .await
            .unwrap()
            .total
    }

    /// Writes then a failed check, in one work: dropping it leaves nothing; a committed one
    /// stays. Writes inside the work are visible to reads inside it, not outside.
    async fn failed_check_after_a_write(backend: Backend) {
        let Some((db, store, actor)) = store(backend).await else {
            return;
        };
        let crm = store.crm();
        let mut w = crm.begin().await.unwrap();
        let id = crm
            .create_in::<Customer>(&mut w, &actor, customer("Khách Tạm"))
            .await
            .unwrap();
        let inside = Repository::<Customer>::get(&*store, w.at(), actor.tenant_id, id)
            .await
            .unwrap();
        assert!(inside.is_some(), "the work sees its own write");
        let outside = Repository::<Customer>::get(&*store, At::Committed, actor.tenant_id, id)
            .await
            .unwrap();
        assert!(outside.is_none(), "nothing is visible before the commit");
        // A second customer with the same code is the failed check.
        let mut dup = customer("Khách Trùng");
        dup.code = Some("KH-DUP".to_owned());
        crm.create_in::<Customer>(&mut w, &actor, dup.clone())
            .await
            .unwrap();
        let err = crm.create_in::<Customer>(&mut w, &actor, dup).await;
        assert!(matches!(err, Err(DomainError::Conflict { .. })), "{err:?}");
        drop(w);
        assert_eq!(count::<Customer>(&crm, &actor).await, 0);

        let mut w = crm.begin().await.unwrap();
        crm.create_in::<Customer>(&mut w, &actor, customer("Khách Thật"))
            .await
            .unwrap();
        w.commit().await.unwrap();
        assert_eq!(count::<Customer>(&crm, &actor).await, 1);
        drop(crm);
        store.db.close().await;
        db.drop_db().await;
    }

    /// A multi-write use case failing in its middle (the product stored, then a bad unit):
    /// no product, no unit of measure, no stock.
    async fn failure_in_the_middle(backend: Backend) {
        let Some((db, store, actor)) = store(backend).await else {
            return;
        };
        let crm = store.crm();
        let branch = crm
            .create_place(
                &actor,
                false,
                crm_domain::inventory::Place {
                    code: "CN".to_owned(),
                    name: "Chi nhánh".to_owned(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let data = ProductData {
            name: "Trà xanh".to_owned(),
            ..ProductData::default()
        };
        let units = vec![
            NamedUnit {
                name: "Thùng".to_owned(),
                rate: 24.0,
                retail_price: crm_domain::money::Money::from_i64(200_000),
            },
            NamedUnit {
                name: "Lốc".to_owned(),
                rate: -6.0,
                retail_price: crm_domain::money::Money::ZERO,
            },
        ];
        let opening = Opening {
            branch: Some(branch),
            store: None,
            quantity: 48.0,
        };
        let err = crm
            .create_stocked_product(&actor, data.clone(), units, opening)
            .await;
        match err {
            Err(DomainError::Validation { field, .. }) => assert_eq!(field, "units[1].unit_rate"),
            other => panic!("{other:?}"),
        }
        assert_eq!(count::<Product>(&crm, &actor).await, 0);
        let id = crm
            .create_stocked_product(&actor, data, Vec::new(), opening)
            .await
            .unwrap();
        let stock = crm.stock(&actor, &[id], Some(branch), None).await.unwrap();
        assert_eq!(stock, vec![(id, 48.0)]);
        assert_eq!(count::<Product>(&crm, &actor).await, 1);
        drop(crm);
        store.db.close().await;
        db.drop_db().await;
    }

    /// The ZNS token refresh claim (`Crm::claim_token_refresh`): of many senders finding the
    /// same token refused at once, one claims the refresh and the others are told to wait; the
    /// stored pair then answers everyone, and the claim is never shown with the settings.
    async fn one_refresh_claim(backend: Backend) {
        use crm_domain::messaging::Channel;
        use crm_domain::service::TokenTurn;
        let Some((db, store, actor)) = store(backend).await else {
            return;
        };
        let crm = store.crm();
        let tenant = actor.tenant_id;
        crm.update_settings(
            tenant,
            Channel::Zns,
            &[("access_token".to_owned(), "old".to_owned())],
        )
        .await
        .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (crm, barrier) = (crm.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    crm.claim_token_refresh(tenant, Some("old")).await.unwrap()
                })
            })
            .collect();
        let mut turns = Vec::new();
        for t in tasks {
            turns.push(t.await.unwrap());
        }
        let claimed = turns
            .iter()
            .filter(|t| matches!(t, TokenTurn::Refresh(_)))
            .count();
        let waiting = turns
            .iter()
            .filter(|t| matches!(t, TokenTurn::Busy))
            .count();
        assert_eq!((claimed, waiting), (1, 7), "{turns:?}");
        // The claim is bookkeeping: not among the settings shown.
        let shown = crm.settings(&actor, Channel::Zns).await.unwrap();
        assert_eq!(
            shown.keys().collect::<Vec<_>>(),
            ["access_token"],
            "{shown:?}"
        );
        // A failed refresh releases the claim: the next sender claims it.
        crm.finish_token_refresh(tenant, None).await.unwrap();
        assert!(matches!(
            crm.claim_token_refresh(tenant, Some("old")).await.unwrap(),
            TokenTurn::Refresh(_)
        ));
        // A refresh that worked stores the pair, which answers those refused the old token.
        crm.finish_token_refresh(tenant, Some(("new".to_owned(), "r2".to_owned())))
            .await
            .unwrap();
        match crm.claim_token_refresh(tenant, Some("old")).await.unwrap() {
            TokenTurn::Current(token) => assert_eq!(token, "new"),
            other => panic!("{other:?}"),
        }
        let stored = crm.settings_secrets(tenant, Channel::Zns).await.unwrap();
        assert_eq!(stored.get("refresh_token"), Some("r2"));
        assert_eq!(stored.values.len(), 2, "{stored:?}");
        drop(crm);
        store.db.close().await;
        db.drop_db().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_one_refresh_claim() {
        one_refresh_claim(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_one_refresh_claim() {
        one_refresh_claim(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_failed_check_after_a_write() {
        failed_check_after_a_write(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_failed_check_after_a_write() {
        failed_check_after_a_write(Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_failure_in_the_middle() {
        failure_in_the_middle(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_failure_in_the_middle() {
        failure_in_the_middle(Backend::Postgres).await;
    }
}
