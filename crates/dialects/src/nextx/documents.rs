//! NextX purchase orders, sales and sales returns (seed 003): lines in the product's units,
//! payments, the stock they move, and the list and detail answers.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::NaiveDate;
use crm_domain::customer::Customer;
use crm_domain::ids::PlaceId;
use crm_domain::inventory::{Doc, DocFilter, DocKind, DocLine, Payment, Place};
use crm_domain::money::Money;
use crm_domain::sales::Product;
use crm_domain::search::{Filter, PageRequest};
use crm_domain::stock::new_doc;
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kit::api::*;
use crate::body::{lenient_int, lenient_num, parse_ci};
use crate::AppState;

use super::doc_out::{self, echo, Echo, Message, PartyOut, RichLine, RowKind};
use super::kit::*;
use super::products::units_out;

pub(super) fn router(spec: &mut Spec) -> Router<AppState> {
    const P: &str = "Purchase orders";
    const S: &str = "Sales";
    const R: &str = "Sell returns";
    Api::new(spec)
        .route::<(), Vec<doc_out::Row>, _, _>(
            M::GET,
            "/api/purchase/purchase",
            Op::bearer(P, "Purchase orders of a branch, a page")
                .query(BRANCH_GOODS)
                .query(DAYS),
            purchases,
        )
        .route::<DocIn, Message<Echo>, _, _>(
            M::POST,
            "/api/purchase/purchase",
            Op::bearer(P, "Add a purchase order"),
            purchase_add,
        )
        .route::<(), doc_out::PurchaseDetail, _, _>(
            M::GET,
            "/api/purchase/purchase-by-code/{code}",
            Op::bearer(P, "A purchase order by its code"),
            purchase_by_code,
        )
        .route::<ShippingIn, ShippingOut, _, _>(
            M::PUT,
            "/api/purchase/update-shipping/{id}",
            Op::bearer(P, "Set a purchase order's shipping status").int_id(),
            purchase_shipping,
        )
        .route::<(), Vec<doc_out::Row>, _, _>(
            M::GET,
            "/api/sell/sell",
            Op::bearer(S, "Sales of a branch, a page")
                .query(&[
                    int("page"),
                    int("pageLimit"),
                    needed(int("branch_id")),
                    int("customer_id"),
                    text("strSearch"),
                ])
                .query(DAYS),
            sells,
        )
        .route::<DocIn, Created<doc_out::NewSale>, _, _>(
            M::POST,
            "/api/sell/sell",
            Op::bearer(S, "Add a sale"),
            sell_add,
        )
        .route::<(), doc_out::SaleDetail, _, _>(
            M::GET,
            "/api/sell/sell/{id}",
            Op::bearer(S, "A sale").int_id(),
            sell_get,
        )
        .route::<(), Vec<doc_out::Row>, _, _>(
            M::GET,
            "/api/sell-return/sell-return",
            Op::bearer(R, "Sell returns, a page")
                .query(&[
                    int("page"),
                    int("pageLimit"),
                    int("customer_id"),
                    text("strSearch"),
                ])
                .query(DAYS),
            returns,
        )
        .route::<DocIn, Echo, _, _>(
            M::POST,
            "/api/sell-return/sell-return",
            Op::bearer(R, "Add a sell return"),
            return_add,
        )
        .route::<(), doc_out::ReturnDetail, _, _>(
            M::GET,
            "/api/sell-return/sell-return/{id}",
            Op::bearer(R, "A sell return").int_id(),
            return_get,
        )
        .route::<DocIn, Status, _, _>(
            M::PUT,
            "/api/sell-return/sell-return/{id}",
            Op::bearer(R, "Update a sell return").int_id(),
            return_put,
        )
        // The doc's request line and every sample spell it without the "s".
        .route::<(), doc_out::ReturnDetail, _, _>(
            M::GET,
            "/api/ell-return/ell-return/{id}",
            Op::bearer(R, "A sell return (the doc's spelling)").int_id(),
            return_get,
        )
        .router
}

