//! Automations that run, on both backends, against the recording Zalo and SMTP peers: "a new
//! lead gets a ZNS message now and an e-mail two days later", created with NextX's documented
//! body (E43), runs both steps at their moments (the server's clock moved forward, not
//! slept), through a restart between the steps that loses and repeats nothing; a lead created
//! through CRMTOP enrolls too; deactivation stops new runs; another tenant sees nothing.
//! CRM-action steps (a task, a segment, a lead's status, an e-mail to a staff user) act on the
//! record. Date triggers are in `automation_dates.rs`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::process::{clocked, printed_value, serve_with, Api};
use common::smtp::Smtp;
use common::zalo::FakeZalo;
use common::{Backend, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// E43's documented body (the Postman wrapper included), with a ZNS step now and an e-mail
/// step two days after it.
fn automation(active: bool) -> Value {
    json!({
        "automation": {
            "title": "Chào khách mới",
            "type": "in",
            "frequency": "daily",
            "is_active": active,
            "description": "",
            "component_id": 13,
            "filter": [],
            "scheduler": {"run_at": "2024-09-19T11:06:03", "run_before_day": 1,
                          "frequency_interval": null, "frequency_type": "O"},
            "tasks": [
                {"type": "send_zalo", "order": 0, "parent_id": null,
                 "details": {"recipient_type": "contact", "recipient_id": null, "subject": null,
                             "message": "", "template_id": "231",
                             "params": {"customer_name": "{{cus_name}}", "param_02": ""}}},
                {"type": "send_email", "order": 1, "parent_id": null,
                 "details": {"recipient_type": "contact", "recipient_id": null,
                             "subject": "Cảm ơn {{cus_name}}",
                             "message": "<p>Cảm ơn {{cus_name}} đã quan tâm.</p>",
                             "params": {"param_01": ""}},
                 "scheduler": {"frequency_type": "O", "frequency_interval": 2,
                               "run_after_type": "D", "is_frequency": 0}}
            ]
        },
        "query_parameters": {"branch_id": 1, "from_date": "2024-07-01", "to_date": "2024-09-30"},
        "responses": {}
    })
}

async fn new_lead_zns_then_email(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let zalo = FakeZalo::start().await;
    let smtp = Smtp::start().await;
    let (child, printed, base) = serve_with(clocked(&db)).await;
    let api = Api::at(base);
    let (cid, secret) = (
        printed_value(&printed, "client_id:"),
        printed_value(&printed, "client_secret:"),
    );
    let t = api.token(&cid, &secret).await;
    api.ok(
        Method::PUT,
        "/crm/v1/channels/zns",
        &t,
        Some(json!({"settings": {"api_url": zalo.base, "access_token": zalo.tokens().0}})),
    )
    .await;
    api.ok(Method::PUT, "/crm/v1/channels/email", &t,
        Some(json!({"settings": {"smtp_url": format!("smtp://127.0.0.1:{}", smtp.port), "tls": "none",
                                 "from": "cskh@hoamai.vn", "from_name": "Hoa Mai"}}))).await;

    // A body that cannot run is refused with NextX's envelope and a clear message.
    let mut broken = automation(true);
    broken["automation"]["tasks"][1]["scheduler"]["run_after_type"] = json!("X");
    let (st, b) = api
        .call(Method::POST, "/api/automation/automation", &t, Some(broken))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b.to_string().contains("run_after_type"), "{b}");

    // Bounded before anything is stored: tasks, conditions, delays, history pages.
    let mut many = automation(true);
    many["automation"]["tasks"] = json!((0..51)
        .map(|_| json!({"type": "send_sms", "details": {"message": "x"}}))
        .collect::<Vec<_>>());
    let mut conditions = automation(true);
    conditions["automation"]["filter"] = json!((0..21)
        .map(|i| json!({"field": "name", "operator": "=", "value": i.to_string()}))
        .collect::<Vec<_>>());
    let mut late = automation(true);
    late["automation"]["tasks"][1]["scheduler"]["frequency_interval"] = json!(367);
    for (body, what) in [
        (many, "tasks"),
        (conditions, "filter"),
        (late, "tasks.scheduler"),
    ] {
        let (st, b) = api
            .call(Method::POST, "/api/automation/automation", &t, Some(body))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{what}: {b}");
        assert!(b.to_string().contains(what), "{what}: {b}");
    }
    let listed = api
        .ok(
            Method::GET,
            "/api/automation/automation?page=1&pageLimit=15",
            &t,
            None,
        )
        .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");

    let saved = api
        .ok(
            Method::POST,
            "/api/automation/automation",
            &t,
            Some(automation(true)),
        )
        .await;
    assert_eq!(saved["meta"]["status_code"], json!(0), "{saved}");
    let id = saved["data"]["id"].as_i64().unwrap();
    // Still answered as stored (E42).
    let shown = api
        .ok(
            Method::GET,
            &format!("/api/automation/automation/{id}"),
            &t,
            None,
        )
        .await;
    assert_eq!(shown["title"], json!("Chào khách mới"));
    assert_eq!(shown["is_active"], json!(1));

    // A new lead through NextX: the ZNS step runs at once.
    api.ok(Method::POST, "/api/contact/contact", &t, Some(json!({
        "name": "Hoàng Thị Yến", "mobile": "0977 555 444", "email": "yen@example.vn", "status": "Mới"
    }))).await;
    let calls = zalo.wait("/message/template", 1).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].body["phone"], json!("84977555444"));
    assert_eq!(calls[0].body["template_id"], json!("231"));
    assert_eq!(
        calls[0].body["template_data"]["customer_name"],
        json!("Hoàng Thị Yến")
    );
    let runs = api
        .runs_until(&t, id, |r| {
            r.len() == 2 && r.iter().any(|s| s["state"] == json!("done"))
        })
        .await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    let first = runs.iter().find(|s| s["step"] == json!(1)).unwrap();
    let second = runs.iter().find(|s| s["step"] == json!(2)).unwrap();
    assert_eq!(first["state"], json!("done"), "{first}");
    assert!(
        first["record"].as_str().unwrap().starts_with("lead:"),
        "{first}"
    );
    assert!(first["message_id"].is_string(), "{first}");
    assert_eq!(second["state"], json!("queued"), "{second}");
    let due = chrono::DateTime::parse_from_rfc3339(second["due_at"].as_str().unwrap()).unwrap();
    let made = chrono::DateTime::parse_from_rfc3339(first["updated_at"].as_str().unwrap()).unwrap();
    let wait = (due - made).num_seconds();
    assert!(
        (2 * 86_400 - 5..=2 * 86_400 + 5).contains(&wait),
        "the e-mail is due two days later: {wait} s"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.messages().is_empty(), "no e-mail before its time");

    // Restart between the steps, then two days pass on the new process's clock.
    drop(child);
    let (child, _, base) = serve_with(clocked(&db)).await;
    let api = Api::at(base.clone());
    api.advance(2 * 86_400 + 60).await;
    // Two days on, the old access token has expired: a new one from the same client.
    let t = api.token(&cid, &secret).await;
    let mails = smtp.wait(1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = mails[0].to_string();
    assert!(mail.contains("yen@example.vn"), "{mail}");
    assert!(mail.contains("Cảm ơn Hoàng Thị Yến"), "{mail}");
    let runs = api
        .runs_until(&t, id, |r| r.iter().all(|s| s["state"] == json!("done")))
        .await;
    assert!(runs.iter().all(|s| s["state"] == json!("done")), "{runs:?}");
    assert_eq!(runs.len(), 2, "{runs:?}");
    // The e-mail is in NextX's e-mail history too.
    let history = api
        .ok(
            Method::GET,
            "/api/email/history?page=1&pageLimit=20",
            &t,
            None,
        )
        .await;
    assert!(history.to_string().contains("yen@example.vn"), "{history}");

    // A lead created through CRMTOP enrolls in the same automation.
    let (st, b) = api
        .call(Method::POST, "/api/v1/lead/create", &t,
            Some(json!({"fullName": "Trần Văn Nam", "phone": "0912000111", "email": "nam@example.vn"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let calls = zalo.wait("/message/template", 2).await;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].body["phone"], json!("84912000111"));

    // Deactivated: no new runs.
    let (st, b) = api
        .call(
            Method::PUT,
            &format!("/api/automation/automation/{id}"),
            &t,
            Some(automation(false)),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    api.ok(
        Method::POST,
        "/api/contact/contact",
        &t,
        Some(json!({
            "name": "Lê Thị Mai", "mobile": "0903111222", "email": "mai@example.vn"
        })),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        zalo.calls()
            .iter()
            .filter(|c| c.path == "/message/template")
            .count(),
        2
    );

    // Another tenant sees no runs of it.
    common::process::run_json(
        &db,
        &["tenant", "create", "Khác", "--slug", "khac", "--json"],
    )
    .await;
    let other = common::process::run_json(
        &db,
        &[
            "client", "create", "--tenant", "khac", "--name", "erp", "--json",
        ],
    )
    .await;
    let other_token = api
        .token(
            other["client_id"].as_str().unwrap(),
            other["client_secret"].as_str().unwrap(),
        )
        .await;
    let (st, _) = api
        .call(
            Method::GET,
            &format!("/crm/v1/automations/{id}/runs"),
            &other_token,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) = api
        .call(
            Method::GET,
            &format!("/crm/v1/automations/{id}/runs?page=1000&size=500"),
            &t,
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b.to_string().contains("page"), "{b}");
    // Nothing was sent twice.
    assert_eq!(smtp.messages().len(), 1);
    // The console's campaigns page shows the automation with what its steps did.
    let out = common::process::crm(&db)
        .args(["user", "create", "--tenant", "default", "--username", "chu"])
        .args([
            "--role",
            "marketing",
            "--password",
            common::console::PASSWORD,
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chu = common::console::sign_in_at(&base, "default", "chu", common::console::PASSWORD)
        .await
        .unwrap();
    let (_, _, html) = common::console::page_at(&base, &chu, "/app/campaigns").await;
    let row = &html[html
        .find("<td>Chào khách mới</td>")
        .expect("the automation")..];
    let row = &row[..row.find("</tr>").unwrap()];
    let done: usize = row
        .split("<td class=\"r\">")
        .nth(1)
        .and_then(|c| c.split('<').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(done >= 3, "two ZNS and an e-mail at least: {row}");
    drop(child);
    smtp.stop().await;
    db.drop_db().await;
}

#[tokio::test]
async fn new_lead_zns_then_email_sqlite() {
    new_lead_zns_then_email(Backend::Sqlite).await;
}

#[tokio::test]
async fn new_lead_zns_then_email_postgres() {
    new_lead_zns_then_email(Backend::Postgres).await;
}

/// An automation of CRM actions on a lead created through CRMTOP: a task for the lead's owner,
/// the lead into a segment, an e-mail to a staff user (E41's `employee` recipient) now, and the
/// lead's status a day later; references checked when saved; the status change starts no
/// automation itself.
async fn crm_actions(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let smtp = Smtp::start().await;
    let (child, printed, base) = serve_with(clocked(&db)).await;
    let api = Api::at(base);
    let t = api
        .token(
            &printed_value(&printed, "client_id:"),
            &printed_value(&printed, "client_secret:"),
        )
        .await;
    api.ok(Method::PUT, "/crm/v1/channels/email", &t,
        Some(json!({"settings": {"smtp_url": format!("smtp://127.0.0.1:{}", smtp.port), "tls": "none",
                                 "from": "cskh@hoamai.vn", "from_name": "Hoa Mai"}}))).await;
    let user = api
        .ok(
            Method::POST,
            "/api/user/users",
            &t,
            Some(
                json!({"username": "sale1", "firstname": "Minh", "lastname": "Trần",
                        "email": "minh@hoamai.vn"}),
            ),
        )
        .await;
    let staff = user[0]["id"].as_i64().unwrap();
    let seg = api
        .ok(
            Method::POST,
            "/api/v1/segment/create",
            &t,
            Some(json!({"name": "Khách mới tháng 12"})),
        )
        .await;
    let seg = seg["data"].as_str().unwrap().to_owned();
    let owner = "0193a000-0000-7000-8000-00000000000a";
    let body = |segment: &str, recipient: i64| {
        json!({"automation": {
        "title": "Khách mới: việc cần làm", "is_active": 1, "component_id": 3,
        "scheduler": {"frequency_type": "O"},
        "tasks": [
            {"type": "create_task", "order": 0,
             "details": {"subject": "Gọi chào khách mới", "message": "Trong 24 giờ", "due_days": 1}},
            {"type": "add_to_segment", "order": 1, "details": {"segment_id": segment}},
            {"type": "send_email", "order": 2,
             "details": {"recipient_type": "employee", "recipient_id": recipient,
                         "subject": "Khách mới: {{cus_name}}",
                         "message": "<p>Hãy gọi {{cus_name}} ({{phone}}).</p>"}},
            {"type": "update_lead_status", "order": 3, "details": {"status": 2},
             "scheduler": {"run_after_type": "D", "frequency_interval": 1}}
        ]}})
    };
    // References are checked when the automation is saved, and a task's bounds.
    let mut late = body(&seg, staff);
    late["automation"]["tasks"][0]["details"]["due_days"] = json!(400);
    let mut untitled = body(&seg, staff);
    untitled["automation"]["tasks"][0]["details"]["subject"] = json!("x".repeat(256));
    for (b, field) in [
        (
            body(&uuid::Uuid::new_v4().to_string(), staff),
            "tasks.details.segment_id",
        ),
        (body(&seg, staff + 1000), "tasks.details.recipient_id"),
        (body("not-an-id", staff), "tasks.details.segment_id"),
        (late, "tasks.details.due_days"),
        (untitled, "tasks.details.subject"),
    ] {
        let (st, got) = api
            .call(Method::POST, "/api/automation/automation", &t, Some(b))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{field}: {got}");
        assert!(got.to_string().contains(field), "{field}: {got}");
    }
    let saved = api
        .ok(
            Method::POST,
            "/api/automation/automation",
            &t,
            Some(body(&seg, staff)),
        )
        .await;
    let id = saved["data"]["id"].as_i64().unwrap();
    // An automation on a lead's update, which the status change must not start.
    let watcher = api
        .ok(
            Method::POST,
            "/api/automation/automation",
            &t,
            Some(
                json!({"automation": {"title": "Lead đổi", "is_active": 1, "component_id": 4,
                "tasks": [{"type": "create_task", "details": {"subject": "Xem lại lead"}}]}}),
            ),
        )
        .await;
    let watcher = watcher["data"]["id"].as_i64().unwrap();

    let lead = api
        .ok(
            Method::POST,
            "/api/v1/lead/create",
            &t,
            Some(json!({"fullName": "Phạm Quốc Bảo", "phone": "0938123456",
                        "email": "bao@example.vn", "status": 1,
                        "ownerId": owner, "ownerName": "Trần Minh"})),
        )
        .await;
    let lead = lead["data"].as_str().unwrap().to_owned();
    let runs = api
        .runs_until(&t, id, |r| {
            r.len() == 4 && r.iter().filter(|s| s["state"] == json!("done")).count() == 3
        })
        .await;
    let state = |step: i64, runs: &[Value]| {
        runs.iter()
            .find(|s| s["step"] == json!(step))
            .map(|s| (s["state"].clone(), s["detail"].clone()))
            .unwrap()
    };
    for step in 1..=3 {
        assert_eq!(state(step, &runs).0, json!("done"), "{runs:?}");
    }
    assert_eq!(state(4, &runs).0, json!("queued"), "{runs:?}");
    assert!(
        state(1, &runs).1.as_str().unwrap().contains("Trần Minh"),
        "{runs:?}"
    );

    // The task, about the lead, for its owner, due a day later.
    let tasks = api
        .ok(
            Method::POST,
            "/api/v1/activity/search",
            &t,
            Some(json!({"primaryId": lead})),
        )
        .await;
    let tasks = tasks["data"]["data"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["subject"], json!("Gọi chào khách mới"));
    assert_eq!(tasks[0]["description"], json!("Trong 24 giờ"));
    assert_eq!(tasks[0]["type"], json!(3));
    assert_eq!(tasks[0]["status"], json!(1));
    assert_eq!(tasks[0]["ownerId"], json!(owner));
    assert_eq!(tasks[0]["ownerName"], json!("Trần Minh"));
    assert_eq!(tasks[0]["primaryType"], json!(3));
    assert_eq!(tasks[0]["primaryName"], json!("Phạm Quốc Bảo"));
    assert!(tasks[0]["dueDate"].is_string(), "{}", tasks[0]);
    // The lead, in the segment.
    let members = api
        .ok(
            Method::POST,
            "/api/v1/segment/member/search",
            &t,
            Some(json!({"segmentId": seg})),
        )
        .await;
    let members = members["data"]["data"].as_array().unwrap().clone();
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0]["memberId"], json!(lead));
    assert_eq!(members[0]["type"], json!(3));
    // The staff user's e-mail names the lead.
    let mails = smtp.wait(1).await;
    assert_eq!(mails.len(), 1);
    let mail = mails[0].to_string();
    assert!(mail.contains("minh@hoamai.vn"), "{mail}");
    assert!(mail.contains("Khách mới: Phạm Quốc Bảo"), "{mail}");
    assert!(mail.contains("0938123456"), "{mail}");

    // A day later the lead's status changes, and the lead.updated automation is not started.
    api.advance(86_400 + 60).await;
    let t = api
        .token(
            &printed_value(&printed, "client_id:"),
            &printed_value(&printed, "client_secret:"),
        )
        .await;
    let runs = api
        .runs_until(&t, id, |r| r.iter().all(|s| s["state"] == json!("done")))
        .await;
    assert_eq!(state(4, &runs).0, json!("done"), "{runs:?}");
    let got = api
        .ok(Method::GET, &format!("/api/v1/lead/get/{lead}"), &t, None)
        .await;
    assert_eq!(got["data"]["status"], json!(2), "{got}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let watched = api.runs_until(&t, watcher, |_| true).await;
    assert!(watched.is_empty(), "{watched:?}");
    // An update through the API does start it.
    api.ok(
        Method::PUT,
        "/api/v1/lead/update",
        &t,
        Some(json!({"id": lead, "fullName": "Phạm Quốc Bảo", "status": 3})),
    )
    .await;
    let watched = api.runs_until(&t, watcher, |r| r.len() == 1).await;
    assert_eq!(watched.len(), 1, "{watched:?}");
    assert_eq!(watched[0]["state"], json!("done"), "{watched:?}");
    drop(child);
    smtp.stop().await;
    db.drop_db().await;
}

#[tokio::test]
async fn crm_actions_sqlite() {
    crm_actions(Backend::Sqlite).await;
}

#[tokio::test]
async fn crm_actions_postgres() {
    crm_actions(Backend::Postgres).await;
}

/// A NextX sale paid in full (component 20, `sale.paid`) enrolls its customer at once; a sale
/// paid in part starts only the `sale.created` automation (component 19).
async fn paid_sale(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let gw = common::gateway::FakeGateway::start().await;
    let (child, printed, base) = serve_with(clocked(&db)).await;
    let api = Api::at(base);
    let t = api.printed_token(&printed).await;
    api.sms_to(&t, &gw.url).await;
    let b = api
        .ok(
            Method::POST,
            "/api/branch/branch",
            &t,
            Some(json!({"code": "CN1", "name": "Chi nhánh Quận 1", "address": "1 Lê Lợi"})),
        )
        .await;
    let branch = b["data"]["id"].as_i64().unwrap();
    let product = api.ok(Method::POST, "/api/product/product", &t, Some(json!({
        "name": "Nước cam ép", "branch_id": branch, "purchase_price": 8000, "sell_price": 12000,
        "qty_begin_stock": 24, "begin_purchase_price": 8000,
        "unit": {"unit_base": {"name": "Chai", "is_direct_sell": "true"}, "sub_unit": []}
    }))).await;
    let pid = product["id"].as_i64().unwrap();
    let c = api
        .ok(
            Method::POST,
            "/api/customer/customer",
            &t,
            Some(json!({"name": "Đặng Văn Phúc", "mobile": "0912000031", "type": "customer"})),
        )
        .await;
    let customer = c["data"]["id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for (component, message) in [
        (20, "Cam on {{cus_name}} da thanh toan"),
        (19, "Don hang moi cua {{cus_name}}"),
    ] {
        let saved = api
            .ok(
                Method::POST,
                "/api/automation/automation",
                &t,
                Some(
                    json!({"title": "Sau bán hàng", "is_active": 1, "component_id": component,
                            "tasks": [{"type": "send_sms", "details": {"message": message}}]}),
                ),
            )
            .await;
        ids.push(saved["data"]["id"].as_i64().unwrap());
    }
    let sale = |paid: i64| {
        json!({"branch_id": branch, "customer_id": customer,
               "products": [{"product_id": pid, "quantity": 2, "unit_price": 12000}],
               "payment": [{"payment_type": "in_come", "method": "cash", "amount": paid}]})
    };
    // Part paid: only the sale.created automation.
    let part = api
        .ok(Method::POST, "/api/sell/sell", &t, Some(sale(10_000)))
        .await;
    assert_eq!(part["data"]["payment_status"], json!("partial"), "{part}");
    let calls = gw.wait(1).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        calls[0]["Content"]
            .as_str()
            .unwrap()
            .contains("Don hang moi cua Dang Van Phuc"),
        "{}",
        calls[0]
    );
    // Paid in full: both, each once, about that sale.
    let full = api
        .ok(Method::POST, "/api/sell/sell", &t, Some(sale(24_000)))
        .await;
    assert_eq!(full["data"]["payment_status"], json!("paid"), "{full}");
    let calls = gw.wait(3).await;
    assert_eq!(calls.len(), 3, "{calls:?}");
    let thanked: Vec<_> = calls
        .iter()
        .filter(|c| c["Content"].as_str().unwrap().contains("da thanh toan"))
        .collect();
    assert_eq!(thanked.len(), 1, "{calls:?}");
    assert_eq!(thanked[0]["Phone"], json!("84912000031"));
    let runs = api.runs_until(&t, ids[0], |r| r.len() == 1).await;
    let sale_id = full["data"]["id"].as_i64().unwrap();
    assert_eq!(
        runs[0]["record"],
        json!(format!("sale:{sale_id}")),
        "{runs:?}"
    );
    assert_eq!(runs[0]["state"], json!("done"), "{runs:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gw.calls().len(), 3);
    drop(child);
    db.drop_db().await;
}

#[tokio::test]
async fn paid_sale_sqlite() {
    paid_sale(Backend::Sqlite).await;
}

#[tokio::test]
async fn paid_sale_postgres() {
    paid_sale(Backend::Postgres).await;
}
