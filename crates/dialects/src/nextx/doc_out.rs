//! What NextX's purchase, sale and return endpoints answer, as typed shapes: the echo of a
//! created document, list rows, and the detail answers with their lines, payments, party and
//! places. The doc writes amounts as numbers in echoes and as 4-decimal strings in details;
//! each field keeps the type the doc shows.

use crm_domain::ids::{DocId, DocLineId, PlaceId, UnitId};
use crm_domain::inventory::{Doc, DocKind, DocLine, Payment};
use crm_domain::money::Money;
use serde::Serialize;
use serde_json::Number;

use super::kit::{money, PlaceOut};

fn discount_type(d: &Option<String>) -> String {
    d.clone().unwrap_or_else(|| "fixed".to_owned())
}

fn approved_flag(doc: &Doc) -> &'static str {
    if doc.approved {
        "1"
    } else {
        "0"
    }
}

/// A line in the shape the request sent it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct LineEcho {
    id: DocLineId,
    id_sort: i64,
    product_id: i64,
    variation_id: i64,
    unit_price: Money,
    unit_id: Option<UnitId>,
    f_convert: f64,
    f_convert1: i32,
    f_convert2: i32,
    f_convert3: i32,
    tax_id: Option<i64>,
    item_tax: Money,
    quantity: f64,
    sell_line_note: String,
    line_discount_type: String,
    line_discount_amount: Money,
    sell_line_id: Option<DocLineId>,
    line_total: Money,
}

impl From<&DocLine> for LineEcho {
    fn from(l: &DocLine) -> Self {
        Self {
            id: l.id,
            id_sort: l.sort,
            product_id: l.product_seq,
            variation_id: l.product_seq,
            unit_price: l.unit_price,
            unit_id: l.unit_id,
            f_convert: l.rate,
            f_convert1: 1,
            f_convert2: 1,
            f_convert3: 1,
            tax_id: l.tax_id,
            item_tax: l.item_tax,
            quantity: l.quantity,
            sell_line_note: l.note.clone().unwrap_or_default(),
            line_discount_type: discount_type(&l.discount_type),
            line_discount_amount: l.discount_amount,
            sell_line_id: l.sell_line_id,
            line_total: l.total,
        }
    }
}

pub(super) fn lines(doc: &Doc) -> Vec<LineEcho> {
    doc.lines.iter().map(LineEcho::from).collect()
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct PaymentOut {
    note: String,
    payment_type: Option<String>,
    method: Option<String>,
    amount: Money,
    account_id: Option<i64>,
    paid_on: Option<String>,
}

impl From<&Payment> for PaymentOut {
    fn from(p: &Payment) -> Self {
        Self {
            note: p.note.clone().unwrap_or_default(),
            payment_type: p.payment_type.clone(),
            method: p.method.clone(),
            amount: p.amount,
            account_id: p.account_id,
            paid_on: p.paid_on.map(|d| d.to_string()),
        }
    }
}

pub(super) fn payments(doc: &Doc) -> Vec<PaymentOut> {
    doc.payments.iter().map(PaymentOut::from).collect()
}

/// A unit of a product: the base unit (`is_base_unit` 1, multiplier 1) or another.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct UnitOut {
    pub id: UnitId,
    pub name: Option<String>,
    pub is_base_unit: i32,
    /// The integer 1 for the base unit, the stored rate for the others.
    pub multiplier: Number,
    pub price: Money,
}

/// A line with its product filled in (details).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct RichLine {
    pub id: DocLineId,
    pub product_id: i64,
    pub variation_id: i64,
    pub product_name: String,
    pub product_code: Option<String>,
    pub sub_sku: Option<String>,
    pub product_image: Option<String>,
    pub product_purchase_price: Money,
    pub product_sell_price: Money,
    pub unit_id: Option<UnitId>,
    pub unit: Option<String>,
    pub quantity: f64,
    pub sell_line_note: String,
    pub line_discount_type: String,
    pub line_discount_amount: String,
    pub units: Vec<UnitOut>,
    pub item_tax: Money,
    pub unit_price: Money,
    pub sell_line_id: Option<DocLineId>,
}

