//! CRMTOP e-mail and Zalo marketing campaigns over HTTP (multipart, stored and checked).

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, assert_field_error, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

const NIL: &str = "00000000-0000-0000-0000-000000000000";
/// A real workbook: the recipient list is read when it is uploaded.
fn xlsx() -> Vec<u8> {
    common::workbook(&[&["Họ và tên", "Số điện thoại"]])
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    form: Form,
) -> (StatusCode, Value) {
    let resp = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn query(pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    format!("?{}", q.join("&"))
}

async fn marketing(app: &TestApp) {
    let a = app.tenant("mk").await;
    let other = app.tenant("mk-other").await;
    // Campaigns that say to send need their channels.
    app.channels_nowhere(&a.token).await;
    let segment = app
        .create(
            "/api/v1/segment/create",
            &a.token,
            json!({"name": "Khách VIP"}),
        )
        .await;
    let email_tpl = app
        .create(
            "/api/v1/template/create",
            &a.token,
            json!({"type": 1, "name": "Tri ân", "content": "<p>Chào {{ten}}</p>"}),
        )
        .await;
    let sms_tpl = app
        .create(
            "/api/v1/template/create",
            &a.token,
            json!({"type": 3, "name": "SMS khuyến mãi", "content": "Giảm 20% cho {{ten}}"}),
        )
        .await;

    // E-mail campaign: scalars in the query, no file.
    let q = query(&[
        ("Id", NIL),
        ("Code", ""),
        ("Name", "Tri ân khách VIP"),
        ("Description", "Tháng 3"),
        ("Subject", "Cảm ơn quý khách"),
        ("Supplier", "1"),
        ("From", "marketing@shop.vn"),
        ("DisplayName", "Shop ABC"),
        ("TemplateId", &email_tpl),
        ("TemplateName", ""),
        ("SendType", "2"),
        ("SegmentId", &segment),
        ("SegmentName", ""),
        ("FilePath", ""),
        ("Status", "1"),
        ("AppointmentDate", "2030-03-08T09:00:00+07:00"),
    ]);
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/maktemail/create{q}"),
        &a.token,
        Form::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_crmtop_ok(&body);
    let email = body["data"].as_str().unwrap().to_owned();
    let (_, got) = app
        .get(&format!("/api/v1/maktemail/get/{email}"), &a.token)
        .await;
    assert_crmtop_ok(&got);
    let d = &got["data"];
    assert_eq!(d["code"], json!("EM000001"));
    assert_eq!(d["templateName"], json!("Tri ân"));
    assert_eq!(d["segmentName"], json!("Khách VIP"));
    assert_eq!(d["from"], json!("marketing@shop.vn"));
    assert_eq!(d["sendType"], json!(2));
    assert_eq!(d["appointmentDate"], json!("2030-03-08T09:00:00+07:00"));
    // Scheduled: the status follows the send (2).
    assert_eq!(d["status"], json!(2));
    assert_eq!(d["formFile"], Value::Null);
    assert_eq!(d["filePath"], Value::Null);

    // Zalo campaign with its recipient spreadsheet.
    let q = query(&[
        ("Name", "ZNS tháng 3"),
        ("Channel", "1"),
        ("SocialId", "oa-123"),
        ("SocialName", "Shop ABC OA"),
        ("ZnsTemplateId", "234567"),
        ("ZnsTemplateName", "Xác nhận đơn"),
        ("ZnsTemplateParam", "{\"ten\":\"A\"}"),
        (
            "ZnsTemplatePreviewUrl",
            "https://zalo.example/preview/234567",
        ),
        ("ZnsTemplatePrice", "300"),
        ("SmsTemplateId", &sms_tpl),
        ("SmsTemplateParam", "ten"),
        ("SendType", "2"),
        ("AppointmentDate", "2030-03-08T09:00:00+07:00"),
        ("SegmentId", &segment),
        ("ExcelHeader", "Tên|SĐT"),
        ("Status", "1"),
    ]);
    let form = Form::new().part("FormFile", Part::bytes(xlsx()).file_name("danh-sach.xlsx"));
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/maktzalo/create{q}"),
        &a.token,
        form,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let zalo = body["data"].as_str().unwrap().to_owned();
    let (_, got) = app
        .get(&format!("/api/v1/maktzalo/get/{zalo}"), &a.token)
        .await;
    let d = &got["data"];
    assert_eq!(d["code"], json!("ZL000001"));
    assert_eq!(d["smsTemplateName"], json!("SMS khuyến mãi"));
    assert_eq!(d["znsTemplatePrice"], json!(300.0));
    assert_eq!(d["excelHeader"], json!("Tên|SĐT"));
    assert_eq!(d["formFile"]["fileName"], json!("danh-sach.xlsx"));
    let path = d["filePath"].as_str().unwrap().to_owned();
    assert_eq!(path, d["formFile"]["url"].as_str().unwrap());
    let resp = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), xlsx().as_slice());

    // Update replaces the file.
    let q = query(&[
        ("Id", &zalo),
        ("Name", "ZNS tháng 3 (sửa)"),
        ("SmsTemplateId", &sms_tpl),
        ("SegmentId", &segment),
        ("SendType", "2"),
        ("AppointmentDate", "2030-03-09T09:00:00+07:00"),
        ("Status", "2"),
    ]);
    let form = Form::new().part(
        "FormFile",
        Part::bytes("Tên,SĐT\nAn,0912345678".as_bytes().to_vec()).file_name("ds.csv"),
    );
    let (status, body) = send(
        app,
        reqwest::Method::PUT,
        &format!("/api/v1/maktzalo/update{q}"),
        &a.token,
        form,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, got) = app
        .get(&format!("/api/v1/maktzalo/get/{zalo}"), &a.token)
        .await;
    assert_eq!(got["data"]["formFile"]["fileName"], json!("ds.csv"));
    assert_ne!(got["data"]["filePath"], json!(path));
    let (status, body) = app.get(&path, &a.token).await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    // Searches.
    let page = app
        .search(
            "/api/v1/maktemail/search",
            &a.token,
            json!({"status": 2, "supplier": 1, "search": "tri an"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(page["data"][0]["id"], json!(email));
    assert!(page["data"][0]["createdOn"].is_string());
    let page = app
        .search("/api/v1/maktzalo/search", &a.token, json!({"status": 2}))
        .await;
    assert_eq!(page["totalCount"], json!(1));
    let page = app
        .search("/api/v1/maktzalo/search", &a.token, json!({"status": 1}))
        .await;
    assert_eq!(page["totalCount"], json!(0));

    // Checks.
    for (pairs, field) in [
        (
            vec![
                ("Name", "x"),
                ("SegmentId", "00000000-0000-0000-0000-0000000000aa"),
            ],
            "segmentId",
        ),
        (
            vec![("Name", "x"), ("TemplateId", sms_tpl.as_str())],
            "templateId",
        ),
        (vec![("Name", "x"), ("SendType", "2")], "appointmentDate"),
        (vec![("Name", "x"), ("From", "không phải email")], "from"),
        (vec![("Name", " ")], "name"),
    ] {
        let (status, body) = send(
            app,
            reqwest::Method::POST,
            &format!("/api/v1/maktemail/create{}", query(&pairs)),
            &a.token,
            Form::new(),
        )
        .await;
        assert_field_error(status, &body, field);
    }
    let form = Form::new().part(
        "FormFile",
        Part::bytes(b"%PDF-1.4".to_vec()).file_name("a.pdf"),
    );
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        "/api/v1/maktzalo/create?Name=x",
        &a.token,
        form,
    )
    .await;
    assert_field_error(status, &body, "FormFile");
    let (status, body) = send(
        app,
        reqwest::Method::POST,
        &format!(
            "/api/v1/maktemail/create{}",
            query(&[("Name", "x"), ("SegmentId", &segment)])
        ),
        &other.token,
        Form::new(),
    )
    .await;
    assert_field_error(status, &body, "segmentId");
    let page = app
        .search("/api/v1/maktemail/search", &a.token, json!({}))
        .await;
    assert_eq!(page["totalCount"], json!(1), "no partial writes");

    // Segments and templates in use are kept; deleting the campaign frees them.
    let (status, body) = app
        .delete(&format!("/api/v1/segment/delete/{segment}"), &a.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::CONFLICT);
    let (status, body) = app
        .delete(&format!("/api/v1/template/delete/{sms_tpl}"), &a.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::CONFLICT);
    for path in [
        format!("/api/v1/maktemail/delete/{email}"),
        format!("/api/v1/maktzalo/delete/{zalo}"),
    ] {
        let (status, body) = app.delete(&path, &a.token).await;
        assert_eq!(
            (status, body["data"].clone()),
            (StatusCode::OK, json!(true))
        );
    }
    let (status, _) = app
        .delete(&format!("/api/v1/segment/delete/{segment}"), &a.token)
        .await;
    assert_eq!(status, StatusCode::OK);
}

on_both_backends!(marketing);
