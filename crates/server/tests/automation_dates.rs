//! Date triggers, on both backends, with the server's clock moved forward rather than slept: a
//! birthday automation sends once a year to exactly the matching customers and leads, and is
//! evaluated at 09:00 in the tenant's zone; order dates (placed N days ago, due in N days)
//! reach the order's customer once per order; a one-off moved before it fired runs once, at
//! its new moment.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use chrono::Datelike;
use common::gateway::FakeGateway;
use common::process::{clocked, printed_value, serve_with, Api};
use common::{Backend, TestDb};
use serde_json::json;

/// Seconds from the server's now (`clock`) until the next local `09:00` in Vietnam, and the
/// local date it falls on.
fn until_nine(now: chrono::DateTime<chrono::Utc>) -> (i64, chrono::NaiveDate) {
    let tz = chrono_tz::Asia::Ho_Chi_Minh;
    let local = now.with_timezone(&tz);
    let nine = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let mut day = local.date_naive();
    if local.time() >= nine {
        day = day.succ_opt().unwrap();
    }
    let at = day.and_time(nine).and_local_timezone(tz).single().unwrap();
    ((at.with_timezone(&chrono::Utc) - now).num_seconds(), day)
}

/// A birthday automation (SMS the day before) sends once a year to exactly the customers whose
/// birthday is tomorrow, evaluated at 09:00 in the tenant's zone.
async fn birthday_once_a_year(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let gw = FakeGateway::start().await;
    let (child, printed, base) = serve_with(clocked(&db)).await;
    let api = Api::at(base);
    let (cid, secret) = (
        printed_value(&printed, "client_id:"),
        printed_value(&printed, "client_secret:"),
    );
    let t = api.token(&cid, &secret).await;
    use reqwest::Method;
    api.sms_to(&t, &gw.url).await;
    // The clock as the server reads it (none moved yet in this process).
    let (wait, fire_day) = until_nine(chrono::Utc::now());
    let tomorrow = fire_day.succ_opt().unwrap();
    let in_five = fire_day + chrono::Duration::days(5);
    for (name, mobile, birthday) in [
        (
            "Nguyễn Văn An",
            "0912000001",
            Some(tomorrow.with_year(1990).unwrap()),
        ),
        (
            "Trần Thị Bình",
            "0912000002",
            Some(in_five.with_year(1985).unwrap()),
        ),
        ("Lê Văn Cường", "0912000003", None),
    ] {
        let mut body = json!({"name": name, "mobile": mobile, "type": "customer"});
        if let Some(b) = birthday {
            body["birthday"] = json!(b.format("%Y-%m-%d").to_string());
        }
        api.ok(Method::POST, "/api/customer/customer", &t, Some(body))
            .await;
    }
    let saved = api
        .ok(Method::POST, "/api/automation/automation", &t, Some(json!({
            "title": "Chúc mừng sinh nhật", "type": "in", "frequency": "daily", "is_active": true,
            "component_id": 11, "filter": [],
            "scheduler": {"frequency_type": "D", "run_at": "09:00", "run_before_day": 1},
            "tasks": [{"type": "send_sms", "details": {"recipient_type": "contact",
                       "message": "Chuc mung sinh nhat {{cus_name}} ngay mai!"}}]
        })))
        .await;
    let id = saved["data"]["id"].as_i64().unwrap();
    // Leads' birthdays (component 14): a lead born tomorrow, one in five days.
    for (name, mobile, birthday) in [
        (
            "Đỗ Thị Hoa",
            "0912000004",
            tomorrow.with_year(1995).unwrap(),
        ),
        (
            "Vũ Văn Khoa",
            "0912000005",
            in_five.with_year(1992).unwrap(),
        ),
    ] {
        api.ok(
            Method::POST,
            "/api/contact/contact",
            &t,
            Some(json!({"name": name, "mobile": mobile,
                        "birthday": birthday.format("%Y-%m-%d").to_string()})),
        )
        .await;
    }
    let leads = api
        .ok(
            Method::POST,
            "/api/automation/automation",
            &t,
            Some(json!({
                "title": "Sinh nhật khách tiềm năng", "is_active": 1, "component_id": 14,
                "scheduler": {"frequency_type": "D", "run_at": "09:00", "run_before_day": 1},
                "tasks": [{"type": "send_sms", "details": {"message": "Chuc mung {{cus_name}}!"}}]
            })),
        )
        .await;
    let leads = leads["data"]["id"].as_i64().unwrap();

    // 09:00 the day before An's and Hoa's birthdays: one SMS each, to them.
    api.advance(wait + 60).await;
    let mut calls = gw.wait(2).await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    calls.sort_by_key(|c| c["Phone"].as_str().unwrap().to_owned());
    assert_eq!(calls[1]["Phone"], json!("84912000004"), "{}", calls[1]);
    assert!(
        calls[1]["Content"].as_str().unwrap().contains("Do Thi Hoa"),
        "{}",
        calls[1]
    );
    assert_eq!(calls[0]["Phone"], json!("84912000001"), "{}", calls[0]);
    assert!(
        calls[0]["Content"]
            .as_str()
            .unwrap()
            .contains("Nguyen Van An"),
        "{}",
        calls[0]
    );
    let t = api.token(&cid, &secret).await;
    let runs = api
        .runs_until(&t, id, |r| r.len() == 1 && r[0]["state"] == json!("done"))
        .await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(
        runs[0]["run"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{}", fire_day.format("%Y"))),
        "{runs:?}"
    );

    let runs = api
        .runs_until(&t, leads, |r| {
            r.len() == 1 && r[0]["state"] == json!("done")
        })
        .await;
    assert!(
        runs[0]["record"].as_str().unwrap().starts_with("lead:"),
        "{runs:?}"
    );

    // The next day nobody's birthday is tomorrow; An and Hoa are not sent again.
    api.advance(86_400).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(gw.calls().len(), 2, "{:?}", gw.calls());

    // A year after the first: An and Hoa again, once each.
    api.advance(364 * 86_400).await;
    let calls = gw.wait(4).await;
    assert_eq!(calls.len(), 4, "{calls:?}");
    let mut again: Vec<&str> = calls[2..]
        .iter()
        .map(|c| c["Phone"].as_str().unwrap())
        .collect();
    again.sort_unstable();
    assert_eq!(again, ["84912000001", "84912000004"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gw.calls().len(), 4);

    // Edited into an event trigger, it leaves no schedule behind.
    let name = format!("automation:{id}");
    let names = || async {
        common::process::run_json(&db, &["jobs", "schedules", "--json"])
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(names().await.contains(&name));
    let t = api.token(&cid, &secret).await;
    api.ok(
        Method::PUT,
        &format!("/api/automation/automation/{id}"),
        &t,
        Some(json!({"title": "Khách mới", "is_active": true, "component_id": 1, "tasks": []})),
    )
    .await;
    assert!(!names().await.contains(&name));
    drop(child);
    db.drop_db().await;
}

#[tokio::test]
async fn birthday_once_a_year_sqlite() {
    birthday_once_a_year(Backend::Sqlite).await;
}

#[tokio::test]
async fn birthday_once_a_year_postgres() {
    birthday_once_a_year(Backend::Postgres).await;
}

/// Order dates (components 16 and 17): "due in two days" and "placed a week ago" reach each
/// matching order's customer, once per order, on the day the date names.
async fn order_dates(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let gw = FakeGateway::start().await;
    let (child, printed, base) = serve_with(clocked(&db)).await;
    let api = Api::at(base);
    let t = api.printed_token(&printed).await;
    use reqwest::Method;
    api.sms_to(&t, &gw.url).await;
    let (wait, fire_day) = until_nine(chrono::Utc::now());
    let day = |n: i64| format!("{}T10:00:00+07:00", fire_day + chrono::Duration::days(n));
    let mut customers = Vec::new();
    for (name, phone) in [
        ("Phạm Văn An", "0912000011"),
        ("Hồ Thị Bích", "0912000012"),
        ("Ngô Văn Chí", "0912000013"),
    ] {
        let b = api
            .ok(
                Method::POST,
                "/api/v1/customer/create",
                &t,
                Some(json!({"name": name, "phone": phone})),
            )
            .await;
        customers.push(b["data"].as_str().unwrap().to_owned());
    }
    // An's order is due in two days, Bích's in three; Chí ordered a week before, An six days.
    for (customer, order_date, due_date) in [
        (&customers[0], day(-1), Some(day(2))),
        (&customers[1], day(-1), Some(day(3))),
        (&customers[2], day(-7), None),
        (&customers[0], day(-6), None),
    ] {
        let mut body = json!({"customerId": customer, "orderDate": order_date, "status": 1});
        if let Some(d) = due_date {
            body["dueDate"] = json!(d);
        }
        api.ok(Method::POST, "/api/v1/order/crm/create", &t, Some(body))
            .await;
    }
    let mut ids = Vec::new();
    for (component, days, message) in [
        (17, 2, "Don hang cua {{cus_name}} den han sau 2 ngay"),
        (16, -7, "Cam on {{cus_name}} da mua hang"),
    ] {
        let saved = api
            .ok(
                Method::POST,
                "/api/automation/automation",
                &t,
                Some(json!({
                    "title": "Nhắc đơn hàng", "is_active": 1, "component_id": component,
                    "scheduler": {"frequency_type": "D", "run_at": "09:00", "run_before_day": days},
                    "tasks": [{"type": "send_sms", "details": {"message": message}}]
                })),
            )
            .await;
        ids.push(saved["data"]["id"].as_i64().unwrap());
    }

    // 09:00: An (due in two days) and Chí (ordered a week ago), one SMS each.
    api.advance(wait + 60).await;
    let mut calls = gw.wait(2).await;
    assert_eq!(calls.len(), 2, "{calls:?}");
    calls.sort_by_key(|c| c["Phone"].as_str().unwrap().to_owned());
    assert_eq!(calls[0]["Phone"], json!("84912000011"), "{}", calls[0]);
    assert!(
        calls[0]["Content"]
            .as_str()
            .unwrap()
            .contains("Pham Van An den han"),
        "{}",
        calls[0]
    );
    assert_eq!(calls[1]["Phone"], json!("84912000013"), "{}", calls[1]);
    assert!(
        calls[1]["Content"]
            .as_str()
            .unwrap()
            .contains("Cam on Ngo Van Chi"),
        "{}",
        calls[1]
    );
    // The clock moved past the token's hour.
    let t = api.printed_token(&printed).await;
    for id in &ids {
        let runs = api
            .runs_until(&t, *id, |r| r.len() == 1 && r[0]["state"] == json!("done"))
            .await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        let run = runs[0]["run"].as_str().unwrap();
        assert!(
            run.starts_with("order:") && run.ends_with("/once"),
            "{runs:?}"
        );
    }

    // The next day: Bích's order is due in two days, and An's second order is a week old.
    let t = {
        api.advance(86_400).await;
        api.printed_token(&printed).await
    };
    let calls = gw.wait(4).await;
    assert_eq!(calls.len(), 4, "{calls:?}");
    let mut next: Vec<&str> = calls[2..]
        .iter()
        .map(|c| c["Phone"].as_str().unwrap())
        .collect();
    next.sort_unstable();
    assert_eq!(next, ["84912000011", "84912000012"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gw.calls().len(), 4);
    let runs = api.runs_until(&t, ids[0], |r| r.len() == 2).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    drop(child);
    db.drop_db().await;
}

#[tokio::test]
async fn order_dates_sqlite() {
    order_dates(Backend::Sqlite).await;
}

#[tokio::test]
async fn order_dates_postgres() {
    order_dates(Backend::Postgres).await;
}

/// A one-off date trigger (`frequency_type` `O`) runs once at its `run_at`; moved to the next
/// day before it fired, the first moment passes with nothing sent and the new one sends.
async fn one_off_moved(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let gw = FakeGateway::start().await;
    let (child, printed, base) = serve_with(clocked(&db)).await;
    let api = Api::at(base);
    let t = api.printed_token(&printed).await;
    use reqwest::Method;
    api.sms_to(&t, &gw.url).await;
    let (wait, fire_day) = until_nine(chrono::Utc::now());
    let next_day = fire_day.succ_opt().unwrap();
    for (name, mobile, born) in [
        ("Mai Văn Đức", "0912000021", fire_day),
        ("Lý Thị Em", "0912000022", next_day),
    ] {
        let birthday = born.with_year(1991).unwrap().format("%Y-%m-%d").to_string();
        api.ok(
            Method::POST,
            "/api/customer/customer",
            &t,
            Some(json!({"name": name, "mobile": mobile, "type": "customer", "birthday": birthday})),
        )
        .await;
    }
    let body = |day: chrono::NaiveDate| {
        json!({
            "title": "Sinh nhật hôm nay", "is_active": 1, "component_id": 11,
            "scheduler": {"frequency_type": "O", "run_at": format!("{day}T09:00:00"),
                          "run_before_day": 0},
            "tasks": [{"type": "send_sms", "details": {"message": "Chuc mung {{cus_name}}"}}]
        })
    };
    let saved = api
        .ok(
            Method::POST,
            "/api/automation/automation",
            &t,
            Some(body(fire_day)),
        )
        .await;
    let id = saved["data"]["id"].as_i64().unwrap();
    api.ok(
        Method::PUT,
        &format!("/api/automation/automation/{id}"),
        &t,
        Some(body(next_day)),
    )
    .await;

    // The first moment: the job it had left finds the automation moved and does nothing.
    api.advance(wait + 60).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(gw.calls().is_empty(), "{:?}", gw.calls());
    // The new one: Em's birthday, once.
    api.advance(86_400).await;
    let calls = gw.wait(1).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["Phone"], json!("84912000022"), "{}", calls[0]);
    // Once the send is recorded (before that, a year's jump of the test clock would let the
    // send's lease run out under it and another worker send it again, as a send that outlives
    // its lease may): a one-off does not come back.
    let mut recorded = false;
    // The clock moved past the first token's hour.
    let fresh = api.printed_token(&printed).await;
    for _ in 0..100 {
        let history = api
            .ok(
                Method::GET,
                "/api/sms/history?page=1&pageLimit=15",
                &fresh,
                None,
            )
            .await;
        if history.to_string().contains("\"status\":1") {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recorded, "the send was never recorded");
    api.advance(366 * 86_400).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(gw.calls().len(), 1, "{:?}", gw.calls());
    drop(child);
    db.drop_db().await;
}

#[tokio::test]
async fn one_off_moved_sqlite() {
    one_off_moved(Backend::Sqlite).await;
}

#[tokio::test]
async fn one_off_moved_postgres() {
    one_off_moved(Backend::Postgres).await;
}
