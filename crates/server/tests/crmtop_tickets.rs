//! CRMTOP tickets over HTTP: multipart create/update with attachments, status changes,
//! ticket types, comment threads and file downloads.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_crmtop_err, assert_crmtop_ok, assert_field_error, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};

const NIL: &str = "00000000-0000-0000-0000-000000000000";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

async fn multipart(
    app: &TestApp,
    method: reqwest::Method,
    path_and_query: &str,
    token: &str,
    form: Form,
) -> (StatusCode, Value) {
    let resp = app
        .http
        .request(method, format!("{}{path_and_query}", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

fn file(field: &str, name: &str, bytes: &[u8]) -> Form {
    Form::new().part(
        field.to_owned(),
        Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
    )
}

async fn ticket_type(app: &TestApp, token: &str, name: &str) -> i64 {
    let (status, body) = app
        .post(
            "/api/v1/ticket/type/create",
            token,
            json!({"id": 0, "name": name, "note": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_crmtop_ok(&body);
    body["data"].as_i64().unwrap()
}

async fn tickets(app: &TestApp) {
    let a = app.tenant("tk").await;
    let other = app.tenant("tk-other").await;
    let complaint = ticket_type(app, &a.token, "Khiếu nại").await;
    let warranty = ticket_type(app, &a.token, "Bảo hành").await;
    let customer = app
        .create(
            "/api/v1/customer/create",
            &a.token,
            json!({"name": "Anh Tuấn"}),
        )
        .await;
    let product = app
        .create(
            "/api/v1/product/crm/create",
            &a.token,
            json!({"name": "Máy lọc nước"}),
        )
        .await;
    let order = app
        .create(
            "/api/v1/order/crm/create",
            &a.token,
            json!({"customerId": customer, "products": [{"productId": product, "quantity": 1, "price": 5000000}]}),
        )
        .await;

    // Create as documented: scalars in the PascalCase query, the file as `FormFile`.
    let query = format!(
        "?Id={NIL}&Code=&Subject=M%C3%A1y%20k%C3%AAu%20to&Description=K%C3%AAu%20khi%20l%E1%BB%8Dc&TypeId={complaint}\
         &Priority=2&Status=1&Channel=3&CustomerId={customer}&ProductId={product}&OrderId={order}\
         &OwnerId={NIL}&CreatedOn=2026-03-01T08%3A00%3A00%2B07%3A00"
    );
    let (status, body) = multipart(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/ticket/create{query}"),
        &a.token,
        file("FormFile", "anh-loi.png", PNG),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_crmtop_ok(&body);
    let id = body["data"].as_str().unwrap().to_owned();

    let (_, got) = app.get(&format!("/api/v1/ticket/get/{id}"), &a.token).await;
    assert_crmtop_ok(&got);
    let d = &got["data"];
    assert_eq!(d["code"], json!("TK000001"));
    assert_eq!(d["subject"], json!("Máy kêu to"));
    assert_eq!(d["typeId"], json!(complaint));
    assert_eq!(d["typeName"], json!("Khiếu nại"));
    assert_eq!(d["customerName"], json!("Anh Tuấn"));
    assert_eq!(d["productName"], json!("Máy lọc nước"));
    assert_eq!(d["orderCode"], json!("DH000001"));
    assert_eq!(d["createdOn"], json!("2026-03-01T08:00:00+07:00"));
    assert_eq!(d["contactId"], Value::Null);
    let files = d["formFiles"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["fileName"], json!("anh-loi.png"));
    assert_eq!(files[0]["contentType"], json!("image/png"));
    assert_eq!(files[0]["size"], json!(PNG.len()));
    let url = files[0]["url"].as_str().unwrap().to_owned();

    // The file comes back to its tenant only.
    let resp = app
        .http
        .get(format!("{}{url}", app.base))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    let (status, body) = app.get(&url, &other.token).await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    // Update: fields as form text parts this time, `FormFiles` adds a second attachment.
    let form = file("FormFiles", "bien-ban.pdf", b"%PDF-1.7 test")
        .text("Id", id.clone())
        .text("Subject", "Máy kêu to (đã kiểm tra)")
        .text("TypeId", warranty.to_string())
        .text("Status", "2")
        .text("CustomerId", customer.clone())
        .text("ProductId", product.clone())
        .text("OrderId", order.clone());
    let (status, body) = multipart(
        app,
        reqwest::Method::PUT,
        "/api/v1/ticket/update",
        &a.token,
        form,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!(id));
    let (_, got) = app.get(&format!("/api/v1/ticket/get/{id}"), &a.token).await;
    assert_eq!(got["data"]["typeName"], json!("Bảo hành"));
    assert_eq!(got["data"]["status"], json!(2));
    assert_eq!(got["data"]["formFiles"].as_array().unwrap().len(), 2);
    assert_eq!(got["data"]["createdOn"], json!("2026-03-01T08:00:00+07:00"));

    let (status, body) = app
        .get(&format!("/api/v1/ticket/change/status/{id}/3"), &a.token)
        .await;
    assert_eq!(
        (status, body["data"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (status, body) = app
        .get(&format!("/api/v1/ticket/change/status/{id}/5"), &a.token)
        .await;
    assert_field_error(status, &body, "status");

    // Search by every documented filter.
    let second = app
        .create(
            "/api/v1/ticket/create",
            &a.token,
            json!({"subject": "Hỏi giá lõi lọc", "typeId": complaint, "channel": 1}),
        )
        .await;
    for (query, expected) in [
        (json!({"typeId": warranty}), vec![&id]),
        (json!({"typeId": complaint}), vec![&second]),
        (json!({"status": 3}), vec![&id]),
        (json!({"channel": 1}), vec![&second]),
        (json!({"customerId": customer}), vec![&id]),
        (json!({"productId": product}), vec![&id]),
        (json!({"orderId": order}), vec![&id]),
        (json!({"search": "loi loc"}), vec![&second]),
        (json!({"search": "TK000001"}), vec![&id]),
        (
            json!({"fieldDate": "createdOn", "to": "2026-03-01"}),
            vec![&id],
        ),
        (json!({"from": "2026-03-02T00:00:00+07:00"}), vec![&second]),
    ] {
        let page = app
            .search("/api/v1/ticket/search", &a.token, query.clone())
            .await;
        let ids: Vec<&str> = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{query}: {page}");
    }

    // Comments, with a file.
    let (status, body) = multipart(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/ticket/send/comment?TenantCode=tk&TicketId={id}&UserId={NIL}&UserName=K%E1%BB%B9%20thu%E1%BA%ADt&Message=%C4%90%C3%A3%20thay%20b%C6%A1m"),
        &a.token,
        file("FormFile", "ket-qua.txt", "Đã thay bơm mới".as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let comment = body["data"].as_str().unwrap().to_owned();
    let (status, _b) = multipart(
        app,
        reqwest::Method::POST,
        &format!("/api/v1/ticket/send/comment?TicketId={id}&Message=Kh%C3%A1ch%20x%C3%A1c%20nh%E1%BA%ADn"),
        &a.token,
        Form::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{_b}");
    let page = app
        .search(
            "/api/v1/ticket/comment/search",
            &a.token,
            json!({"ticketId": id, "tenantCode": "tk"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(2));
    let first = &page["data"][0];
    assert_eq!(first["id"], json!(comment));
    assert_eq!(first["userName"], json!("Kỹ thuật"));
    assert_eq!(first["message"], json!("Đã thay bơm"));
    assert_eq!(first["formFiles"][0]["fileName"], json!("ket-qua.txt"));
    let page = app
        .search(
            "/api/v1/ticket/comment/search",
            &a.token,
            json!({"ticketId": id, "search": "xac nhan"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    let (status, body) = app
        .post(
            "/api/v1/ticket/comment/search",
            &other.token,
            json!({"ticketId": id}),
        )
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);

    // Bad uploads and bad fields write nothing.
    for (form, field) in [
        (file("FormFile", "virus.exe", b"MZ\x90\x00"), "FormFile"),
        (file("FormFile", "fake.png", b"GIF89a"), "FormFile"),
        (file("FormFile", "empty.pdf", b""), "FormFile"),
        (
            file("FormFile", "ok.png", PNG).text("Subject", " "),
            "subject",
        ),
        (
            file("FormFile", "ok.png", PNG)
                .text("Subject", "x")
                .text("TypeId", "999"),
            "typeId",
        ),
        (
            file("FormFile", "ok.png", PNG)
                .text("Subject", "x")
                .text("Priority", "cao"),
            "Priority",
        ),
        (
            file("FormFile", "ok.png", PNG)
                .text("Subject", "x")
                .text("CustomerId", "abc"),
            "CustomerId",
        ),
    ] {
        let (status, body) = multipart(
            app,
            reqwest::Method::POST,
            "/api/v1/ticket/create",
            &a.token,
            form,
        )
        .await;
        assert_field_error(status, &body, field);
    }
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let (status, body) = multipart(
        app,
        reqwest::Method::POST,
        "/api/v1/ticket/create?Subject=x",
        &a.token,
        file("FormFile", "big.txt", &big),
    )
    .await;
    assert_field_error(status, &body, "FormFile");
    let mut eleven = Form::new().text("Subject", "x");
    for i in 0..11 {
        eleven = eleven.part(
            "FormFiles",
            Part::bytes(PNG.to_vec()).file_name(format!("{i}.png")),
        );
    }
    let (status, body) = multipart(
        app,
        reqwest::Method::POST,
        "/api/v1/ticket/create",
        &a.token,
        eleven,
    )
    .await;
    assert_field_error(status, &body, "FormFiles");
    let huge = Form::new()
        .text("Subject", "x")
        .text("Description", "a".repeat(1024 * 1024 + 1));
    let (status, body) = multipart(
        app,
        reqwest::Method::POST,
        "/api/v1/ticket/create",
        &a.token,
        huge,
    )
    .await;
    assert_crmtop_err(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
    let page = app
        .search("/api/v1/ticket/search", &a.token, json!({}))
        .await;
    assert_eq!(page["totalCount"], json!(2), "no partial writes");

    // Ticket types: search, in-use delete refused, free delete.
    let page = app
        .search(
            "/api/v1/ticket/type/search",
            &a.token,
            json!({"search": "khieu"}),
        )
        .await;
    assert_eq!(page["totalCount"], json!(1));
    assert_eq!(
        page["data"][0],
        json!({"id": complaint, "name": "Khiếu nại", "note": null, "createdOn": page["data"][0]["createdOn"]})
    );
    let (status, body) = app
        .delete(&format!("/api/v1/ticket/type/{complaint}"), &a.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::CONFLICT);
    let spare = ticket_type(app, &a.token, "Khác").await;
    let (status, body) = app
        .delete(&format!("/api/v1/ticket/type/{spare}"), &other.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .delete(&format!("/api/v1/ticket/type/{spare}"), &a.token)
        .await;
    assert_eq!(
        (status, body["data"].clone()),
        (StatusCode::OK, json!(true))
    );

    // A customer with tickets is kept; deleting the ticket removes its files.
    let (status, body) = app
        .delete(&format!("/api/v1/customer/delete/{customer}"), &a.token)
        .await;
    assert_crmtop_err(status, &body, StatusCode::CONFLICT);
    let stored_files = || walk(&app.files_dir);
    assert_eq!(
        stored_files(),
        3,
        "two ticket files and one comment file on disk"
    );
    let (status, body) = app
        .delete(&format!("/api/v1/ticket/delete/{id}"), &a.token)
        .await;
    assert_eq!(
        (status, body["data"].clone()),
        (StatusCode::OK, json!(true))
    );
    assert_eq!(stored_files(), 0, "a deleted ticket's files are removed");
    let (status, body) = app.get(&url, &a.token).await;
    assert_crmtop_err(status, &body, StatusCode::NOT_FOUND);
}

fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                walk(&p)
            } else {
                1
            }
        })
        .sum()
}

on_both_backends!(tickets);
