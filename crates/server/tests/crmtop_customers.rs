//! CRMTOP customers and customer groups over HTTP, as the seed's cURL examples call them.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, assert_field_error, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

const NIL: &str = "00000000-0000-0000-0000-000000000000";

fn customer_body(name: &str, phone: &str, email: &str) -> Value {
    json!({
        "id": NIL, "code": "", "name": name, "type": 1, "taxCode": "0312345678",
        "businessType": "Bán lẻ", "groupId": NIL, "groupName": "",
        "phone": phone, "email": email, "website": "https://example.vn",
        "address": "12 Lê Lợi, Quận 1, TP.HCM", "note": "khách quen",
        "ownerId": "0b6a4c1e-6c0e-4a8e-9a43-0d7c8f0f0001", "ownerName": "Trần Thị Bình",
        "orgUnitId": NIL, "orgUnitName": "Chi nhánh HCM"
    })
}

async fn search(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, resp) = app.post("/api/v1/customer/search", token, body).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_crmtop_ok(&resp);
    resp["data"].clone()
}

fn names(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn customer_lifecycle_as_in_the_seed(app: &TestApp) {
    let a = app.tenant("acme").await;
    let id = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            customer_body("Nguyễn Văn An", "0912345678", "An.Nguyen@Gmail.com"),
        )
        .await;

    let (status, got) = app
        .get(&format!("/api/v1/customer/get/{id}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_crmtop_ok(&got);
    assert_eq!(
        got["data"],
        json!({
            "id": id, "code": "KH000001", "name": "Nguyễn Văn An", "type": 1,
            "taxCode": "0312345678", "businessType": "Bán lẻ", "groupId": null, "groupName": null,
            "phone": "0912345678", "email": "An.Nguyen@Gmail.com", "website": "https://example.vn",
            "address": "12 Lê Lợi, Quận 1, TP.HCM", "note": "khách quen",
            "ownerId": "0b6a4c1e-6c0e-4a8e-9a43-0d7c8f0f0001", "ownerName": "Trần Thị Bình",
            "orgUnitId": null, "orgUnitName": "Chi nhánh HCM"
        })
    );

    for query in [
        "nguyen",
        "NGUYEN van",
        "Nguyễn",
        "+84 912 345 678",
        "an.nguyen@gmail.com",
        "KH000001",
    ] {
        let page = search(
            app,
            &a.token,
            json!({"pageNumber": 0, "pageSize": 0, "search": query}),
        )
        .await;
        assert_eq!(page["totalCount"], json!(1), "query {query}: {page}");
        let item = &page["data"][0];
        assert_eq!(item["id"], json!(id));
        assert_eq!(item["name"], json!("Nguyễn Văn An"));
        assert!(
            item["createdOn"].as_str().unwrap().ends_with("+07:00"),
            "{item}"
        );
        assert_eq!(item["createdByName"], json!("tests"));
    }

    let mut changed = customer_body("Nguyễn Văn An (VIP)", "+84 988 000 111", "an@example.vn");
    changed["id"] = json!(id);
    let (status, resp) = app.put("/api/v1/customer/update", &a.token, changed).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_crmtop_ok(&resp);
    assert_eq!(resp["data"], json!(id));

    let (_, got) = app
        .get(&format!("/api/v1/customer/get/{id}"), &a.token)
        .await;
    assert_eq!(got["data"]["name"], json!("Nguyễn Văn An (VIP)"));
    assert_eq!(got["data"]["phone"], json!("+84 988 000 111"));
    assert_eq!(
        got["data"]["code"],
        json!("KH000001"),
        "an empty code keeps the old one"
    );
    let old_phone = search(app, &a.token, json!({"search": "0912345678"})).await;
    assert_eq!(
        old_phone["totalCount"],
        json!(0),
        "old phone no longer matches"
    );
    let new_phone = search(app, &a.token, json!({"search": "0988000111"})).await;
    assert_eq!(new_phone["totalCount"], json!(1));

    let (status, resp) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_crmtop_ok(&resp);
    assert_eq!(resp["data"], json!(true));

    let (status, gone) = app
        .get(&format!("/api/v1/customer/get/{id}"), &a.token)
        .await;
    let message = assert_crmtop_err(status, &gone, StatusCode::NOT_FOUND);
    assert_eq!(message, "customer not found");
    assert_eq!(gone["errors"], Value::Null);
    let (status, again) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), &a.token)
        .await;
    assert_crmtop_err(status, &again, StatusCode::NOT_FOUND);
    assert_eq!(
        search(app, &a.token, json!({"search": "nguyen"})).await["totalCount"],
        json!(0)
    );
}