// ---- documents ----

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct LineIn {
    #[serde(default, deserialize_with = "lenient_int")]
    id_sort: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    product_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    variation_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_num")]
    unit_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<crm_domain::ids::UnitId>,
    #[serde(default, deserialize_with = "lenient_int")]
    tax_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_num")]
    item_tax: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num", alias = "qty")]
    quantity: Option<f64>,
    #[serde(default, alias = "comment")]
    sell_line_note: Option<String>,
    #[serde(default)]
    line_discount_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_num", alias = "discount")]
    line_discount_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient_int")]
    sell_line_id: Option<crm_domain::ids::DocLineId>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct PaymentIn {
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    payment_type: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient_int")]
    account_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct DocIn {
    #[serde(default)]
    invoice_no: Option<String>,
    #[serde(default)]
    transaction_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    customer_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<crm_domain::ids::PlaceId>,
    #[serde(default, deserialize_with = "lenient_int")]
    store_id: Option<crm_domain::ids::PlaceId>,
    #[serde(default)]
    discount_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    discount_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num", alias = "return_charges")]
    surcharges: Option<f64>,
    #[serde(default)]
    shipping_status: Option<String>,
    #[serde(default)]
    approved_status: Option<Value>,
    #[serde(default)]
    additional_notes: Option<String>,
    #[serde(default)]
    staff_note: Option<String>,
    #[serde(default)]
    products: Vec<LineIn>,
    #[serde(default, alias = "payments")]
    payment: Vec<PaymentIn>,
}

impl DocIn {
    fn doc(self, actor: &Actor, kind: DocKind) -> Result<Doc, NxError> {
        let date = self
            .transaction_date
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| {
                NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d")
                    .map_err(|_| bad("transaction_date", format!("'{d}' is not a Y-m-d date")))
            })
            .transpose()?;
        let mut doc = new_doc(actor, kind, date);
        doc.invoice_no = self.invoice_no.filter(|i| !i.trim().is_empty());
        doc.branch_id = self.branch_id.unwrap_or_default();
        doc.store_id = self.store_id.unwrap_or_default();
        doc.discount_type = self.discount_type;
        doc.discount_amount = Money::from_f64(self.discount_amount.unwrap_or(0.0));
        doc.charges = Money::from_f64(self.surcharges.unwrap_or(0.0));
        doc.shipping_status = self
            .shipping_status
            .filter(|s| !s.trim().is_empty())
            .or(Some("ordered".to_owned()));
        doc.approved = matches!(self.approved_status, Some(Value::Bool(true)))
            || matches!(&self.approved_status, Some(Value::String(s)) if s == "true" || s == "1");
        doc.additional_notes = self.additional_notes.filter(|s| !s.is_empty());
        doc.staff_note = self.staff_note.filter(|s| !s.is_empty());
        for (i, l) in self.products.into_iter().enumerate() {
            let product = l
                .product_id
                .or(l.variation_id)
                .filter(|p| *p != 0)
                .ok_or_else(|| bad(&format!("products[{i}].product_id"), "is required"))?;
            doc.lines.push(DocLine {
                sort: l.id_sort.unwrap_or(i as i64),
                product_seq: product,
                unit_id: l.unit_id.and_then(|u| u.nonzero()),
                unit_price: Money::from_f64(l.unit_price.unwrap_or(0.0)),
                quantity: l.quantity.unwrap_or(0.0),
                discount_type: l.line_discount_type,
                discount_amount: Money::from_f64(l.line_discount_amount.unwrap_or(0.0)),
                tax_id: l.tax_id,
                item_tax: Money::from_f64(l.item_tax.unwrap_or(0.0)),
                note: l.sell_line_note.filter(|n| !n.is_empty()),
                sell_line_id: l.sell_line_id,
                ..DocLine::default()
            });
        }
        doc.payments = self
            .payment
            .into_iter()
            .map(|p| Payment {
                note: p.note.filter(|n| !n.is_empty()),
                payment_type: p.payment_type,
                method: p.method,
                amount: Money::from_f64(p.amount.unwrap_or(0.0)),
                account_id: p.account_id,
                paid_on: Some(date.unwrap_or_else(|| actor.today())),
            })
            .collect();
        Ok(doc)
    }
}

async fn rich_lines(s: &AppState, actor: &Actor, doc: &Doc) -> Result<Vec<RichLine>, NxError> {
    let mut out = Vec::new();
    for l in &doc.lines {
        let p: Product = s.crm.get(actor, l.product_id).await?;
        let units = units_out(s, actor, &p).await?;
        out.push(RichLine::new(l, &p, units));
    }
    Ok(out)
}

async fn party(
    s: &AppState,
    actor: &Actor,
    doc: &Doc,
) -> Result<(Option<PartyOut>, Option<Customer>), NxError> {
    let Some(id) = doc.customer_id else {
        return Ok((None, None));
    };
    let c: Option<Customer> = s.crm.try_get(actor, id).await?;
    let out = c.as_ref().map(|c| {
        let party = c
            .data
            .ext
            .as_ref()
            .and_then(|e| e.party.clone())
            .unwrap_or_default();
        PartyOut {
            id: c.seq,
            name: c.data.name.clone(),
            code: c.data.code.clone(),
            mobile: c.data.phone.as_ref().map(|p| p.as_str().to_owned()),
            gender: party.gender.map(|g| g.to_string()),
            birthday: party.birthday.map(|b| b.to_string()),
            address: c.data.address.clone(),
            account_address: party.account_address.unwrap_or_default(),
            account_no: party.account_no.unwrap_or_default(),
        }
    });
    Ok((out, c))
}

async fn branch_out(s: &AppState, actor: &Actor, id: PlaceId) -> Result<Option<PlaceOut>, NxError> {
    Ok(s.crm
        .places(actor, false, None)
        .await?
        .iter()
        .find(|b| b.id == id)
        .map(PlaceOut::branch))
}

/// A list row (purchase, sale or return).
async fn row_out(
    s: &AppState,
    actor: &Actor,
    doc: &Doc,
    c: Option<&Customer>,
    branches: &[Place],
) -> Result<doc_out::Row, NxError> {
    let sale_invoice = match doc.return_of {
        Some(id) if doc.kind == DocKind::SellReturn => s
            .crm
            .find_doc(actor, DocKind::Sell, id)
            .await?
            .and_then(|d| d.invoice_no),
        _ => None,
    };
    let branch = branches
        .iter()
        .find(|b| b.id == doc.branch_id)
        .map(|b| b.name.clone());
    Ok(doc_out::row(doc, c, branch, RowKind::of(doc, sale_invoice)))
}

fn filter_of(
    p: &Params,
    customers: Option<crm_domain::ids::CustomerId>,
) -> Result<DocFilter, NxError> {
    Ok(DocFilter {
        branch_id: p.int("branch_id")?,
        store_id: p.int("store_id")?,
        customer_id: customers,
        from: p.date("from_date")?,
        to: p.date("to_date")?,
        search: p.search(),
        product_kinds: p.all("type"),
    })
}

pub(super) async fn list(
    s: &AppState,
    actor: &Actor,
    kind: DocKind,
    q: Option<String>,
    branch_required: bool,
) -> Result<Json<Vec<doc_out::Row>>, NxError> {
    let p = Params::parse(q)?;
    if branch_required {
        let b = p
            .int("branch_id")?
            .ok_or_else(|| bad("branch_id", "is required"))?;
        s.crm.branch(actor, b).await?;
    }
    let customer = match p.int("customer_id")? {
        Some(seq) => {
            let c: Customer = s
                .crm
                .by_seq(actor, seq)
                .await?
                .ok_or_else(|| bad("customer_id", format!("customer {seq} does not exist")))?;
            Some(c.id)
        }
        None => None,
    };
    let docs = s
        .crm
        .docs(actor, kind, &filter_of(&p, customer)?, p.page()?)
        .await?;
    let branches = s.crm.places(actor, false, None).await?;
    // The page's customers in one query.
    let mut ids: Vec<_> = docs
        .iter()
        .filter_map(|d| d.customer_id.map(|c| c.0))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let customers = if ids.is_empty() {
        Vec::new()
    } else {
        let size = ids.len() as u32;
        s.crm
            .search::<Customer>(
                actor,
                &Filter::Ids { ids, negate: false },
                PageRequest::new(1, size)?,
            )
            .await?
            .items
    };
    let mut out = Vec::new();
    for d in &docs {
        let c = d
            .customer_id
            .and_then(|id| customers.iter().find(|c| c.id == id));
        out.push(row_out(s, actor, d, c, &branches).await?);
    }
    Ok(Json(out))
}

type Rows = Json<Vec<doc_out::Row>>;

pub(super) async fn purchases(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Rows, NxError> {
    list(&s, &actor, DocKind::Purchase, q, true).await
}

async fn sells(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Rows, NxError> {
    list(&s, &actor, DocKind::Sell, q, true).await
}

pub(super) async fn returns(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Rows, NxError> {
    list(&s, &actor, DocKind::SellReturn, q, false).await
}

async fn purchase_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Message<Echo>>, NxError> {
    let d: DocIn = parse_ci(&body)?;
    let customer = d.customer_id;
    let doc = s
        .crm
        .save_purchase(&actor, d.doc(&actor, DocKind::Purchase)?, customer)
        .await?;
    Ok(Json(Message {
        message: "Purchase order created successfully",
        data: echo(&doc, customer),
    }))
}

async fn purchase_by_code(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
) -> Result<Json<doc_out::PurchaseDetail>, NxError> {
    let doc = s
        .crm
        .doc_by_invoice(&actor, DocKind::Purchase, &code)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "purchase order not found"))?;
    let (customer, _) = party(&s, &actor, &doc).await?;
    let branch = branch_out(&s, &actor, doc.branch_id).await?;
    let lines = rich_lines(&s, &actor, &doc).await?;
    Ok(Json(doc_out::purchase_detail(
        &doc, customer, branch, lines,
    )))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct ShippingIn {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    shipping_status: Option<String>,
}

/// What a shipping update answers: the request's comment and the status now set.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ShippingOut {
    comment: String,
    shipping_status: String,
}

async fn purchase_shipping(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ShippingOut>, NxError> {
    let id = id_of(&id, "purchase order")?;
    let b: ShippingIn = parse_ci(&body)?;
    let status = b.shipping_status.clone().unwrap_or_default();
    s.crm.set_shipping(&actor, id, &status).await?;
    Ok(Json(ShippingOut {
        comment: b.comment.unwrap_or_default(),
        shipping_status: status,
    }))
}

async fn sell_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Created<doc_out::NewSale>>, NxError> {
    let d: DocIn = parse_ci(&body)?;
    let customer = d.customer_id;
    let doc = s
        .crm
        .save_sell(&actor, d.doc(&actor, DocKind::Sell)?, customer)
        .await?;
    Ok(Json(Created {
        status_code: 200,
        ..Created::new("Sale order created successfully", (&doc).into())
    }))
}

async fn sell_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<doc_out::SaleDetail>, NxError> {
    let doc = s
        .crm
        .doc(&actor, DocKind::Sell, id_of(&id, "sale")?)
        .await?;
    let (customer, _) = party(&s, &actor, &doc).await?;
    Ok(Json(doc_out::sale_detail(&doc, customer.map(|c| c.id))))
}

async fn return_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Echo>, NxError> {
    let d: DocIn = parse_ci(&body)?;
    let doc = s
        .crm
        .save_return(&actor, d.doc(&actor, DocKind::SellReturn)?)
        .await?;
    let (customer, _) = party(&s, &actor, &doc).await?;
    Ok(Json(echo(&doc, customer.map(|c| c.id))))
}

async fn return_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<doc_out::ReturnDetail>, NxError> {
    let doc = s
        .crm
        .doc(&actor, DocKind::SellReturn, id_of(&id, "sales return")?)
        .await?;
    let (customer, _) = party(&s, &actor, &doc).await?;
    let store = s
        .crm
        .places(&actor, true, None)
        .await?
        .iter()
        .find(|p| p.id == doc.store_id)
        .map(PlaceOut::branch);
    let places = doc_out::Places {
        location: branch_out(&s, &actor, doc.branch_id).await?,
        store,
    };
    let lines = rich_lines(&s, &actor, &doc).await?;
    Ok(Json(doc_out::return_detail(&doc, customer, places, lines)))
}

async fn return_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Status>, NxError> {
    let id = id_of(&id, "sales return")?;
    let d: DocIn = parse_ci(&body)?;
    let mut doc = d.doc(&actor, DocKind::SellReturn)?;
    doc.id = id;
    s.crm.save_return(&actor, doc).await?;
    Ok(ok_flat("Return order updated successfully"))
}
