//! The web console's pages under load: the records its screens show besides customers (leads,
//! deals, orders, today's activities), a staff account signed in through the sign-in form, and
//! one scenario per page, each request carrying the session cookie.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{Duration as Span, Utc};
use crm_domain::activity::{Activity, ActivityData};
use crm_domain::common::{Link, RecordKind};
use crm_domain::ids::CustomerId;
use crm_domain::lead::{Lead, LeadInput};
use crm_domain::money::Money;
use crm_domain::opportunity::{Opportunity, OpportunityData};
use crm_domain::sales::{Order, OrderData, OrderInput, OrderLine, Product, ProductData};
use crm_domain::service::Crm;
use crm_domain::Actor;
use rand::rngs::StdRng;
use rand::Rng;
use reqwest::Method;

use crate::gen::Person;
use crate::load::{MakeReq, Req};

const BATCH: usize = 1_000;
const STAFF: &str = "bench-staff";
const PASSWORD: &str = "bench mật khẩu";

/// What was loaded besides the customers.
pub(crate) struct SalesLoaded {
    pub(crate) orders: usize,
    pub(crate) rows_per_second: f64,
}

/// `n` leads, `n` deals spread over the six stages, `n` orders of one or two lines (all this
/// week) and `n / 5` activities around today, for customers drawn from `customers`.
pub(crate) async fn load_sales(
    crm: &Crm,
    actor: &Actor,
    customers: &[uuid::Uuid],
    n: usize,
    rng: &mut StdRng,
) -> anyhow::Result<SalesLoaded> {
    let start = std::time::Instant::now();
    let pick = |rng: &mut StdRng| CustomerId(customers[rng.gen_range(0..customers.len())]);
    let products = crm
        .create_many::<Product>(
            actor,
            (1..=20)
                .map(|i| ProductData {
                    name: format!("Sản phẩm {i}"),
                    retail_price: Money::from_i64(10_000 * i),
                    ..Default::default()
                })
                .collect(),
        )
        .await?;
    let mut done = 0;
    while done < n {
        let size = BATCH.min(n - done);
        let leads = (0..size)
            .map(|_| {
                let p = Person::generate(rng);
                LeadInput {
                    source: Some(1),
                    status: Some(1),
                    full_name: Some(p.name),
                    phone: Some(p.phone),
                    email: Some(p.email),
                    ..Default::default()
                }
            })
            .collect();
        crm.create_many::<Lead>(actor, leads).await?;
        let deals = (0..size)
            .map(|i| OpportunityData {
                name: format!("Cơ hội {}", done + i),
                customer_id: Some(pick(rng)),
                amount: Money::from_i64(rng.gen_range(1..500) * 100_000),
                currency: "VND".into(),
                stage: Some(rng.gen_range(1..=6)),
                ..Default::default()
            })
            .collect();
        crm.create_many::<Opportunity>(actor, deals).await?;
        let orders = (0..size)
            .map(|_| OrderInput {
                data: OrderData {
                    customer_id: Some(pick(rng)),
                    status: 1,
                    lines: (0..rng.gen_range(1..=2))
                        .map(|_| OrderLine {
                            product_id: products[rng.gen_range(0..products.len())].0,
                            quantity: f64::from(rng.gen_range(1..5)),
                            tax_rate: 8.0,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                },
                ..Default::default()
            })
            .collect();
        crm.create_many::<Order>(actor, orders).await?;
        let activities = (0..size / 5)
            .map(|i| {
                let customer = pick(rng);
                ActivityData {
                    kind: rng.gen_range(1..=3),
                    subject: format!("Việc {}", done + i),
                    status: 1,
                    start_time: Some(Utc::now() + Span::hours(rng.gen_range(-72..72))),
                    primary: Some(Link {
                        kind: RecordKind::Customer,
                        id: customer.0,
                        name: None,
                    }),
                    ..Default::default()
                }
            })
            .collect();
        crm.create_many::<Activity>(actor, activities).await?;
        done += size;
    }
    Ok(SalesLoaded {
        orders: n,
        rows_per_second: (3 * n + n / 5) as f64 / start.elapsed().as_secs_f64(),
    })
}

/// Makes a staff account with `crm user create` (the real command) and signs it in through the
/// sign-in form; the session cookie.
pub(crate) async fn staff_session(
    crm_exe: &Path,
    url: &str,
    tenant: &str,
    base: &str,
) -> anyhow::Result<String> {
    let status = tokio::process::Command::new(crm_exe)
        .env("CRM_DATABASE_URL", url)
        .env("CRM_LOG", "warn")
        .args(["user", "create", "--tenant", tenant, "--username", STAFF])
        .args(["--role", "admin", "--password", PASSWORD])
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .context("crm user create")?;
    if !status.success() {
        bail!("crm user create failed: {status}");
    }
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form = no_redirects.get(format!("{base}/app/login")).send().await?;
    let login = cookie(form.headers(), "crm_login").context("no sign-in cookie")?;
    let html = form.text().await?;
    let at = html
        .find("name=\"csrf\" value=\"")
        .context("no CSRF field")?
        + 19;
    let csrf = html[at..].split('"').next().unwrap_or_default().to_owned();
    let signed = no_redirects
        .post(format!("{base}/app/login"))
        .header("Cookie", format!("crm_login={login}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("workspace", tenant),
            ("username", STAFF),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    let session = cookie(signed.headers(), "crm_session").context("not signed in")?;
    Ok(format!("crm_session={session}"))
}

fn cookie(h: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    h.get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The console's pages as scenarios: each draws its customer or query from the samples.
pub(crate) fn scenarios(
    ids: Arc<Vec<uuid::Uuid>>,
    names: Arc<Vec<String>>,
    tails: Arc<Vec<String>>,
) -> Vec<(&'static str, MakeReq)> {
    let get = |path: String| Req {
        method: Method::GET,
        path,
        body: None,
    };
    vec![
        (
            "console: dashboard",
            Arc::new(move |_: &mut StdRng| get("/app/dashboard".into())) as MakeReq,
        ),
        (
            "console: customers",
            Arc::new(move |_: &mut StdRng| get("/app/customers".into())),
        ),
        ("console: search, name", {
            let names = names.clone();
            Arc::new(move |r: &mut StdRng| {
                get(format!(
                    "/app/customers?q={}",
                    enc(&names[r.gen_range(0..names.len())])
                ))
            })
        }),
        ("console: search, phone digits", {
            Arc::new(move |r: &mut StdRng| {
                get(format!(
                    "/app/customers?q={}",
                    tails[r.gen_range(0..tails.len())]
                ))
            })
        }),
        ("console: a customer", {
            Arc::new(move |r: &mut StdRng| {
                get(format!("/app/customers/{}", ids[r.gen_range(0..ids.len())]))
            })
        }),
        (
            "console: leads",
            Arc::new(move |_: &mut StdRng| get("/app/leads".into())),
        ),
        (
            "console: deals board",
            Arc::new(move |_: &mut StdRng| get("/app/deals".into())),
        ),
        (
            "console: orders",
            Arc::new(move |_: &mut StdRng| get("/app/orders".into())),
        ),
    ]
}

fn enc(s: &str) -> String {
    s.split(' ').collect::<Vec<_>>().join("%20")
}

/// The size of each page's answer, in KB (the transfer target is 200 KB).
pub(crate) async fn page_sizes(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    pages: &[(&'static str, String)],
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let mut out = serde_json::Map::new();
    for (name, path) in pages {
        let r = http
            .get(format!("{base}{path}"))
            .header("Cookie", cookie)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("{path}: {}", r.status());
        }
        let kb = r.bytes().await?.len() as f64 / 1024.0;
        out.insert(
            (*name).to_owned(),
            serde_json::json!((kb * 10.0).round() / 10.0),
        );
    }
    Ok(out)
}
