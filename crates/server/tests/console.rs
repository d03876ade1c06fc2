//! The staff's web console (`docs/console.md`) over HTTP on both backends: sign-in with its
//! CSRF cookie, the session cookie's flags, search as one types, a customer's page and a note
//! added to it (made as the staff member), roles, another tenant's records, sign-out, and the
//! sign-in throttle. `console_browser.rs` drives the same screens in headless Chromium.

#![allow(clippy::unwrap_used)]

mod common;

use common::console::{client, csrf_of, page, post_form, set_cookie, sign_in, staff, PASSWORD};
use common::{Backend, TestApp};
use crm_domain::console::Role;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn console_end_to_end(app: &TestApp) {
    let shop = app.tenant("shop").await;
    let duc = app
        .create(
            "/api/v1/customer/create",
            &shop.token,
            json!({"name": "Nguyễn Văn Đức", "phone": "0912 345 678", "email": "duc@example.vn", "type": 1}),
        )
        .await;
    app.create(
        "/api/v1/customer/create",
        &shop.token,
        json!({"name": "Trần Thị Hoa", "phone": "0987 000 111", "type": 1}),
    )
    .await;
    let other = app.tenant("other").await;
    let theirs = app
        .create(
            "/api/v1/customer/create",
            &other.token,
            json!({"name": "Nguyễn Văn Đức Khác", "phone": "0912 999 888", "type": 1}),
        )
        .await;
    staff(app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    staff(app, "shop", "xem", Role::Viewer, "Lê Văn Xem").await;

    // Without a session every page sends the browser to the sign-in page.
    let (status, headers, _) = page(app, "", "/app/customers").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/app/login");

    // Sign-in: the form's CSRF token must match its cookie; a wrong password says so.
    let r = client()
        .post(format!("{}/app/login", app.base))
        .form(&[
            ("csrf", "forged"),
            ("workspace", "shop"),
            ("username", "lan"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(r.headers(), "crm_session").is_none());
    let (status, body) = sign_in(app, "shop", "lan", "sai mật khẩu")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.contains("Sai không gian làm việc, tên đăng nhập hoặc mật khẩu"),
        "{body}"
    );
    let (status, _) = sign_in(app, "other", "lan", PASSWORD).await.unwrap_err();
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "lan is not a user of 'other'"
    );
    let lan = sign_in(app, "shop", "lan", PASSWORD).await.unwrap();

    // The list, and a search typed without accents.
    let (status, headers, html) = page(app, &lan, "/app/customers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert!(html.contains("2 khách hàng"), "{html}");
    assert!(
        html.contains("Trần Thị Lan"),
        "the signed-in user is named: {html}"
    );
    assert!(
        !html.contains("Đức Khác"),
        "another tenant's customer: {html}"
    );
    let (_, _, html) = page(app, &lan, "/app/customers?q=nguyen%20van%20duc").await;
    assert!(html.contains("1 khách hàng"), "{html}");
    assert!(html.contains(&format!("/app/customers/{duc}")), "{html}");
    assert!(
        html.contains("Nguyễn Văn Đức") && !html.contains("Trần Thị Hoa"),
        "{html}"
    );
    let (_, _, html) = page(app, &lan, "/app/customers?q=345678").await;
    assert!(
        html.contains("Nguyễn Văn Đức"),
        "the phone's last digits: {html}"
    );
    let (_, _, html) = page(app, &lan, "/app/customers?q=%3Cscript%3E&page=x").await;
    assert!(
        html.contains("0 khách hàng") && !html.contains("<script>"),
        "{html}"
    );

    // The customer's page; a note is added with the session's CSRF token only.
    let path = format!("/app/customers/{duc}");
    let (status, _, html) = page(app, &lan, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Nguyễn Văn Đức") && html.contains("0912 345 678"),
        "{html}"
    );
    assert!(html.contains("Chưa có hoạt động"), "{html}");
    let csrf = csrf_of(&html);
    let notes = format!("{path}/notes");
    let (status, _, _) = post_form(app, &lan, &notes, &[("text", "Gọi lại thứ Hai")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _, _) = post_form(
        app,
        &lan,
        &notes,
        &[("csrf", "x"), ("text", "Gọi lại thứ Hai")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a wrong CSRF token");
    let (status, _, _) = post_form(app, &lan, &notes, &[("csrf", &csrf), ("text", "  ")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an empty note");
    let (status, headers, _) = post_form(
        app,
        &lan,
        &notes,
        &[
            ("csrf", &csrf),
            ("text", "Gọi lại thứ Hai\nKhách hỏi giá sỉ"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], path.as_str());
    let (_, _, html) = page(app, &lan, &path).await;
    assert!(
        html.contains("Gọi lại thứ Hai") && html.contains("Khách hỏi giá sỉ"),
        "{html}"
    );
    assert!(
        html.contains("Ghi chú") && html.contains("Trần Thị Lan"),
        "{html}"
    );
    // The note is an activity of the customer, seen through the vendor APIs too, made as lan.
    let found = app
        .search(
            "/api/v1/activity/search",
            &shop.token,
            json!({"search": "goi lai thu hai"}),
        )
        .await;
    assert_eq!(found["totalCount"], json!(1), "{found}");
    assert_eq!(
        found["data"][0]["createdByName"],
        json!("Trần Thị Lan"),
        "{found}"
    );
    // And the audit trail names her, as it names an API client.
    let note_id = found["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, trail) = app
        .get(&format!("/crm/v1/audit?record={note_id}"), &shop.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let entries = trail["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{trail}");
    assert_eq!(entries[0]["object"], json!("activity"), "{trail}");
    assert_eq!(entries[0]["action"], json!("created"), "{trail}");
    assert_eq!(entries[0]["client_name"], json!("Trần Thị Lan"), "{trail}");

    // Another tenant's customer does not exist for this session.
    let (status, _, _) = page(app, &lan, &format!("/app/customers/{theirs}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = page(app, &lan, "/app/customers/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = post_form(
        app,
        &lan,
        &format!("/app/customers/{theirs}/notes"),
        &[("csrf", &csrf), ("text", "x")],
    )
    .await;
    assert!(status.is_client_error(), "{status}");

    // A viewer sees and changes nothing.
    let xem = sign_in(app, "shop", "xem", PASSWORD).await.unwrap();
    let (_, _, html) = page(app, &xem, &path).await;
    assert!(
        html.contains("Gọi lại thứ Hai") && !html.contains("<textarea"),
        "{html}"
    );
    let viewer_csrf = csrf_of(&html);
    let (status, _, html) =
        post_form(app, &xem, &notes, &[("csrf", &viewer_csrf), ("text", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("viewer"), "{html}");

    // Leads: listed, searched, converted into a customer by a sales user, once.
    let lead = app
        .create(
            "/api/v1/lead/create",
            &shop.token,
            json!({"source": 1, "status": 1, "fullName": "Phạm Minh Tuấn", "email": "tuan@congty.vn",
                   "phone": "0933 444 555", "company": "Công ty Minh Tuấn"}),
        )
        .await;
    let (status, _, html) = page(app, &lan, "/app/leads?q=tuan").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("1 khách tiềm năng"), "{html}");
    assert!(html.contains(&format!("/app/leads/{lead}")), "{html}");
    let lead_path = format!("/app/leads/{lead}");
    let (_, _, html) = page(app, &xem, &lead_path).await;
    assert!(
        html.contains("Công ty Minh Tuấn") && !html.contains("/convert"),
        "{html}"
    );
    let convert = format!("{lead_path}/convert");
    let (status, _, _) = post_form(app, &xem, &convert, &[("csrf", &viewer_csrf)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer converts nothing");
    let (_, _, html) = page(app, &lan, &lead_path).await;
    assert!(html.contains(&format!("action=\"{convert}\"")), "{html}");
    let (status, _, _) = post_form(app, &lan, &convert, &[("csrf", "x")]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no CSRF token, no conversion"
    );
    let (status, headers, _) = post_form(app, &lan, &convert, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let customer_path = headers[LOCATION].to_str().unwrap().to_owned();
    assert!(
        customer_path.starts_with("/app/customers/"),
        "{customer_path}"
    );
    let (_, _, html) = page(app, &lan, &customer_path).await;
    // The lead's company becomes the customer (its person, a contact), as in CRMTOP.
    assert!(html.contains("<h1>Công ty Minh Tuấn</h1>"), "{html}");
    let (_, _, html) = page(app, &lan, &lead_path).await;
    assert!(html.contains("Đã chuyển thành khách hàng"), "{html}");
    assert!(
        html.contains(&format!("href=\"{customer_path}\"")),
        "{html}"
    );
    let (status, _, _) = post_form(app, &lan, &convert, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "converted once");
    let got = app
        .search(
            "/api/v1/lead/search",
            &shop.token,
            json!({"search": "tuan"}),
        )
        .await;
    assert_eq!(got["data"][0]["isConverted"], json!(true), "{got}");

    // Sign-out ends the session (a CSRF token is needed for it too).
    let (status, _, _) = post_form(app, &lan, "/app/logout", &[("csrf", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, _) = post_form(app, &lan, "/app/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/app/login");
    assert!(set_cookie(&headers, "crm_session")
        .unwrap()
        .contains("Max-Age=0"));
    let (status, headers, _) = page(app, &lan, "/app/customers").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/app/login");
    // The viewer's session is its own and still open.
    let (status, _, _) = page(app, &xem, "/app/customers").await;
    assert_eq!(status, StatusCode::OK);

    // English, chosen per browser: the switch goes back to the console page it was on.
    let r = client()
        .get(format!("{}/app/lang/en", app.base))
        .header("Cookie", format!("crm_session={xem}"))
        .header("Referer", format!("{}/app/customers?q=duc", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/app/customers?q=duc");
    let lang = set_cookie(r.headers(), "crm_lang").unwrap().to_owned();
    assert!(
        lang.starts_with("crm_lang=en;") && lang.contains("Path=/app"),
        "{lang}"
    );
    let r = client()
        .get(format!("{}/app/lang/en", app.base))
        .header("Referer", "https://elsewhere.example/app/customers")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        "/app/customers",
        "never another site"
    );
    let english = |path: &str| {
        client()
            .get(format!("{}{path}", app.base))
            .header("Cookie", format!("crm_session={xem}; crm_lang=en"))
            .send()
    };
    let html = english("/app/customers?q=duc")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(
        html.contains("1 customer<") && html.contains("Sign out"),
        "{html}"
    );
    assert!(html.contains("Tiếng Việt"), "the switch back: {html}");
    let html = english(&path).await.unwrap().text().await.unwrap();
    assert!(
        html.contains("Activities") && html.contains("Note"),
        "{html}"
    );
    let r = english(&format!("/app/customers/{theirs}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("There is no such record"));
    let (status, _, _) = page(app, &xem, "/app/lang/fr").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The embedded assets.
    for (asset, kind) in [
        ("console.css", "text/css"),
        ("htmx.min.js", "text/javascript"),
    ] {
        let r = client()
            .get(format!("{}/app/assets/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
        assert!(r.text().await.unwrap().len() > 1000);
    }
}

on_both_backends!(
    console_end_to_end,
    console_sales,
    console_customer_and_tickets,
    console_settings,
    console_import,
    counts_stop_at_their_cap
);

/// Wrong passwords are throttled per user like the API's token endpoints
/// (`CRM_AUTH_FAILURES_PER_MINUTE`, four here): the fifth wrong password locks the user, and
/// the next attempt is refused before any check, the right password included, while another
/// user still signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_throttled() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.auth_failures_per_minute = 4)
        .await
        .unwrap();
    app.tenant("shop").await;
    staff(&app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    staff(&app, "shop", "hoa", Role::Sales, "Trần Thị Hoa").await;
    for _ in 0..5 {
        let (status, _) = sign_in(&app, "shop", "lan", "sai").await.unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = sign_in(&app, "shop", "lan", PASSWORD).await.unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("Quá nhiều lần thử"), "{body}");
    assert!(sign_in(&app, "shop", "hoa", PASSWORD).await.is_ok());
    app.stop().await;
}

/// The id of the board's card named `name`.
fn deal_on_board(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("<strong>{name}</strong>"))
        .unwrap_or_else(|| panic!("{name} on the board: {html}"));
    let card = html[..at].rfind("id=\"deal-").expect("a card") + 9;
    html[card..].split('"').next().unwrap().to_owned()
}

/// The board's column of stage `stage`, as HTML.
fn column(html: &str, stage: i32) -> &str {
    let start = html
        .find(&format!("id=\"stage-{stage}\""))
        .expect("the column");
    let end = html[start..]
        .find("</section>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// The sales screens: opportunities on a board by stage, moved by a sales user (a NextX deal
/// within its campaign's stages), orders with their lines, approved once, and their printout
/// as a page and as a PDF; a viewer changes nothing and another tenant's records are not there.
async fn console_sales(app: &TestApp) {
    let shop = app.tenant("shop").await;
    let t = &shop.token;
    let other = app.tenant("other").await;
    staff(app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    staff(app, "shop", "xem", Role::Viewer, "Lê Văn Xem").await;
    let buyer = app
        .create(
            "/api/v1/customer/create",
            t,
            json!({"name": "Siêu thị Minh Châu", "type": 1}),
        )
        .await;
    let deal = |name: &str, stage: i32, customer: &str| {
        json!({"name": name, "customerId": customer, "amount": 150000000.0, "currency": "VND",
               "probability": 50, "stage": stage})
    };
    let pos = app
        .create(
            "/api/v1/opportunity/create",
            t,
            deal("Cung cấp máy POS", 1, &buyer),
        )
        .await;
    app.create(
        "/api/v1/opportunity/create",
        t,
        deal("Bảo trì hệ thống", 2, &buyer),
    )
    .await;
    let their_buyer = app
        .create(
            "/api/v1/customer/create",
            &other.token,
            json!({"name": "Khách bên kia", "type": 1}),
        )
        .await;
    let theirs = app
        .create(
            "/api/v1/opportunity/create",
            &other.token,
            deal("Cơ hội bên kia", 1, &their_buyer),
        )
        .await;
    // A NextX deal in a campaign whose stages are customer info, quotation and won.
    let (status, c) = app
        .call(
            reqwest::Method::POST,
            "/api/crm/campaign",
            Some(t),
            Some(
                json!({"name": "Mùa thu", "allow_duplicate_opportunity": 1, "stages": [
                {"name": "Thông tin khách", "value": "", "order": 1, "stage_type_id": 1},
                {"name": "Báo giá", "value": "", "order": 2, "stage_type_id": 3},
                {"name": "Chốt đơn", "value": "", "order": 3, "stage_type_id": 5}]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let cid = c["id"].as_i64().unwrap();
    let quote = c["stage"][1]["id"].as_i64().unwrap();
    let (status, made) = app
        .call(
            reqwest::Method::POST,
            "/api/crm/opportunity_create",
            Some(t),
            Some(json!({
                "contact": {"name": "Vũ Minh Khoa", "mobile": "0933 111 222"},
                "opportunity": {"name": "Máy lọc cho văn phòng", "opportunity_amount": 15000000,
                                "campaign_id": cid}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let nextx_deal = made["data"]["id"].as_i64().unwrap();

    let lan = sign_in(app, "shop", "lan", PASSWORD).await.unwrap();
    let xem = sign_in(app, "shop", "xem", PASSWORD).await.unwrap();

    // The board: a column per stage type, each deal with its customer and amount.
    let (status, _, html) = page(app, &lan, "/app/deals").await;
    assert_eq!(status, StatusCode::OK);
    let first = column(&html, 1);
    assert!(
        first.contains("Cung cấp máy POS")
            && first.contains("Siêu thị Minh Châu")
            && first.contains("150.000.000 ₫"),
        "{first}"
    );
    assert!(
        first.contains("Máy lọc cho văn phòng"),
        "the NextX deal: {first}"
    );
    assert!(column(&html, 2).contains("Bảo trì hệ thống"), "{html}");
    assert!(!html.contains("Cơ hội bên kia"), "another tenant's deal");
    assert!(
        first.contains("→ Phân tích nhu cầu") && first.contains("✗ Thất bại"),
        "an open deal moves on or is lost: {first}"
    );
    assert_eq!(deal_on_board(&html, "Cung cấp máy POS"), pos);
    // Deals may be dragged between columns (the script submits the same form).
    assert!(
        html.contains("<div class=\"board\" data-movable>")
            && html.contains(&format!("id=\"deal-{pos}\" draggable=\"true\""))
            && html.contains("id=\"stage-4\" data-stage=\"4\"")
            && html.contains("<script src=\"/app/assets/board.js\" defer></script>"),
        "{html}"
    );
    let script = client()
        .get(format!("{}/app/assets/board.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(script.text().await.unwrap().contains("form.submit()"));
    let csrf = csrf_of(&html);

    // Moving a deal: the session's CSRF token, a sales role, a stage 1-6 of this tenant's deal.
    let stage_path = format!("/app/deals/{pos}/stage");
    let (status, _, _) = post_form(app, &lan, &stage_path, &[("stage", "2")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    for bad in ["9", "x", ""] {
        let (status, _, body) =
            post_form(app, &lan, &stage_path, &[("csrf", &csrf), ("stage", bad)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "stage {bad:?}: {body}");
        assert!(body.contains("stage"), "{body}");
    }
    // A field given twice is refused with the console's page, not read as either value.
    let (status, _, body) = post_form(
        app,
        &lan,
        &stage_path,
        &[("csrf", &csrf), ("stage", "2"), ("stage", "3")],
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    assert!(
        body.contains("duplicate field") && body.contains("<html"),
        "{body}"
    );
    let (status, _, body) = page(app, &lan, "/app/orders?q=a&q=b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("duplicate field"), "{body}");
    let (_, _, html) = page(app, &xem, "/app/deals").await;
    assert!(
        html.contains("Cung cấp máy POS")
            && !html.contains("/stage\"")
            && !html.contains("draggable")
            && !html.contains("board.js"),
        "a viewer sees no move buttons and drags nothing: {html}"
    );
    let viewer_csrf = csrf_of(&html);
    let (status, _, _) = post_form(
        app,
        &xem,
        &stage_path,
        &[("csrf", &viewer_csrf), ("stage", "2")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer moves nothing");
    let (status, _, _) = post_form(
        app,
        &lan,
        &format!("/app/deals/{theirs}/stage"),
        &[("csrf", &csrf), ("stage", "2")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant's deal");
    let (status, headers, _) =
        post_form(app, &lan, &stage_path, &[("csrf", &csrf), ("stage", "2")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/app/deals");
    let (_, _, html) = page(app, &lan, "/app/deals").await;
    assert!(
        column(&html, 2).contains("Cung cấp máy POS") && !column(&html, 1).contains("máy POS"),
        "{html}"
    );
    let (_, got) = app.get(&format!("/api/v1/opportunity/get/{pos}"), t).await;
    assert_eq!(got["data"]["stage"], json!(2), "{got}");
    assert_eq!(got["data"]["actualCloseDate"], Value::Null, "{got}");
    // Won closes the deal; back to quotation reopens it.
    post_form(app, &lan, &stage_path, &[("csrf", &csrf), ("stage", "5")]).await;
    let (_, got) = app.get(&format!("/api/v1/opportunity/get/{pos}"), t).await;
    assert_eq!(got["data"]["stage"], json!(5), "{got}");
    assert!(got["data"]["actualCloseDate"].is_string(), "{got}");
    let (_, _, html) = page(app, &lan, "/app/deals").await;
    let won = column(&html, 5);
    assert!(
        won.contains("Cung cấp máy POS") && won.contains("↺ Đàm phán"),
        "a closed deal goes back to negotiation: {won}"
    );
    post_form(app, &lan, &stage_path, &[("csrf", &csrf), ("stage", "3")]).await;
    let (_, got) = app.get(&format!("/api/v1/opportunity/get/{pos}"), t).await;
    assert_eq!(got["data"]["stage"], json!(3), "{got}");
    assert_eq!(got["data"]["actualCloseDate"], Value::Null, "{got}");
    // The NextX deal moves within its campaign: to its quotation stage, never to a stage type
    // the campaign lacks.
    let (_, _, html) = page(app, &lan, "/app/deals").await;
    let nx = deal_on_board(&html, "Máy lọc cho văn phòng");
    let nx_path = format!("/app/deals/{nx}/stage");
    let (status, _, body) =
        post_form(app, &lan, &nx_path, &[("csrf", &csrf), ("stage", "2")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("Phân tích nhu cầu"), "{body}");
    let (status, _, _) = post_form(app, &lan, &nx_path, &[("csrf", &csrf), ("stage", "3")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, o) = app
        .get(&format!("/api/crm/opportunity/{nextx_deal}"), t)
        .await;
    assert_eq!(o["sales_stage"], json!(quote), "{o}");
    assert_eq!(o["stage"]["name"], json!("Báo giá"), "{o}");

    // Orders: listed with their total and whether they wait for approval.
    let tea = app
        .create(
            "/api/v1/product/crm/create",
            t,
            json!({"name": "Trà Ô long Lâm Đồng", "retailPrice": 120_000}),
        )
        .await;
    let order = app
        .create(
            "/api/v1/order/crm/create",
            t,
            json!({"customerId": buyer, "receiverName": "Chị Châu", "receiverPhone": "0903 123 456",
                   "products": [{"productId": tea, "quantity": 3, "discount": 20000, "taxRate": 8}]}),
        )
        .await;
    let their_order = app
        .create(
            "/api/v1/order/crm/create",
            &other.token,
            json!({"customerId": their_buyer, "products": []}),
        )
        .await;
    // 3 × 120,000 − 20,000 = 340,000, VAT 8 % 27,200: 367,200.
    let (status, _, html) = page(app, &lan, "/app/orders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("1 đơn hàng"), "{html}");
    assert!(
        html.contains("DH000001") && html.contains("Siêu thị Minh Châu · 367.200 ₫ · Chờ duyệt"),
        "{html}"
    );
    let (_, _, html) = page(app, &lan, "/app/orders?q=DH000001").await;
    assert!(html.contains(&format!("/app/orders/{order}")), "{html}");
    let order_path = format!("/app/orders/{order}");
    let (status, _, html) = page(app, &lan, &order_path).await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        "Trà Ô long Lâm Đồng",
        "120.000 ₫",
        "<td class=\"r\">20.000 ₫</td>",
        "340.000 ₫",
        "27.200 ₫",
        "id=\"total\">367.200 ₫",
        "Chị Châu · 0903 123 456",
        "<strong>Chờ duyệt</strong>",
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }
    assert!(
        html.contains("name=\"decision\" value=\"approve\""),
        "{html}"
    );
    let (_, _, html) = page(app, &xem, &order_path).await;
    assert!(!html.contains("name=\"decision\""), "{html}");
    let approval = format!("{order_path}/approval");
    let (status, _, _) = post_form(
        app,
        &xem,
        &approval,
        &[("csrf", &viewer_csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer approves nothing");
    let (status, _, _) = post_form(app, &lan, &approval, &[("decision", "approve")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _, _) = post_form(
        app,
        &lan,
        &approval,
        &[("csrf", &csrf), ("decision", "maybe")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let long = "x".repeat(2001);
    let (status, _, _) = post_form(
        app,
        &lan,
        &approval,
        &[("csrf", &csrf), ("decision", "approve"), ("note", &long)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a note too long");
    let huge = "x".repeat(70 * 1024);
    let (status, _, _) = post_form(
        app,
        &lan,
        &approval,
        &[("csrf", &csrf), ("decision", "approve"), ("note", &huge)],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "a form body over 64 KiB"
    );
    let (status, _, _) = post_form(
        app,
        &lan,
        &format!("/app/orders/{their_order}/approval"),
        &[("csrf", &csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant's order");
    let (_, got) = app.get(&format!("/api/v1/order/crm/get/{order}"), t).await;
    assert_eq!(
        got["data"]["approved"],
        json!(false),
        "nothing refused was written: {got}"
    );
    let (status, headers, _) = post_form(
        app,
        &lan,
        &approval,
        &[
            ("csrf", &csrf),
            ("decision", "approve"),
            ("note", "Giao trước thứ Sáu"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], order_path.as_str());
    let (_, _, html) = page(app, &lan, &order_path).await;
    assert!(
        html.contains("<strong>Đã duyệt</strong> · Trần Thị Lan")
            && html.contains("Giao trước thứ Sáu")
            && !html.contains("name=\"decision\""),
        "{html}"
    );
    let (_, got) = app.get(&format!("/api/v1/order/crm/get/{order}"), t).await;
    assert_eq!(got["data"]["approved"], json!(true), "{got}");
    let (status, _, _) = post_form(
        app,
        &lan,
        &approval,
        &[("csrf", &csrf), ("decision", "reject")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "decided once");
    let (_, trail) = app.get(&format!("/crm/v1/audit?record={order}"), t).await;
    let approved = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == json!("approved"))
        .unwrap_or_else(|| panic!("an approval in the trail: {trail}"));
    assert_eq!(approved["client_name"], json!("Trần Thị Lan"), "{trail}");

    // The dashboard: this week's order and its revenue, the lead made with the NextX deal, and
    // today's call; not next week's call, nothing of the other tenant's.
    let now = chrono::Utc::now();
    let call = |subject: &str, at: chrono::DateTime<chrono::Utc>, customer: &str| {
        json!({"type": 1, "subject": subject, "status": 1, "startTime": at.to_rfc3339(),
               "primaryType": 1, "primaryId": customer})
    };
    app.create(
        "/api/v1/activity/create",
        t,
        call("Gọi chốt đơn máy POS", now, &buyer),
    )
    .await;
    app.create(
        "/api/v1/activity/create",
        t,
        call("Gọi tuần sau", now + chrono::Duration::days(8), &buyer),
    )
    .await;
    app.create(
        "/api/v1/activity/create",
        &other.token,
        call("Việc bên kia", now, &their_buyer),
    )
    .await;
    let (status, _, html) = page(app, &xem, "/app/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let section = |id: &str| {
        let start = html.find(&format!("id=\"{id}\"")).expect("the section");
        let end = html[start..].find("</section>").unwrap() + start;
        html[start..end].to_owned()
    };
    let orders = section("orders-week");
    assert!(
        orders.contains("<p class=\"figure\">1</p>") && orders.contains("id=\"revenue\">367.200 ₫"),
        "{orders}"
    );
    let leads = section("leads-week");
    assert!(
        leads.contains("<p class=\"figure\">1</p>") && leads.contains("Vũ Minh Khoa"),
        "{leads}"
    );
    let today = section("today");
    assert!(
        today.contains("Gọi chốt đơn máy POS")
            && today.contains(&format!("/app/customers/{buyer}"))
            && today.contains("Siêu thị Minh Châu"),
        "{today}"
    );
    assert!(
        !today.contains("Gọi tuần sau") && !today.contains("Việc bên kia"),
        "{today}"
    );
    assert!(
        section("sends").contains("Chưa có chiến dịch nào được gửi"),
        "{html}"
    );

    // The printout: a page to print (its own styles, nothing else) and a PDF.
    let (status, headers, html) = page(app, &xem, &format!("{order_path}/print")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(headers[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    for want in [
        "HOÁ ĐƠN BÁN HÀNG",
        "DH000001",
        "Trà Ô long Lâm Đồng",
        "<b>367.200 ₫</b>",
        "Ba trăm sáu mươi bảy nghìn hai trăm đồng",
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }
    let r = client()
        .get(format!("{}{order_path}/print.pdf", app.base))
        .header("Cookie", format!("crm_session={xem}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        r.headers()["content-disposition"],
        "inline; filename=\"hoa-don-DH000001.pdf\""
    );
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    for path in [
        format!("/app/orders/{their_order}"),
        format!("/app/orders/{their_order}/print"),
        format!("/app/orders/{their_order}/print.pdf"),
        "/app/orders/not-an-id/print".to_owned(),
    ] {
        let (status, _, _) = page(app, &lan, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, headers, _) = page(app, "", &format!("{order_path}/print.pdf")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no session, no printout");
    assert_eq!(headers[LOCATION], "/app/login");

    // In English.
    let r = client()
        .get(format!("{}/app/deals", app.base))
        .header("Cookie", format!("crm_session={xem}; crm_lang=en"))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Needs analysis") && html.contains("Negotiation"),
        "{html}"
    );
}

/// A customer's page with everything about it (contacts, deals, orders, tickets, activities, its
/// change history), and tickets: listed, a ticket's thread and files, a comment added and the
/// status changed by a sales user; a viewer changes nothing, another tenant's are not there.
async fn console_customer_and_tickets(app: &TestApp) {
    let shop = app.tenant("shop").await;
    let t = &shop.token;
    let other = app.tenant("other").await;
    staff(app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    staff(app, "shop", "xem", Role::Viewer, "Lê Văn Xem").await;
    let tuan = app
        .create(
            "/api/v1/customer/create",
            t,
            json!({"name": "Anh Tuấn", "phone": "0912 345 678", "email": "tuan@example.vn", "type": 1}),
        )
        .await;
    let (status, resp) = app
        .put(
            "/api/v1/customer/update",
            t,
            json!({"id": tuan, "name": "Anh Tuấn", "phone": "0912 345 678",
                   "email": "tuan@example.vn", "address": "12 Lê Lợi, Huế", "type": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    app.create(
        "/api/v1/contact/create",
        t,
        json!({"fullName": "Chị Mai", "customerId": tuan, "position": "Kế toán"}),
    )
    .await;
    app.create(
        "/api/v1/opportunity/create",
        t,
        json!({"name": "Lắp máy lọc tầng 2", "customerId": tuan, "amount": 12000000.0,
               "currency": "VND", "probability": 40, "stage": 3}),
    )
    .await;
    let filter = app
        .create(
            "/api/v1/product/crm/create",
            t,
            json!({"name": "Máy lọc nước", "retailPrice": 5_000_000}),
        )
        .await;
    let order = app
        .create(
            "/api/v1/order/crm/create",
            t,
            json!({"customerId": tuan, "products": [{"productId": filter, "quantity": 1}]}),
        )
        .await;
    let multipart = |path: String, token: String, name: &'static str, bytes: &'static [u8]| {
        let form = reqwest::multipart::Form::new().part(
            "FormFile",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
        let http = app.http.clone();
        let url = format!("{}{path}", app.base);
        async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .multipart(form)
                .send()
                .await
                .unwrap();
            let body: Value = r.json().await.unwrap();
            body["data"].as_str().unwrap().to_owned()
        }
    };
    let ticket = multipart(
        format!("/api/v1/ticket/create?Subject=M%C3%A1y%20k%C3%AAu%20to&Status=1&CustomerId={tuan}&OrderId={order}"),
        t.clone(),
        "biên bản.txt",
        "Biên bản kiểm tra".as_bytes(),
    )
    .await;
    multipart(
        format!("/api/v1/ticket/send/comment?TicketId={ticket}&UserName=K%E1%BB%B9%20thu%E1%BA%ADt&Message=%C4%90%C3%A3%20thay%20b%C6%A1m"),
        t.clone(),
        "ket-qua.txt",
        "Đã thay bơm mới".as_bytes(),
    )
    .await;
    let their_customer = app
        .create(
            "/api/v1/customer/create",
            &other.token,
            json!({"name": "Khách bên kia", "type": 1}),
        )
        .await;
    let theirs = multipart(
        format!("/api/v1/ticket/create?Subject=Phi%E1%BA%BFu%20b%C3%AAn%20kia&CustomerId={their_customer}"),
        other.token.clone(),
        "x.txt",
        b"x",
    )
    .await;
    let lan = sign_in(app, "shop", "lan", PASSWORD).await.unwrap();
    let xem = sign_in(app, "shop", "xem", PASSWORD).await.unwrap();

    // The customer's page: what is related to it, and who changed what.
    let (status, _, html) = page(app, &lan, &format!("/app/customers/{tuan}")).await;
    assert_eq!(status, StatusCode::OK);
    let section = |id: &str| {
        let start = html.find(&format!("id=\"{id}\"")).expect("the section");
        let end = html[start..].find("</section>").unwrap() + start;
        html[start..end].to_owned()
    };
    assert!(
        section("contacts").contains("Chị Mai") && section("contacts").contains("Kế toán"),
        "{html}"
    );
    assert!(
        section("deals").contains("Lắp máy lọc tầng 2")
            && section("deals").contains("12.000.000 ₫ · Báo giá"),
        "{html}"
    );
    let orders = section("orders");
    assert!(
        orders.contains(&format!("href=\"/app/orders/{order}\""))
            && orders.contains("DH000001")
            && orders.contains("5.000.000 ₫")
            && orders.contains("Chờ duyệt"),
        "{orders}"
    );
    let tickets = section("tickets");
    assert!(
        tickets.contains(&format!("href=\"/app/tickets/{ticket}\""))
            && tickets.contains("Máy kêu to")
            && tickets.contains("Tiếp nhận"),
        "{tickets}"
    );
    assert!(section("messages").contains("Chưa có."), "{html}");
    let history = section("history");
    assert!(
        history.contains("<strong>tests</strong> · sửa") && history.contains("address"),
        "the update, with the field it changed: {history}"
    );
    assert!(
        history.contains("<strong>tests</strong> · tạo"),
        "{history}"
    );

    // Customers filtered by group and by label (a tag given through OMI's API).
    let vip = app
        .create("/api/v1/customer/group/create", t, json!({"name": "VIP"}))
        .await;
    app.create(
        "/api/v1/customer/create",
        t,
        json!({"name": "Chị Hạnh", "phone": "0903 222 333", "groupId": vip, "type": 1}),
    )
    .await;
    let (status, tagged) = app
        .call(
            reqwest::Method::POST,
            "/api/v2/contact/add",
            Some(t),
            Some(json!({"fullName": "Ông Bảy", "tags": ["Khách sỉ"],
                        "phones": [{"data": "0977 111 222", "type": "personal"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tagged}");
    let (_, _, html) = page(app, &lan, "/app/customers").await;
    assert!(
        html.contains("3 khách hàng")
            && html.contains(&format!("<option value=\"{vip}\">VIP</option>")),
        "{html}"
    );
    let (_, _, html) = page(app, &lan, &format!("/app/customers?group={vip}")).await;
    assert!(
        html.contains("1 khách hàng")
            && html.contains("Chị Hạnh")
            && html.contains(" selected>VIP"),
        "{html}"
    );
    let (_, _, html) = page(app, &lan, &format!("/app/customers?group={vip}&q=tuan")).await;
    assert!(
        html.contains("0 khách hàng"),
        "both the group and the search: {html}"
    );
    let (_, _, html) = page(app, &lan, "/app/customers?label=kh%C3%A1ch%20s%E1%BB%89").await;
    assert!(
        html.contains("1 khách hàng") && html.contains("Ông Bảy"),
        "a label, matched whole whatever its case: {html}"
    );
    let (_, _, html) = page(app, &lan, "/app/customers?label=kh%C3%A1ch").await;
    assert!(html.contains("0 khách hàng"), "{html}");
    let (status, _, html) = page(app, &lan, "/app/customers?group=not-an-id").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an unreadable group filters nothing"
    );
    assert!(html.contains("3 khách hàng"), "{html}");

    // The staff member in charge: assigned on the customer's page, filtered by in the list,
    // seen by the APIs; only this shop's staff, only by a role that changes customers.
    staff(app, "other", "khac", Role::Admin, "Người Khác").await;
    let khac = sign_in(app, "other", "khac", PASSWORD).await.unwrap();
    let (_, _, theirs_page) = page(app, &khac, &format!("/app/customers/{their_customer}")).await;
    let (_, _, html) = page(app, &lan, &format!("/app/customers/{tuan}")).await;
    let option = |html: &str, name: &str| -> String {
        let at = html
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {html}"));
        let start = html[..at].rfind("<option value=\"").unwrap() + "<option value=\"".len();
        html[start..start + 36].to_owned()
    };
    let lan_id = option(&html, "Trần Thị Lan (tôi)");
    let xem_id = option(&html, ">Lê Văn Xem<");
    let khac_id = option(&theirs_page, "Người Khác (tôi)");
    assert!(
        html.find("Trần Thị Lan (tôi)") < html.find(">Lê Văn Xem<")
            && html.contains("<option value=\"\">Chưa giao</option>")
            && !html.contains("Người Khác"),
        "this shop's staff, the signed-in one first: {html}"
    );
    let csrf = csrf_of(&html);
    let owner_path = format!("/app/customers/{tuan}/owner");
    let (status, headers, _) = post_form(
        app,
        &lan,
        &owner_path,
        &[("csrf", csrf.as_str()), ("owner", lan_id.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], format!("/app/customers/{tuan}").as_str());
    let (_, _, html) = page(app, &lan, &format!("/app/customers/{tuan}")).await;
    assert!(
        html.contains("<dt>Phụ trách</dt><dd>Trần Thị Lan</dd>")
            && html.contains(&format!("<option value=\"{lan_id}\" selected>")),
        "{html}"
    );
    let (_, api) = app.get(&format!("/api/v1/customer/get/{tuan}"), t).await;
    assert_eq!(api["data"]["ownerId"], json!(lan_id), "{api}");
    assert_eq!(api["data"]["ownerName"], json!("Trần Thị Lan"), "{api}");
    let (_, _, html) = page(app, &lan, &format!("/app/customers?owner={lan_id}")).await;
    assert!(
        html.contains("1 khách hàng")
            && html.contains("Anh Tuấn")
            && html.contains(&format!(
                "<option value=\"{lan_id}\" selected>Trần Thị Lan (tôi)"
            )),
        "{html}"
    );
    let (_, _, html) = page(app, &lan, &format!("/app/customers?owner={xem_id}")).await;
    assert!(html.contains("0 khách hàng"), "{html}");
    let (_, _, html) = page(app, &lan, &format!("/app/customers?owner={lan_id}&q=hanh")).await;
    assert!(
        html.contains("0 khách hàng"),
        "owner and search together: {html}"
    );
    // Another shop's staff member is nobody here; a viewer assigns nothing; nor does a form
    // without its CSRF token.
    let (status, _, body) = post_form(
        app,
        &lan,
        &owner_path,
        &[("csrf", csrf.as_str()), ("owner", khac_id.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("owner"), "{body}");
    let (_, _, html) = page(app, &xem, &format!("/app/customers/{tuan}")).await;
    assert!(!html.contains("/owner\""), "no form for a viewer: {html}");
    let xem_csrf = csrf_of(&html);
    let (status, _, _) = post_form(
        app,
        &xem,
        &owner_path,
        &[("csrf", xem_csrf.as_str()), ("owner", "")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(app, &lan, &owner_path, &[("owner", "")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        app,
        &khac,
        &owner_path,
        &[("csrf", csrf_of(&theirs_page).as_str()), ("owner", "")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another shop's customer");
    let (_, api) = app.get(&format!("/api/v1/customer/get/{tuan}"), t).await;
    assert_eq!(api["data"]["ownerId"], json!(lan_id), "unchanged: {api}");
    // Nobody in charge again.
    let (status, _, _) = post_form(
        app,
        &lan,
        &owner_path,
        &[("csrf", csrf.as_str()), ("owner", "")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = page(app, &lan, &format!("/app/customers?owner={lan_id}")).await;
    assert!(html.contains("0 khách hàng"), "{html}");

    // Tickets: listed and searched; another tenant's not there.
    let (status, _, html) = page(app, &lan, "/app/tickets").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("1 phiếu hỗ trợ") && html.contains("TK000001 · Anh Tuấn · Tiếp nhận"),
        "{html}"
    );
    let (_, _, html) = page(app, &lan, "/app/tickets?q=may%20keu").await;
    assert!(html.contains(&format!("/app/tickets/{ticket}")), "{html}");
    for path in [
        format!("/app/tickets/{theirs}"),
        "/app/tickets/x".to_owned(),
        format!("/app/files/{}", uuid::Uuid::new_v4()),
    ] {
        let (status, _, _) = page(app, &lan, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }

    // A ticket's page: its details, the file on it, the thread with the comment's file.
    let path = format!("/app/tickets/{ticket}");
    let (status, _, html) = page(app, &lan, &path).await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        "<h1>Máy kêu to</h1>",
        "TK000001",
        "<strong>Tiếp nhận</strong>",
        "DH000001",
        "biên bản.txt",
        "Kỹ thuật",
        "Đã thay bơm",
        "ket-qua.txt",
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }
    let at = html.find("href=\"/app/files/").unwrap() + 17;
    let file = html[at..].split('"').next().unwrap().to_owned();
    let r = client()
        .get(format!("{}/app/files/{file}", app.base))
        .header("Cookie", format!("crm_session={xem}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("UTF-8''bi%C3%AAn%20b%E1%BA%A3n.txt"),
        "{disposition}"
    );
    assert_eq!(r.text().await.unwrap(), "Biên bản kiểm tra");
    let (status, headers, _) = page(app, "", &format!("/app/files/{file}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no session, no file");
    assert_eq!(headers[LOCATION], "/app/login");

    // A comment and a status change: a sales user, the CSRF token; never a viewer.
    let csrf = csrf_of(&html);
    let comments = format!("{path}/comments");
    let status_path = format!("{path}/status");
    let (_, _, viewer_html) = page(app, &xem, &path).await;
    assert!(
        !viewer_html.contains("name=\"message\"") && !viewer_html.contains("/status\""),
        "{viewer_html}"
    );
    let viewer_csrf = csrf_of(&viewer_html);
    let (status, _, _) = post_form(
        app,
        &xem,
        &comments,
        &[("csrf", &viewer_csrf), ("message", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        app,
        &xem,
        &status_path,
        &[("csrf", &viewer_csrf), ("status", "3")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(app, &lan, &comments, &[("message", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _, _) =
        post_form(app, &lan, &comments, &[("csrf", &csrf), ("message", " ")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an empty comment");
    for bad in ["0", "5", "x"] {
        let (status, _, _) =
            post_form(app, &lan, &status_path, &[("csrf", &csrf), ("status", bad)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "status {bad}");
    }
    let (status, _, _) = post_form(
        app,
        &lan,
        &format!("/app/tickets/{theirs}/comments"),
        &[("csrf", &csrf), ("message", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant's ticket");
    let (status, headers, _) = post_form(
        app,
        &lan,
        &comments,
        &[("csrf", &csrf), ("message", "Hẹn kỹ thuật sáng thứ Ba")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], path.as_str());
    let (status, _, _) =
        post_form(app, &lan, &status_path, &[("csrf", &csrf), ("status", "3")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = page(app, &lan, &path).await;
    assert!(
        html.contains("Hẹn kỹ thuật sáng thứ Ba")
            && html.contains("<strong>Trần Thị Lan</strong>")
            && html.contains("<strong>Hoàn thành</strong>"),
        "{html}"
    );
    // Through CRMTOP's API as well.
    let (_, got) = app.get(&format!("/api/v1/ticket/get/{ticket}"), t).await;
    assert_eq!(got["data"]["status"], json!(3), "{got}");

    // A comment with a file, from the page's multipart form: stored on the comment, listed
    // under it, downloaded; the token must come before the file; one file of an accepted kind.
    let upload = |parts: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| {
        let mut form = reqwest::multipart::Form::new();
        for (name, file, bytes) in parts {
            form = match file {
                Some(f) => form.part(name, reqwest::multipart::Part::bytes(bytes).file_name(f)),
                None => form.text(name, String::from_utf8(bytes).unwrap()),
            };
        }
        let (url, lan) = (format!("{}{comments}", app.base), lan.clone());
        async move {
            let r = client()
                .post(url)
                .header("Cookie", format!("crm_session={lan}"))
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let token = csrf.clone().into_bytes();
    let (status, body) = upload(vec![
        (
            "file",
            Some("báo giá.txt"),
            "Báo giá thay bơm".as_bytes().to_vec(),
        ),
        ("csrf", None, token.clone()),
    ])
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the file before the token: {body}"
    );
    let (status, body) = upload(vec![
        ("csrf", None, token.clone()),
        ("message", None, b"x".to_vec()),
        ("file", Some("virus.exe"), b"MZ...".to_vec()),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = upload(vec![
        ("csrf", None, token.clone()),
        ("file", Some("a.txt"), b"a".to_vec()),
        ("file", Some("b.txt"), b"b".to_vec()),
    ])
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, _, before) = page(app, &lan, &path).await;
    assert!(
        !before.contains("báo giá.txt") && !before.contains(">a.txt<"),
        "nothing stored: {before}"
    );
    let (status, body) = upload(vec![
        ("csrf", None, token.clone()),
        ("message", None, "Gửi báo giá".as_bytes().to_vec()),
        (
            "file",
            Some("báo giá.txt"),
            "Báo giá thay bơm".as_bytes().to_vec(),
        ),
    ])
    .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "back to the ticket's page: {body}"
    );
    let (status, _) = upload(vec![
        ("csrf", None, token.clone()),
        ("file", Some("chỉ tệp.txt"), b"only a file".to_vec()),
    ])
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "a file without a message");
    let (status, _) = upload(vec![
        ("csrf", None, token.clone()),
        ("message", None, "Không kèm tệp".as_bytes().to_vec()),
        ("file", Some(""), Vec::new()),
    ])
    .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "an empty file input is no file"
    );
    let (_, _, html) = page(app, &lan, &path).await;
    let sent = &html[html.find("Gửi báo giá").expect("the comment")..];
    let sent = &sent[..sent.find("</li>").unwrap()];
    assert!(
        sent.contains("báo giá.txt"),
        "the file under its comment: {sent}"
    );
    assert!(
        html.contains("chỉ tệp.txt") && html.contains("Không kèm tệp"),
        "{html}"
    );
    let at = sent.find("href=\"/app/files/").unwrap() + 17;
    let file = sent[at..].split('"').next().unwrap().to_owned();
    let r = client()
        .get(format!("{}/app/files/{file}", app.base))
        .header("Cookie", format!("crm_session={xem}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "Báo giá thay bơm");
    let thread = app
        .search(
            "/api/v1/ticket/comment/search",
            t,
            json!({"ticketId": ticket, "search": "gui bao gia"}),
        )
        .await;
    assert_eq!(thread["totalCount"], json!(1), "{thread}");
    assert_eq!(
        thread["data"][0]["userName"],
        json!("Trần Thị Lan"),
        "{thread}"
    );
    assert_eq!(
        thread["data"][0]["formFiles"][0]["fileName"],
        json!("báo giá.txt"),
        "CRMTOP's API sees the file: {thread}"
    );

    // Products with their units and their stock per store: a NextX product with 24 bottles of
    // opening stock in the branch's store, low below 30.
    let (status, b) = app
        .call(
            reqwest::Method::POST,
            "/api/branch/branch",
            Some(t),
            Some(json!({"code": "CN1", "name": "Chi nhánh Quận 1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    let branch = b["data"]["id"].as_i64().unwrap();
    let (status, made) = app
        .call(
            reqwest::Method::POST,
            "/api/product/product",
            Some(t),
            Some(json!({
                "name": "Nước cam ép", "branch_id": branch, "purchase_price": 8000, "sell_price": 12000,
                "qty_begin_stock": 24, "begin_purchase_price": 8000, "qty_warning_stock": 30,
                "unit": {"unit_base": {"name": "Chai", "is_direct_sell": "true"},
                         "sub_unit": [{"name": "Thùng", "f_Convert": 12, "price": 130000, "is_direct_sell": "true"}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (status, _, html) = page(app, &xem, "/app/products?q=cam").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("1 sản phẩm") && html.contains("12.000 ₫ · Chai"),
        "{html}"
    );
    let at = html.find("href=\"/app/products/").unwrap() + 6;
    let product = html[at..].split('"').next().unwrap().to_owned();
    let (status, _, html) = page(app, &xem, &product).await;
    assert_eq!(status, StatusCode::OK);
    let stock = &html[html.find("id=\"stock\"").unwrap()..];
    assert!(
        stock.contains("Chi nhánh Quận 1 · ")
            && stock.contains("<tr class=\"low\">")
            && stock.contains(">24 ⚠<"),
        "{stock}"
    );
    assert!(
        html.contains("<td>Thùng</td><td class=\"r\">12</td><td class=\"r\">130.000 ₫</td>"),
        "{html}"
    );
    let (status, _, _) = page(
        app,
        &xem,
        &format!("/app/products/{}", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Settings, for admins only: an API client made (its secret shown once, and working) and
/// revoked (and then refused), a channel's settings saved (secrets never shown), a webhook
/// endpoint added (its signing secret shown once) and removed.
async fn console_settings(app: &TestApp) {
    let shop = app.tenant("shop").await;
    app.tenant("other").await;
    staff(app, "shop", "chu", Role::Admin, "Chủ Shop").await;
    staff(app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    let chu = sign_in(app, "shop", "chu", PASSWORD).await.unwrap();
    let lan = sign_in(app, "shop", "lan", PASSWORD).await.unwrap();

    let (_, _, html) = page(app, &lan, "/app/dashboard").await;
    assert!(!html.contains("/app/settings"), "not in a sales user's bar");
    let lan_csrf = csrf_of(&html);
    let (status, _, _) = page(app, &lan, "/app/settings").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        app,
        &lan,
        "/app/settings/clients",
        &[("csrf", &lan_csrf), ("name", "x")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a sales user makes no client"
    );

    let (status, _, html) = page(app, &chu, "/app/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<td>tests</td>"),
        "the tenant's client: {html}"
    );
    let csrf = csrf_of(&html);
    let (status, _, _) =
        post_form(app, &chu, "/app/settings/clients", &[("name", "Kế toán")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _, _) = post_form(
        app,
        &chu,
        "/app/settings/clients",
        &[
            ("csrf", &csrf),
            ("name", "Kế toán"),
            ("scope", "no-such-scope"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, html) = post_form(
        app,
        &chu,
        "/app/settings/clients",
        &[("csrf", &csrf), ("name", "Kế toán")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let revealed = &html[html.find("id=\"revealed\"").expect("the secret, once")..];
    let code = |from: &str| {
        let at = from.find("<code").unwrap();
        let at = at + from[at..].find('>').unwrap() + 1;
        from[at..].split('<').next().unwrap().to_owned()
    };
    let client_id = code(revealed);
    let secret = code(&revealed[revealed.find("<code id=\"secret\"").unwrap()..]);
    assert!(secret.len() > 30, "{secret}");
    let token = |id: String, secret: String| {
        let http = app.http.clone();
        let url = format!("{}/api/v1/auth/get-token-for-develop", app.base);
        async move {
            http.post(url)
                .json(&json!({"clientId": id, "clientSecret": secret}))
                .send()
                .await
                .unwrap()
        }
    };
    let r = token(client_id.clone(), secret.clone()).await;
    assert_eq!(r.status(), StatusCode::OK, "the new client works");
    let (_, _, html) = page(app, &chu, "/app/settings").await;
    assert!(
        !html.contains(&secret) && !html.contains("id=\"revealed\""),
        "shown once"
    );
    assert!(html.contains("<td>Kế toán</td>"), "{html}");
    let (status, headers, _) = post_form(
        app,
        &chu,
        &format!("/app/settings/clients/{client_id}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/app/settings");
    let r = token(client_id.clone(), secret).await;
    assert!(r.status().is_client_error(), "revoked: {}", r.status());
    let (status, _, _) = post_form(
        app,
        &chu,
        "/app/settings/clients/nope/revoke",
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A channel: its values shown, its secrets only as set.
    let (status, _, _) = post_form(
        app,
        &chu,
        "/app/settings/channels/sms",
        &[("csrf", &csrf), ("pairs", "not a pair")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = post_form(
        app,
        &chu,
        "/app/settings/channels/fax",
        &[("csrf", &csrf), ("pairs", "a=b")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = post_form(
        app,
        &chu,
        "/app/settings/channels/sms",
        &[
            ("csrf", &csrf),
            (
                "pairs",
                "api_url=http://127.0.0.1:9/sms\napi_key=khoa-123\nsecret_key=bi-mat-456\nbrandname=HOAMAI",
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = page(app, &chu, "/app/settings").await;
    let channels = &html[html.find("id=\"channels\"").unwrap()..];
    assert!(
        channels.contains("<dt>brandname</dt><dd>HOAMAI</dd>")
            && channels.contains("<dt>secret_key</dt><dd>set</dd>")
            && !channels.contains("bi-mat-456"),
        "{channels}"
    );
    // The same settings through our API.
    let (_, got) = app.get("/crm/v1/channels/sms", &shop.token).await;
    assert_eq!(got["settings"]["brandname"], json!("HOAMAI"), "{got}");
    assert_eq!(got["settings"]["secret_key"], json!("set"), "{got}");

    // A webhook endpoint.
    let (status, _, _) = post_form(
        app,
        &chu,
        "/app/settings/webhooks",
        &[
            ("csrf", &csrf),
            ("url", "https://hooks.example.vn/crm"),
            ("events", "no.such"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, html) = post_form(
        app,
        &chu,
        "/app/settings/webhooks",
        &[
            ("csrf", &csrf),
            ("url", "https://hooks.example.vn/crm"),
            ("events", "customer.created, order.approved"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let revealed = &html[html.find("id=\"revealed\"").unwrap()..];
    let hook = code(revealed);
    assert!(code(&revealed[revealed.find("<code id=\"secret\"").unwrap()..]).starts_with("whsec_"));
    let (_, _, html) = page(app, &chu, "/app/settings").await;
    assert!(
        html.contains("https://hooks.example.vn/crm")
            && html.contains("customer.created, order.approved"),
        "{html}"
    );
    let (status, _, _) = post_form(
        app,
        &chu,
        &format!("/app/settings/webhooks/{hook}/delete"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = page(app, &chu, "/app/settings").await;
    assert!(!html.contains("hooks.example.vn"), "{html}");
}

/// Import from the console: a CSV of customers uploaded (the CSRF token first), followed on its
/// page until done, its rejected row listed and its report downloaded; a viewer imports nothing
/// and another tenant's import is not there.
async fn console_import(app: &TestApp) {
    let shop = app.tenant("shop").await;
    let other = app.tenant("other").await;
    staff(app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    staff(app, "shop", "xem", Role::Viewer, "Lê Văn Xem").await;
    let lan = sign_in(app, "shop", "lan", PASSWORD).await.unwrap();
    let xem = sign_in(app, "shop", "xem", PASSWORD).await.unwrap();
    let csv = "Họ và tên,Số điện thoại,Email\n\
               Nguyễn Văn Nhập,0912 000 001,nhap@example.vn\n\
               Trần Thị Hai,0912 000 002,hai@example.vn\n\
               Dòng lỗi,12ab,khong-phai-email\n";
    let upload = |session: String, csrf: Option<String>, kind: &'static str| {
        let mut form = reqwest::multipart::Form::new();
        if let Some(c) = csrf {
            form = form.text("csrf", c);
        }
        let form = form.text("kind", kind).text("on_duplicate", "skip").part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("khach-hang.csv"),
        );
        let url = format!("{}/app/import", app.base);
        async move {
            let r = client()
                .post(url)
                .header("Cookie", format!("crm_session={session}"))
                .multipart(form)
                .send()
                .await
                .unwrap();
            let (status, headers) = (r.status(), r.headers().clone());
            (status, headers, r.text().await.unwrap())
        }
    };
    let (status, _, html) = page(app, &lan, "/app/import").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<option value=\"customers\">Khách hàng</option>")
            && html.contains("value=\"products\""),
        "a sales user imports customers, contacts, leads and products: {html}"
    );
    let csrf = csrf_of(&html);
    let (_, _, html) = page(app, &xem, "/app/import").await;
    assert!(
        !html.contains("type=\"file\""),
        "no form for a viewer: {html}"
    );
    let viewer_csrf = csrf_of(&html);
    let (status, _, _) = upload(xem.clone(), Some(viewer_csrf), "customers").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer imports nothing");
    let (status, _, _) = upload(lan.clone(), None, "customers").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _, _) = upload(lan.clone(), Some(csrf.clone()), "orders").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "orders are not imported");
    staff(app, "shop", "mai", Role::Marketing, "Võ Thị Mai").await;
    let mai = sign_in(app, "shop", "mai", PASSWORD).await.unwrap();
    let (_, _, html) = page(app, &mai, "/app/import").await;
    assert!(
        html.contains("value=\"customers\"") && !html.contains("value=\"leads\""),
        "marketing imports customers and contacts: {html}"
    );
    let (status, _, _) = upload(mai.clone(), Some(csrf_of(&html)), "leads").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the marketing role: no leads"
    );
    let found = app
        .search("/api/v1/customer/search", &shop.token, json!({}))
        .await;
    assert_eq!(
        found["totalCount"],
        json!(0),
        "nothing refused was stored: {found}"
    );

    let (status, headers, _) = upload(lan.clone(), Some(csrf.clone()), "customers").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = headers[LOCATION].to_str().unwrap().to_owned();
    assert!(path.starts_with("/app/import/"), "{path}");
    let mut html = String::new();
    for _ in 0..100 {
        html = page(app, &lan, &path).await.2;
        if html.contains("<strong id=\"state\">Hoàn tất</strong>") {
            break;
        }
        assert!(
            html.contains("hx-trigger=\"every 1s\""),
            "refreshes itself until done: {html}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        html.contains("<strong id=\"state\">Hoàn tất</strong>"),
        "{html}"
    );
    assert!(
        !html.contains("every 1s"),
        "a finished import stops refreshing"
    );
    assert!(
        html.contains("3 / 3 dòng · tạo 2 · cập nhật 0 · Bỏ qua 0 · Lỗi 1"),
        "{html}"
    );
    let failures = &html[html.find("id=\"failures\"").expect("the rejected row")..];
    assert!(failures.contains("<td class=\"r\">4</td>"), "{failures}");
    let found = app
        .search(
            "/api/v1/customer/search",
            &shop.token,
            json!({"search": "nhap"}),
        )
        .await;
    assert_eq!(found["totalCount"], json!(1), "{found}");
    let r = client()
        .get(format!("{}{path}/report", app.base))
        .header("Cookie", format!("crm_session={lan}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let report = r.text().await.unwrap();
    assert!(
        report.contains("Dòng lỗi") && !report.contains("Nguyễn Văn Nhập"),
        "{report}"
    );
    let (_, _, html) = page(app, &lan, "/app/import").await;
    assert!(
        html.contains("khach-hang.csv") && html.contains("Hoàn tất · 100%"),
        "{html}"
    );

    // Another tenant's import does not exist for this session.
    staff(app, "other", "ba", Role::Admin, "Ba").await;
    let ba = sign_in(app, "other", "ba", PASSWORD).await.unwrap();
    for p in [path.clone(), format!("{path}/report")] {
        let (status, _, _) = page(app, &ba, &p).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
    }
    let (_, _, html) = page(app, &ba, "/app/import").await;
    assert!(!html.contains("khach-hang.csv"), "{html}");
    let _ = other;
}

/// An import's upload is refused past `CRM_MAX_IMPORT_BYTES`, and nothing of it is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_import_is_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.max_import_bytes = 100)
        .await
        .unwrap();
    app.tenant("shop").await;
    staff(&app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    let lan = sign_in(&app, "shop", "lan", PASSWORD).await.unwrap();
    let (_, _, html) = page(&app, &lan, "/app/import").await;
    let big = format!("Họ và tên\n{}", "Nguyễn Văn A\n".repeat(20));
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&html))
        .text("kind", "customers")
        .part(
            "file",
            reqwest::multipart::Part::bytes(big.into_bytes()).file_name("lon.csv"),
        );
    let r = client()
        .post(format!("{}/app/import", app.base))
        .header("Cookie", format!("crm_session={lan}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("larger than 100 bytes"));
    let (_, _, html) = page(&app, &lan, "/app/import").await;
    assert!(!html.contains("lon.csv"), "nothing recorded: {html}");
    app.stop().await;
}

/// Counts stop one past their cap and say "more than": 1,001 deals in a stage show as
/// `hơn 1.000` on the board, and the stage still lists its newest 20.
async fn counts_stop_at_their_cap(app: &TestApp) {
    app.tenant("shop").await;
    staff(app, "shop", "lan", Role::Sales, "Trần Thị Lan").await;
    let tenant = app.app.state.auth.find_tenant("shop").await.unwrap();
    let actor = tenant.actor(uuid::Uuid::nil(), "tests");
    for chunk in 0..2 {
        let deals = (0..if chunk == 0 { 1_000 } else { 1 })
            .map(|i| crm_domain::opportunity::OpportunityData {
                name: format!("Cơ hội {chunk}-{i}"),
                currency: "VND".into(),
                stage: Some(2),
                ..Default::default()
            })
            .collect();
        app.app
            .state
            .crm
            .create_many::<crm_domain::opportunity::Opportunity>(&actor, deals)
            .await
            .unwrap();
    }
    let lan = sign_in(app, "shop", "lan", PASSWORD).await.unwrap();
    let (status, _, html) = page(app, &lan, "/app/deals").await;
    assert_eq!(status, StatusCode::OK);
    let col = column(&html, 2);
    assert!(
        col.contains("<span class=\"count\">hơn 1.000</span>"),
        "{col}"
    );
    assert_eq!(col.matches("class=\"deal\"").count(), 20, "{col}");
    assert!(col.contains("Cơ hội 1-0"), "the newest first: {col}");
    assert!(
        column(&html, 3).contains("<span class=\"count\">0</span>"),
        "{html}"
    );
}