async fn another_tenant_sees_none_of_it(app: &TestApp) {
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let id = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            customer_body("Lê Thị Hoa", "0903111222", "hoa@a.vn"),
        )
        .await;
    let group = app
        .create(
            "/api/v1/customer/group/create",
            &a.token,
            json!({"id": NIL, "name": "VIP", "note": ""}),
        )
        .await;

    let (status, body) = app
        .get(&format!("/api/v1/customer/get/{id}"), &b.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let page = search(app, &b.token, json!({"search": ""})).await;
    assert_eq!(page["totalCount"], json!(0));
    assert_eq!(page["data"], json!([]));
    let page = search(app, &b.token, json!({"search": "hoa"})).await;
    assert_eq!(page["totalCount"], json!(0));

    let mut hijack = customer_body("Hijacked", "0903111222", "x@b.vn");
    hijack["id"] = json!(id);
    let (status, body) = app.put("/api/v1/customer/update", &b.token, hijack).await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), &b.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    let mut with_group = customer_body("Khách B", "0903999888", "b@b.vn");
    with_group["groupId"] = json!(group);
    let (status, body) = app
        .post("/api/v1/customer/create", &b.token, with_group)
        .await;
    assert_field_error(status, &body, "groupId");
    let (status, body) = app
        .delete(&format!("/api/v1/customer/group/delete/{group}"), &b.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, groups) = app
        .post("/api/v1/customer/group/search", &b.token, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(groups["data"]["totalCount"], json!(0));

    let (_, still) = app
        .get(&format!("/api/v1/customer/get/{id}"), &a.token)
        .await;
    assert_eq!(still["data"]["name"], json!("Lê Thị Hoa"));
}

