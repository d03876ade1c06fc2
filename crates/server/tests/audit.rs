//! The audit trail over HTTP, on both backends: a customer created through CRMTOP by one API
//! client and changed through NextX by another shows both writers, their dialects and routes,
//! and the changed fields before and after; deletes, API clients made and revoked and tokens
//! issued are recorded; a refused write records nothing; another tenant sees none of it; the
//! reads are bounded and paged; `crm audit` prints the same.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn trail(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (st, b) = app.get(&format!("/crm/v1/audit?{query}"), token).await;
    assert_eq!(st, StatusCode::OK, "{query}: {b}");
    b["data"].as_array().unwrap().clone()
}

async fn audit_trail(app: &TestApp) {
    let a = app.tenant("shop").await;
    let other = app.tenant("other").await;

    // A second API client of the shop, made over HTTP by the first.
    let (st, made) = app
        .post("/crm/v1/clients", &a.token, json!({"name": "erp"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    let b_client = made["client_id"].as_str().unwrap().to_owned();
    let (st, tok) = app
        .call(
            Method::POST,
            "/api/v1/auth/get-token-for-develop",
            None,
            Some(json!({"clientId": b_client, "clientSecret": made["client_secret"]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{tok}");
    let b_token = tok["data"]["accessToken"].as_str().unwrap().to_owned();

    // Created through CRMTOP by the first client.
    let id = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Nguyễn Văn An", "phone": "0912345678"}),
        )
        .await;
    // A refused write records nothing.
    let (st, _) = app
        .post(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Lỗi", "phone": "12"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Changed through NextX by the second.
    let (st, listed) = app
        .call(
            Method::GET,
            "/api/customer/customer?strSearch=0912345678",
            Some(&b_token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{listed}");
    let nid = listed[0]["id"].as_i64().unwrap();
    let (st, b) = app
        .call(
            Method::PUT,
            &format!("/api/customer/customer/{nid}"),
            Some(&b_token),
            Some(
                json!({"name": "Nguyễn Văn Ân", "mobile": "0912345678", "type": "customer",
                        "email": "an@example.vn"}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");

    let entries = trail(app, &a.token, &format!("record={id}")).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    let (updated, created) = (&entries[0], &entries[1]);
    assert_eq!(created["object"], json!("customer"));
    assert_eq!(created["action"], json!("created"));
    assert_eq!(created["record_id"], json!(id));
    assert_eq!(created["client"], json!(a.client_id));
    assert_eq!(created["client_name"], json!("tests"));
    assert_eq!(created["dialect"], json!("crmtop"));
    assert_eq!(created["route"], json!("POST /api/v1/customer/create"));
    assert_eq!(created["changes"], Value::Null);
    assert!(created["request_id"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(created["seq"].as_i64().unwrap() > 0);
    assert!(created["at"].as_str().unwrap().contains('T'));

    assert_eq!(updated["action"], json!("updated"));
    assert_eq!(updated["client"], json!(b_client));
    assert_eq!(updated["client_name"], json!("erp"));
    assert_eq!(updated["dialect"], json!("nextx"));
    assert_eq!(updated["route"], json!("PUT /api/customer/customer/{id}"));
    let changes = &updated["changes"];
    assert_eq!(
        changes["name"],
        json!({"before": "Nguyễn Văn An", "after": "Nguyễn Văn Ân"}),
        "{changes}"
    );
    assert_eq!(
        changes["email"],
        json!({"before": null, "after": "an@example.vn"}),
        "{changes}"
    );
    assert!(changes.get("phone").is_none(), "unchanged: {changes}");
    assert!(updated["seq"].as_i64() > created["seq"].as_i64());

    // The request id a client sends is the one recorded.
    let r = app
        .http
        .put(format!("{}/api/v1/customer/update", app.base))
        .bearer_auth(&a.token)
        .header("X-Request-Id", "audit-test-1")
        .json(&json!({"id": id, "name": "Nguyễn Văn Ân", "phone": "0912345678", "note": "VIP"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let last = &trail(app, &a.token, &format!("record={id}&limit=1")).await[0];
    assert_eq!(last["request_id"], json!("audit-test-1"), "{last}");
    assert_eq!(last["changes"]["note"]["after"], json!("VIP"), "{last}");

    // Deleted through CRMTOP.
    let (st, b) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), &a.token)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let entries = trail(app, &a.token, &format!("record={id}")).await;
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(entries[0]["action"], json!("deleted"));
    assert_eq!(
        entries[0]["route"],
        json!("DELETE /api/v1/customer/delete/{id}")
    );
    let customers = trail(app, &a.token, "object=customer").await;
    assert_eq!(
        customers.len(),
        4,
        "the refused create left nothing: {customers:?}"
    );

    // API clients and tokens.
    let clients = trail(app, &a.token, "object=api_client").await;
    assert_eq!(clients.len(), 2, "{clients:?}");
    assert_eq!(clients[0]["action"], json!("created"));
    assert_eq!(clients[0]["client"], json!(a.client_id));
    assert_eq!(clients[0]["route"], json!("POST /crm/v1/clients"));
    assert_eq!(clients[0]["dialect"], json!("crm"));
    // The first client, made by the operator (as the test harness does, `crm client create`).
    assert_eq!(clients[1]["client_name"], json!("command line"));
    assert_eq!(clients[1]["client"], Value::Null);
    assert_eq!(clients[1]["route"], Value::Null);
    let tokens = trail(app, &a.token, &format!("object=token&client={b_client}")).await;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0]["action"], json!("issued"));
    assert_eq!(tokens[0]["dialect"], json!("crmtop"));
    let r = app
        .http
        .delete(format!("{}/crm/v1/clients/{b_client}", app.base))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let clients = trail(app, &a.token, "object=api_client").await;
    assert_eq!(clients[0]["action"], json!("revoked"), "{clients:?}");
    assert_eq!(clients[0]["client_name"], json!("tests"));

    // By client and by time; pages.
    let by_b = trail(app, &a.token, &format!("client={b_client}")).await;
    assert!(by_b.iter().all(|e| e["client"] == json!(b_client)));
    assert_eq!(by_b.len(), 2, "the update and the token: {by_b:?}");
    assert!(trail(app, &a.token, "since=2999-01-01").await.is_empty());
    assert_eq!(
        trail(app, &a.token, "until=2000-01-01T00:00:00Z")
            .await
            .len(),
        0
    );
    let (_, page) = app.get("/crm/v1/audit?limit=2", &a.token).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let next = page["next_before"].as_i64().unwrap();
    assert_eq!(next, page["data"][1]["seq"].as_i64().unwrap());
    let (_, page2) = app
        .get(&format!("/crm/v1/audit?limit=2&before={next}"), &a.token)
        .await;
    assert!(page2["data"][0]["seq"].as_i64().unwrap() < next);

    // Another tenant sees none of it.
    assert!(trail(app, &other.token, &format!("record={id}"))
        .await
        .is_empty());
    let theirs = trail(app, &other.token, "").await;
    assert_eq!(theirs.len(), 2, "its own client and token only: {theirs:?}");
    assert_eq!(theirs[0]["object"], json!("token"));
    assert_eq!(theirs[1]["object"], json!("api_client"));

    // Bounds, in our error shape.
    for (query, field) in [
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("record=42", "record"),
        ("client=nobody", "client"),
    ] {
        let (st, b) = app.get(&format!("/crm/v1/audit?{query}"), &a.token).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{query}: {b}");
        assert_eq!(b["field"], json!(field), "{query}: {b}");
    }
    let (st, b) = app.get("/crm/v1/audit?colour=red", &a.token).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, _) = app.get("/crm/v1/audit", "not-a-token").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // The command line reads the same trail.
    let out = tokio::process::Command::new(common::process::BIN)
        .env("CRM_DATABASE_URL", app.db_url())
        .args(["audit", "--tenant", "shop", "--record", &id, "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed.as_array().unwrap().len(), 4, "{printed}");
    assert_eq!(printed[3]["route"], json!("POST /api/v1/customer/create"));
    assert_eq!(printed[3]["client"], json!(a.client_id));
}

async fn found(app: &TestApp, token: &str, q: &str) -> Value {
    let body = json!({"pageNumber": 1, "pageSize": 10, "search": q});
    app.search("/api/v1/customer/search", token, body).await
}

/// A deleted customer comes back with its contact; a person is erased for good, the values the
/// trail recorded for them with it, and one entry says so; bounds and tenants hold.
async fn restore_and_erase(app: &TestApp) {
    let a = app.tenant("shop").await;
    let other = app.tenant("other").await;
    let t = &a.token;
    let id = app
        .create(
            "/api/v1/customer/create",
            t,
            json!({"name": "Phạm Thị Hoa", "phone": "0987654321", "email": "hoa@example.vn"}),
        )
        .await;
    let contact = app
        .create(
            "/api/v1/contact/create",
            t,
            json!({"fullName": "Lê Văn Nam", "customerId": id, "phone": "0911222333"}),
        )
        .await;
    let (st, _) = app
        .put(
            "/api/v1/customer/update",
            t,
            json!({"id": id, "name": "Phạm Thị Hoa", "phone": "0987654321",
                   "email": "hoa.pham@example.vn"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // Deleted, then restored: found by id and by search, its contact still its own.
    let (st, b) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), t)
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, _) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) = app
        .post(
            &format!("/crm/v1/records/customer/{id}/restore"),
            &other.token,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another tenant's: {b}");
    let (st, b) = app
        .post(
            &format!("/crm/v1/records/customer/{id}/restore"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b, json!({"kind": "customer", "id": id, "done": "restored"}));
    let (st, b) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["email"], json!("hoa.pham@example.vn"));
    assert_eq!(found(app, t, "0987654321").await["totalCount"], json!(1));
    let (st, b) = app.get(&format!("/api/v1/contact/get/{contact}"), t).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["data"]["customerId"], json!(id));
    let (st, b) = app
        .post(
            &format!("/crm/v1/records/customer/{id}/restore"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not deleted: {b}");
    let entries = trail(app, t, &format!("record={id}")).await;
    assert_eq!(entries[0]["action"], json!("restored"), "{entries:?}");
    assert_eq!(
        entries[0]["route"],
        json!("POST /crm/v1/records/{kind}/{id}/restore")
    );

    // Erased: a person other records point at is refused until they are unlinked.
    let (st, b) = app
        .post(
            &format!("/crm/v1/records/customer/{id}/erase"),
            t,
            json!({}),
        )
        .await;
    if st == StatusCode::CONFLICT {
        let (st, b) = app
            .post(
                &format!("/crm/v1/records/contact/{contact}/erase"),
                t,
                json!({}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let (st, b) = app
            .post(
                &format!("/crm/v1/records/customer/{id}/erase"),
                t,
                json!({}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
    } else {
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let (st, _) = app.get(&format!("/api/v1/customer/get/{id}"), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(found(app, t, "0987654321").await["totalCount"], json!(0));
    assert_eq!(found(app, t, "Phạm Thị Hoa").await["totalCount"], json!(0));
    let entries = trail(app, t, &format!("record={id}")).await;
    assert_eq!(entries[0]["action"], json!("erased"), "{entries:?}");
    assert!(
        entries.iter().all(|e| e["changes"].is_null()),
        "no recorded value of the erased person stays: {entries:?}"
    );
    let text = serde_json::to_string(&entries).unwrap();
    assert!(
        !text.contains("hoa.pham") && !text.contains("0987654321"),
        "{text}"
    );
    let (st, _) = app
        .post(
            &format!("/crm/v1/records/customer/{id}/restore"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "an erased person cannot come back"
    );
    let (st, _) = app
        .post(
            &format!("/crm/v1/records/customer/{id}/erase"),
            t,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Bounds.
    for (path, status, field) in [
        (
            "/crm/v1/records/order/{id}/erase",
            StatusCode::BAD_REQUEST,
            Some("kind"),
        ),
        (
            "/crm/v1/records/planet/{id}/restore",
            StatusCode::BAD_REQUEST,
            Some("kind"),
        ),
        (
            "/crm/v1/records/customer/not-an-id/erase",
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        let (st, b) = app
            .post(&path.replace("{id}", &contact), t, json!({}))
            .await;
        assert_eq!(st, status, "{path}: {b}");
        if let Some(f) = field {
            assert_eq!(b["field"], json!(f), "{b}");
        }
    }
}

/// Settings changes (channels, document settings) are in the trail: the keys changed, before and
/// after, a secret only as `set`; another tenant's trail shows none of them.
async fn settings_changes_are_audited(app: &TestApp) {
    let a = app.tenant("shop").await;
    let other = app.tenant("other").await;
    for settings in [
        json!({"smtp_url": "smtp://shop:pa55@127.0.0.1:2525", "tls": "none", "from": "shop@shop.vn"}),
        json!({"from": "sales@shop.vn"}),
    ] {
        let (st, b) = app
            .put(
                "/crm/v1/channels/email",
                &a.token,
                json!({ "settings": settings }),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let (st, b) = app
        .put(
            "/crm/v1/settings/documents",
            &a.token,
            json!({"settings": {"seller_name": "Cửa hàng Minh Phát", "tax_code": "0312345678"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");

    let email = trail(app, &a.token, "object=email_settings").await;
    assert_eq!(email.len(), 2, "{email:?}");
    // Newest first: only what the second change changed.
    assert_eq!(email[0]["action"], json!("updated"));
    assert_eq!(email[0]["dialect"], json!("crm"));
    assert_eq!(email[0]["route"], json!("PUT /crm/v1/channels/{channel}"));
    assert_eq!(
        email[0]["changes"],
        json!({"from": {"before": "shop@shop.vn", "after": "sales@shop.vn"}})
    );
    let first = &email[1]["changes"];
    assert_eq!(first["smtp_url"], json!({"before": null, "after": "set"}));
    assert_eq!(first["tls"], json!({"before": null, "after": "none"}));
    assert!(!first.to_string().contains("pa55"), "{first}");
    let docs = trail(app, &a.token, "object=documents_settings").await;
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(
        docs[0]["changes"]["seller_name"],
        json!({"before": null, "after": "Cửa hàng Minh Phát"})
    );
    assert!(trail(app, &other.token, "object=email_settings")
        .await
        .is_empty());
}

/// Memberships and ticket comments are on their list's and ticket's trail.
async fn memberships_and_comments_are_audited(app: &TestApp) {
    let a = app.tenant("shop").await;
    let t = &a.token;
    let customer = app
        .create(
            "/api/v1/customer/create",
            t,
            json!({"name": "Nguyễn Văn Đức", "phone": "0912345678"}),
        )
        .await;
    let seg = app
        .create(
            "/api/v1/segment/create",
            t,
            json!({"id": "00000000-0000-0000-0000-000000000000", "name": "Khách VIP"}),
        )
        .await;
    let (st, b) = app
        .post(
            "/api/v1/segment/member/add",
            t,
            json!({"segmentId": seg, "type": 1, "ids": [customer]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let page = app
        .search(
            "/api/v1/segment/member/search",
            t,
            json!({"segmentId": seg}),
        )
        .await;
    let row = page["data"][0]["id"].as_i64().unwrap();
    let (st, b) = app
        .post(
            "/api/v1/segment/member/delete",
            t,
            json!({"segmentId": seg, "ids": [row]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let on_list = trail(app, t, &format!("record={seg}")).await;
    let actions: Vec<&str> = on_list
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["members_removed", "members_added", "created"],
        "{on_list:?}"
    );
    assert_eq!(
        on_list[1]["changes"]["members"]["after"],
        json!({"kind": "customer", "ids": [customer], "added": 1})
    );
    assert_eq!(
        on_list[0]["changes"]["members"]["before"],
        json!({"rows": [row]})
    );

    // A ticket (CRMTOP takes it as a multipart form) and a comment on it.
    let send = |path: String| {
        app.http
            .post(format!("{}{path}", app.base))
            .bearer_auth(t)
            .multipart(reqwest::multipart::Form::new())
            .send()
    };
    let r = send(format!(
        "/api/v1/ticket/create?Subject=M%C3%A1y%20k%C3%AAu&CustomerId={customer}"
    ))
    .await
    .unwrap();
    let b: Value = r.json().await.unwrap();
    let ticket = b["data"]
        .as_str()
        .unwrap_or_else(|| panic!("{b}"))
        .to_owned();
    let r = send(format!(
        "/api/v1/ticket/send/comment?TicketId={ticket}&Message=%C4%90%C3%A3%20g%E1%BB%8Di"
    ))
    .await
    .unwrap();
    let b: Value = r.json().await.unwrap();
    let comment = b["data"]
        .as_str()
        .unwrap_or_else(|| panic!("{b}"))
        .to_owned();
    let on_ticket = trail(app, t, &format!("record={ticket}")).await;
    assert_eq!(on_ticket[0]["action"], json!("commented"), "{on_ticket:?}");
    assert_eq!(on_ticket[0]["object"], json!("ticket"));
    assert_eq!(
        on_ticket[0]["changes"]["comment"]["after"],
        json!({"id": comment, "files": 0})
    );
}

on_both_backends!(
    audit_trail,
    restore_and_erase,
    settings_changes_are_audited,
    memberships_and_comments_are_audited
);