impl RichLine {
    pub fn new(l: &DocLine, p: &crm_domain::sales::Product, units: Vec<UnitOut>) -> Self {
        let unit_id = l.unit_id.or(p.data.unit_id);
        let unit = units
            .iter()
            .find(|u| Some(u.id) == unit_id)
            .and_then(|u| u.name.clone());
        Self {
            id: l.id,
            product_id: l.product_seq,
            variation_id: l.product_seq,
            product_name: p.data.name.clone(),
            product_code: p.data.code.clone(),
            sub_sku: p
                .data
                .ext
                .as_ref()
                .and_then(|e| e.sku.clone())
                .or(p.data.code.clone()),
            product_image: p.data.image.clone(),
            product_purchase_price: p.data.import_price,
            product_sell_price: p.data.retail_price,
            unit_id,
            unit,
            quantity: l.quantity,
            sell_line_note: l.note.clone().unwrap_or_default(),
            line_discount_type: discount_type(&l.discount_type),
            line_discount_amount: money(l.discount_amount),
            units,
            item_tax: l.item_tax,
            unit_price: l.unit_price,
            sell_line_id: l.sell_line_id,
        }
    }
}

/// The customer of a document.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct PartyOut {
    pub id: i64,
    pub name: String,
    pub code: Option<String>,
    pub mobile: Option<String>,
    pub gender: Option<String>,
    pub birthday: Option<String>,
    pub address: Option<String>,
    pub account_address: String,
    pub account_no: String,
}

/// Who created a document: the doc's user object, filled with the creator's name.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct CreatedBy {
    id: (),
    name: Option<String>,
    firstname: (),
    lastname: Option<String>,
}

impl CreatedBy {
    pub fn of(doc: &Doc) -> Self {
        Self {
            id: (),
            name: doc.created_by_name.clone(),
            firstname: (),
            lastname: doc.created_by_name.clone(),
        }
    }
}

/// A created (or replaced) document, echoed in the request's shape.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct Echo {
    id: DocId,
    invoice_no: Option<String>,
    transaction_date: String,
    customer_id: Option<i64>,
    branch_id: PlaceId,
    store_id: PlaceId,
    discount_type: String,
    discount_amount: Money,
    total_before_tax: Money,
    tax_amount: Money,
    final_total: Money,
    shipping_status: Option<String>,
    approved_status: bool,
    payment_status: &'static str,
    additional_notes: String,
    staff_note: String,
    products: Vec<LineEcho>,
    payment: Vec<PaymentOut>,
    /// A return's sale and charges.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    returned: Option<ReturnEcho>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ReturnEcho {
    transaction_id: Option<DocId>,
    return_charges: Money,
}

pub(super) fn echo(doc: &Doc, customer: Option<i64>) -> Echo {
    Echo {
        id: doc.id,
        invoice_no: doc.invoice_no.clone(),
        transaction_date: doc.transaction_date.to_string(),
        customer_id: customer,
        branch_id: doc.branch_id,
        store_id: doc.store_id,
        discount_type: discount_type(&doc.discount_type),
        discount_amount: doc.discount_amount,
        total_before_tax: doc.total_before_tax,
        tax_amount: doc.tax_amount,
        final_total: doc.final_total,
        shipping_status: doc.shipping_status.clone(),
        approved_status: doc.approved,
        payment_status: doc.payment_status(),
        additional_notes: doc.additional_notes.clone().unwrap_or_default(),
        staff_note: doc.staff_note.clone().unwrap_or_default(),
        products: lines(doc),
        payment: payments(doc),
        returned: (doc.kind == DocKind::SellReturn).then_some(ReturnEcho {
            transaction_id: doc.return_of,
            return_charges: doc.charges,
        }),
    }
}

/// `{message, data}`: what creating a purchase order answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Message_{T}")]
pub(super) struct Message<T> {
    pub message: &'static str,
    pub data: T,
}

/// What every document answer starts with: its number, date and totals as 4-decimal strings.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct DocHead {
    id: DocId,
    transaction_date: String,
    invoice_no: Option<String>,
    discount_type: String,
    discount_amount: String,
    total_before_tax: String,
    tax_amount: String,
    final_total: String,
}

impl From<&Doc> for DocHead {
    fn from(doc: &Doc) -> Self {
        Self {
            id: doc.id,
            transaction_date: doc.transaction_date.to_string(),
            invoice_no: doc.invoice_no.clone(),
            discount_type: discount_type(&doc.discount_type),
            discount_amount: money(doc.discount_amount),
            total_before_tax: money(doc.total_before_tax),
            tax_amount: money(doc.tax_amount),
            final_total: money(doc.final_total),
        }
    }
}