async fn search_matches_the_way_vietnamese_users_type(app: &TestApp) {
    let a = app.tenant("search").await;
    for (name, phone, email) in [
        ("Đặng Thị Hồng", "01683456789", "Hong.Dang@Example.VN"),
        ("Nguyễn Văn Đức", "0903 123 456", "duc@example.vn"),
        (
            "Công ty TNHH Hoà Bình",
            "(028) 3822 1234",
            "lienhe@hoabinh.vn",
        ),
        ("Trần Minh Nguyệt", "+84 977 000 333", "nguyet@example.vn"),
    ] {
        app.create(
            "/api/v1/customer/create",
            &a.token,
            customer_body(name, phone, email),
        )
        .await;
    }
    let cases: &[(Value, &[&str])] = &[
        (json!({"search": "dang"}), &["Đặng Thị Hồng"]),
        (json!({"search": "ĐẶNG THỊ"}), &["Đặng Thị Hồng"]),
        (json!({"search": "Đa\u{323}ng"}), &["Đặng Thị Hồng"]),
        (json!({"search": "duc"}), &["Nguyễn Văn Đức"]),
        (json!({"search": "van du"}), &["Nguyễn Văn Đức"]),
        (json!({"search": "thi hong"}), &["Đặng Thị Hồng"]),
        (
            json!({"search": "nguy"}),
            &["Trần Minh Nguyệt", "Nguyễn Văn Đức"],
        ),
        (json!({"search": "hoa binh"}), &["Công ty TNHH Hoà Bình"]),
        (json!({"search": "0383456789"}), &["Đặng Thị Hồng"]),
        (json!({"search": "+84 383 456 789"}), &["Đặng Thị Hồng"]),
        (json!({"search": "84977000333"}), &["Trần Minh Nguyệt"]),
        (
            json!({"search": "HONG.DANG@example.vn"}),
            &["Đặng Thị Hồng"],
        ),
        (json!({"email": "DUC@EXAMPLE.VN"}), &["Nguyễn Văn Đức"]),
        (json!({"phone": "0903123456"}), &["Nguyễn Văn Đức"]),
        (json!({"phone": "0903"}), &["Nguyễn Văn Đức"]),
        (
            json!({"name": "nguyen", "phone": "0903 123 456"}),
            &["Nguyễn Văn Đức"],
        ),
        (json!({"name": "example"}), &[]),
        (
            json!({"search": "string", "code": "string", "name": "string"}),
            &[],
        ),
        (json!({"search": "!!!"}), &[]),
    ];
    for (query, expected) in cases {
        let page = search(app, &a.token, query.clone()).await;
        assert_eq!(
            names(&page),
            expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{query}"
        );
        assert_eq!(page["totalCount"], json!(expected.len()), "{query}");
    }

    let page = search(app, &a.token, json!({"pageNumber": 2, "pageSize": 3})).await;
    assert_eq!(page["currentPage"], json!(2));
    assert_eq!(page["pageSize"], json!(3));
    assert_eq!(page["totalCount"], json!(4));
    assert_eq!(page["totalPages"], json!(2));
    assert_eq!(page["hasPreviousPage"], json!(true));
    assert_eq!(page["hasNextPage"], json!(false));
    assert_eq!(names(&page), vec!["Đặng Thị Hồng"], "oldest last");
    let first = search(app, &a.token, json!({"pageNumber": 1, "pageSize": 3})).await;
    assert_eq!(first["hasPreviousPage"], json!(false));
    assert_eq!(first["hasNextPage"], json!(true));
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    let beyond = search(app, &a.token, json!({"pageNumber": 9, "pageSize": 3})).await;
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(beyond["totalCount"], json!(4));
}

