//! NextX sales campaigns with stages and opportunities moving through them, over HTTP; the
//! same records CRMTOP shows.

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

async fn campaigns_and_opportunities(app: &TestApp) {
    let a = app.tenant("nxp").await;
    let other = app.tenant("nxp-other").await;
    let t = &a.token;
    let body = json!({
        "allow_duplicate_opportunity": 0, "assigned_to": 4761, "branch_id": null, "budget": "5000000", "campaign_failed_id": null,
        "campaign_success_id": null, "campaign_type": "107", "code": "CP000035", "contacts": [], "correlatives": [{"id": 4761, "rate": 1}],
        "description": "", "divide_opportunity_auto": 1, "end_date": "2026-09-26", "failed_campaign_id": null, "hide_opportunity_info": 1,
        "name": "Campaign test", "objective": "Tăng doanh số",
        "stages": [
            {"name": "Thông tin khách", "value": "Thông tin khách", "order": 1, "stage_type_id": 1},
            {"name": "Báo giá", "value": "Báo giá", "order": 2, "stage_type_id": 3},
            {"name": "Chốt đơn", "value": "Chốt đơn", "order": 3, "stage_type_id": 5}
        ],
        "start_date": "2026-09-19", "status": "37250", "success_campaign_id": null
    });
    // Served at the doc's (mistaken) path and at /api/crm/campaign.
    let c = ok(
        app,
        Method::POST,
        "/api/automation/automation",
        t,
        Some(body.clone()),
    )
    .await;
    let cid = c["id"].as_i64().unwrap();
    assert_eq!(c["code"], json!("CP000035"));
    assert_eq!(c["budget"], json!("5000000.00"));
    assert_eq!(c["status"], json!("37250"));
    assert_eq!(c["type"]["id"], json!(107));
    assert_eq!(c["start_date"], json!("2026-09-19"));
    let stages = c["stage"].as_array().unwrap();
    assert_eq!(stages.len(), 3);
    assert_eq!(stages[1]["stage_type_name"], json!("Báo giá"));
    let (first, quote, won) = (
        stages[0]["id"].as_i64().unwrap(),
        stages[1]["id"].as_i64().unwrap(),
        stages[2]["id"].as_i64().unwrap(),
    );
    let mut second = body.clone();
    second["code"] = json!("");
    second["name"] = json!("Chăm sóc KH");
    second["allow_duplicate_opportunity"] = json!(1);
    let c2 = ok(app, Method::POST, "/api/crm/campaign", t, Some(second)).await;
    let c2id = c2["id"].as_i64().unwrap();
    let list = ok(
        app,
        Method::GET,
        "/api/crm/campaign?page=1&pageLimit=15&strSearch=cham%20soc",
        t,
        None,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The doc's update is a POST in its samples.
    let r = ok(
        app,
        Method::POST,
        &format!("/api/crm/campaign/{cid}"),
        t,
        Some(json!({"description": "Mùa thu"})),
    )
    .await;
    assert_eq!(r["meta"]["status_code"], json!(0));
    let got = ok(
        app,
        Method::GET,
        &format!("/api/crm/campaign/{cid}"),
        t,
        None,
    )
    .await;
    assert_eq!(
        (
            got["description"].clone(),
            got["stage"].as_array().unwrap().len()
        ),
        (json!("Mùa thu"), 3)
    );

    // An opportunity with a new contact (a lead), placed in the first stage.
    let made = ok(app, Method::POST, "/api/crm/opportunity_create", t, Some(json!({
        "contact": {"user_id": 4761, "name": "Vũ Minh Khoa", "mobile": "0933 111 222", "email": "", "address": "Hà Nội", "sales_stage": null, "code": "", "contact_id": null},
        "opportunity": {"name": "Máy lọc cho văn phòng", "description": "", "probability": 20, "opportunity_amount": 15000000, "assigned_to": 4761, "campaign_id": cid, "expected_close_date": "2026-10-15", "lead_source": 41098, "lead_source_description": "", "sales_stage": null}
    }))).await;
    assert_eq!(made["meta"]["status_code"], json!(0));
    let oid = made["data"]["id"].as_i64().unwrap();
    let lead = made["data"]["contact_id"].as_i64().unwrap();
    let o = ok(
        app,
        Method::GET,
        &format!("/api/crm/opportunity/{oid}"),
        t,
        None,
    )
    .await;
    assert_eq!(o["sales_stage"], json!(first));
    assert_eq!(o["stage"]["name"], json!("Thông tin khách"));
    assert_eq!(o["opportunity_amount"], json!("15000000.00"));
    assert_eq!(o["contact_name"], json!("Vũ Minh Khoa"));
    assert_eq!(o["campaign"]["id"], json!(cid));
    assert_eq!(o["campaign_stage"].as_array().unwrap().len(), 3);
    // Moving through the stages (the samples POST the update, with strings).
    let o = ok(app, Method::POST, &format!("/api/crm/opportunity/{oid}"), t, Some(json!({"sales_stage": quote, "opportunity_amount": "18000000.00", "lead_source": "41098"}))).await;
    assert_eq!(
        (o["sales_stage"].clone(), o["opportunity_amount"].clone()),
        (json!(quote), json!("18000000.00"))
    );
    assert!(o["time_updated_result"].is_string());
    let o = ok(
        app,
        Method::PUT,
        &format!("/api/crm/opportunity/{oid}"),
        t,
        Some(json!({"sales_stage": won})),
    )
    .await;
    assert_eq!(o["status"], json!("success"));
    // CRMTOP sees the deal, at the won stage type, closed, about the lead.
    let page = app
        .search(
            "/api/v1/opportunity/search",
            t,
            json!({"leadName": "minh khoa"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(page["data"][0]["stage"], json!(5));
    assert!(page["data"][0]["actualCloseDate"].is_string());
    let leads = app
        .search("/api/v1/lead/search", t, json!({"phone": "0933111222"}))
        .await;
    assert_eq!(leads["totalCount"], json!(1));
    let list = ok(
        app,
        Method::GET,
        "/api/crm/opportunity?page=1&pageLimit=15&strSearch=may%20loc",
        t,
        None,
    )
    .await;
    assert_eq!(list[0]["id"], json!(oid));
    // The result-date range: the day the deal was decided, in the tenant's zone.
    let closed = page["data"][0]["actualCloseDate"].as_str().unwrap()[..10].to_owned();
    for (range, count) in [
        (
            format!("from_date_result={closed}&to_date_result={closed}"),
            1,
        ),
        (
            "from_date_result=2000-01-01&to_date_result=2000-01-02".to_owned(),
            0,
        ),
    ] {
        let list = ok(
            app,
            Method::GET,
            &format!("/api/crm/opportunity?page=1&strSearch=may%20loc&{range}"),
            t,
            None,
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), count, "{range}: {list}");
    }

    // No duplicate opportunity for the lead in a campaign that forbids them; allowed in the other.
    let dup = json!({"contact": {"contact_id": lead}, "opportunity": {"name": "Lần 2", "campaign_id": cid}});
    let (st, b) = app
        .call(
            Method::POST,
            "/api/crm/opportunity_create",
            Some(t),
            Some(dup),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    assert_eq!(b["meta"]["status_code"], json!(409), "{b}");
    assert_eq!(b["data"], json!([]), "{b}");
    let message = b["meta"]["message"].as_str().unwrap();
    assert!(message.contains("does not allow duplicates"), "{message}");
    let ok2 = json!({"contact": {"contact_id": lead}, "opportunity": {"name": "Lần 2", "campaign_id": c2id}});
    ok(
        app,
        Method::POST,
        "/api/crm/opportunity_create",
        t,
        Some(ok2),
    )
    .await;

    // Bad input writes nothing.
    let leads_before = app.search("/api/v1/lead/search", t, json!({})).await["totalCount"].clone();
    for (opp, field) in [
        (
            json!({"name": "x", "campaign_id": cid, "sales_stage": c2id * 1000 + 1}),
            "sales_stage",
        ),
        (json!({"name": "x", "campaign_id": 999999}), "campaign_id"),
        (json!({"name": "x", "probability": 150}), "probability"),
        (json!({"name": " "}), "name"),
    ] {
        let (st, b) = app
            .call(
                Method::POST,
                "/api/crm/opportunity_create",
                Some(t),
                Some(json!({"contact": {"name": "Mới"}, "opportunity": opp})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
        assert!(
            b["meta"]["message"].as_str().unwrap().contains(field),
            "{field}: {b}"
        );
    }
    assert_eq!(
        app.search("/api/v1/lead/search", t, json!({})).await["totalCount"],
        leads_before,
        "no lead left behind"
    );
    let (st, b) = app
        .call(
            Method::POST,
            "/api/crm/campaign",
            Some(t),
            Some(json!({"name": "x", "stages": [{"name": "A", "stage_type_id": 9}]})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let (st, b) = app
        .call(
            Method::POST,
            "/api/automation/automation",
            Some(t),
            Some(json!({"automation": {"title": "Chúc mừng sinh nhật", "tasks": []}})),
        )
        .await;
    // An automation body on the shared path stores an automation, not a campaign.
    assert_eq!(st, StatusCode::OK, "{b}");
    let list = ok(app, Method::GET, "/api/crm/campaign", t, None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (st, _) = app
        .call(
            Method::GET,
            &format!("/api/crm/opportunity/{oid}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = app
        .call(
            Method::GET,
            &format!("/api/crm/campaign/{cid}"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

on_both_backends!(campaigns_and_opportunities);