/// A list row: the fields of every kind, then the kind's own.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct Row {
    #[serde(flatten)]
    head: DocHead,
    customer_id: Option<i64>,
    customer_code: Option<String>,
    customer_name: Option<String>,
    customer_mobile: Option<String>,
    customer_address: Option<String>,
    customer_description: Option<String>,
    payment_status: &'static str,
    shipping_status: Option<String>,
    additional_notes: Option<String>,
    staff_note: Option<String>,
    branch_name: Option<String>,
    total_items: usize,
    approved_status: &'static str,
    #[serde(flatten)]
    kind: RowKind,
}

/// What a row adds per kind (sales write `total_paid` as a number, the others as a string).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(super) enum RowKind {
    Purchase {
        added_by: CreatedBy,
        total_paid: String,
    },
    Sell {
        added_by: Option<String>,
        total_discount: String,
        total_surcharge: String,
        status: &'static str,
        purchase_invoice_no: &'static str,
        total_paid: Money,
    },
    Return {
        added_by: Option<String>,
        total_paid: String,
        amount_paid: String,
        sell_id: Option<DocId>,
        sell_invoice_no: Option<String>,
    },
}

impl RowKind {
    /// `sale_invoice`: for a return, the invoice number of the sale it gives back.
    pub fn of(doc: &Doc, sale_invoice: Option<String>) -> Self {
        match doc.kind {
            DocKind::Purchase => Self::Purchase {
                added_by: CreatedBy::of(doc),
                total_paid: money(doc.paid()),
            },
            DocKind::Sell => Self::Sell {
                added_by: doc.created_by_name.clone(),
                total_discount: money(doc.discount_amount),
                total_surcharge: money(doc.charges),
                status: "final",
                purchase_invoice_no: "",
                total_paid: doc.paid(),
            },
            _ => Self::Return {
                added_by: doc.created_by_name.clone(),
                total_paid: money(doc.paid()),
                amount_paid: money(doc.paid()),
                sell_id: doc.return_of,
                sell_invoice_no: sale_invoice,
            },
        }
    }
}

pub(super) fn row(
    doc: &Doc,
    c: Option<&crm_domain::customer::Customer>,
    branch_name: Option<String>,
    kind: RowKind,
) -> Row {
    Row {
        head: doc.into(),
        customer_id: c.map(|c| c.seq),
        customer_code: c.and_then(|c| c.data.code.clone()),
        customer_name: c.map(|c| c.data.name.clone()),
        customer_mobile: c.and_then(|c| c.data.phone.as_ref().map(|p| p.as_str().to_owned())),
        customer_address: c.and_then(|c| c.data.address.clone()),
        customer_description: c.and_then(|c| c.data.note.clone()),
        payment_status: doc.payment_status(),
        shipping_status: doc.shipping_status.clone(),
        additional_notes: doc.additional_notes.clone(),
        staff_note: doc.staff_note.clone(),
        branch_name,
        total_items: doc.lines.len(),
        approved_status: approved_flag(doc),
        kind,
    }
}

/// A purchase order by its code.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct PurchaseDetail {
    #[serde(flatten)]
    head: DocHead,
    shipping_status: Option<String>,
    approved_status: &'static str,
    additional_notes: Option<String>,
    staff_note: Option<String>,
    payment_status: &'static str,
    total_paid: String,
    customer_id: Option<i64>,
    customer: Option<PartyOut>,
    created_by: CreatedBy,
    branch: Option<PlaceOut>,
    branch_id: PlaceId,
    store_id: PlaceId,
    products: Vec<RichLine>,
}

pub(super) fn purchase_detail(
    doc: &Doc,
    customer: Option<PartyOut>,
    branch: Option<PlaceOut>,
    products: Vec<RichLine>,
) -> PurchaseDetail {
    PurchaseDetail {
        head: doc.into(),
        shipping_status: doc.shipping_status.clone(),
        approved_status: approved_flag(doc),
        additional_notes: doc.additional_notes.clone(),
        staff_note: doc.staff_note.clone(),
        payment_status: doc.payment_status(),
        total_paid: money(doc.paid()),
        customer_id: customer.as_ref().map(|c| c.id),
        customer,
        created_by: CreatedBy::of(doc),
        branch,
        branch_id: doc.branch_id,
        store_id: doc.store_id,
        products,
    }
}

