//! CRMTOP `product/crm/*` and `order/crm/*` (seed 000, lines 2235-2899).

use axum::extract::{Path, RawQuery, State};
use axum::Router;
use crm_domain::ids::{OrderId, ProductId};
use crm_domain::money::Money;
use crm_domain::sales::{
    Order, OrderData, OrderInput, OrderLine, Product, ProductData, ProductUnit,
};
use crm_domain::search::{Field, Filter, Value as FilterValue};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::envelope::{
    local_time, opt_time, parse_time, path_id, AuditDto, Body, Caller, CrmtopError, Data, Envelope,
};
use super::resource::{
    date_range, int_filter, ref_filter, routes, PageQuery, Resource, Routes, WithAudit,
};
use crate::body::{guid, lenient_int, lenient_money, lenient_num};
use crate::printout::{self, Format, Paper};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    use crate::openapi::{one_of, Api, Op};
    use axum::routing::MethodFilter as M;
    let products = routes::<Product>(spec, "product/crm", Routes { get: true });
    let orders = routes::<Order>(spec, "order/crm", Routes { get: true });
    Api::new(spec)
        .route::<UnitIn, Envelope<crm_domain::ids::UnitId>, _, _>(
            M::POST,
            "/api/v1/product/crm/unit/create",
            Op::bearer(Product::TAG, "Create a unit"),
            unit_create,
        )
        .route::<MultiUnitIn, Envelope<bool>, _, _>(
            M::POST,
            "/api/v1/product/crm/multi-unit/save",
            Op::bearer(Product::TAG, "Save a product's units and their rates"),
            multi_unit_save,
        )
        .route::<(), Envelope<Vec<ProductUnitDto>>, _, _>(
            M::GET,
            "/api/v1/product/crm/multi-unit/{productId}",
            Op::bearer(Product::TAG, "A product's units"),
            multi_unit_list,
        )
        .route::<ApproveIn, Envelope<bool>, _, _>(
            M::POST,
            "/api/v1/order/crm/approve",
            Op::bearer(Order::TAG, "Approve or reject an order"),
            approve,
        )
        .route::<PrintIn, Envelope<String>, _, _>(
            M::POST,
            "/api/v1/order/crm/print-8cm",
            Op::bearer(
                Order::TAG,
                "The orders as 80 mm receipts: HTML in `data`, or with format=pdf the PDF itself",
            )
            .query(&[one_of("format", &["html", "pdf"])])
            .or_pdf()
            .reads(),
            print_8cm,
        )
        .route::<PrintIn, Envelope<String>, _, _>(
            M::POST,
            "/api/v1/order/crm/print-a4",
            Op::bearer(
                Order::TAG,
                "The orders as A4 invoices: HTML in `data`, or with format=pdf the PDF itself",
            )
            .query(&[one_of("format", &["html", "pdf"])])
            .or_pdf()
            .reads(),
            print_a4,
        )
        .merge(products)
        .merge(orders)
        .router
}

/// `SaveProductRequest`, both ways. `unitName` is the unit's name.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProductDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    group_id: Option<i64>,
    #[serde(default)]
    group_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<crm_domain::ids::UnitId>,
    #[serde(default)]
    unit_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_money")]
    import_price: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    retail_price: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    wholesale_price: Option<Money>,
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    image: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct ProductSearch {
    #[serde(flatten)]
    page: PageQuery,
}

impl Resource for Product {
    const TAG: &'static str = "Product";
    type In = ProductDto;
    type Out = ProductDto;
    type Query = ProductSearch;
    /// `PagingProductDto`.
    type Item = WithAudit<ProductDto>;

    fn id(b: &ProductDto) -> Option<Uuid> {
        b.id
    }
    fn input(b: ProductDto, _: &Actor) -> Result<ProductData, CrmtopError> {
        Ok(ProductData {
            code: b.code,
            name: b.name.unwrap_or_default(),
            group_id: b.group_id,
            group_name: b.group_name,
            unit_id: b.unit_id,
            unit_name: None,
            import_price: b.import_price.unwrap_or_default(),
            retail_price: b.retail_price.unwrap_or_default(),
            wholesale_price: b.wholesale_price.unwrap_or_default(),
            config: b.config,
            note: b.note,
            image: b.image,
            // NextX's attributes are kept.
            ext: None,
        })
    }
    fn out(p: &Self, _: &Actor) -> ProductDto {
        let d = &p.data;
        ProductDto {
            id: Some(p.id.0),
            code: d.code.clone(),
            name: Some(d.name.clone()),
            group_id: d.group_id,
            group_name: d.group_name.clone(),
            unit_id: d.unit_id,
            unit_name: d.unit_name.clone(),
            import_price: Some(d.import_price),
            retail_price: Some(d.retail_price),
            wholesale_price: Some(d.wholesale_price),
            config: d.config.clone(),
            note: d.note.clone(),
            image: d.image.clone(),
        }
    }
    fn page(q: &ProductSearch) -> &PageQuery {
        &q.page
    }
    fn filter(_: &ProductSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all())
    }
    fn item(p: Self, actor: &Actor) -> Self::Item {
        WithAudit {
            record: Self::out(&p, actor),
            audit: AuditDto::new(&p.audit, actor.time_zone),
        }
    }
}

