//! `cargo bench -p crm-server --bench sends -- [--database postgres://…] [--recipients N]
//! [--skip-email]`
//!
//! Campaign sending against a raw baseline in the same run: a NextX e-mail campaign to a customer
//! group of N (100,000 by default) through a local SMTP sink, and a CRMTOP Zalo campaign to an
//! uploaded list of N through a local ZNS server, sent by the real `crm` binary (4 workers).
//! The raw limit is a minimal client sending the same messages to the same servers with the same
//! concurrency and nothing else (no database). Prints messages/s, the ratio, and the server's
//! peak RSS; nothing is asserted.

#![allow(clippy::unwrap_used)]

use std::ops::Not;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crm_domain::customer::{CustomerGroup, CustomerGroupInput, CustomerInput};
use crm_server::{App, Config};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const WORKERS: usize = 4;
/// Sends in flight at most on the server (each worker's batch sends `IN_FLIGHT` at once): the
/// raw clients send as many at once.
const AT_ONCE: usize = WORKERS * crm_jobs::messages::IN_FLIGHT;

fn arg_flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A minimal SMTP server that accepts every message and counts it (no parsing, no storage):
/// the sender is what is measured.
async fn smtp_sink(count: Arc<AtomicU64>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let count = count.clone();
            // Replies go out at once (no delayed-ACK stalls between commands).
            let _ = sock.set_nodelay(true);
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if data {
                        if line == "." {
                            data = false;
                            count.fetch_add(1, Ordering::Relaxed);
                            b"250 OK queued\r\n"
                        } else {
                            continue;
                        }
                    } else {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                            "DATA" => {
                                data = true;
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => {
                                let _ = w.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 OK\r\n",
                        }
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A minimal ZNS API: every template message accepted and counted.
async fn zns_server(count: Arc<AtomicU64>) -> String {
    async fn send(
        axum::extract::State(count): axum::extract::State<Arc<AtomicU64>>,
        axum::Json(_): axum::Json<Value>,
    ) -> axum::Json<Value> {
        let n = count.fetch_add(1, Ordering::Relaxed);
        axum::Json(
            json!({"error": 0, "message": "Success", "data": {"msg_id": format!("m{n}"), "sent_time": "1", "quota": {}}}),
        )
    }
    let app = axum::Router::new()
        .route("/message/template", axum::routing::post(send))
        .with_state(count);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

const HTML: &str = "<p><strong>{{cus_name}} thân mến,</strong></p><p>Cảm ơn quý khách đã mua sắm tại Cửa hàng Hoa Mai. Tháng này, quý khách được giảm 20% cho mọi đơn hàng từ 500.000 ₫.</p><p>Trân trọng,<br>Cửa hàng Hoa Mai</p>";

fn name(i: usize) -> String {
    format!("Nguyễn Văn Khách {i}")
}

/// The raw limit for e-mail: the same messages (MIME as the server builds them) through lettre's
/// pooled transport, `AT_ONCE` at once.
async fn raw_email(port: u16, n: usize) -> f64 {
    use lettre::message::{Mailbox, MultiPart};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..AT_ONCE {
        let (transport, next) = (transport.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return;
                }
                let who = name(i);
                let html = HTML.replace("{{cus_name}}", &who);
                let mail = Message::builder()
                    .from(Mailbox::new(
                        Some("Cửa hàng Hoa Mai".into()),
                        "cskh@cuahang.vn".parse().unwrap(),
                    ))
                    .to(format!("k{i}@example.vn").parse().unwrap())
                    .subject(format!("Ưu đãi cho {who}"))
                    .message_id(Some(format!(
                        "<{}@cuahang.vn>",
                        uuid::Uuid::now_v7().simple()
                    )))
                    .multipart(MultiPart::alternative_plain_html(html.clone(), html))
                    .unwrap();
                transport.send(mail).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// The raw limit for ZNS: the same JSON bodies posted with reqwest, `AT_ONCE` at once.
async fn raw_zns(base: &str, n: usize) -> f64 {
    let http = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..AT_ONCE {
        let (http, next, url) = (
            http.clone(),
            next.clone(),
            format!("{base}/message/template"),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return;
                }
                let body = json!({"phone": format!("849{i:08}"), "template_id": "231",
                    "template_data": {"customer_name": name(i)},
                    "tracking_id": uuid::Uuid::now_v7().simple().to_string()});
                let r = http
                    .post(&url)
                    .header("access_token", "access-1")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let _: Value = r.json().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Waits until `count` reaches `n`; the rate from `started`.
async fn until(count: &AtomicU64, n: usize, started: Instant) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(3_600);
    let mut shown = Instant::now();
    while (count.load(Ordering::Relaxed) as usize) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if std::env::var_os("CRM_BENCH_TRACE").is_some()
            && shown.elapsed() >= Duration::from_millis(500)
        {
            shown = Instant::now();
            eprintln!(
                "  {:>6.2} s: {}",
                started.elapsed().as_secs_f64(),
                count.load(Ordering::Relaxed)
            );
        }
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = arg("--recipients").map_or(100_000, |v| v.parse().unwrap());
    let database = arg("--database").unwrap_or_else(|| "sqlite".to_owned());
    let scratch = crm_bench::Scratch::new(&database).await.unwrap();
    eprintln!("{} recipients on {}", n, scratch.backend);

    // The tenant, its API client and N customers in one group, written through the core.
    let mut config = Config::with_database(&scratch.url);
    config.workers = 0;
    let app = App::connect(&config).await.unwrap();
    let tenant = app
        .state
        .auth
        .create_tenant("Bench", Some("bench"), None)
        .await
        .unwrap();
    let client = app
        .state
        .auth
        .create_client(&tenant, "bench", crm_domain::scope::Scope::ALL)
        .await
        .unwrap();
    let actor = tenant.actor(client.client.id.0, client.client.name.as_str());
    let crm = &app.state.crm;
    let group = crm
        .create::<CustomerGroup>(
            &actor,
            CustomerGroupInput {
                name: Some("Tất cả".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let group_seq = crm.get::<CustomerGroup>(&actor, group).await.unwrap().seq;
    let loading = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let inputs = chunk
            .iter()
            .map(|i| CustomerInput {
                name: Some(name(*i)),
                phone: Some(format!("09{i:08}")),
                email: Some(format!("k{i}@example.vn")),
                group_id: Some(group),
                ..Default::default()
            })
            .collect();
        crm.create_many::<crm_domain::customer::Customer>(&actor, inputs)
            .await
            .unwrap();
    }
    eprintln!(
        "loaded {n} customers in {:.0} s",
        loading.elapsed().as_secs_f64()
    );
    drop(app);

    // Receivers, and the raw limits measured first on them.
    let mails = Arc::new(AtomicU64::new(0));
    let zns = Arc::new(AtomicU64::new(0));
    let smtp_port = smtp_sink(mails.clone()).await;
    let zns_base = zns_server(zns.clone()).await;
    eprintln!("running: raw e-mail");
    // `--skip-email` measures the ZNS campaign alone.
    let email = arg_flag("--skip-email").not();
    let raw_mail_rate = if email {
        raw_email(smtp_port, n).await
    } else {
        0.0
    };
    eprintln!("running: raw ZNS");
    let raw_zns_rate = raw_zns(&zns_base, n).await;
    mails.store(0, Ordering::Relaxed);
    zns.store(0, Ordering::Relaxed);

    // The real server, its uploads in a directory removed afterwards.
    let files = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_crm"))
        .env("CRM_DATABASE_URL", &scratch.url)
        .env("CRM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CRM_FILES_DIR", files.path())
        .env(
            "CRM_LOG",
            std::env::var("CRM_LOG").unwrap_or_else(|_| "warn".to_owned()),
        )
        .env("CRM_WORKERS", WORKERS.to_string())
        .env("CRM_JOB_POLL_MS", "50")
        .env("CRM_WEBHOOK_ALLOW_PRIVATE", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap_or_default();
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let token: Value = http
        .post(format!("{base}/api/v1/auth/get-token-for-develop"))
        .json(&json!({"clientId": client.client.client_id, "clientSecret": client.secret.0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["data"]["accessToken"].as_str().unwrap().to_owned();
    for (channel, settings) in [
        (
            "email",
            json!({"smtp_url": format!("smtp://127.0.0.1:{smtp_port}"), "tls": "none",
                         "from": "cskh@cuahang.vn", "from_name": "Cửa hàng Hoa Mai"}),
        ),
        (
            "zns",
            json!({"api_url": zns_base, "access_token": "access-1"}),
        ),
    ] {
        let r = http
            .put(format!("{base}/crm/v1/channels/{channel}"))
            .bearer_auth(&token)
            .json(&json!({ "settings": settings }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    let mut mail_rate = 0.0;
    if email {
        eprintln!("running: e-mail campaign");
        let started = Instant::now();
        let r = http
        .post(format!("{base}/api/email/campaign"))
        .bearer_auth(&token)
        .json(&json!({"name": "Ưu đãi", "mail_subject": "Ưu đãi cho {{cus_name}}", "mail_content": HTML,
                      "send_now": 1, "customer_groups": [group_seq.to_string()]}))
        .send()
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        mail_rate = until(&mails, n, started).await;
    }
    let rss_mail = crm_bench::peak_rss_mb(pid);

    eprintln!("running: ZNS campaign");
    let mut csv = String::from("Họ và tên,Số điện thoại\n");
    for i in 0..n {
        csv.push_str(&format!("{},09{i:08}\n", name(i)));
    }
    let form = reqwest::multipart::Form::new().part(
        "FormFile",
        reqwest::multipart::Part::bytes(csv.into_bytes())
            .file_name("ds.csv")
            .mime_str("text/csv; charset=utf-8")
            .unwrap(),
    );
    let started = Instant::now();
    let r = http
        .post(format!("{base}/api/v1/maktzalo/create?Name=ZNS&Channel=1&SendType=1&ZnsTemplateId=231&ZnsTemplateParam=%7B%22customer_name%22%3A%22cus_name%22%7D"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let zns_rate = until(&zns, n, started).await;
    let rss = crm_bench::peak_rss_mb(pid);
    let _ = child.kill().await;
    scratch.remove().await;

    println!();
    println!(
        "| {} backend, {n} recipients, {WORKERS} workers | messages/s | raw limit | ratio |",
        scratch.backend
    );
    println!("|---|---|---|---|");
    println!(
        "| e-mail campaign (SMTP) | {mail_rate:.0} | {raw_mail_rate:.0} | {:.0} % |",
        100.0 * mail_rate / raw_mail_rate
    );
    println!(
        "| ZNS campaign (HTTP) | {zns_rate:.0} | {raw_zns_rate:.0} | {:.0} % |",
        100.0 * zns_rate / raw_zns_rate
    );
    println!("| server peak RSS after the e-mail campaign | {rss_mail:.1} MB | | |");
    println!("| server peak RSS | {rss:.1} MB | | target ≤ 60 MB |");
}