/// A created sale: its number, total and lines.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct NewSale {
    id: DocId,
    invoice_no: Option<String>,
    final_total: Money,
    payment_status: &'static str,
    sell_lines: Vec<NewSaleLine>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct NewSaleLine {
    id: DocLineId,
    product_id: i64,
    quantity: f64,
    unit_id: Option<UnitId>,
}

impl From<&Doc> for NewSale {
    fn from(doc: &Doc) -> Self {
        Self {
            id: doc.id,
            invoice_no: doc.invoice_no.clone(),
            final_total: doc.final_total,
            payment_status: doc.payment_status(),
            sell_lines: doc
                .lines
                .iter()
                .map(|l| NewSaleLine {
                    id: l.id,
                    product_id: l.product_seq,
                    quantity: l.quantity,
                    unit_id: l.unit_id,
                })
                .collect(),
        }
    }
}

/// A sale by its id.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct SaleDetail {
    #[serde(flatten)]
    head: DocHead,
    staff_note: Option<String>,
    additional_notes: Option<String>,
    store_id: PlaceId,
    price_book_id: (),
    branch_id: PlaceId,
    shipping_charges: String,
    shipping_status: Option<String>,
    customer_id: Option<i64>,
    payment_status: &'static str,
    total_paid: Money,
    payment: Vec<PaymentOut>,
    products: Vec<LineEcho>,
    tax: (),
}

pub(super) fn sale_detail(doc: &Doc, customer: Option<i64>) -> SaleDetail {
    SaleDetail {
        head: doc.into(),
        staff_note: doc.staff_note.clone(),
        additional_notes: doc.additional_notes.clone(),
        store_id: doc.store_id,
        price_book_id: (),
        branch_id: doc.branch_id,
        shipping_charges: money(doc.charges),
        shipping_status: doc.shipping_status.clone(),
        customer_id: customer,
        payment_status: doc.payment_status(),
        total_paid: doc.paid(),
        payment: payments(doc),
        products: lines(doc),
        tax: (),
    }
}

/// A sales return by its id.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct ReturnDetail {
    #[serde(flatten)]
    head: DocHead,
    return_parent_id: Option<DocId>,
    staff_note: Option<String>,
    payment_status: &'static str,
    customer_id: Option<i64>,
    price_book_id: (),
    branch_id: PlaceId,
    store_id: PlaceId,
    return_charges: String,
    additional_notes: Option<String>,
    total_paid: String,
    location: Option<PlaceOut>,
    customer: Option<PartyOut>,
    created_by: CreatedBy,
    payment_lines: Vec<PaymentLine>,
    store: Option<PlaceOut>,
    sell_lines: Vec<RichLine>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct PaymentLine {
    id: usize,
    amount: Money,
    method: Option<String>,
    transaction_no: &'static str,
    paid_on: Option<String>,
    note: String,
}

/// Where a return's goods went back: its branch (`location`) and store.
pub(super) struct Places {
    pub location: Option<PlaceOut>,
    pub store: Option<PlaceOut>,
}

pub(super) fn return_detail(
    doc: &Doc,
    customer: Option<PartyOut>,
    places: Places,
    sell_lines: Vec<RichLine>,
) -> ReturnDetail {
    ReturnDetail {
        head: doc.into(),
        return_parent_id: doc.return_of,
        staff_note: doc.staff_note.clone(),
        payment_status: doc.payment_status(),
        customer_id: customer.as_ref().map(|c| c.id),
        price_book_id: (),
        branch_id: doc.branch_id,
        store_id: doc.store_id,
        return_charges: money(doc.charges),
        additional_notes: doc.additional_notes.clone(),
        total_paid: money(doc.paid()),
        location: places.location,
        customer,
        created_by: CreatedBy::of(doc),
        payment_lines: doc
            .payments
            .iter()
            .enumerate()
            .map(|(i, p)| PaymentLine {
                id: i + 1,
                amount: p.amount,
                method: p.method.clone(),
                transaction_no: "",
                paid_on: p.paid_on.map(|d| d.to_string()),
                note: p.note.clone().unwrap_or_default(),
            })
            .collect(),
        store: places.store,
        sell_lines,
    }
}