/// `SaveUnitRequest`: id 0 creates, another id renames that unit.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UnitIn {
    #[serde(default, deserialize_with = "lenient_int")]
    id: Option<crm_domain::ids::UnitId>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

async fn unit_create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<UnitIn>,
) -> Result<Data<crm_domain::ids::UnitId>, CrmtopError> {
    Ok(Data(s.crm.save_unit(&actor, b.id, b.name, b.note).await?))
}

/// One product unit, both ways. `entityState` is EF Core's: `Deleted` (or 2) removes the
/// row; anything else keeps it.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ProductUnitDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    product_id: Option<Uuid>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<crm_domain::ids::UnitId>,
    #[serde(default)]
    unit_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    unit_rate: Option<f64>,
    #[serde(default, deserialize_with = "lenient_money")]
    import_price: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    retail_price: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    wholesale_price: Option<Money>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    entity_state: Option<Value>,
}

/// `SaveProductMuiltiUnitRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct MultiUnitIn {
    #[serde(default)]
    units: Vec<ProductUnitDto>,
}

fn deleted(state: &Option<Value>) -> bool {
    match state {
        Some(Value::Number(n)) => n.as_i64() == Some(2),
        Some(Value::String(s)) => s.eq_ignore_ascii_case("deleted") || s.trim() == "2",
        _ => false,
    }
}

async fn multi_unit_save(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<MultiUnitIn>,
) -> Result<Data<bool>, CrmtopError> {
    let mut items = Vec::with_capacity(b.units.len());
    for (i, u) in b.units.into_iter().enumerate() {
        let product = u
            .product_id
            .ok_or_else(|| CrmtopError::field("units", format!("[{i}].productId is required")))?;
        let keep = !deleted(&u.entity_state);
        items.push((
            ProductUnit {
                id: u.id.unwrap_or(Uuid::nil()),
                product_id: ProductId(product),
                unit_id: u.unit_id.unwrap_or_default(),
                unit_name: None,
                rate: u.unit_rate.unwrap_or(0.0),
                import_price: u.import_price.unwrap_or_default(),
                retail_price: u.retail_price.unwrap_or_default(),
                wholesale_price: u.wholesale_price.unwrap_or_default(),
                note: u.note,
            },
            keep,
        ));
    }
    s.crm.save_product_units(&actor, items).await?;
    Ok(Data(true))
}

async fn multi_unit_list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(product): Path<String>,
) -> Result<Data<Vec<ProductUnitDto>>, CrmtopError> {
    let units = s
        .crm
        .product_units(&actor, ProductId(path_id(&product)?))
        .await?;
    Ok(Data(
        units
            .into_iter()
            .map(|u| ProductUnitDto {
                id: Some(u.id),
                product_id: Some(u.product_id.0),
                unit_id: Some(u.unit_id),
                unit_name: u.unit_name,
                unit_rate: Some(u.rate),
                import_price: Some(u.import_price),
                retail_price: Some(u.retail_price),
                wholesale_price: Some(u.wholesale_price),
                note: u.note,
                entity_state: None,
            })
            .collect(),
    ))
}

/// One order line inside `products` (a JSON array, sent as a string as documented, or as
/// the array itself).
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct LineDto {
    #[serde(default, deserialize_with = "guid")]
    product_id: Option<Uuid>,
    #[serde(default, skip_deserializing)]
    product_code: Option<String>,
    #[serde(default, skip_deserializing)]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<crm_domain::ids::UnitId>,
    #[serde(default, skip_deserializing)]
    unit_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    quantity: Option<f64>,
    #[serde(default, deserialize_with = "lenient_money")]
    price: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    discount: Option<Money>,
    #[serde(default, deserialize_with = "lenient_num")]
    tax_rate: Option<f64>,
    #[serde(default, skip_deserializing)]
    amount: Option<Money>,
    #[serde(default, skip_deserializing)]
    tax: Option<Money>,
}

/// `SaveOrderRequest`, both ways.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrderDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default)]
    customer_name: Option<String>,
    #[serde(default)]
    order_date: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_money")]
    total_amount: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    tax_amount: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    discount_amount: Option<Money>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    /// Read-only: set by `approve`.
    #[serde(default)]
    approved: Option<bool>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    receiver_name: Option<String>,
    #[serde(default)]
    receiver_phone: Option<String>,
    #[serde(default)]
    receiver_email: Option<String>,
    #[serde(default)]
    receiver_address: Option<String>,
    #[serde(default)]
    products: Option<Value>,
}

