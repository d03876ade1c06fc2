//! The web console in a real browser: Debian's headless Chromium driven through chromedriver
//! (WebDriver) by `fantoccini`; `.ci/run` installs both. A sales user signs in, finds
//! `Nguyễn Văn Đức` by typing `nguyen van duc` (htmx swaps the results as they type), opens the
//! customer, adds a note, converts a lead into a customer, moves a deal to the next stage,
//! approves an order and opens its printout, and signs out; a viewer gets no form.
//! Screenshots of each screen are kept in `target/test-artifacts/console/`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Backend, TestApp};
use crm_domain::console::Role;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const PASSWORD: &str = "mật khẩu dài";

fn artifacts() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/test-artifacts/console");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.len() > 5_000, "{name}: {} bytes", png.len());
    std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
}

/// Waits until the page's text holds `text` (htmx swaps arrive after the keystrokes).
async fn wait_for_text(c: &Client, text: &str) -> String {
    let mut body = String::new();
    for _ in 0..100 {
        // The page may be mid-navigation or mid-swap: an element gone stale is read again.
        if let Ok(el) = c.find(Locator::Css("body")).await {
            if let Ok(now) = el.text().await {
                body = now;
                if body.contains(text) {
                    return body;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{text:?} never appeared: {body}");
}

async fn click(c: &Client, target: Locator<'_>) {
    c.find(target).await.unwrap().click().await.unwrap();
}

async fn sign_in(c: &Client, base: &str, username: &str) {
    c.goto(&format!("{base}/app/login")).await.unwrap();
    let form = c.form(Locator::Css("form.login")).await.unwrap();
    form.set_by_name("workspace", "shop")
        .await
        .unwrap()
        .set_by_name("username", username)
        .await
        .unwrap()
        .set_by_name("password", PASSWORD)
        .await
        .unwrap();
    shot(c, &format!("login-{username}")).await;
    form.submit().await.unwrap();
    wait_for_text(c, "Khách tiềm năng mới tuần này").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_a_browser() {
    let (Some(driver), true) = (
        ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists()),
        std::path::Path::new("/usr/bin/chromium").exists(),
    ) else {
        assert!(
            std::env::var("CRM_TEST_REQUIRE_BROWSER").is_err(),
            "no Chromium or chromedriver, and CRM_TEST_REQUIRE_BROWSER is set"
        );
        eprintln!("skipped: no Chromium here (apt-get install chromium chromium-driver)");
        return;
    };
    // Two TLS crypto providers are linked in (through fantoccini); say which one to use.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let shop = app.tenant("shop").await;
    for (name, phone) in [
        ("Nguyễn Văn Đức", "0912 345 678"),
        ("Trần Thị Hoa", "0987 000 111"),
        ("Nguyễn Thị Mai", "0903 222 333"),
    ] {
        app.create(
            "/api/v1/customer/create",
            &shop.token,
            json!({"name": name, "phone": phone, "type": 1}),
        )
        .await;
    }
    app.create(
        "/api/v1/lead/create",
        &shop.token,
        json!({"source": 1, "status": 1, "fullName": "Phạm Minh Tuấn", "phone": "0933 444 555",
               "company": "Công ty Minh Tuấn"}),
    )
    .await;
    let buyer = app
        .create(
            "/api/v1/customer/create",
            &shop.token,
            json!({"name": "Siêu thị Minh Châu", "type": 1}),
        )
        .await;
    let deal = app
        .create(
            "/api/v1/opportunity/create",
            &shop.token,
            json!({"name": "Cung cấp máy POS", "customerId": buyer, "amount": 150000000.0,
                   "currency": "VND", "probability": 50, "stage": 1}),
        )
        .await;
    let tea = app
        .create(
            "/api/v1/product/crm/create",
            &shop.token,
            json!({"name": "Trà Ô long Lâm Đồng", "retailPrice": 120_000}),
        )
        .await;
    app.create(
        "/api/v1/order/crm/create",
        &shop.token,
        json!({"customerId": buyer, "receiverName": "Chị Châu",
               "products": [{"productId": tea, "quantity": 3, "discount": 20000, "taxRate": 8}]}),
    )
    .await;
    let form = reqwest::multipart::Form::new().part(
        "FormFile",
        reqwest::multipart::Part::bytes("Biên bản kiểm tra".as_bytes()).file_name("bien-ban.txt"),
    );
    let r = app
        .http
        .post(format!(
            "{}/api/v1/ticket/create?Subject=M%C3%A1y%20POS%20kh%C3%B4ng%20in%20%C4%91%C6%B0%E1%BB%A3c&Status=1&CustomerId={buyer}",
            app.base
        ))
        .bearer_auth(&shop.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let t = app.app.state.auth.find_tenant("shop").await.unwrap();
    for (user, role, name) in [
        ("lan", Role::Sales, "Trần Thị Lan"),
        ("xem", Role::Viewer, "Lê Văn Xem"),
        ("chu", Role::Admin, "Chủ Shop"),
    ] {
        crm_server::cli::create_user(&app.app, &t, user, role, Some(name), PASSWORD)
            .await
            .unwrap();
    }

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut chromedriver = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": "/usr/bin/chromium", "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"]}),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let c = client.expect("chromedriver answers");
    let base = app.base.clone();

    sign_in(&c, &base, "lan").await;
    let body = wait_for_text(&c, "Đơn hàng tuần này").await;
    assert!(body.contains("367.200 ₫"), "this week's revenue: {body}");
    shot(&c, "dashboard").await;
    click(&c, Locator::LinkText("Khách hàng")).await;
    let body = wait_for_text(&c, "4 khách hàng").await;
    assert!(body.contains("Trần Thị Lan"), "{body}");
    shot(&c, "customers").await;

    // Typing narrows the list in place (htmx), without a page load.
    let search = c.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("nguyen van duc").await.unwrap();
    let body = wait_for_text(&c, "1 khách hàng").await;
    assert!(
        body.contains("Nguyễn Văn Đức") && !body.contains("Trần Thị Hoa"),
        "{body}"
    );
    assert!(c.current_url().await.unwrap().as_str().contains("q=nguyen"));
    shot(&c, "search").await;

    click(&c, Locator::LinkText("Nguyễn Văn Đức")).await;
    wait_for_text(&c, "Chưa có hoạt động").await;
    shot(&c, "customer").await;
    c.find(Locator::Css("textarea[name=text]"))
        .await
        .unwrap()
        .send_keys("Gọi lại thứ Hai, khách hỏi giá sỉ")
        .await
        .unwrap();
    click(&c, Locator::Css("form.note button")).await;
    let body = wait_for_text(&c, "Gọi lại thứ Hai, khách hỏi giá sỉ").await;
    assert!(
        body.contains("Ghi chú") && body.contains("Trần Thị Lan"),
        "{body}"
    );
    shot(&c, "customer-note").await;

    // A lead converted into a customer from its page.
    click(&c, Locator::LinkText("Khách tiềm năng")).await;
    wait_for_text(&c, "1 khách tiềm năng").await;
    shot(&c, "leads").await;
    click(&c, Locator::LinkText("Phạm Minh Tuấn")).await;
    wait_for_text(&c, "Chuyển thành khách hàng").await;
    click(&c, Locator::Css("form.convert button")).await;
    let body = wait_for_text(&c, "Chưa có hoạt động").await;
    assert!(
        body.contains("Công ty Minh Tuấn"),
        "the customer's page: {body}"
    );
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .starts_with("/app/customers/"));

    // A deal moved on to the next stage of the board.
    click(&c, Locator::LinkText("Cơ hội")).await;
    wait_for_text(&c, "Cung cấp máy POS").await;
    click(&c, Locator::Css(&format!("#deal-{deal} button.next"))).await;
    let mut moved = false;
    for _ in 0..100 {
        if let Ok(col) = c.find(Locator::Css("#stage-2")).await {
            if col
                .text()
                .await
                .is_ok_and(|t| t.contains("Cung cấp máy POS"))
            {
                moved = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(moved, "the deal is in the second column");
    // Then dragged onto the negotiation column (the events a mouse's drag fires; WebDriver's
    // pointer actions do not start HTML drag and drop in Chromium).
    c.execute(
        "const deal = document.getElementById(arguments[0]);
         const column = document.getElementById('stage-4');
         const dt = new DataTransfer();
         deal.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: dt}));
         column.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt}));
         column.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}));",
        vec![json!(format!("deal-{deal}"))],
    )
    .await
    .unwrap();
    let mut dropped = false;
    for _ in 0..100 {
        if let Ok(col) = c.find(Locator::Css("#stage-4")).await {
            if col
                .text()
                .await
                .is_ok_and(|t| t.contains("Cung cấp máy POS"))
            {
                dropped = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(dropped, "the deal dragged into the fourth column");
    shot(&c, "deals").await;

    // An order approved, then its printout opened.
    click(&c, Locator::LinkText("Đơn hàng")).await;
    wait_for_text(&c, "1 đơn hàng").await;
    click(&c, Locator::LinkText("DH000001")).await;
    wait_for_text(&c, "Chờ duyệt").await;
    click(&c, Locator::Css("button[value=approve]")).await;
    let body = wait_for_text(&c, "Đã duyệt").await;
    assert!(
        body.contains("Trần Thị Lan") && body.contains("367.200 ₫"),
        "{body}"
    );
    shot(&c, "order").await;
    let console_window = c.window().await.unwrap();
    click(&c, Locator::Id("printout")).await;
    let mut printout = None;
    for _ in 0..50 {
        let windows = c.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != console_window) {
            printout = Some(w);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.switch_to_window(printout.expect("the printout opens in a new tab"))
        .await
        .unwrap();
    let body = wait_for_text(&c, "HOÁ ĐƠN BÁN HÀNG").await;
    assert!(
        body.contains("DH000001")
            && body.contains("Trà Ô long Lâm Đồng")
            && body.contains("Ba trăm sáu mươi bảy nghìn hai trăm đồng"),
        "{body}"
    );
    shot(&c, "printout").await;
    c.close_window().await.unwrap();
    c.switch_to_window(console_window).await.unwrap();

    // The customer's page with everything about it; a ticket answered; products; campaigns.
    c.goto(&format!("{base}/app/customers/{buyer}"))
        .await
        .unwrap();
    let body = wait_for_text(&c, "Lịch sử thay đổi").await;
    assert!(
        body.contains("Cung cấp máy POS")
            && body.contains("DH000001")
            && body.contains("Máy POS không in được"),
        "{body}"
    );
    shot(&c, "customer-full").await;
    click(&c, Locator::LinkText("Máy POS không in được")).await;
    wait_for_text(&c, "bien-ban.txt").await;
    c.find(Locator::Css("textarea[name=message]"))
        .await
        .unwrap()
        .send_keys("Đã hẹn kỹ thuật chiều nay")
        .await
        .unwrap();
    // A file attached from the browser's file input.
    let attachment = std::env::temp_dir().join(format!("lich-hen-{}.txt", std::process::id()));
    std::fs::write(&attachment, "Lịch hẹn: 14:00").unwrap();
    c.find(Locator::Css("#thread input[type=file]"))
        .await
        .unwrap()
        .send_keys(attachment.to_str().unwrap())
        .await
        .unwrap();
    click(&c, Locator::Css("#thread form button")).await;
    wait_for_text(&c, "Đã hẹn kỹ thuật chiều nay").await;
    wait_for_text(&c, attachment.file_name().unwrap().to_str().unwrap()).await;
    let _ = std::fs::remove_file(&attachment);
    click(&c, Locator::Css("button[name=status][value='2']")).await;
    wait_for_text(&c, "Thực hiện").await;
    shot(&c, "ticket").await;
    click(&c, Locator::LinkText("Sản phẩm")).await;
    wait_for_text(&c, "Trà Ô long Lâm Đồng").await;
    shot(&c, "products").await;
    click(&c, Locator::LinkText("Chiến dịch")).await;
    wait_for_text(&c, "Tự động hoá").await;
    shot(&c, "campaigns").await;
    // A spreadsheet imported, its progress followed until done.
    let csv = artifacts().join("khach-hang.csv");
    std::fs::write(
        &csv,
        "Họ và tên,Số điện thoại,Email\nLý Thị Nhập,0912 000 001,nhap@example.vn\nDòng lỗi,12ab,x\n",
    )
    .unwrap();
    click(&c, Locator::LinkText("Nhập dữ liệu")).await;
    wait_for_text(&c, "Bắt đầu nhập").await;
    c.find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(csv.canonicalize().unwrap().to_str().unwrap())
        .await
        .unwrap();
    click(&c, Locator::Css("form.import button")).await;
    let body = wait_for_text(&c, "Hoàn tất").await;
    assert!(
        body.contains("khach-hang.csv") && body.contains("12ab") || body.contains("Dòng"),
        "{body}"
    );
    shot(&c, "import").await;

    click(&c, Locator::Css("form.who button")).await;
    wait_for_text(&c, "Đăng nhập").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/app/login"));

    // A viewer sees the note and no form to add one.
    sign_in(&c, &base, "xem").await;
    c.goto(&format!("{base}/app/customers?q=duc"))
        .await
        .unwrap();
    click(&c, Locator::LinkText("Nguyễn Văn Đức")).await;
    wait_for_text(&c, "Gọi lại thứ Hai").await;
    assert!(c.find(Locator::Css("textarea")).await.is_err());
    shot(&c, "customer-viewer").await;
    click(&c, Locator::Css("form.who button")).await;
    wait_for_text(&c, "Đăng nhập").await;

    // An admin's settings.
    sign_in(&c, &base, "chu").await;
    click(&c, Locator::LinkText("Cài đặt")).await;
    wait_for_text(&c, "Ứng dụng kết nối API").await;
    shot(&c, "settings").await;

    // On a phone's screen (390 × 844 CSS pixels): the pages fit its width (nothing scrolls
    // sideways) and the navigation stays reachable.
    c.set_window_size(390, 844).await.unwrap();
    for (path, text, name) in [
        ("/app/dashboard", "Doanh thu", "phone-dashboard"),
        (
            "/app/customers?q=nguyen%20van%20duc",
            "Nguyễn Văn Đức",
            "phone-customers",
        ),
        ("/app/deals", "Đàm phán", "phone-deals"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        wait_for_text(&c, text).await;
        let widths = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
        assert!(
            inner <= 400 && scroll <= inner,
            "{path}: {scroll} px wide in a {inner} px window"
        );
        assert!(
            c.find(Locator::LinkText("Khách hàng")).await.is_ok(),
            "{path}"
        );
        shot(&c, name).await;
    }

    c.close().await.unwrap();
    let _ = chromedriver.kill().await;
    app.stop().await;
}
