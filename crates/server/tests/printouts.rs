//! Sales documents over HTTP: the tenant's document settings, a NextX sale (Vietnamese names,
//! line and sale discounts, VAT at 8 % and 10 %, part paid) and a CRMTOP order printed as 80 mm
//! receipts and A4 invoices, in HTML and PDF. The PDFs' text is read with `pdftotext`, their
//! pages rendered with `pdftoppm` (kept in `target/test-artifacts/printouts/`) and their VietQR
//! codes decoded with `zbarimg`: the payload's CRC checks and its amount is what is due.

#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::{assert_crmtop_ok, TestApp};
use crm_domain::vietqr::Transfer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A 24×12 PNG with transparency, as a logo.
const LOGO: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABgAAAAMCAYAAAB4MH11AAAALUlEQVR4nGM4IafBAMT/0TDVxGhqODYLqG4hAy0NR/YBzYKKYTSSRyN58EcyADrfFfiaIKXcAAAAAElFTkSuQmCC";

fn artifacts() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-artifacts/printouts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a tool; its stdout. A missing tool fails the test (`.ci/run` installs them).
fn tool(program: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (apt-get install poppler-utils zbar-tools)"));
    assert!(
        out.status.success() || program == "zbarimg",
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A GET answer's status, content type and bytes.
async fn fetch(app: &TestApp, path: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    let resp = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, resp.bytes().await.unwrap().to_vec())
}

/// What a PDF says and what its QR codes hold: its text (whitespace collapsed), and the
/// payloads decoded from its first page rendered as PNG (kept as `name`).
fn read_pdf(app: &TestApp, pdf: &[u8], name: &str) -> (String, Vec<String>) {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let name = &format!("{}-{name}", format!("{:?}", app.backend).to_lowercase());
    let dir = artifacts();
    let file = dir.join(format!("{name}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let file = file.to_str().unwrap();
    let text = tool("pdftotext", &["-layout", "-enc", "UTF-8", file, "-"]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let stem = dir.join(name);
    tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            file,
            stem.to_str().unwrap(),
        ],
    );
    let png = format!("{}.png", stem.to_str().unwrap());
    let codes = tool("zbarimg", &["-q", "--raw", &png]);
    let codes = codes
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    (text, codes)
}

async fn nx_ok(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Value {
    let (st, b) = app.call(method, path, Some(token), Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b
}

async fn sales_documents(app: &TestApp) {
    let a = app.tenant("shop").await;
    let other = app.tenant("other").await;
    let t = &a.token;

    // Document settings: checked, stored, the tenant's own.
    let (st, b) = app
        .put(
            "/crm/v1/settings/documents",
            t,
            json!({"settings": {"tax_code": "12345"}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["field"], json!("tax_code"), "{b}");
    assert!(b["message"].as_str().unwrap().contains("10 digits"), "{b}");
    for (key, value) in [
        ("bank_bin", "9704"),
        ("bank_account", "12 34"),
        ("logo", "data:image/gif;base64,R0lGODlh"),
        ("colour", "red"),
    ] {
        let (st, b) = app
            .put(
                "/crm/v1/settings/documents",
                t,
                json!({"settings": {key: value}}),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{key}: {b}");
        assert_eq!(b["field"], json!(key), "{b}");
    }
    // Limits: text settings 300 characters, the logo 128 KB of image.
    let big_png = {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.resize(128 * 1024 + 1, 0);
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        )
    };
    for (key, value, says) in [
        ("seller_name", "Ơ".repeat(301), "300"),
        ("logo", big_png, "128 KB"),
    ] {
        let (st, b) = app
            .put(
                "/crm/v1/settings/documents",
                t,
                json!({"settings": {key: value}}),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{key}: {b}");
        assert_eq!(b["field"], json!(key), "{b}");
        assert!(b["message"].as_str().unwrap().contains(says), "{b}");
    }
    let many: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("k{i}"), json!("x"))).collect();
    let (st, b) = app
        .put("/crm/v1/settings/documents", t, json!({"settings": many}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["field"], json!("settings"), "{b}");
    let (_, b) = app.get("/crm/v1/settings/documents", t).await;
    assert_eq!(b["settings"], json!({}), "nothing refused was stored");
    let settings = json!({
        "seller_name": "Công ty TNHH Hoa Sen Việt",
        "seller_address": "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh",
        "tax_code": "0312345678",
        "phone": "028 3823 4567",
        "bank_bin": "970436",
        "bank_account": "0071000123456",
        "bank_account_name": "CONG TY TNHH HOA SEN VIET",
        "bank_name": "Vietcombank",
        "logo": LOGO,
    });
    let (st, b) = app
        .put(
            "/crm/v1/settings/documents",
            t,
            json!({"settings": settings}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["settings"], settings);
    let (_, b) = app.get("/crm/v1/settings/documents", t).await;
    assert_eq!(b["settings"], settings);
    let (_, b) = app.get("/crm/v1/settings/documents", &other.token).await;
    assert_eq!(b["settings"], json!({}), "another tenant sees none of it");

    // A NextX sale: two products with Vietnamese names, a line discount, a sale discount, VAT
    // at 8 % and 10 %, part paid.
    let branch = nx_ok(
        app,
        Method::POST,
        "/api/branch/branch",
        t,
        json!({"code": "CN1", "name": "Chi nhánh Quận 1"}),
    )
    .await["data"]["id"]
        .as_i64()
        .unwrap();
    let product = |name: &str, price: i64| {
        json!({"name": name, "branch_id": branch, "purchase_price": price / 2, "sell_price": price,
               "qty_begin_stock": 100, "unit": {"unit_base": {"name": "Hộp", "is_direct_sell": "true"}}})
    };
    let tea = nx_ok(
        app,
        Method::POST,
        "/api/product/product",
        t,
        product("Trà xanh Thái Nguyên đặc biệt", 150_000),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let cake = nx_ok(
        app,
        Method::POST,
        "/api/product/product",
        t,
        product("Bánh đậu xanh Hải Dương", 45_000),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let customer = nx_ok(
        app,
        Method::POST,
        "/api/customer/customer",
        t,
        json!({"name": "Nguyễn Thị Lan", "mobile": "0912 888 777", "type": "customer",
               "address": "45 Trần Hưng Đạo, Hà Nội"}),
    )
    .await["data"]["id"]
        .as_i64()
        .unwrap();
    // Tea: 2 × (150,000 − 10,000) = 280,000 at 8 % (11,200 a box); cake: 3 × 45,000 =
    // 135,000 at 10 % (4,500 a box); 5,000 off the sale: 280,000 + 135,000 − 5,000 + 22,400 +
    // 13,500 = 445,900, of which 200,000 paid: 245,900 due.
    let sale = nx_ok(app, Method::POST, "/api/sell/sell", t, json!({
        "transaction_date": "2026-12-05", "customer_id": customer, "branch_id": branch,
        "discount_type": "fixed", "discount_amount": 5000, "additional_notes": "Giao trước 17 giờ",
        "products": [
            {"product_id": tea, "variation_id": tea, "unit_price": 150000, "quantity": 2, "item_tax": 11200,
             "line_discount_type": "fixed", "line_discount_amount": 10000},
            {"product_id": cake, "variation_id": cake, "unit_price": 45000, "quantity": 3, "item_tax": 4500}
        ],
        "payment": [{"payment_type": "in_come", "method": "cash", "amount": 200000}]
    }))
    .await;
    assert_eq!(sale["data"]["final_total"], json!(445900.0), "{sale}");
    assert_eq!(sale["data"]["payment_status"], json!("partial"));
    let sale_id = sale["data"]["id"].as_i64().unwrap();
    let code = sale["data"]["invoice_no"].as_str().unwrap().to_owned();

    let words = "Bốn trăm bốn mươi lăm nghìn chín trăm đồng";
    for (paper, name) in [("a4", "sale-a4"), ("80mm", "sale-80mm")] {
        let (st, ctype, pdf) = fetch(
            app,
            &format!("/crm/v1/sales/{sale_id}/print?format=pdf&paper={paper}"),
            t,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
        assert_eq!(ctype, "application/pdf");
        assert!(pdf.len() < 150_000, "{paper}: {} bytes", pdf.len());
        let (text, codes) = read_pdf(app, &pdf, name);
        for want in [
            "HOÁ ĐƠN BÁN HÀNG",
            "Công ty TNHH Hoa Sen Việt",
            "MST: 0312345678",
            "Nguyễn Thị Lan",
            "Trà xanh Thái Nguyên đặc biệt",
            "Bánh đậu xanh Hải Dương",
            &code,
            "Tiền hàng 435.000 ₫",
            "Chiết khấu -25.000 ₫",
            "Thuế GTGT 8% (trên 280.000 ₫) 22.400 ₫",
            "Thuế GTGT 10% (trên 135.000 ₫) 13.500 ₫",
            "Tổng cộng 445.900 ₫",
            "Đã thanh toán 200.000 ₫",
            "Còn phải trả 245.900 ₫",
            words,
            "Giao trước 17 giờ",
            "Quét mã để thanh toán 245.900 ₫",
        ] {
            assert!(text.contains(want), "{paper}: '{want}' not in: {text}");
        }
        assert_eq!(codes.len(), 1, "{paper}: one QR code: {codes:?}");
        let payload = &codes[0];
        let qr = Transfer::parse(payload).expect("the CRC checks");
        assert_eq!(qr.bin, "970436");
        assert_eq!(qr.account, "0071000123456");
        assert_eq!(qr.amount, Some(245_900), "the amount due: {payload}");
        assert_eq!(qr.purpose.as_deref(), Some(code.as_str()));
        assert!(payload.contains("5406245900"), "{payload}");
    }
    // HTML of the same sale: the same totals, words and payload, the logo inline.
    let (st, ctype, html) = fetch(
        app,
        &format!("/crm/v1/sales/{sale_id}/print?format=html&paper=80mm"),
        t,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains(words), "{html}");
    assert!(html.contains("445.900 ₫") && html.contains("245.900 ₫"));
    assert!(html.contains(LOGO), "the logo is in the page");
    assert!(html.contains("<svg"), "the QR code is in the page");
    let payload = html
        .split("data-vietqr=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    assert_eq!(Transfer::parse(payload).unwrap().amount, Some(245_900));

    // Bad choices, unknown sales and other tenants' sales are refused in our envelope.
    for (query, field) in [("format=docx", "format"), ("paper=a5", "paper")] {
        let (st, b) = app
            .get(&format!("/crm/v1/sales/{sale_id}/print?{query}"), t)
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["field"], json!(field), "{b}");
    }
    for (path, token) in [
        (format!("/crm/v1/sales/{sale_id}/print"), &other.token),
        ("/crm/v1/sales/999999/print".to_owned(), t),
        ("/crm/v1/sales/abc/print".to_owned(), t),
        (format!("/crm/v1/orders/{}/print", uuid::Uuid::new_v4()), t),
    ] {
        let (st, b) = app.get(&path, token).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {b}");
        assert!(b["message"].as_str().unwrap().contains("not"), "{b}");
    }

    // A CRMTOP order: the PDF from CRMTOP's own print endpoints with `format=pdf`.
    let product = |name: &str, price: i64| json!({"name": name, "retailPrice": price});
    let tea = app
        .create(
            "/api/v1/product/crm/create",
            t,
            product("Trà Ô long Lâm Đồng", 120_000),
        )
        .await;
    let cake = app
        .create(
            "/api/v1/product/crm/create",
            t,
            product("Mứt gừng Huế", 60_000),
        )
        .await;
    // 3 × 120,000 − 20,000 = 340,000 at 8 %; 2 × 60,000 = 120,000 at 10 %: 460,000 + 27,200 +
    // 12,000 = 499,200.
    let buyer = app
        .create(
            "/api/v1/customer/create",
            t,
            json!({"name": "Trần Văn Bình"}),
        )
        .await;
    let order = app
        .create(
            "/api/v1/order/crm/create",
            t,
            json!({"customerId": buyer, "customerName": "Trần Văn Bình", "receiverName": "Trần Văn Bình",
                   "receiverPhone": "0903 123 456", "receiverAddress": "8 Hùng Vương, Huế",
                   "products": [
                       {"productId": tea, "quantity": 3, "discount": 20000, "taxRate": 8},
                       {"productId": cake, "quantity": 2, "taxRate": 10}]}),
        )
        .await;
    for (path, name) in [
        ("/api/v1/order/crm/print-a4", "order-a4"),
        ("/api/v1/order/crm/print-8cm", "order-80mm"),
    ] {
        let resp = app
            .http
            .post(format!("{}{path}?format=pdf", app.base))
            .bearer_auth(t)
            .json(&json!({"ids": [order]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "application/pdf");
        let pdf = resp.bytes().await.unwrap();
        let (text, codes) = read_pdf(app, &pdf, name);
        for want in [
            "Trà Ô long Lâm Đồng",
            "Mứt gừng Huế",
            "Trần Văn Bình",
            "Chiết khấu -20.000 ₫",
            "Thuế GTGT 8% (trên 340.000 ₫) 27.200 ₫",
            "Thuế GTGT 10% (trên 120.000 ₫) 12.000 ₫",
            "Tổng cộng 499.200 ₫",
            "Còn phải trả 499.200 ₫",
            "Bốn trăm chín mươi chín nghìn hai trăm đồng",
        ] {
            assert!(text.contains(want), "{path}: '{want}' not in: {text}");
        }
        let qr = Transfer::parse(&codes[0]).unwrap();
        assert_eq!(qr.amount, Some(499_200));
    }
    // Without `format` CRMTOP's envelope with the HTML, as before; a bad format is CRMTOP's
    // field error; another tenant's order is CRMTOP's not-found.
    let (st, b) = app
        .post("/api/v1/order/crm/print-a4", t, json!({"ids": [order]}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_crmtop_ok(&b);
    let html = b["data"].as_str().unwrap();
    assert!(html.contains("Bốn trăm chín mươi chín nghìn hai trăm đồng"));
    assert!(html.contains("data-vietqr=\""));
    let (st, b) = app
        .post(
            "/api/v1/order/crm/print-a4?format=docx",
            t,
            json!({"ids": [order]}),
        )
        .await;
    common::assert_field_error(st, &b, "format");
    let ids: Vec<String> = (0..201).map(|_| order.to_string()).collect();
    let (st, b) = app
        .post(
            "/api/v1/order/crm/print-a4?format=pdf",
            t,
            json!({"ids": ids}),
        )
        .await;
    common::assert_field_error(st, &b, "ids");
    assert!(b.to_string().contains("at most 200"), "{b}");
    let (st, b) = app
        .post(
            "/api/v1/order/crm/print-8cm?format=pdf",
            &other.token,
            json!({"ids": [order]}),
        )
        .await;
    common::assert_crmtop_err(st, &b, StatusCode::NOT_FOUND);
    let (st, _, pdf) = fetch(app, &format!("/crm/v1/orders/{order}/print"), t).await;
    assert_eq!(st, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF-"));

    // No bank account: no QR code, the rest as before.
    app.put(
        "/crm/v1/settings/documents",
        t,
        json!({"settings": {"bank_account": ""}}),
    )
    .await;
    let (_, _, pdf) = fetch(app, &format!("/crm/v1/sales/{sale_id}/print?paper=80mm"), t).await;
    let (text, codes) = read_pdf(app, &pdf, "sale-80mm-no-bank");
    assert!(codes.is_empty(), "{codes:?}");
    assert!(text.contains("Còn phải trả 245.900 ₫"), "{text}");
    assert!(!text.contains("Quét mã"), "{text}");
}

on_both_backends!(sales_documents);