/// `PagingOrderDto`: the order, its approval and audit fields.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrderItem {
    #[serde(flatten)]
    record: OrderDto,
    approved_on: Option<String>,
    approved_by: Option<Uuid>,
    approved_by_name: Option<String>,
    approval_note: Option<String>,
    #[serde(flatten)]
    audit: AuditDto,
}

/// `PagingOrderRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrderSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    approved: Option<bool>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default)]
    field_date: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

fn parse_lines(raw: Option<Value>) -> Result<Vec<OrderLine>, CrmtopError> {
    let value = match raw {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Vec::new()),
        Some(Value::String(s)) => serde_json::from_str::<Value>(&s).map_err(|e| {
            CrmtopError::field("products", format!("must be a JSON array of lines: {e}"))
        })?,
        Some(v) => v,
    };
    let Value::Array(items) = value else {
        return Err(CrmtopError::field(
            "products",
            "must be a JSON array of lines",
        ));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let bytes = axum::body::Bytes::from(item.to_string());
            let line: LineDto = crate::body::parse_ci(&bytes)
                .map_err(|e| CrmtopError::field("products", format!("[{i}] {}", e.message)))?;
            let product_id = line.product_id.ok_or_else(|| {
                CrmtopError::field("products", format!("[{i}].productId is required"))
            })?;
            Ok(OrderLine {
                product_id,
                unit_id: line.unit_id,
                quantity: line.quantity.unwrap_or(0.0),
                price: line.price,
                discount: line.discount.unwrap_or_default(),
                tax_rate: line.tax_rate.unwrap_or(0.0),
                ..OrderLine::default()
            })
        })
        .collect()
}

fn lines_json(lines: &[OrderLine]) -> String {
    let dtos: Vec<LineDto> = lines
        .iter()
        .map(|l| LineDto {
            product_id: Some(l.product_id),
            product_code: l.product_code.clone(),
            product_name: l.product_name.clone(),
            unit_id: l.unit_id,
            unit_name: l.unit_name.clone(),
            quantity: Some(l.quantity),
            price: l.price,
            discount: Some(l.discount),
            tax_rate: Some(l.tax_rate),
            amount: Some(l.amount),
            tax: Some(l.tax),
        })
        .collect();
    serde_json::to_string(&dtos).unwrap_or_else(|_| "[]".to_owned())
}

impl Resource for Order {
    const TAG: &'static str = "Order";
    type In = OrderDto;
    type Out = OrderDto;
    type Query = OrderSearch;
    type Item = OrderItem;

    fn id(b: &OrderDto) -> Option<Uuid> {
        b.id
    }
    fn input(b: OrderDto, actor: &Actor) -> Result<OrderInput, CrmtopError> {
        let tz = actor.time_zone;
        Ok(OrderInput {
            data: OrderData {
                code: b.code,
                customer_id: b.customer_id.map(Into::into),
                order_date: parse_time("orderDate", b.order_date.as_deref(), tz)?,
                due_date: parse_time("dueDate", b.due_date.as_deref(), tz)?,
                total_amount: b.total_amount.unwrap_or_default(),
                tax_amount: b.tax_amount.unwrap_or_default(),
                discount_amount: b.discount_amount.unwrap_or_default(),
                status: b.status.unwrap_or(0),
                note: b.note,
                receiver_name: b.receiver_name,
                receiver_address: b.receiver_address,
                lines: parse_lines(b.products)?,
                ..OrderData::default()
            },
            receiver_phone: b.receiver_phone,
            receiver_email: b.receiver_email,
        })
    }
    fn out(o: &Self, actor: &Actor) -> OrderDto {
        let tz = actor.time_zone;
        let d = &o.data;
        OrderDto {
            id: Some(o.id.0),
            code: d.code.clone(),
            customer_id: d.customer_id.map(|c| c.0),
            customer_name: d.customer_name.clone(),
            order_date: opt_time(d.order_date, tz),
            due_date: opt_time(d.due_date, tz),
            total_amount: Some(d.total_amount),
            tax_amount: Some(d.tax_amount),
            discount_amount: Some(d.discount_amount),
            status: Some(d.status),
            approved: Some(d.approval.as_ref().is_some_and(|a| a.approved)),
            note: d.note.clone(),
            receiver_name: d.receiver_name.clone(),
            receiver_phone: d.receiver_phone.as_ref().map(|p| p.as_str().to_owned()),
            receiver_email: d.receiver_email.as_ref().map(|e| e.as_str().to_owned()),
            receiver_address: d.receiver_address.clone(),
            products: Some(Value::String(lines_json(&d.lines))),
        }
    }
    fn page(q: &OrderSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &OrderSearch, actor: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(q.approved.map(|a| Filter::Eq {
                field: Field::Approved,
                value: FilterValue::Bool(a),
            }))
            .and(int_filter(Field::Status, q.status))
            .and(ref_filter(Field::Customer, q.customer_id))
            .and(date_range(
                &q.field_date,
                &q.from,
                &q.to,
                &[
                    ("orderDate", Field::OrderDate),
                    ("dueDate", Field::DueDate),
                    ("createdOn", Field::CreatedAt),
                    ("updatedOn", Field::UpdatedAt),
                ],
                Field::OrderDate,
                actor,
            )?))
    }
    fn item(o: Self, actor: &Actor) -> OrderItem {
        let a = o.data.approval.as_ref();
        OrderItem {
            approved_on: a.map(|a| local_time(a.at, actor.time_zone)),
            approved_by: a.and_then(|a| a.by),
            approved_by_name: a.and_then(|a| a.by_name.clone()),
            approval_note: a.and_then(|a| a.note.clone()),
            record: Self::out(&o, actor),
            audit: AuditDto::new(&o.audit, actor.time_zone),
        }
    }
}