/// Search as people type (`docs/search.md`): a phone's last digits, an e-mail's domain or local
/// part, a name's words from any of them or family and given name alone; exact phone, e-mail
/// and code first, then whole names, then the other matches, newest first in each.
async fn search_as_people_type(app: &TestApp) {
    let a = app.tenant("as-typed").await;
    for (name, phone, email) in [
        ("Trần An", "0901 000 111", "an@x.vn"),
        ("Nguyễn Văn Đức", "0912345678", "duc@example.vn"),
        ("Trần Thị Lan", "0987 654 321", "lan.tran@congty.vn"),
        ("Trần Anh", "0901 000 222", "an@x.vn.com"),
    ] {
        app.create(
            "/api/v1/customer/create",
            &a.token,
            customer_body(name, phone, email),
        )
        .await;
    }
    let duc: &[&str] = &["Nguyễn Văn Đức"];
    let lan: &[&str] = &["Trần Thị Lan"];
    let cases: &[(&str, &[&str])] = &[
        ("nguyen van duc", duc),
        ("van duc", duc),
        ("duc", duc),
        ("Đức Nguyễn", duc),
        ("duc nguyen van", duc),
        ("nguyen duc", duc),
        ("345678", duc),
        ("5678", duc),
        ("345 678", duc),
        ("example.vn", duc),
        ("@example.vn", duc),
        ("duc@", duc),
        ("congty", lan),
        ("tran lan", lan),
        ("lan tran", lan),
        ("654321", lan),
        // Ranked: the whole name before the newer partial match.
        ("tran an", &["Trần An", "Trần Anh"]),
        // The exact e-mail before the newer one it prefixes.
        ("an@x.vn", &["Trần An", "Trần Anh"]),
        // The exact phone first; the other shares only the prefix.
        ("0901000111", &["Trần An"]),
        ("0901 000", &["Trần Anh", "Trần An"]),
        // Too few digits for a phone's end, and not the start of any term.
        ("321", &[]),
        ("nguyen lan", &[]),
    ];
    for (query, expected) in cases {
        let page = search(app, &a.token, json!({"search": query})).await;
        assert_eq!(
            names(&page),
            expected.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "{query}"
        );
        assert_eq!(page["totalCount"], json!(expected.len()), "{query}");
    }
    // The exact match comes first however many partial ones are newer.
    for i in 0..3 {
        app.create(
            "/api/v1/customer/create",
            &a.token,
            customer_body(
                &format!("Trần An Khang {i}"),
                &format!("0933 000 00{i}"),
                &format!("khang{i}@example.org"),
            ),
        )
        .await;
    }
    let page = search(app, &a.token, json!({"search": "Trần An", "pageSize": 2})).await;
    assert_eq!(page["totalCount"], json!(5), "{page}");
    assert_eq!(names(&page), ["Trần An", "Trần An Khang 2"]);
    let second = search(
        app,
        &a.token,
        json!({"search": "Trần An", "pageSize": 2, "pageNumber": 2}),
    )
    .await;
    assert_eq!(names(&second), ["Trần An Khang 1", "Trần An Khang 0"]);
    // A deleted customer is neither counted nor listed (the typed search is answered from the
    // index, which a deletion leaves).
    let khang = search(app, &a.token, json!({"search": "tran an khang 1"})).await;
    let id = khang["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .delete(&format!("/api/v1/customer/delete/{id}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = search(app, &a.token, json!({"search": "Trần An", "pageSize": 10})).await;
    assert_eq!(page["totalCount"], json!(4), "{page}");
    assert_eq!(
        names(&page),
        ["Trần An", "Trần An Khang 2", "Trần An Khang 0", "Trần Anh"]
    );
    // On PostgreSQL a point search (a phone, its last digits, an e-mail) is read on a
    // connection of its own that runs it on its generic plan (docs/search.md); a name search
    // is not. Behind a pooler in transaction mode there is no such connection.
    if app.backend == Backend::Postgres {
        let point_reads = || async {
            let mut c = sqlx::PgConnection::connect(&app.db_url()).await.unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT query FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = $1",
            )
            .bind(crm_store::db::POINT_READS_APPLICATION)
            .fetch_all(&mut c)
            .await
            .unwrap();
            rows
        };
        let last = point_reads().await;
        if app.two_nodes() {
            assert!(last.is_empty(), "{last:?}");
        } else {
            assert!(
                !last.is_empty(),
                "no point-read connection after point searches"
            );
            assert!(
                last.iter().all(|(q,)| q.contains("search_terms")),
                "{last:?}"
            );
        }
    }
}

