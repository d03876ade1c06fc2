//! Sales screens: opportunities as a board by stage (moving a deal), orders with their lines,
//! their approval and their printout.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use crm_domain::ids::{OpportunityId, OrderId, ProductId};
use crm_domain::opportunity::Opportunity;
use crm_domain::sales::{Order, Product};
use crm_domain::search::{Field, Filter, PageRequest, Value};
use crm_domain::DomainError;
use serde::Deserialize;

use crate::i18n::{Lang, Texts};
use crate::pages::{checked, list, meta, session, uuid_of, when, ListQuery, Listing, Row, Shell};
use crate::web::{page, problem, Form, Query};
use crate::Console;

/// Deals a column of the board shows (its newest), and how far it counts them.
const BOARD_CARDS: u32 = 20;
const BOARD_COUNT_CAP: u64 = 1_000;
/// Longest approval note, in characters.
const MAX_APPROVAL_NOTE: usize = 2000;

/// A deal on the board.
struct Card {
    id: uuid::Uuid,
    name: String,
    who: Option<String>,
    amount: String,
    owner: Option<String>,
}

/// A stage of the board and its newest deals.
struct Column {
    stage: i32,
    name: &'static str,
    /// How many deals the stage holds (`hơn 1.000` past the cap).
    total: String,
    cards: Vec<Card>,
    /// The buttons of its deals: stage, label, class. An open deal moves on to the next stage
    /// (negotiation to won) or is lost; a closed one goes back to negotiation.
    moves: Vec<(i32, String, &'static str)>,
}

fn moves(t: &Texts, stage: i32) -> Vec<(i32, String, &'static str)> {
    let name = |s: i32| t.stages[(s - 1) as usize];
    match stage {
        1..=4 => vec![
            (stage + 1, format!("→ {}", name(stage + 1)), "next"),
            (6, format!("✗ {}", name(6)), "plain"),
        ],
        _ => vec![(4, format!("↺ {}", name(4)), "plain")],
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    t: &'static Texts,
    shell: Shell,
    columns: Vec<Column>,
    may_move: bool,
}

/// `/app/deals`: the tenant's opportunities by stage type, newest first in each column.
pub(crate) async fn board(State(c): State<Console>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = lang.t();
    let actor = s.actor();
    let mut columns = Vec::with_capacity(t.stages.len());
    for (i, name) in t.stages.iter().enumerate() {
        let stage = i as i32 + 1;
        let filter = Filter::Eq {
            field: Field::Status,
            value: Value::Int(stage.into()),
        };
        let found = match PageRequest::new(1, BOARD_CARDS) {
            Ok(p) => {
                let p = p.counting_up_to(BOARD_COUNT_CAP);
                c.crm.search::<Opportunity>(&actor, &filter, p).await
            }
            Err(e) => Err(e),
        };
        let found = match found {
            Ok(f) => f,
            Err(e) => return problem(lang, e),
        };
        columns.push(Column {
            stage,
            name,
            total: crate::pages::counted(t, &found),
            moves: moves(t, stage),
            cards: found
                .items
                .into_iter()
                .map(|o| {
                    let d = o.data;
                    Card {
                        id: o.id.0,
                        who: d.customer_name.or(d.lead_name).or(d.contact_name),
                        amount: d.amount.vnd(),
                        owner: d.ownership.owner_name,
                        name: d.name,
                    }
                })
                .collect(),
        });
    }
    page(
        StatusCode::OK,
        BoardPage {
            t,
            may_move: s.login.role.may_change("sales"),
            columns,
            shell: Shell::of(&s, "deals"),
        }
        .render(),
    )
}

#[derive(Deserialize)]
pub(crate) struct StageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    stage: String,
}

/// Moves a deal to another stage (roles that may change sales), then shows the board.
pub(crate) async fn move_deal(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<StageForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match checked(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let moved = async {
        s.may_change("sales")?;
        let id = OpportunityId(uuid_of(&id, "opportunity")?);
        let stage = f
            .stage
            .trim()
            .parse::<i32>()
            .map_err(|_| DomainError::validation("stage", "must be a stage number, 1-6"))?;
        c.crm.move_opportunity(&s.actor(), id, stage).await
    };
    match moved.await {
        Ok(()) => Redirect::to("/app/deals").into_response(),
        Err(e) => problem(lang, e),
    }
}

/// Whether an order waits for a decision, was approved or was rejected, in words.
fn approval_word(t: &Texts, o: &Order) -> &'static str {
    match &o.data.approval {
        None => t.pending,
        Some(a) if a.approved => t.approved,
        Some(_) => t.rejected,
    }
}

pub(crate) async fn orders(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let listing = Listing {
        section: "orders",
        base: "/app/orders",
        words: |t| (t.orders, t.order_one, t.orders_counted),
        customer_filters: false,
        row: |o: Order, t: &Texts| Row {
            id: o.id.0,
            meta: meta(&[
                o.data.customer_name.as_deref(),
                Some(&o.data.total_amount.vnd()),
                Some(approval_word(t, &o)),
            ]),
            name: o.data.code.unwrap_or_default(),
        },
    };
    list(&c, &headers, query, listing).await
}

/// An order line as the page shows it.
struct LineView {
    product: String,
    unit: Option<String>,
    quantity: String,
    price: String,
    discount: Option<String>,
    amount: String,
}

/// The decision on an order, as the page shows it.
struct DecisionView {
    word: &'static str,
    by: String,
    at: String,
    note: Option<String>,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    t: &'static Texts,
    shell: Shell,
    id: uuid::Uuid,
    code: String,
    customer: Option<(uuid::Uuid, String)>,
    date: Option<String>,
    receiver: Option<String>,
    note: Option<String>,
    lines: Vec<LineView>,
    discount: Option<String>,
    tax: Option<String>,
    total: String,
    decision: Option<DecisionView>,
    may_decide: bool,
}

fn quantity(q: f64) -> String {
    let s = format!("{q:.3}");
    s.trim_end_matches('0')
        .trim_end_matches('.')
        .replace('.', ",")
}

pub(crate) async fn order(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let t = lang.t();
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = async {
        let id = OrderId(uuid_of(&id, "order")?);
        c.crm.get::<Order>(&s.actor(), id).await
    };
    let o = match found.await {
        Ok(o) => o,
        Err(e) => return problem(lang, e),
    };
    let d = o.data;
    let nonzero = |m: crm_domain::money::Money| (!m.is_zero()).then(|| m.vnd());
    page(
        StatusCode::OK,
        OrderPage {
            t,
            id: o.id.0,
            code: d.code.unwrap_or_default(),
            customer: d
                .customer_id
                .map(|c| (c.0, d.customer_name.unwrap_or_default())),
            date: d.order_date.map(|at| when(at, &s)),
            receiver: Some(meta(&[
                d.receiver_name.as_deref(),
                d.receiver_phone.as_ref().map(|p| p.as_str()),
                d.receiver_address.as_deref(),
            ]))
            .filter(|r| !r.is_empty()),
            note: d.note,
            lines: d
                .lines
                .into_iter()
                .map(|l| LineView {
                    product: meta(&[l.product_code.as_deref(), l.product_name.as_deref()]),
                    unit: l.unit_name,
                    quantity: quantity(l.quantity),
                    price: l.price.unwrap_or_default().vnd(),
                    discount: nonzero(l.discount),
                    amount: l.amount.vnd(),
                })
                .collect(),
            discount: nonzero(d.discount_amount),
            tax: nonzero(d.tax_amount),
            total: d.total_amount.vnd(),
            may_decide: d.approval.is_none() && s.login.role.may_change("sales"),
            decision: d.approval.map(|a| DecisionView {
                word: if a.approved { t.approved } else { t.rejected },
                by: a.by_name.unwrap_or_default(),
                at: when(a.at, &s),
                note: a.note,
            }),
            shell: Shell::of(&s, "orders"),
        }
        .render(),
    )
}

#[derive(Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// Approves or rejects an order, once (roles that may change sales), then shows it.
pub(crate) async fn decide_order(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match checked(&c, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let decided = async {
        s.may_change("sales")?;
        let id = OrderId(uuid_of(&id, "order")?);
        let approve = match f.decision.as_str() {
            "approve" => true,
            "reject" => false,
            _ => {
                return Err(DomainError::validation(
                    "decision",
                    "must be approve or reject",
                ))
            }
        };
        let note = f.note.trim();
        if note.chars().count() > MAX_APPROVAL_NOTE {
            return Err(DomainError::validation(
                "note",
                format!("at most {MAX_APPROVAL_NOTE} characters"),
            ));
        }
        let note = (!note.is_empty()).then(|| note.to_owned());
        c.crm.approve_order(&s.actor(), id, approve, note).await?;
        Ok(id)
    };
    match decided.await {
        Ok(id) => Redirect::to(&format!("/app/orders/{}", id.0)).into_response(),
        Err(e) => problem(lang, e),
    }
}

/// The order's printout (A4, with its VietQR code for what is due), as a page to print or as
/// a PDF.
async fn printout(c: &Console, headers: &HeaderMap, id: &str, pdf: bool) -> Response {
    let lang = Lang::of(headers);
    let s = match session(c, headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let actor = s.actor();
    let printed = async {
        let id = OrderId(uuid_of(id, "order")?);
        let mut printouts = c.crm.order_printouts(&actor, &[id]).await?;
        let seller = c.crm.seller(&actor).await?;
        let code = printouts
            .first()
            .map(|p| p.code.clone())
            .unwrap_or_default();
        if pdf {
            let bytes = c
                .printer
                .pdf(seller, std::mem::take(&mut printouts))
                .await?;
            Ok((bytes, "application/pdf", code))
        } else {
            let html = c.printer.html(&seller, &printouts);
            Ok((html.into_bytes(), "text/html; charset=utf-8", code))
        }
    };
    let (body, kind, code) = match printed.await {
        Ok(x) => x,
        Err(e) => return problem(lang, e),
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The printout carries its own styles and an inline SVG code, and nothing else.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    if pdf {
        let name: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"hoa-don-{name}.pdf\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    r
}

pub(crate) async fn print_order(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    printout(&c, &headers, &id, false).await
}

pub(crate) async fn print_order_pdf(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    printout(&c, &headers, &id, true).await
}

pub(crate) async fn products(
    State(c): State<Console>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let listing = Listing {
        section: "products",
        base: "/app/products",
        words: |t| (t.products, t.product_one, t.products_counted),
        customer_filters: false,
        row: |p: Product, _| Row {
            id: p.id.0,
            meta: meta(&[
                p.data.code.as_deref(),
                Some(&p.data.retail_price.vnd()),
                p.data.unit_name.as_deref(),
            ]),
            name: p.data.name,
        },
    };
    list(&c, &headers, query, listing).await
}

/// Stores a product's page counts its stock in (the first ones, by their id).
const MAX_STORES: usize = 50;

/// A unit the product sells in, with its prices.
struct UnitView {
    name: String,
    rate: String,
    retail: String,
    wholesale: String,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    t: &'static Texts,
    shell: Shell,
    name: String,
    code: String,
    unit: Option<String>,
    retail: String,
    wholesale: String,
    import: String,
    units: Vec<UnitView>,
    /// Store (with its branch), base units on hand, and whether that is at or below the low mark.
    stock: Vec<(String, String, bool)>,
    total: String,
}

async fn product_page(
    c: &Console,
    s: &crm_domain::console::Session,
    t: &'static Texts,
    id: &str,
) -> Result<ProductPage, DomainError> {
    let actor = s.actor();
    let id = ProductId(uuid_of(id, "product")?);
    let p: Product = c.crm.get(&actor, id).await?;
    let units = c.crm.product_units(&actor, id).await?;
    let places = c.crm.places(&actor, false, None).await?;
    let stores = c.crm.places(&actor, true, None).await?;
    let low = p.data.ext.as_ref().map_or(0.0, |e| e.low_stock_at);
    let mut stock = Vec::new();
    let mut total = 0.0;
    for store in stores.into_iter().take(MAX_STORES) {
        let on_hand = c
            .crm
            .stock(&actor, &[id], store.branch_id, Some(store.id))
            .await?
            .first()
            .map_or(0.0, |(_, q)| *q);
        total += on_hand;
        let branch = store
            .branch_id
            .and_then(|b| places.iter().find(|x| x.id == b))
            .map(|b| b.name.clone());
        stock.push((
            meta(&[branch.as_deref(), Some(&store.name)]),
            quantity(on_hand),
            low > 0.0 && on_hand <= low,
        ));
    }
    let d = p.data;
    Ok(ProductPage {
        t,
        code: d.code.unwrap_or_default(),
        unit: d.unit_name,
        retail: d.retail_price.vnd(),
        wholesale: d.wholesale_price.vnd(),
        import: d.import_price.vnd(),
        units: units
            .into_iter()
            .map(|u| UnitView {
                name: u.unit_name.unwrap_or_default(),
                rate: quantity(u.rate),
                retail: u.retail_price.vnd(),
                wholesale: u.wholesale_price.vnd(),
            })
            .collect(),
        stock,
        total: quantity(total),
        name: d.name,
        shell: Shell::of(s, "products"),
    })
}

pub(crate) async fn product(
    State(c): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match product_page(&c, &s, lang.t(), &id).await {
        Ok(p) => page(StatusCode::OK, p.render()),
        Err(e) => problem(lang, e),
    }
}