/// `ApproveOrderRequest`: `approve: false` rejects. Either decision is taken once.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ApproveIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    approve: Option<bool>,
    #[serde(default)]
    note: Option<String>,
}

async fn approve(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<ApproveIn>,
) -> Result<Data<bool>, CrmtopError> {
    let id =
        b.id.ok_or_else(|| CrmtopError::field("id", "is required"))?;
    let approve = b.approve.ok_or_else(|| {
        CrmtopError::field("approve", "is required (true approves, false rejects)")
    })?;
    s.crm
        .approve_order(&actor, OrderId(id), approve, b.note)
        .await?;
    Ok(Data(true))
}

/// `CrmPrint8cmOrderRequest` / `CrmPrintA4OrderRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct PrintIn {
    #[serde(default)]
    ids: Vec<String>,
}

/// Most orders one printout may hold.
const MAX_PRINT: usize = 200;

/// `?format=pdf` (ours): the PDF itself instead of the HTML in the envelope.
#[derive(Debug, Default, Deserialize)]
struct PrintQuery {
    format: Option<String>,
}

/// The printout: `data` holds the HTML (CRMTOP's answer), or with `format=pdf` the answer is
/// the PDF itself.
pub enum Printed {
    Html(Data<String>),
    Pdf(Vec<u8>),
}

impl axum::response::IntoResponse for Printed {
    fn into_response(self) -> axum::response::Response {
        match self {
            Printed::Html(d) => d.into_response(),
            Printed::Pdf(bytes) => printout::pdf_response(bytes, "hoa-don.pdf"),
        }
    }
}

async fn print(
    s: &AppState,
    actor: &Actor,
    query: Option<String>,
    b: PrintIn,
    paper: Paper,
) -> Result<Printed, CrmtopError> {
    let q: PrintQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| CrmtopError::field("format", e.to_string()))?;
    let format = match q.format.as_deref() {
        None => Format::Html,
        Some(f) => {
            Format::parse(f).ok_or_else(|| CrmtopError::field("format", "must be html or pdf"))?
        }
    };
    if b.ids.is_empty() {
        return Err(CrmtopError::field("ids", "must name at least one order"));
    }
    if b.ids.len() > MAX_PRINT {
        return Err(CrmtopError::field(
            "ids",
            format!("at most {MAX_PRINT} orders per printout"),
        ));
    }
    let mut ids = Vec::with_capacity(b.ids.len());
    for (i, raw) in b.ids.iter().enumerate() {
        let id = raw
            .trim()
            .parse::<Uuid>()
            .map_err(|_| CrmtopError::field("ids", format!("[{i}] '{raw}' is not a GUID")))?;
        ids.push(OrderId(id));
    }
    let printouts = s.crm.order_printouts(actor, &ids).await?;
    let seller = s.crm.seller(actor).await?;
    Ok(match format {
        Format::Html => Printed::Html(Data(printout::html::render(&seller, &printouts, paper))),
        Format::Pdf => Printed::Pdf(printout::render_pdf(seller, printouts, paper).await?),
    })
}

async fn print_8cm(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(query): RawQuery,
    Body(b): Body<PrintIn>,
) -> Result<Printed, CrmtopError> {
    print(&s, &actor, query, b, Paper::Receipt80mm).await
}

async fn print_a4(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(query): RawQuery,
    Body(b): Body<PrintIn>,
) -> Result<Printed, CrmtopError> {
    print(&s, &actor, query, b, Paper::A4).await
}