/// A tenant whose index an older build wrote (word suffixes only, `search_version` 0) is
/// rebuilt when a node starts, before it serves: the new query shapes find the old records.
async fn an_older_index_is_rebuilt_at_start(app: &TestApp) {
    let a = app.tenant("older").await;
    app.create(
        "/api/v1/customer/create",
        &a.token,
        customer_body("Nguyễn Văn Đức", "0912345678", "duc@example.vn"),
    )
    .await;
    // What the older build wrote: no rotations, no phone tails, no e-mail parts.
    app.sql(
        "DELETE FROM search_terms WHERE field = 16 OR term IN \
         ('duc nguyen van', 'nguyen duc', 'example vn', 'van duc nguyen'); \
         UPDATE tenants SET search_version = 0 WHERE slug = 'older';",
    )
    .await;
    let found = |page: &Value| page["totalCount"].as_i64().unwrap();
    let before = search(app, &a.token, json!({"search": "345678"})).await;
    assert_eq!(
        found(&before),
        0,
        "the staged older index lacks the tail: {before}"
    );
    let (base, stop) = app.another_node().await;
    let resp = app
        .http
        .post(format!("{base}/api/v1/customer/search"))
        .bearer_auth(&a.token)
        .json(&json!({"search": "345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["data"]["totalCount"], json!(1), "{page}");
    for query in ["duc nguyen", "nguyen duc", "example.vn", "nguyen van duc"] {
        let page = search(app, &a.token, json!({"search": query})).await;
        assert_eq!(page["totalCount"], json!(1), "{query}: {page}");
    }
    let _ = stop.send(());
}

async fn bad_input_gets_the_envelope_and_writes_nothing(app: &TestApp) {
    let a = app.tenant("bad").await;
    let path = "/api/v1/customer/create";

    let (status, body) = app
        .raw(
            reqwest::Method::POST,
            path,
            Some(&a.token),
            "application/json",
            "{\"name\": ",
        )
        .await;
    let message = assert_crmtop_err(status, &body, StatusCode::BAD_REQUEST);
    assert!(message.contains("malformed JSON"), "{message}");

    let (status, body) = app
        .raw(
            reqwest::Method::POST,
            path,
            Some(&a.token),
            "application/json",
            "[1,2]",
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::BAD_REQUEST);

    let (status, body) = app.post(path, &a.token, json!({"name": 12})).await;
    assert_field_error(status, &body, "name");
    let (status, body) = app
        .post(path, &a.token, json!({"name": "X", "type": "abc"}))
        .await;
    assert_field_error(status, &body, "type");
    let (status, body) = app
        .post(path, &a.token, json!({"name": "X", "type": 7}))
        .await;
    assert_field_error(status, &body, "type");
    let (status, body) = app
        .post(
            path,
            &a.token,
            json!({"name": "X", "groupId": "not-a-guid"}),
        )
        .await;
    assert_field_error(status, &body, "groupId");
    let (status, body) = app.post(path, &a.token, json!({"code": "KH1"})).await;
    assert_field_error(status, &body, "name");
    let (status, body) = app.post(path, &a.token, json!({"name": "   "})).await;
    assert_field_error(status, &body, "name");
    let (status, body) = app
        .post(path, &a.token, json!({"name": "X", "phone": "string"}))
        .await;
    assert_field_error(status, &body, "phone");
    let (status, body) = app
        .post(path, &a.token, json!({"name": "X", "email": "string"}))
        .await;
    assert_field_error(status, &body, "email");
    let (status, body) = app
        .post(path, &a.token, json!({"name": "x".repeat(300)}))
        .await;
    assert_field_error(status, &body, "name");
    let (status, body) = app
        .post(
            path,
            &a.token,
            json!({"name": "X", "groupId": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_field_error(status, &body, "groupId");
    let (status, body) = app
        .post(
            path,
            &a.token,
            json!({"Name": "Pascal Case", "Phone": "0909000111"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "PascalCase binds like camelCase: {body}"
    );

    let (status, body) = app
        .announce_body(path, &a.token, 2 * 1024 * 1024, 1024 * 1024 + 64 * 1024)
        .await;
    let message = assert_crmtop_err(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.contains("too large"), "{message}");

    let (status, body) = app
        .put(
            "/api/v1/customer/update",
            &a.token,
            json!({"id": NIL, "name": "X"}),
        )
        .await;
    assert_field_error(status, &body, "id");
    let (status, body) = app
        .put(
            "/api/v1/customer/update",
            &a.token,
            json!({"id": uuid::Uuid::new_v4(), "name": "X"}),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app.get("/api/v1/customer/get/not-a-guid", &a.token).await;
    assert_field_error(status, &body, "id");
    let (status, body) = app
        .get(
            &format!("/api/v1/customer/get/{}", uuid::Uuid::new_v4()),
            &a.token,
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    for size in [json!(100000), json!(-1), json!(501)] {
        let (status, body) = app
            .post(
                "/api/v1/customer/search",
                &a.token,
                json!({"pageSize": size}),
            )
            .await;
        assert_field_error(status, &body, "pageSize");
    }
    let (status, body) = app
        .post(
            "/api/v1/customer/search",
            &a.token,
            json!({"pageNumber": 99_999_999_999i64}),
        )
        .await;
    assert_field_error(status, &body, "pageNumber");

    let (status, body) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/customer/search",
            None,
            Some(json!({})),
        )
        .await;
    let message = assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);
    assert!(message.contains("Unauthorized"), "{message}");
    let (status, body) = app
        .post("/api/v1/customer/search", "not-a-token", json!({}))
        .await;
    assert_crmtop_err(status, &body, StatusCode::UNAUTHORIZED);

    let (status, body) = app.get("/api/v1/customer/nope", &a.token).await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app.get("/api/v1/customer/create", &a.token).await;
    assert_crmtop_err(status, &body, StatusCode::METHOD_NOT_ALLOWED);

    let page = search(app, &a.token, json!({})).await;
    assert_eq!(
        page["totalCount"],
        json!(1),
        "only the PascalCase customer was written: {page}"
    );
}

async fn codes_are_generated_and_unique(app: &TestApp) {
    let a = app.tenant("codes").await;
    let mut body = customer_body("Khách có mã", "0911000001", "a@x.vn");
    body["code"] = json!("KH000002");
    app.create("/api/v1/customer/create", &a.token, body.clone())
        .await;
    let auto = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            customer_body("Tự sinh 1", "0911000002", "b@x.vn"),
        )
        .await;
    let auto2 = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            customer_body("Tự sinh 2", "0911000003", "c@x.vn"),
        )
        .await;
    let (_, first) = app
        .get(&format!("/api/v1/customer/get/{auto}"), &a.token)
        .await;
    assert_eq!(first["data"]["code"], json!("KH000001"));
    let (_, second) = app
        .get(&format!("/api/v1/customer/get/{auto2}"), &a.token)
        .await;
    assert_eq!(
        second["data"]["code"],
        json!("KH000003"),
        "skips the hand-picked KH000002"
    );

    let (status, dup) = app.post("/api/v1/customer/create", &a.token, body).await;
    let message = assert_crmtop_err(status, &dup, StatusCode::CONFLICT);
    assert!(message.contains("code"), "{message}");
    assert!(dup["errors"]["code"].is_array(), "{dup}");
    let page = search(app, &a.token, json!({"code": "kh000002"})).await;
    assert_eq!(page["totalCount"], json!(1));
}

async fn customer_groups_round_trip(app: &TestApp) {
    let a = app.tenant("groups").await;
    let vip = app
        .create(
            "/api/v1/customer/group/create",
            &a.token,
            json!({"id": NIL, "name": "Khách VIP", "note": "doanh số cao"}),
        )
        .await;
    let (status, dup) = app
        .post(
            "/api/v1/customer/group/create",
            &a.token,
            json!({"name": "khach vip"}),
        )
        .await;
    assert_crmtop_err(status, &dup, StatusCode::CONFLICT);
    assert!(dup["errors"]["name"].is_array(), "{dup}");
    let (status, missing) = app
        .post(
            "/api/v1/customer/group/create",
            &a.token,
            json!({"note": "x"}),
        )
        .await;
    assert_field_error(status, &missing, "name");

    let mut member = customer_body("Phạm Quốc Huy", "0933000111", "huy@x.vn");
    member["groupId"] = json!(vip);
    let customer = app
        .create("/api/v1/customer/create", &a.token, member.clone())
        .await;
    let (_, got) = app
        .get(&format!("/api/v1/customer/get/{customer}"), &a.token)
        .await;
    assert_eq!(got["data"]["groupId"], json!(vip));
    assert_eq!(got["data"]["groupName"], json!("Khách VIP"));
    app.create(
        "/api/v1/customer/create",
        &a.token,
        customer_body("Ngoài nhóm", "0933000222", "n@x.vn"),
    )
    .await;
    let page = search(app, &a.token, json!({"groupId": vip})).await;
    assert_eq!(names(&page), vec!["Phạm Quốc Huy"]);

    let (status, page) = app
        .post(
            "/api/v1/customer/group/search",
            &a.token,
            json!({"pageNumber": 1, "pageSize": 10, "search": "vip"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_crmtop_ok(&page);
    let item = &page["data"]["data"][0];
    assert_eq!(item["id"], json!(vip));
    assert_eq!(item["name"], json!("Khách VIP"));
    assert_eq!(item["note"], json!("doanh số cao"));
    assert!(item["createdOn"].is_string());

    let (status, resp) = app
        .put(
            "/api/v1/customer/group/update",
            &a.token,
            json!({"id": vip, "name": "Khách Kim Cương", "note": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp["data"], json!(vip));
    let (_, got) = app
        .get(&format!("/api/v1/customer/get/{customer}"), &a.token)
        .await;
    assert_eq!(got["data"]["groupName"], json!("Khách Kim Cương"));

    let (status, in_use) = app
        .delete(&format!("/api/v1/customer/group/delete/{vip}"), &a.token)
        .await;
    let message = assert_crmtop_err(status, &in_use, StatusCode::CONFLICT);
    assert!(message.contains("1 customer"), "{message}");

    member["id"] = json!(customer);
    member["groupId"] = json!(NIL);
    let (status, _) = app.put("/api/v1/customer/update", &a.token, member).await;
    assert_eq!(status, StatusCode::OK);
    let (status, resp) = app
        .delete(&format!("/api/v1/customer/group/delete/{vip}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp["data"], json!(true));
    let (_, page) = app
        .post("/api/v1/customer/group/search", &a.token, json!({}))
        .await;
    assert_eq!(page["data"]["totalCount"], json!(0));
    let (status, resp) = app
        .put(
            "/api/v1/customer/group/update",
            &a.token,
            json!({"id": vip, "name": "Back"}),
        )
        .await;
    assert_crmtop_err(status, &resp, StatusCode::NOT_FOUND);
}

on_both_backends!(
    customer_lifecycle_as_in_the_seed,
    another_tenant_sees_none_of_it,
    search_matches_the_way_vietnamese_users_type,
    search_as_people_type,
    an_older_index_is_rebuilt_at_start,
    bad_input_gets_the_envelope_and_writes_nothing,
    codes_are_generated_and_unique,
    customer_groups_round_trip,
);

mod batch {
    //! The core's batch path (used by the benchmark until a vendor bulk endpoint exists),
    //! checked through the HTTP API.
    use super::*;
    use crm_domain::contact::{Contact, ContactInput};
    use crm_domain::customer::{Customer, CustomerInput};
    use crm_domain::ids::CustomerId;

    async fn batch_path_assigns_codes_and_indexes_terms(app: &TestApp) {
        let a = app.tenant("batch").await;
        app.create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Có sẵn", "code": "KH000002"}),
        )
        .await;
        let actor = app.app.state.auth.authenticate(&a.token).await.unwrap();
        let inputs: Vec<CustomerInput> = ["Lý Thị Mỹ", "Tô Văn Khải", "Mạc Đăng Dung"]
            .iter()
            .enumerate()
            .map(|(i, name)| CustomerInput {
                name: Some((*name).to_owned()),
                phone: Some(format!("+84 90 000 00{i}{i}")),
                ..Default::default()
            })
            .collect();
        let ids = app
            .app
            .state
            .crm
            .create_many::<Customer>(&actor, inputs)
            .await
            .unwrap();
        assert_eq!(ids.len(), 3);
        let codes: Vec<Value> = {
            let mut out = Vec::new();
            for id in &ids {
                let (_, got) = app
                    .get(&format!("/api/v1/customer/get/{}", id.0), &a.token)
                    .await;
                out.push(got["data"]["code"].clone());
            }
            out
        };
        assert_eq!(
            codes,
            vec![json!("KH000001"), json!("KH000003"), json!("KH000004")]
        );
        let page = search(app, &a.token, json!({"search": "dang dung"})).await;
        assert_eq!(names(&page), vec!["Mạc Đăng Dung"]);
        let page = search(app, &a.token, json!({"search": "0900000011"})).await;
        assert_eq!(names(&page), vec!["Tô Văn Khải"]);

        let bad = vec![
            CustomerInput {
                name: Some("Ok".into()),
                ..Default::default()
            },
            CustomerInput {
                name: Some("Bad".into()),
                phone: Some("x".into()),
                ..Default::default()
            },
        ];
        let err = app
            .app
            .state
            .crm
            .create_many::<Customer>(&actor, bad)
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("[1].phone"), "{err}");
        let page = search(app, &a.token, json!({})).await;
        assert_eq!(
            page["totalCount"],
            json!(4),
            "a failed batch writes nothing"
        );
    }

    /// A batch reads what its records refer to once per kind: names are filled in for each
    /// record, and a reference missing or in another tenant still fails its record by index
    /// with nothing written.
    async fn batch_reads_references_once_per_kind(app: &TestApp) {
        let a = app.tenant("refs").await;
        let b = app.tenant("other").await;
        let mut ours = Vec::new();
        for name in ["Đặng Thu Thảo", "Vũ Minh Tâm"] {
            let (st, got) = app
                .post("/api/v1/customer/create", &a.token, json!({ "name": name }))
                .await;
            assert_eq!(st, StatusCode::OK, "{got}");
            ours.push(CustomerId(got["data"].as_str().unwrap().parse().unwrap()));
        }
        let (_, theirs) = app
            .post("/api/v1/customer/create", &b.token, json!({"name": "Khác"}))
            .await;
        let theirs = CustomerId(theirs["data"].as_str().unwrap().parse().unwrap());
        let actor = app.app.state.auth.authenticate(&a.token).await.unwrap();
        let contact = |customer: CustomerId, name: &str| ContactInput {
            customer_id: Some(customer),
            full_name: Some(name.to_owned()),
            ..Default::default()
        };
        let crm = &app.app.state.crm;
        let ids = crm
            .create_many::<Contact>(
                &actor,
                vec![
                    contact(ours[0], "Liên hệ 1"),
                    contact(ours[1], "Liên hệ 2"),
                    contact(ours[0], "Liên hệ 3"),
                ],
            )
            .await
            .unwrap();
        let mut shown = Vec::new();
        let mut codes = Vec::new();
        for id in &ids {
            let (st, got) = app
                .get(&format!("/api/v1/contact/get/{}", id.0), &a.token)
                .await;
            assert_eq!(st, StatusCode::OK, "{got}");
            shown.push(got["data"]["customerName"].clone());
            codes.push(got["data"]["code"].clone());
        }
        // The batch's codes come from one reservation, in order.
        assert_eq!(
            codes,
            vec![json!("LH000001"), json!("LH000002"), json!("LH000003")]
        );
        assert_eq!(
            shown,
            vec![
                json!("Đặng Thu Thảo"),
                json!("Vũ Minh Tâm"),
                json!("Đặng Thu Thảo")
            ]
        );
        let deals = [ours[1], theirs]
            .iter()
            .map(|c| crm_domain::opportunity::OpportunityData {
                name: "Cơ hội".into(),
                currency: "VND".into(),
                customer_id: Some(*c),
                ..Default::default()
            })
            .collect();
        let err = crm
            .create_many::<crm_domain::opportunity::Opportunity>(&actor, deals)
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("[1].customer_id"), "{err}");
        let err = crm
            .create_many::<Contact>(
                &actor,
                vec![
                    contact(ours[0], "Liên hệ 4"),
                    contact(CustomerId(uuid::Uuid::now_v7()), "Liên hệ 5"),
                ],
            )
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("[1].customer_id"), "{err}");
        let page = app
            .search("/api/v1/contact/search", &a.token, json!({}))
            .await;
        assert_eq!(
            page["totalCount"],
            json!(3),
            "a failed batch writes nothing"
        );
        let page = app
            .search("/api/v1/opportunity/search", &a.token, json!({}))
            .await;
        assert_eq!(
            page["totalCount"],
            json!(0),
            "a failed batch writes nothing"
        );
    }

    on_both_backends!(
        batch_path_assigns_codes_and_indexes_terms,
        batch_reads_references_once_per_kind,
    );
}
