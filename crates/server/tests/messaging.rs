//! Messages that really send: NextX E38 through the tenant's zns channel to a local server
//! playing Zalo (ZNS API and OA token refresh), on both backends; send records as history.

#![allow(clippy::unwrap_used)]

mod common;

use common::gateway::FakeGateway;
use common::smtp::Smtp;
use common::zalo::FakeZalo;
use common::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_outbound(backend).await
}

async fn set_zns(app: &TestApp, token: &str, zalo: &FakeZalo, access: &str) -> Value {
    let (st, b) = app
        .call(
            Method::PUT,
            "/crm/v1/channels/zns",
            Some(token),
            Some(json!({"settings": {
                "api_url": zalo.base, "oauth_url": zalo.base, "app_id": "app-1",
                "secret_key": "zalo-secret", "access_token": access, "refresh_token": "refresh-0",
            }})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b
}

async fn zns_sends_refreshes_and_records(app: &TestApp) {
    let zalo = FakeZalo::start().await;
    let a = app.tenant("zns-a").await;
    let b = app.tenant("zns-b").await;
    let t = &a.token;

    // Not configured yet: a 4xx in NextX's envelope, nothing sent.
    let (st, body) = app
        .call(
            Method::POST,
            "/api/common/send-zns-message",
            Some(t),
            Some(json!({"phone": "0912345678", "template_id": "231", "template_data": {}})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["meta"]["status_code"], json!(400), "{body}");
    assert!(zalo.calls().is_empty());

    // The stored access token has expired: the first send is refused, the server refreshes
    // the OA token with the refresh token, stores the new pair and sends again.
    let shown = set_zns(app, t, &zalo, "access-expired").await;
    assert_eq!(shown["channel"], json!("zns"));
    assert_eq!(shown["settings"]["access_token"], json!("set"), "{shown}");
    assert_eq!(shown["settings"]["secret_key"], json!("set"));
    assert_eq!(shown["settings"]["app_id"], json!("app-1"));
    assert!(!shown.to_string().contains("zalo-secret"), "{shown}");

    let (st, sent) = app
        .call(
            Method::POST,
            "/api/common/send-zns-message",
            Some(t),
            Some(json!({
                "phone": "0912 345 678",
                "template_id": "231",
                "tracking_id": "order-1001",
                "template_data": {"customer_name": "Nguyễn Văn Đức", "order_code": "DH1001", "amount": 1234000},
            })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{sent}");
    assert_eq!(sent["status"], json!("sent"), "{sent}");
    assert_eq!(sent["status_code"], json!(0));
    assert_eq!(sent["phone"], json!("0912 345 678"));
    assert_eq!(sent["template_id"], json!("231"));
    assert_eq!(sent["tracking_id"], json!("order-1001"));
    assert_eq!(
        sent["template_data"]["customer_name"],
        json!("Nguyễn Văn Đức")
    );
    assert_eq!(sent["template_data"]["amount"], json!("1234000"));
    let msg_id = sent["msg_id"].as_str().unwrap().to_owned();
    assert!(msg_id.starts_with("zmsg-"), "{sent}");

    let calls = zalo.calls();
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/message/template",
            "/v4/oa/access_token",
            "/message/template"
        ],
        "{calls:?}"
    );
    assert_eq!(calls[0].headers["access_token"], "access-expired");
    assert_eq!(calls[1].headers["secret_key"], "zalo-secret");
    assert_eq!(calls[1].body["refresh_token"], json!("refresh-0"));
    assert_eq!(calls[1].body["grant_type"], json!("refresh_token"));
    assert_eq!(calls[2].headers["access_token"], "access-2");
    let z = &calls[2].body;
    assert_eq!(z["phone"], json!("84912345678"));
    assert_eq!(z["template_id"], json!("231"));
    assert_eq!(z["tracking_id"], json!("order-1001"));
    assert_eq!(z["template_data"]["customer_name"], json!("Nguyễn Văn Đức"));
    assert_eq!(z["template_data"]["order_code"], json!("DH1001"));

    // The same tracking id again answers the first message and sends nothing more.
    let (st, again) = app
        .call(
            Method::POST,
            "/api/common/send-zns-message",
            Some(t),
            Some(
                json!({"phone": "+84912345678", "template_id": "231", "tracking_id": "order-1001",
                        "template_data": {"customer_name": "Nguyễn Văn Đức"}}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["id"], sent["id"]);
    assert_eq!(again["msg_id"], json!(msg_id));
    assert_eq!(zalo.calls().len(), 3);

    // The next send uses the refreshed token straight away.
    let (_, next) = app
        .call(
            Method::POST,
            "/api/common/send-zns-message",
            Some(t),
            Some(
                json!({"phone": "01682345678", "template_id": "231", "template_data": {"x": "1"}}),
            ),
        )
        .await;
    assert_eq!(next["status"], json!("sent"), "{next}");
    let calls = zalo.calls();
    assert_eq!(calls.len(), 4);
    assert_eq!(calls[3].headers["access_token"], "access-2");
    assert_eq!(calls[3].body["phone"], json!("84382345678"));

    // A number Zalo refuses for good fails at once, with Zalo's reason.
    zalo.refuse("84987654321", -118);
    let (st, failed) = app
        .call(
            Method::POST,
            "/api/common/send-zns-message",
            Some(t),
            Some(json!({"phone": "0987654321", "template_id": "231", "template_data": {}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{failed}");
    assert_eq!(failed["status"], json!("failed"), "{failed}");
    assert_eq!(failed["status_code"], json!(1));
    assert!(
        failed["reason"].as_str().unwrap().contains("-118"),
        "{failed}"
    );
    assert_eq!(zalo.calls().len(), 5);

    // Bad input: NextX's envelope, a 4xx, nothing sent.
    for bad in [
        json!({"phone": "0241234567", "template_id": "231"}),
        json!({"phone": "0912345678"}),
        json!({"phone": "0912345678", "template_id": "231", "template_data": [1, 2]}),
        json!({"phone": "0912345678", "template_id": "231", "template_data": {"a": {"b": 1}}}),
        json!({"phone": ["0912345678"], "template_id": "231"}),
    ] {
        let (st, body) = app
            .call(
                Method::POST,
                "/api/common/send-zns-message",
                Some(t),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad} -> {body}");
        assert!(body["meta"]["message"].is_string(), "{body}");
    }
    assert_eq!(zalo.calls().len(), 5);

    // History: our send records, newest first, with the provider's ids and reasons.
    let (st, list) = app
        .call(Method::GET, "/crm/v1/messages?channel=zns", Some(t), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 3, "{list}");
    assert_eq!(data[0]["state"], json!("failed"));
    assert_eq!(data[0]["recipient"], json!("84987654321"));
    assert_eq!(data[2]["state"], json!("sent"));
    assert_eq!(data[2]["provider_id"], json!(msg_id));
    assert_eq!(data[2]["campaign"], json!("zns:order-1001"));
    assert_eq!(
        data[2]["content"]["template_data"]["customer_name"],
        json!("Nguyễn Văn Đức")
    );
    assert!(data[2]["sent_at"].is_string());
    for (query, field) in [("page=abc", Value::Null), ("state=nope", json!("state"))] {
        let (st, bad) = app
            .call(
                Method::GET,
                &format!("/crm/v1/messages?{query}"),
                Some(t),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{query}: {bad}");
        assert!(bad["message"].is_string(), "{bad}");
        assert_eq!(bad["field"], field, "{bad}");
    }
    let (st, one) = app
        .call(
            Method::GET,
            &format!("/crm/v1/messages/{}", sent["id"].as_str().unwrap()),
            Some(t),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{one}");
    assert_eq!(one["state"], json!("sent"));

    // The refreshed pair is stored (and still not shown).
    let (_, shown) = app
        .call(Method::GET, "/crm/v1/channels/zns", Some(t), None)
        .await;
    assert_eq!(shown["settings"]["access_token"], json!("set"));
    assert_eq!(zalo.tokens().0, "access-2");

    // Another tenant sees neither the messages nor the channel.
    let (_, other) = app
        .call(Method::GET, "/crm/v1/messages", Some(&b.token), None)
        .await;
    assert_eq!(other["data"], json!([]));
    let (st, _) = app
        .call(
            Method::GET,
            &format!("/crm/v1/messages/{}", sent["id"].as_str().unwrap()),
            Some(&b.token),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, theirs) = app
        .call(Method::GET, "/crm/v1/channels/zns", Some(&b.token), None)
        .await;
    assert_eq!(theirs["settings"], json!({}));

    // Channel settings are checked: unknown keys and bad URLs are refused.
    for bad in [
        json!({"settings": {"smtp_url": "smtp://x"}}),
        json!({"settings": {"api_url": "ftp://x"}}),
        json!({"settings": {"rate": "0"}}),
        json!({"nope": 1}),
    ] {
        let (st, body) = app
            .call(
                Method::PUT,
                "/crm/v1/channels/zns",
                Some(t),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad} -> {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    let (st, _) = app
        .call(Method::GET, "/crm/v1/channels/fax", Some(t), None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

/// Many sends at once through one expired token: one refresh (the refresh token is spent by
/// use), every message sent exactly once.
async fn concurrent_sends_refresh_once(app: &TestApp) {
    let zalo = FakeZalo::start().await;
    let a = app.tenant("zns-c").await;
    set_zns(app, &a.token, &zalo, "access-expired").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (base, http, token, barrier) = (
            app.base.clone(),
            app.http.clone(),
            a.token.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = http
                .post(format!("{base}/api/common/send-zns-message"))
                .bearer_auth(token)
                .json(
                    &json!({"phone": format!("09120000{i:02}"), "template_id": "7",
                              "tracking_id": format!("t-{i}"), "template_data": {"n": i}}),
                )
                .send()
                .await
                .unwrap();
            let st = r.status();
            let body: Value = r.json().await.unwrap();
            (st, body)
        }));
    }
    for t in tasks {
        let (st, body) = t.await.unwrap();
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["status"], json!("sent"), "{body}");
    }
    let calls = zalo.calls();
    let refreshes = calls
        .iter()
        .filter(|c| c.path == "/v4/oa/access_token")
        .count();
    // One refresh whether one node or two sent them (on two, the refresh is claimed in the
    // database and the other node waits for the token it stores).
    assert_eq!(refreshes, 1, "{calls:?}");
    let mut accepted: Vec<String> = calls
        .iter()
        .filter(|c| c.path == "/message/template" && c.headers["access_token"] == "access-2")
        .map(|c| c.body["phone"].as_str().unwrap().to_owned())
        .collect();
    accepted.sort();
    accepted.dedup();
    assert_eq!(accepted.len(), 12);
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.path == "/message/template" && c.headers["access_token"] == "access-2")
            .count(),
        12,
        "each message sent once with the fresh token"
    );
}

/// E-mail through the tenant's SMTP channel to a real SMTP server: MIME with Vietnamese intact,
/// a stable Message-ID, one-click unsubscribe recorded and honoured.
async fn email_sends_and_unsubscribes(app: &TestApp) {
    let smtp = Smtp::start().await;
    let a = app.tenant("mail-a").await;
    let t = &a.token;
    let (st, shown) = app
        .call(
            Method::PUT,
            "/crm/v1/channels/email",
            Some(t),
            Some(json!({"settings": {
                "smtp_url": format!("smtp://shop:p%40ss@127.0.0.1:{}", smtp.port),
                "tls": "none", "from": "cskh@cuahang.vn", "from_name": "Cửa hàng Hoa Mai",
            }})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{shown}");
    assert_eq!(shown["settings"]["smtp_url"], json!("set"), "{shown}");
    assert!(!shown.to_string().contains("p%40ss"), "{shown}");

    let send = |to: &str, campaign: &str| {
        json!({
            "channel": "email", "to": to, "campaign": campaign,
            "subject": "Ưu đãi tháng 12 cho Nguyễn Văn Đức",
            "html": "<p>Chào anh <b>Đức</b>,</p><p>Giảm 20% đơn hàng &amp; quà tặng.</p>",
        })
    };
    let (st, queued) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(send("Duc@Example.vn", "dec-2026")),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["state"], json!("queued"));
    assert_eq!(queued["recipient"], json!("duc@example.vn"));
    let got = smtp.wait(1).await;
    if got.is_empty() {
        let id = queued["id"].as_str().unwrap();
        let rec = app
            .call(
                Method::GET,
                &format!("/crm/v1/messages/{id}"),
                Some(t),
                None,
            )
            .await
            .1;
        panic!("nothing received: {rec}");
    }
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m["auth_user"], json!("shop"), "AUTH with the URL's user");
    assert_eq!(m["mail_from"], json!("cskh@cuahang.vn"));
    assert_eq!(m["rcpt_tos"], json!(["duc@example.vn"]));
    assert_eq!(
        m["headers"]["Subject"],
        json!("Ưu đãi tháng 12 cho Nguyễn Văn Đức")
    );
    assert!(
        m["headers"]["From"]
            .as_str()
            .unwrap()
            .contains("Cửa hàng Hoa Mai"),
        "{m}"
    );
    assert_eq!(m["content_type"], json!("multipart/alternative"));
    assert!(
        m["parts"]["text/html"]
            .as_str()
            .unwrap()
            .contains("<b>Đức</b>"),
        "{m}"
    );
    let text = m["parts"]["text/plain"].as_str().unwrap();
    assert!(text.contains("Chào anh Đức,"), "{text}");
    assert!(text.contains("Giảm 20% đơn hàng & quà tặng."), "{text}");
    let id = queued["id"].as_str().unwrap();
    let message_id = m["headers"]["Message-ID"].as_str().unwrap();
    assert_eq!(message_id, format!("<{}@cuahang.vn>", id.replace('-', "")));
    let unsub = m["headers"]["List-Unsubscribe"].as_str().unwrap();
    assert!(
        unsub.contains(&format!("/crm/v1/unsubscribe/{id}")),
        "{unsub}"
    );
    assert_eq!(
        m["headers"]["List-Unsubscribe-Post"],
        json!("List-Unsubscribe=One-Click")
    );

    // The record says sent, with the Message-ID as the provider's id.
    let mut rec = Value::Null;
    for _ in 0..100 {
        rec = app
            .call(
                Method::GET,
                &format!("/crm/v1/messages/{id}"),
                Some(t),
                None,
            )
            .await
            .1;
        if rec["state"] == json!("sent") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rec["state"], json!("sent"), "{rec}");
    assert_eq!(rec["provider_id"], json!(message_id));

    // The same campaign to the same address sends nothing more.
    let (_, again) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(send("duc@example.vn", "dec-2026")),
        )
        .await;
    assert_eq!(again["id"], queued["id"]);

    // One click (RFC 8058): a GET shows a page and changes nothing; the POST records it.
    let path = format!("/crm/v1/unsubscribe/{id}");
    let page = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    let (_, later) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(send("duc@example.vn", "jan-2027")),
        )
        .await;
    assert_eq!(
        later["state"],
        json!("queued"),
        "a GET does not unsubscribe: {later}"
    );
    smtp.wait(2).await;
    let done = app
        .http
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let (st, skipped) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(send("duc@example.vn", "feb-2027")),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED);
    assert_eq!(skipped["state"], json!("skipped"), "{skipped}");
    assert_eq!(skipped["reason"], json!("unsubscribed"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        smtp.messages().len(),
        2,
        "nothing sent to an unsubscribed address"
    );

    // Bad input: our envelope, a 4xx, nothing stored.
    for bad in [
        json!({"channel": "email", "to": "not-an-address", "subject": "x", "text": "y"}),
        json!({"channel": "email", "to": "a@b.vn", "text": "y"}),
        json!({"channel": "email", "to": "a@b.vn", "subject": "x"}),
        json!({"channel": "sms", "to": "0912345678", "subject": "x", "text": "y"}),
        json!({"channel": "email", "to": "a@b.vn", "subject": "x", "text": "y", "extra": 1}),
    ] {
        let (st, body) = app
            .call(Method::POST, "/crm/v1/messages", Some(t), Some(bad.clone()))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad} -> {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    let (st, _) = app
        .call(Method::POST, "/crm/v1/unsubscribe/not-an-id", None, None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A tenant without an e-mail channel is told so.
    let b = app.tenant("mail-b").await;
    let (st, body) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(&b.token),
            Some(send("x@y.vn", "c")),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], json!("channel"));
    smtp.stop().await;
}

/// Wait until a message leaves `queued`; its record.
async fn settled(app: &TestApp, token: &str, id: &str) -> Value {
    let mut rec = Value::Null;
    for _ in 0..200 {
        rec = app
            .call(
                Method::GET,
                &format!("/crm/v1/messages/{id}"),
                Some(token),
                None,
            )
            .await
            .1;
        if rec["state"] != json!("queued") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    rec
}

/// Brandname SMS through a gateway: diacritics removed by default, segments counted, the
/// gateway's codes decide retry or failure, the request id the same on every attempt.
async fn sms_sends_through_the_gateway(app: &TestApp) {
    let gw = FakeGateway::start().await;
    let a = app.tenant("sms-a").await;
    let t = &a.token;
    let (st, shown) = app
        .call(
            Method::PUT,
            "/crm/v1/channels/sms",
            Some(t),
            Some(
                json!({"settings": {"api_url": gw.url, "api_key": "k-1", "secret_key": "s-1",
                                      "brandname": "HOAMAI", "sms_type": "2"}}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{shown}");
    assert_eq!(shown["settings"]["api_key"], json!("set"));
    let sms = |to: &str, text: &str| json!({"channel": "sms", "to": to, "text": text});

    let (st, q) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(sms(
                "0912 345 678",
                "Chào anh Đức, đơn hàng DH1001 đã được giao.",
            )),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{q}");
    let rec = settled(app, t, q["id"].as_str().unwrap()).await;
    assert_eq!(rec["state"], json!("sent"), "{rec}");
    assert_eq!(rec["provider_id"], json!("sms-1"));
    assert_eq!(rec["content"]["segments"], json!(1));
    assert_eq!(rec["content"]["unicode"], json!(false));
    let call = &gw.calls()[0];
    assert_eq!(call["Phone"], json!("84912345678"));
    assert_eq!(
        call["Content"],
        json!("Chao anh Duc, don hang DH1001 da duoc giao.")
    );
    assert_eq!(call["Brandname"], json!("HOAMAI"));
    assert_eq!(call["ApiKey"], json!("k-1"));
    assert_eq!(call["SecretKey"], json!("s-1"));
    assert_eq!(call["SmsType"], json!("2"));
    assert_eq!(call["IsUnicode"], json!("0"));

    // A long text counts its segments (161 GSM-7 characters: 2).
    let (_, long) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(sms("0912345679", &"a".repeat(161))),
        )
        .await;
    let rec = settled(app, t, long["id"].as_str().unwrap()).await;
    assert_eq!(rec["content"]["segments"], json!(2), "{rec}");

    // The gateway's own error is retried with the same request id, then it goes through.
    gw.script("84912345670", &["99"]);
    let (_, retried) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(sms("0912345670", "Xin chao")),
        )
        .await;
    let rec = settled(app, t, retried["id"].as_str().unwrap()).await;
    assert_eq!(rec["state"], json!("sent"), "{rec}");
    assert_eq!(rec["attempts"], json!(2));
    let tries: Vec<Value> = gw
        .calls()
        .into_iter()
        .filter(|c| c["Phone"] == json!("84912345670"))
        .collect();
    assert_eq!(tries.len(), 2);
    assert_eq!(tries[0]["RequestId"], tries[1]["RequestId"]);

    // A final code (unknown brandname) fails at once with the gateway's answer.
    gw.script("84912345671", &["104"]);
    let (_, refused) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(sms("0912345671", "Xin chao")),
        )
        .await;
    let rec = settled(app, t, refused["id"].as_str().unwrap()).await;
    assert_eq!(rec["state"], json!("failed"), "{rec}");
    assert!(rec["reason"].as_str().unwrap().contains("104"), "{rec}");
    assert_eq!(rec["attempts"], json!(1));

    // Unicode when the channel says so: 71 Vietnamese letters are two UCS-2 segments.
    let (st, _) = app
        .call(
            Method::PUT,
            "/crm/v1/channels/sms",
            Some(t),
            Some(json!({"settings": {"unicode": "1"}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, uni) = app
        .call(
            Method::POST,
            "/crm/v1/messages",
            Some(t),
            Some(sms("0912345672", &"ư".repeat(71))),
        )
        .await;
    let rec = settled(app, t, uni["id"].as_str().unwrap()).await;
    assert_eq!(rec["state"], json!("sent"), "{rec}");
    assert_eq!(rec["content"]["segments"], json!(2));
    let last = gw.calls().last().cloned().unwrap();
    assert_eq!(last["IsUnicode"], json!("1"));
    assert_eq!(last["Content"], json!("ư".repeat(71)));

    // Bad input: a 4xx in our envelope, nothing sent.
    let before = gw.calls().len();
    for bad in [
        sms("0241234567", "x"),
        sms("0912345678", ""),
        sms("0912345678", &"a".repeat(1001)),
        json!({"channel": "sms", "to": "0912345678", "text": "x", "subject": "y"}),
        json!({"channel": "zns", "to": "0912345678", "text": "x"}),
    ] {
        let (st, body) = app
            .call(Method::POST, "/crm/v1/messages", Some(t), Some(bad.clone()))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad} -> {body}");
        assert!(body["message"].is_string(), "{body}");
    }
    assert_eq!(gw.calls().len(), before);
}

on_both_spawned!(
    spawn;
    zns_sends_refreshes_and_records,
    concurrent_sends_refresh_once,
    email_sends_and_unsubscribes,
    sms_sends_through_the_gateway
);
