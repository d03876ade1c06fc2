//! NextX's shop API on `open-api.nextx.vn` (seed 003): branches and stores, product
//! categories, products with units and stock, customers and suppliers, purchase orders,
//! sales and sales returns. Integer ids throughout; list and detail answers are the bare
//! payloads the doc shows. Decisions: `docs/dialects/nextx.md`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::NaiveDate;
use crm_domain::customer::{Channel, Customer, CustomerData, CustomerExt, CustomerInput, Party};
use crm_domain::inventory::{
    Category, Doc, DocFilter, DocKind, DocLine, Payment, Place, ProductExt,
};
use crm_domain::sales::{Product, ProductData, ProductUnit};
use crm_domain::search::{Field, Filter, PageRequest};
use crm_domain::stock::new_doc;
use crm_domain::text::{Email, Phone};
use crm_domain::{Actor, DomainError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::{lenient_int, lenient_num, parse_ci, BodyError};
use crate::{bearer, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/branch/branch", get(branches).post(branch_add))
        .route("/api/branch/store", get(stores).post(store_add))
        .route("/api/cate/category-list/{kind}", get(categories))
        .route("/api/cate/category", post(category_add))
        .route(
            "/api/cate/category/{id}",
            get(category_get).put(category_put),
        )
        .route("/api/product/product", get(products).post(product_add))
        .route("/api/product/product/{id}", put(product_put))
        .route("/api/product/product-detail", get(product_detail))
        .route("/api/customer/customer", get(customers).post(customer_add))
        .route(
            "/api/customer/customer/{id}",
            get(customer_get).put(customer_put),
        )
        .route("/api/purchase/purchase", get(purchases).post(purchase_add))
        .route(
            "/api/purchase/purchase-by-code/{code}",
            get(purchase_by_code),
        )
        .route("/api/purchase/update-shipping/{id}", put(purchase_shipping))
        .route("/api/sell/sell", get(sells).post(sell_add))
        .route("/api/sell/sell/{id}", get(sell_get))
        .route(
            "/api/sell-return/sell-return",
            get(returns).post(return_add),
        )
        .route(
            "/api/sell-return/sell-return/{id}",
            get(return_get).put(return_put),
        )
        // The doc's request line and every sample spell it without the "s".
        .route("/api/ell-return/ell-return/{id}", get(return_get))
}

/// A failure in the doc's `{meta: {message, status_code}, data: []}` shape; `status_code`
/// is the HTTP status.
#[derive(Debug)]
pub(super) struct NxError {
    status: StatusCode,
    message: String,
    /// The flat `{status_code, message}` shape (the doc's 401s of the CRM host, sales and
    /// returns, common) instead of `{meta, data}`.
    flat: bool,
}

pub(super) fn fail(status: StatusCode, message: impl Into<String>) -> NxError {
    NxError {
        status,
        message: message.into(),
        flat: false,
    }
}

pub(super) fn bad(field: &str, message: impl Into<String>) -> NxError {
    fail(
        StatusCode::BAD_REQUEST,
        format!("{field}: {}", message.into()),
    )
}

impl NxError {
    /// In the flat `{status_code, message}` shape.
    pub(super) fn flat(mut self) -> Self {
        self.flat = true;
        self
    }
}

impl IntoResponse for NxError {
    fn into_response(self) -> Response {
        let body = if self.flat {
            json!({"status_code": self.status.as_u16(), "message": self.message})
        } else {
            json!({"meta": {"message": self.message, "status_code": self.status.as_u16()}, "data": []})
        };
        (self.status, Json(body)).into_response()
    }
}

fn snake(field: &str) -> String {
    match field {
        "name" => "name".to_owned(),
        "phone" => "mobile".to_owned(),
        "tax_code" => "tax_number".to_owned(),
        "retail_price" => "sell_price".to_owned(),
        "import_price" => "purchase_price".to_owned(),
        "charges" => "surcharges".to_owned(),
        other => other.to_owned(),
    }
}

impl From<DomainError> for NxError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound { entity } => {
                fail(StatusCode::NOT_FOUND, format!("{entity} not found"))
            }
            DomainError::Validation { field, message } => bad(&snake(&field), message),
            DomainError::Conflict { message, .. } | DomainError::InUse { message, .. } => {
                fail(StatusCode::CONFLICT, message)
            }
            DomainError::Unauthorized => fail(StatusCode::UNAUTHORIZED, "Token expired"),
            DomainError::Throttled { busy, message, .. } => {
                fail(crate::guard::throttle_status(busy), message)
            }
            DomainError::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                fail(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
            }
        }
    }
}

impl From<BodyError> for NxError {
    fn from(e: BodyError) -> Self {
        fail(e.status, e.message)
    }
}

pub(super) struct Caller(pub(super) Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = NxError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The doc writes its 401s flat for these groups, with `meta` for the others.
        let flat = [
            "/api/automation",
            "/api/crm",
            "/api/sms",
            "/api/email",
            "/api/task",
            "/api/sell-return",
            "/api/ell-return",
            "/api/common",
        ]
        .iter()
        .any(|p| parts.uri.path().starts_with(p))
            || (parts.uri.path() == "/api/sell/sell" && parts.method == axum::http::Method::POST);
        let unauthorized = || NxError {
            status: StatusCode::UNAUTHORIZED,
            message: "Token expired".to_owned(),
            flat,
        };
        let token = bearer(parts).ok_or_else(unauthorized)?;
        match state.auth.authenticate(token).await {
            Ok(actor) => Ok(Caller(actor)),
            Err(DomainError::Unauthorized) => Err(unauthorized()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Query parameters, with Laravel's repeated `key[]` and `search[key]` forms.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    pub(super) fn parse(raw: Option<String>) -> Result<Self, NxError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).map_err(|e| {
                fail(
                    StatusCode::BAD_REQUEST,
                    format!("malformed query string: {e}"),
                )
            })?;
        Ok(Self(pairs))
    }
    pub(super) fn get_owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }
    fn get(&self, name: &str) -> Option<&str> {
        let bracketed = format!("search[{name}]");
        self.0
            .iter()
            .find(|(k, _)| k == name || *k == bracketed)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
    fn all(&self, name: &str) -> Vec<String> {
        let arr = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == arr || k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
    pub(super) fn int(&self, name: &str) -> Result<Option<i64>, NxError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| bad(name, format!("'{v}' is not an integer")))
            })
            .transpose()
    }
    pub(super) fn date(&self, name: &str) -> Result<Option<NaiveDate>, NxError> {
        self.get(name)
            .map(|v| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| bad(name, format!("'{v}' is not a Y-m-d date")))
            })
            .transpose()
    }
    /// `page` from 0 (default 0), `pageLimit` default 15, at most 100.
    pub(super) fn page(&self) -> Result<PageRequest, NxError> {
        let page = self.int("page")?.unwrap_or(0);
        if page < 0 {
            return Err(bad("page", "starts from 0"));
        }
        self.sized(page + 1)
    }
    /// The CRM host's paging: `page` from 1 (its examples use `page=1`; 0 reads as 1).
    pub(super) fn crm_page(&self) -> Result<PageRequest, NxError> {
        self.sized(self.int("page")?.unwrap_or(1).max(1))
    }
    /// Page `number` (1-based) of `pageLimit` items: 15 by default, 1-100.
    fn sized(&self, number: i64) -> Result<PageRequest, NxError> {
        let limit = self.int("pageLimit")?.unwrap_or(15);
        if !(1..=100).contains(&limit) {
            return Err(bad("pageLimit", "must be between 1 and 100"));
        }
        let number = u32::try_from(number).map_err(|_| bad("page", "is too large"))?;
        Ok(PageRequest::new(number, limit as u32)?)
    }
    /// The creation time between the whole days `from` and `to` (`Y-m-d`, the tenant's zone);
    /// the first present of `to` names is read (the lead and customer tables call it `units`).
    pub(super) fn created(
        &self,
        actor: &Actor,
        from: &str,
        to: &[&str],
    ) -> Result<Option<Filter>, NxError> {
        let f = self.date(from)?;
        let mut t = None;
        for name in to {
            t = t.or(self.date(name)?);
        }
        if f.is_none() && t.is_none() {
            return Ok(None);
        }
        Ok(Some(Filter::Range {
            field: Field::CreatedAt,
            from: local_midnight(actor, f),
            to: local_midnight(actor, t)
                .map(|t| t + chrono::Duration::days(1) - chrono::Duration::microseconds(1)),
        }))
    }
    pub(super) fn search(&self) -> Option<String> {
        ["strSearch", "sttsearch", "strSreach"]
            .iter()
            .find_map(|k| self.get(k))
            .map(str::to_owned)
    }
}

/// Midnight of a date in the tenant's zone.
pub(super) fn local_midnight(
    actor: &Actor,
    d: Option<NaiveDate>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    d.and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| actor.time_zone.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&chrono::Utc))
}

pub(super) fn id_of(raw: &str, what: &str) -> Result<i64, NxError> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| bad("id", format!("'{raw}' is not the integer id of a {what}")))
}

pub(super) fn money(v: f64) -> String {
    format!("{v:.4}")
}

fn ok_flat(message: &str) -> Json<Value> {
    Json(json!({"status_code": 0, "message": message}))
}

// ---- branches and stores ----

pub(super) fn place_json(p: &Place) -> Value {
    json!({"id": p.id, "name": p.name, "code": p.code, "tel": p.tel, "fax": p.fax, "avatar": p.avatar, "address": p.address, "description": p.description})
}

async fn branches(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, NxError> {
    let list = s.crm.inventory.places(actor.tenant_id, false, None).await?;
    Ok(Json(Value::Array(list.iter().map(place_json).collect())))
}

async fn stores(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    let p = Params::parse(q)?;
    let list = s
        .crm
        .inventory
        .places(actor.tenant_id, true, p.int("branch_id")?)
        .await?;
    Ok(Json(Value::Array(
        list.iter()
            .map(|st| {
                let mut v = place_json(st);
                v["branch_id"] = json!(st.branch_id);
                v
            })
            .collect(),
    )))
}

#[derive(Debug, Default, Deserialize)]
struct PlaceIn {
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<i64>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tel: Option<String>,
    #[serde(default)]
    fax: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

impl PlaceIn {
    fn place(self) -> Place {
        Place {
            id: 0,
            branch_id: self.branch_id,
            code: self.code.unwrap_or_default(),
            name: self.name.unwrap_or_default(),
            tel: self.tel,
            fax: self.fax,
            avatar: self.avatar,
            address: self.address,
            description: self.description,
        }
    }
}

/// Ours: the doc only reads branches and stores.
async fn branch_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let p: PlaceIn = parse_ci(&body)?;
    let id = s.crm.create_place(&actor, false, p.place()).await?;
    Ok(Json(
        json!({"status_code": 0, "message": "Branch created successfully", "data": {"id": id}}),
    ))
}

async fn store_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let p: PlaceIn = parse_ci(&body)?;
    let id = s.crm.create_place(&actor, true, p.place()).await?;
    Ok(Json(
        json!({"status_code": 0, "message": "Store created successfully", "data": {"id": id}}),
    ))
}

// ---- categories ----

fn category_json(c: &Category, all: &[Category], key: &str) -> Value {
    let children: Vec<Value> = all
        .iter()
        .filter(|x| x.parent_id == c.id)
        .map(|x| json!({"id": x.id, "name": x.name, "parent_id": x.parent_id, "picture": x.picture, "description": x.description}))
        .collect();
    let mut v = json!({"id": c.id, "name": c.name, "parent_id": c.parent_id, "picture": c.picture, "description": c.description});
    v[key] = Value::Array(children);
    v
}

async fn categories(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(kind): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    if kind != "product_category" {
        return Err(fail(
            StatusCode::NOT_FOUND,
            format!("category type '{kind}' is not served (only product_category)"),
        ));
    }
    let p = Params::parse(q)?;
    let parent = p.int("parent_id")?.unwrap_or(0);
    let all = s.crm.inventory.categories(actor.tenant_id).await?;
    Ok(Json(Value::Array(
        all.iter()
            .filter(|c| c.parent_id == parent)
            .map(|c| category_json(c, &all, "child"))
            .collect(),
    )))
}

#[derive(Debug, Default, Deserialize)]
struct CategoryIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    parent_id: Option<i64>,
    #[serde(default)]
    picture: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    category_type: Option<String>,
}

async fn check_parent(s: &AppState, actor: &Actor, parent: i64, me: i64) -> Result<(), NxError> {
    if parent == 0 {
        return Ok(());
    }
    if parent == me {
        return Err(bad("parent_id", "a category cannot be its own parent"));
    }
    let all = s.crm.inventory.categories(actor.tenant_id).await?;
    if !all.iter().any(|c| c.id == parent) {
        return Err(bad(
            "parent_id",
            format!("category {parent} does not exist"),
        ));
    }
    Ok(())
}

async fn category_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let c: CategoryIn = parse_ci(&body)?;
    if let Some(t) = c
        .category_type
        .as_deref()
        .filter(|t| !t.is_empty() && *t != "product_category")
    {
        return Err(bad(
            "category_type",
            format!("'{t}' is not product_category"),
        ));
    }
    let parent = c.parent_id.unwrap_or(0);
    check_parent(&s, &actor, parent, 0).await?;
    let cat = Category {
        id: 0,
        name: c.name.unwrap_or_default(),
        parent_id: parent,
        picture: c.picture,
        description: c.description,
    }
    .validate()?;
    let id = s.crm.inventory.save_category(&actor, cat).await?;
    let all = s.crm.inventory.categories(actor.tenant_id).await?;
    let created = all
        .iter()
        .find(|c| c.id == id)
        .ok_or(DomainError::not_found("category"))?;
    Ok(Json(json!([category_json(created, &all, "childs")])))
}

async fn category_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, NxError> {
    let id = id_of(&id, "category")?;
    let all = s.crm.inventory.categories(actor.tenant_id).await?;
    let c = all
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "category not found"))?;
    Ok(Json(category_json(c, &all, "childs")))
}

async fn category_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let id = id_of(&id, "category")?;
    let c: CategoryIn = parse_ci(&body)?;
    let all = s.crm.inventory.categories(actor.tenant_id).await?;
    let old = all
        .iter()
        .find(|x| x.id == id)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "category not found"))?;
    let parent = c.parent_id.unwrap_or(old.parent_id);
    check_parent(&s, &actor, parent, id).await?;
    let cat = Category {
        id,
        name: c.name.unwrap_or_else(|| old.name.clone()),
        parent_id: parent,
        picture: c.picture.or_else(|| old.picture.clone()),
        description: c.description.or_else(|| old.description.clone()),
    }
    .validate()?;
    s.crm.inventory.save_category(&actor, cat).await?;
    Ok(ok_flat("Category updated successfully"))
}

// ---- products ----

#[derive(Debug, Default, Deserialize)]
struct UnitDef {
    #[serde(default)]
    name: Option<String>,
    #[serde(
        default,
        rename = "f_Convert",
        alias = "f_convert",
        deserialize_with = "lenient_num"
    )]
    f_convert: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    price: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct UnitsIn {
    #[serde(default)]
    unit_base: Option<UnitDef>,
    #[serde(default)]
    sub_unit: Vec<UnitDef>,
}

#[derive(Debug, Default, Deserialize)]
struct MediaIn {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ComponentIn {
    #[serde(default, deserialize_with = "lenient_int")]
    product_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_num")]
    quantity: Option<f64>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_num")]
    price: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
struct ProductIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    brand_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    store_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    category_id: Option<i64>,
    #[serde(default)]
    media: Vec<MediaIn>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<i64>,
    #[serde(default)]
    unit: Option<UnitsIn>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    purchase_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    sell_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    weight: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    height: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    width: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    length: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    qty_begin_stock: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    qty_warning_stock: Option<f64>,
    #[serde(default)]
    specification: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    product_custom_field1: Option<String>,
    #[serde(default)]
    product_custom_field2: Option<String>,
    #[serde(default)]
    composition_variation: Vec<ComponentIn>,
}

async fn product_data(
    s: &AppState,
    actor: &Actor,
    p: &ProductIn,
    old: Option<&Product>,
) -> Result<ProductData, NxError> {
    if let Some(cat) = p.category_id.filter(|c| *c != 0) {
        let all = s.crm.inventory.categories(actor.tenant_id).await?;
        if !all.iter().any(|c| c.id == cat) {
            return Err(bad("category_id", format!("category {cat} does not exist")));
        }
    }
    let base_unit = match (
        p.unit
            .as_ref()
            .and_then(|u| u.unit_base.as_ref())
            .and_then(|b| b.name.as_deref()),
        p.unit_id.filter(|u| *u != 0),
    ) {
        (Some(name), _) if !name.trim().is_empty() => Some(s.crm.unit_for_name(actor, name).await?),
        (_, Some(id)) => Some(id),
        _ => old.and_then(|o| o.data.unit_id),
    };
    let mut components = Vec::new();
    for (i, c) in p.composition_variation.iter().enumerate() {
        let Some(pid) = c.product_id.filter(|x| *x != 0) else {
            continue;
        };
        let found: Option<Product> = s.crm.by_seq(actor, pid).await?;
        if found.is_none() {
            return Err(bad(
                &format!("composition_variation[{i}].product_id"),
                format!("product {pid} does not exist"),
            ));
        }
        components.push((
            pid,
            c.quantity.unwrap_or(1.0),
            c.unit_id,
            c.price.unwrap_or(0.0),
        ));
    }
    let old_ext = old.and_then(|o| o.data.ext.clone()).unwrap_or_default();
    Ok(ProductData {
        code: p
            .code
            .clone()
            .filter(|c| !c.trim().is_empty())
            .or_else(|| old.and_then(|o| o.data.code.clone())),
        name: p.name.clone().unwrap_or_default(),
        group_id: old.and_then(|o| o.data.group_id),
        group_name: old.and_then(|o| o.data.group_name.clone()),
        unit_id: base_unit,
        unit_name: None,
        import_price: p.purchase_price.unwrap_or(0.0),
        retail_price: p.sell_price.unwrap_or(0.0),
        wholesale_price: old.map_or(0.0, |o| o.data.wholesale_price),
        config: old.and_then(|o| o.data.config.clone()),
        note: old.and_then(|o| o.data.note.clone()),
        image: p
            .media
            .first()
            .and_then(|m| m.url.clone())
            .or_else(|| old.and_then(|o| o.data.image.clone())),
        ext: Some(ProductExt {
            sku: p
                .sku
                .clone()
                .filter(|c| !c.trim().is_empty())
                .or(old_ext.sku),
            category_id: p.category_id.filter(|c| *c != 0),
            brand_id: p.brand_id,
            kind: p.kind.clone().unwrap_or(old_ext.kind),
            weight: p.weight.unwrap_or(0.0),
            height: p.height.unwrap_or(0.0),
            width: p.width.unwrap_or(0.0),
            length: p.length.unwrap_or(0.0),
            specification: p.specification.clone(),
            description: p.description.clone(),
            custom_field1: p.product_custom_field1.clone(),
            custom_field2: p.product_custom_field2.clone(),
            qty_warning_stock: p.qty_warning_stock.unwrap_or(old_ext.qty_warning_stock),
            media: p.media.iter().filter_map(|m| m.url.clone()).collect(),
            components,
        }),
    })
}

async fn product_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let p: ProductIn = parse_ci(&body)?;
    let opening = p.qty_begin_stock.unwrap_or(0.0);
    if opening != 0.0 && p.branch_id.filter(|b| *b != 0).is_none() {
        return Err(bad("branch_id", "is required with qty_begin_stock"));
    }
    if let Some(b) = p.branch_id.filter(|b| *b != 0) {
        s.crm.branch(&actor, b).await?;
        s.crm.store_of(&actor, b, p.store_id).await?;
    }
    let data = product_data(&s, &actor, &p, None).await?;
    // Sub-units are checked before anything is written.
    let mut subs = Vec::new();
    for (i, u) in p
        .unit
        .as_ref()
        .map(|u| u.sub_unit.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let name = u.name.clone().unwrap_or_default();
        if name.trim().is_empty() {
            return Err(bad(&format!("unit.sub_unit[{i}].name"), "is required"));
        }
        let rate = u.f_convert.unwrap_or(0.0);
        if rate.is_nan() || rate <= 0.0 {
            return Err(bad(
                &format!("unit.sub_unit[{i}].f_Convert"),
                "must be more than 0",
            ));
        }
        subs.push((name, rate, u.price.unwrap_or(0.0)));
    }
    let id = s.crm.create::<Product>(&actor, data).await?;
    let mut units = Vec::new();
    for (name, rate, price) in subs {
        let unit_id = s.crm.unit_for_name(&actor, &name).await?;
        units.push((
            ProductUnit {
                id: uuid::Uuid::nil(),
                product_id: id,
                unit_id,
                unit_name: None,
                rate,
                import_price: 0.0,
                retail_price: price,
                wholesale_price: 0.0,
                note: None,
            },
            true,
        ));
    }
    if !units.is_empty() {
        s.crm.save_product_units(&actor, units).await?;
    }
    if let Some(b) = p.branch_id.filter(|b| *b != 0) {
        s.crm
            .opening_stock(&actor, id, b, p.store_id, opening)
            .await?;
    }
    let product: Product = s.crm.get(&actor, id).await?;
    let extra = s.crm.product_units(&actor, id).await?;
    let ext = product.data.ext.clone().unwrap_or_default();
    Ok(Json(json!({
        "id": product.seq,
        "name": product.data.name,
        "code": product.data.code,
        "sku": ext.sku.clone().or(product.data.code.clone()),
        "brand_id": ext.brand_id,
        "category_id": ext.category_id,
        "category_ids": [],
        "unit_id": product.data.unit_id,
        "units": extra.iter().map(|u| json!({"id": u.unit_id.to_string()})).collect::<Vec<_>>(),
        "type": ext.kind,
        "purchase_price": product.data.import_price,
        "sell_price": product.data.retail_price,
        "weight": ext.weight,
        "height": ext.height,
        "width": ext.width,
        "length": ext.length,
        "qty_begin_stock": opening,
        "qty_warning_stock": ext.qty_warning_stock,
    })))
}

async fn product_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let seq = id_of(&id, "product")?;
    let old: Product = s
        .crm
        .by_seq(&actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "product not found"))?;
    let p: ProductIn = parse_ci(&body)?;
    let data = product_data(&s, &actor, &p, Some(&old)).await?;
    s.crm.update::<Product>(&actor, old.id, data).await?;
    Ok(ok_flat("Product updated successfully"))
}

/// A product's units as NextX lists them: the base unit (multiplier 1) then the others.
async fn units_json(s: &AppState, actor: &Actor, p: &Product) -> Result<Vec<Value>, NxError> {
    let mut out = Vec::new();
    if let Some(u) = p.data.unit_id {
        out.push(json!({"id": u, "name": p.data.unit_name, "is_base_unit": 1, "multiplier": 1, "price": p.data.retail_price}));
    }
    for u in s.crm.product_units(actor, p.id).await? {
        out.push(json!({"id": u.unit_id, "name": u.unit_name, "is_base_unit": 0, "multiplier": u.rate, "price": u.retail_price}));
    }
    Ok(out)
}

async fn products(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    let p = Params::parse(q)?;
    let branch = p
        .int("branch_id")?
        .ok_or_else(|| bad("branch_id", "is required"))?;
    s.crm.branch(&actor, branch).await?;
    let store = p.int("store_id")?;
    let page = p.page()?;
    let kinds = p.all("type");
    let mut filter = Filter::all().and(p.search().and_then(|t| Filter::text(None, &t)));
    filter = filter.and(Filter::any_of(
        Field::Kind,
        kinds
            .into_iter()
            .map(crm_domain::search::Value::Text)
            .collect(),
    ));
    let found = s.crm.search::<Product>(&actor, &filter, page).await?;
    let ids: Vec<_> = found.items.iter().map(|x| x.id).collect();
    let stock: HashMap<_, _> = s
        .crm
        .stock(&actor, &ids, Some(branch), store)
        .await?
        .into_iter()
        .collect();
    let cats = s.crm.inventory.categories(actor.tenant_id).await?;
    let rows: Vec<Value> = found
        .items
        .iter()
        .map(|x| {
            let ext = x.data.ext.clone().unwrap_or_default();
            json!({
                "id": x.seq, "product_id": x.seq, "variations_id": x.seq,
                "product_fullname": x.data.name, "product_code": x.data.code,
                "barcode": ext.sku.clone().or(x.data.code.clone()), "product_image": x.data.image,
                "qty_available": stock.get(&x.id).copied().unwrap_or(0.0),
                "unit": x.data.unit_name, "selling_price": x.data.retail_price, "brand_name": null,
                "category_name": ext.category_id.and_then(|c| cats.iter().find(|k| k.id == c)).map(|k| k.name.clone()),
                "specification": ext.specification, "product_type": ext.kind,
                "weight": ext.weight, "length": ext.length.to_string(), "width": ext.width.to_string(), "height": ext.height.to_string(),
                "product_variation": {"product_id": x.seq, "variations_id": x.seq, "unit_id": x.data.unit_id, "price": x.data.retail_price},
            })
        })
        .collect();
    Ok(Json(Value::Array(rows)))
}

async fn product_detail(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    let p = Params::parse(q)?;
    let variation = p
        .int("variation_id")?
        .ok_or_else(|| bad("variation_id", "is required"))?;
    let branch = p.int("branch_id")?;
    let store = p.int("store_id")?;
    if let Some(b) = branch {
        s.crm.branch(&actor, b).await?;
    }
    let x: Product = s
        .crm
        .by_seq(&actor, variation)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "product not found"))?;
    let qty = s
        .crm
        .stock(&actor, &[x.id], branch, store)
        .await?
        .first()
        .map_or(0.0, |(_, q)| *q);
    let ext = x.data.ext.clone().unwrap_or_default();
    Ok(Json(json!({
        "id": x.seq, "product_id": x.seq, "variations.id": x.seq,
        "product_name": x.data.name, "product_actual_name": x.data.name,
        "product_code": x.data.code, "product_sku": ext.sku.clone().or(x.data.code.clone()), "product_image": x.data.image,
        "qty_available": qty,
        "qty_warning_stock": ext.qty_warning_stock,
        "stock_warning": ext.qty_warning_stock > 0.0 && qty <= ext.qty_warning_stock,
        "default_purchase_price": x.data.import_price, "default_sell_price": x.data.retail_price,
        "product_type": ext.kind, "specification": ext.specification,
        "height": ext.height.to_string(), "width": ext.width.to_string(), "length": ext.length.to_string(), "weight": ext.weight.to_string(),
        "computations": {"product_id": x.seq, "variations.id": x.seq, "unit_id": x.data.unit_id, "price": x.data.retail_price},
        "unit_id": x.data.unit_id.map(|u| u.to_string()), "unit": x.data.unit_name,
        "units": units_json(&s, &actor, &x).await?,
    })))
}

// ---- customers and suppliers ----

#[derive(Debug, Default, Deserialize)]
struct ResourceIn {
    #[serde(default, deserialize_with = "lenient_int")]
    id: Option<i64>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CustomerIn {
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tax_number: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    birthday: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    gender: Option<i32>,
    #[serde(default, deserialize_with = "lenient_num")]
    opening_balance: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    credit_limit: Option<f64>,
    #[serde(default)]
    resources: Vec<ResourceIn>,
    #[serde(default)]
    account_name: Option<String>,
    #[serde(default)]
    account_address: Option<String>,
    #[serde(default)]
    account_no: Option<String>,
}

fn customer_input(c: CustomerIn, old: Option<&CustomerData>) -> Result<CustomerInput, NxError> {
    let kind = c.kind.clone().unwrap_or_else(|| "customer".to_owned());
    if kind != "customer" && kind != "supplier" {
        return Err(bad("type", "must be customer or supplier"));
    }
    let birthday = c
        .birthday
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| {
            NaiveDate::parse_from_str(b, "%Y-%m-%d")
                .map_err(|_| bad("birthday", format!("'{b}' is not a Y-m-d date")))
        })
        .transpose()?;
    let mut ext: CustomerExt = old.and_then(|o| o.ext.clone()).unwrap_or_default();
    let mobile = c.mobile.clone().filter(|m| !m.trim().is_empty());
    ext.phones = match &mobile {
        Some(m) => {
            let phone = Phone::parse("mobile", m)?;
            let mut rest: Vec<_> = ext
                .phones
                .iter()
                .skip(1)
                .filter(|p| p.value != phone)
                .cloned()
                .collect();
            rest.insert(0, Channel::plain(phone));
            rest
        }
        None => ext.phones.iter().skip(1).cloned().collect(),
    };
    let email = c.email.clone().filter(|m| !m.trim().is_empty());
    ext.emails = match &email {
        Some(e) => {
            let email = Email::parse("email", e)?;
            let mut rest: Vec<_> = ext
                .emails
                .iter()
                .skip(1)
                .filter(|p| p.value != email)
                .cloned()
                .collect();
            rest.insert(0, Channel::plain(email));
            rest
        }
        None => ext.emails.iter().skip(1).cloned().collect(),
    };
    ext.avatar_url = c
        .avatar
        .clone()
        .filter(|a| !a.is_empty())
        .or(ext.avatar_url);
    ext.party = Some(Party {
        kind,
        opening_balance: c.opening_balance.unwrap_or(0.0),
        credit_limit: c.credit_limit.unwrap_or(0.0),
        birthday,
        gender: c.gender,
        account_name: c.account_name.filter(|a| !a.is_empty()),
        account_address: c.account_address.filter(|a| !a.is_empty()),
        account_no: c.account_no.filter(|a| !a.is_empty()),
        resources: c
            .resources
            .iter()
            .filter_map(|r| Some((r.id?, r.name.clone().unwrap_or_default())))
            .collect(),
    });
    Ok(CustomerInput {
        code: old.and_then(|o| o.code.clone()),
        name: c.name,
        kind: old.map(|o| o.kind),
        tax_code: c.tax_number.filter(|t| !t.is_empty()),
        business_type: old.and_then(|o| o.business_type.clone()),
        group_id: old.and_then(|o| o.group_id),
        phone: mobile,
        email,
        website: old.and_then(|o| o.website.clone()),
        address: c.address,
        note: c.description.or_else(|| old.and_then(|o| o.note.clone())),
        ownership: old.map(|o| o.ownership.clone()).unwrap_or_default(),
        ext: Some(ext),
    })
}

/// The customer in NextX's shape; `due` is what its sales and returns leave open.
fn customer_json(c: &Customer, due: f64) -> Value {
    let d = &c.data;
    let party = d
        .ext
        .as_ref()
        .and_then(|e| e.party.clone())
        .unwrap_or(Party {
            kind: "customer".to_owned(),
            ..Party::default()
        });
    let due = due + party.opening_balance;
    json!({
        "id": c.seq, "avatar": d.ext.as_ref().and_then(|e| e.avatar_url.clone()), "contact_id": c.seq,
        "name": d.name, "code": d.code, "first_name": null, "last_name": d.name,
        "mobile": d.phone.as_ref().map(|p| p.as_str().to_owned()), "email": d.email.as_ref().map(|e| e.as_str().to_owned()),
        "address": d.address, "description": d.note, "fax_number": "", "tax_number": d.tax_code,
        "type": party.kind, "customer_group_id": null,
        "birthday": party.birthday.map(|b| b.to_string()), "gender": party.gender,
        "opening_balance": party.opening_balance, "credit_limit": party.credit_limit,
        "current_due": money(due),
        "pay_term_number": null, "pay_term": "", "branch_id": null,
        "resources": party.resources.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "account_name": party.account_name.unwrap_or_default(), "account_address": party.account_address.unwrap_or_default(),
        "account_no": party.account_no.unwrap_or_default(),
    })
}

/// What each customer owes on its documents, in one query, in the order given.
async fn dues(s: &AppState, actor: &Actor, customers: &[&Customer]) -> Result<Vec<f64>, NxError> {
    let ids: Vec<_> = customers.iter().map(|c| c.id).collect();
    let dues = s.crm.inventory.customer_dues(actor.tenant_id, &ids).await?;
    Ok(dues.into_iter().map(|(_, due)| due).collect())
}

async fn customer_by_seq(s: &AppState, actor: &Actor, raw: &str) -> Result<Customer, NxError> {
    let seq = id_of(raw, "customer")?;
    s.crm
        .by_seq(actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "customer not found"))
}

async fn customers(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    let p = Params::parse(q)?;
    let page = p.page()?;
    let filter = Filter::all()
        .and(p.search().and_then(|t| Filter::text(None, &t)))
        .and(p.created(&actor, "from_date", &["to_date", "units"])?);
    let found = s.crm.search::<Customer>(&actor, &filter, page).await?;
    let page: Vec<&Customer> = found.items.iter().collect();
    let dues = dues(&s, &actor, &page).await?;
    let mut out = Vec::new();
    for (c, due) in page.into_iter().zip(dues) {
        let mut v = customer_json(c, due);
        v["day_over_due"] = json!(0);
        out.push(v);
    }
    Ok(Json(Value::Array(out)))
}

async fn customer_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let c: CustomerIn = parse_ci(&body)?;
    let input = customer_input(c, None)?;
    let id = s.crm.create::<Customer>(&actor, input).await?;
    let created: Customer = s.crm.get(&actor, id).await?;
    Ok(Json(
        json!({"status_code": 0, "message": "Customer created successfully", "data": {"id": created.seq, "code": created.data.code}}),
    ))
}

async fn customer_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, NxError> {
    let c = customer_by_seq(&s, &actor, &id).await?;
    let due = dues(&s, &actor, &[&c]).await?[0];
    Ok(Json(customer_json(&c, due)))
}

async fn customer_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let old = customer_by_seq(&s, &actor, &id).await?;
    let c: CustomerIn = parse_ci(&body)?;
    let input = customer_input(c, Some(&old.data))?;
    s.crm.update::<Customer>(&actor, old.id, input).await?;
    let updated: Customer = s.crm.get(&actor, old.id).await?;
    let due = dues(&s, &actor, &[&updated]).await?[0];
    Ok(Json(customer_json(&updated, due)))
}

// ---- documents ----

#[derive(Debug, Default, Deserialize)]
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
    unit_id: Option<i64>,
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
    sell_line_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Default, Deserialize)]
struct DocIn {
    #[serde(default)]
    invoice_no: Option<String>,
    #[serde(default)]
    transaction_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    customer_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    store_id: Option<i64>,
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
    fn doc(self, kind: DocKind) -> Result<Doc, NxError> {
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
        let mut doc = new_doc(kind, date);
        doc.invoice_no = self.invoice_no.filter(|i| !i.trim().is_empty());
        doc.branch_id = self.branch_id.unwrap_or(0);
        doc.store_id = self.store_id.unwrap_or(0);
        doc.discount_type = self.discount_type;
        doc.discount_amount = self.discount_amount.unwrap_or(0.0);
        doc.charges = self.surcharges.unwrap_or(0.0);
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
                unit_id: l.unit_id.filter(|u| *u != 0),
                unit_price: l.unit_price.unwrap_or(0.0),
                quantity: l.quantity.unwrap_or(0.0),
                discount_type: l.line_discount_type,
                discount_amount: l.line_discount_amount.unwrap_or(0.0),
                tax_id: l.tax_id,
                item_tax: l.item_tax.unwrap_or(0.0),
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
                amount: p.amount.unwrap_or(0.0),
                account_id: p.account_id,
                paid_on: Some(date.unwrap_or_else(|| chrono::Utc::now().date_naive())),
            })
            .collect();
        Ok(doc)
    }
}

fn lines_request_shape(doc: &Doc) -> Vec<Value> {
    doc.lines
        .iter()
        .map(|l| {
            json!({
                "id": l.id, "id_sort": l.sort, "product_id": l.product_seq, "variation_id": l.product_seq,
                "unit_price": l.unit_price, "unit_id": l.unit_id, "f_convert": l.rate, "f_convert1": 1, "f_convert2": 1, "f_convert3": 1,
                "tax_id": l.tax_id, "item_tax": l.item_tax, "quantity": l.quantity, "sell_line_note": l.note.clone().unwrap_or_default(),
                "line_discount_type": l.discount_type.clone().unwrap_or_else(|| "fixed".to_owned()), "line_discount_amount": l.discount_amount,
                "sell_line_id": l.sell_line_id, "line_total": l.total,
            })
        })
        .collect()
}

fn payments_json(doc: &Doc) -> Vec<Value> {
    doc.payments
        .iter()
        .map(|p| json!({"note": p.note.clone().unwrap_or_default(), "payment_type": p.payment_type, "method": p.method, "amount": p.amount, "account_id": p.account_id, "paid_on": p.paid_on.map(|d| d.to_string())}))
        .collect()
}

async fn rich_lines(s: &AppState, actor: &Actor, doc: &Doc) -> Result<Vec<Value>, NxError> {
    let mut out = Vec::new();
    for l in &doc.lines {
        let p: Product = s.crm.get(actor, l.product_id).await?;
        let units = units_json(s, actor, &p).await?;
        let unit_name = units
            .iter()
            .find(|u| u["id"] == json!(l.unit_id.or(p.data.unit_id)))
            .and_then(|u| u["name"].as_str().map(str::to_owned));
        out.push(json!({
            "id": l.id, "product_id": l.product_seq, "variation_id": l.product_seq, "product_name": p.data.name,
            "product_code": p.data.code, "sub_sku": p.data.ext.as_ref().and_then(|e| e.sku.clone()).or(p.data.code.clone()),
            "product_image": p.data.image, "product_purchase_price": p.data.import_price, "product_sell_price": p.data.retail_price,
            "unit_id": l.unit_id.or(p.data.unit_id), "unit": unit_name, "quantity": l.quantity, "sell_line_note": l.note.clone().unwrap_or_default(),
            "line_discount_type": l.discount_type.clone().unwrap_or_else(|| "fixed".to_owned()), "line_discount_amount": money(l.discount_amount),
            "units": units, "item_tax": l.item_tax, "unit_price": l.unit_price, "sell_line_id": l.sell_line_id,
        }));
    }
    Ok(out)
}

async fn party_json(
    s: &AppState,
    actor: &Actor,
    doc: &Doc,
) -> Result<(Value, Option<Customer>), NxError> {
    let Some(id) = doc.customer_id else {
        return Ok((Value::Null, None));
    };
    let c: Option<Customer> = s.crm.customers.get(actor.tenant_id, id).await?;
    let v = c.as_ref().map(|c| {
        let party = c.data.ext.as_ref().and_then(|e| e.party.clone()).unwrap_or_default();
        json!({"id": c.seq, "name": c.data.name, "code": c.data.code, "mobile": c.data.phone.as_ref().map(|p| p.as_str().to_owned()),
               "gender": party.gender.map(|g| g.to_string()), "birthday": party.birthday.map(|b| b.to_string()), "address": c.data.address,
               "account_address": party.account_address.unwrap_or_default(), "account_no": party.account_no.unwrap_or_default()})
    });
    Ok((v.unwrap_or(Value::Null), c))
}

async fn branch_json(s: &AppState, actor: &Actor, id: i64) -> Result<Value, NxError> {
    Ok(s.crm
        .inventory
        .places(actor.tenant_id, false, None)
        .await?
        .iter()
        .find(|b| b.id == id)
        .map(place_json)
        .unwrap_or(Value::Null))
}

/// A list row (purchase, sale or return).
async fn row_json(
    s: &AppState,
    actor: &Actor,
    doc: &Doc,
    c: Option<&Customer>,
    branches: &[Place],
) -> Result<Value, NxError> {
    let mut v = json!({
        "id": doc.id, "transaction_date": doc.transaction_date.to_string(), "invoice_no": doc.invoice_no,
        "customer_id": c.map(|c| c.seq), "customer_code": c.and_then(|c| c.data.code.clone()), "customer_name": c.map(|c| c.data.name.clone()),
        "customer_mobile": c.and_then(|c| c.data.phone.as_ref().map(|p| p.as_str().to_owned())), "customer_address": c.and_then(|c| c.data.address.clone()),
        "customer_description": c.and_then(|c| c.data.note.clone()),
        "payment_status": doc.payment_status(), "final_total": money(doc.final_total), "tax_amount": money(doc.tax_amount),
        "discount_amount": money(doc.discount_amount), "discount_type": doc.discount_type.clone().unwrap_or_else(|| "fixed".to_owned()),
        "total_before_tax": money(doc.total_before_tax), "shipping_status": doc.shipping_status, "additional_notes": doc.additional_notes,
        "staff_note": doc.staff_note, "total_paid": money(doc.paid()),
        "branch_name": branches.iter().find(|b| b.id == doc.branch_id).map(|b| b.name.clone()),
        "total_items": doc.lines.len(), "approved_status": if doc.approved { "1" } else { "0" },
    });
    match doc.kind {
        DocKind::Purchase => {
            v["added_by"] = json!({"id": null, "name": doc.created_by_name, "firstname": null, "lastname": doc.created_by_name});
        }
        DocKind::Sell => {
            v["added_by"] = json!(doc.created_by_name);
            v["total_discount"] = json!(money(doc.discount_amount));
            v["total_surcharge"] = json!(money(doc.charges));
            v["status"] = json!("final");
            v["purchase_invoice_no"] = json!("");
            v["total_paid"] = json!(doc.paid());
        }
        _ => {
            v["added_by"] = json!(doc.created_by_name);
            v["amount_paid"] = json!(money(doc.paid()));
            v["sell_id"] = json!(doc.return_of);
            let sale = match doc.return_of {
                Some(id) => {
                    s.crm
                        .inventory
                        .doc(actor.tenant_id, DocKind::Sell, id)
                        .await?
                }
                None => None,
            };
            v["sell_invoice_no"] = json!(sale.and_then(|d| d.invoice_no));
        }
    }
    Ok(v)
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
    })
}

async fn list(
    s: &AppState,
    actor: &Actor,
    kind: DocKind,
    q: Option<String>,
    branch_required: bool,
) -> Result<Json<Value>, NxError> {
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
    let branches = s.crm.inventory.places(actor.tenant_id, false, None).await?;
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
        out.push(row_json(s, actor, d, c, &branches).await?);
    }
    Ok(Json(Value::Array(out)))
}

async fn purchases(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    list(&s, &actor, DocKind::Purchase, q, true).await
}

async fn sells(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    list(&s, &actor, DocKind::Sell, q, true).await
}

async fn returns(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    list(&s, &actor, DocKind::SellReturn, q, false).await
}

fn echo(doc: &Doc, customer: Option<i64>) -> Value {
    json!({
        "id": doc.id, "invoice_no": doc.invoice_no, "transaction_date": doc.transaction_date.to_string(),
        "customer_id": customer, "branch_id": doc.branch_id, "store_id": doc.store_id,
        "discount_type": doc.discount_type.clone().unwrap_or_else(|| "fixed".to_owned()), "discount_amount": doc.discount_amount,
        "total_before_tax": doc.total_before_tax, "tax_amount": doc.tax_amount, "final_total": doc.final_total,
        "shipping_status": doc.shipping_status, "approved_status": doc.approved, "payment_status": doc.payment_status(),
        "additional_notes": doc.additional_notes.clone().unwrap_or_default(), "staff_note": doc.staff_note.clone().unwrap_or_default(),
        "products": lines_request_shape(doc), "payment": payments_json(doc),
    })
}

async fn purchase_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let d: DocIn = parse_ci(&body)?;
    let customer = d.customer_id;
    if d.branch_id.filter(|b| *b != 0).is_none() {
        return Err(bad("branch_id", "is required"));
    }
    let doc = s
        .crm
        .save_purchase(&actor, d.doc(DocKind::Purchase)?, customer)
        .await?;
    Ok(Json(
        json!({"message": "Purchase order created successfully", "data": echo(&doc, customer)}),
    ))
}

async fn detail(s: &AppState, actor: &Actor, doc: &Doc) -> Result<Value, NxError> {
    let (customer, c) = party_json(s, actor, doc).await?;
    Ok(json!({
        "id": doc.id, "transaction_date": doc.transaction_date.to_string(), "invoice_no": doc.invoice_no,
        "discount_type": doc.discount_type.clone().unwrap_or_else(|| "fixed".to_owned()), "discount_amount": money(doc.discount_amount),
        "total_before_tax": money(doc.total_before_tax), "tax_amount": money(doc.tax_amount), "final_total": money(doc.final_total),
        "shipping_status": doc.shipping_status, "approved_status": if doc.approved { "1" } else { "0" },
        "additional_notes": doc.additional_notes, "staff_note": doc.staff_note, "payment_status": doc.payment_status(),
        "total_paid": money(doc.paid()), "customer_id": c.map(|c| c.seq), "customer": customer,
        "created_by": {"id": null, "name": doc.created_by_name, "firstname": null, "lastname": doc.created_by_name},
        "branch": branch_json(s, actor, doc.branch_id).await?, "branch_id": doc.branch_id, "store_id": doc.store_id,
        "products": rich_lines(s, actor, doc).await?,
    }))
}

async fn purchase_by_code(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
) -> Result<Json<Value>, NxError> {
    let doc = s
        .crm
        .inventory
        .doc_by_invoice(actor.tenant_id, DocKind::Purchase, &code)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "purchase order not found"))?;
    Ok(Json(detail(&s, &actor, &doc).await?))
}

#[derive(Debug, Default, Deserialize)]
struct ShippingIn {
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    shipping_status: Option<String>,
}

async fn purchase_shipping(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let id = id_of(&id, "purchase order")?;
    let b: ShippingIn = parse_ci(&body)?;
    let status = b.shipping_status.clone().unwrap_or_default();
    s.crm.set_shipping(&actor, id, &status).await?;
    Ok(Json(
        json!({"comment": b.comment.unwrap_or_default(), "shipping_status": status}),
    ))
}

async fn sell_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let d: DocIn = parse_ci(&body)?;
    let customer = d.customer_id;
    if d.branch_id.filter(|b| *b != 0).is_none() {
        return Err(bad("branch_id", "is required"));
    }
    let doc = s
        .crm
        .save_sell(&actor, d.doc(DocKind::Sell)?, customer)
        .await?;
    Ok(Json(json!({
        "status_code": 200, "message": "Sale order created successfully",
        "data": {"id": doc.id, "invoice_no": doc.invoice_no, "final_total": doc.final_total, "payment_status": doc.payment_status(),
                 "sell_lines": doc.lines.iter().map(|l| json!({"id": l.id, "product_id": l.product_seq, "quantity": l.quantity, "unit_id": l.unit_id})).collect::<Vec<_>>()},
    })))
}

async fn sell_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, NxError> {
    let doc = s
        .crm
        .doc(&actor, DocKind::Sell, id_of(&id, "sale")?)
        .await?;
    let (_, c) = party_json(&s, &actor, &doc).await?;
    Ok(Json(json!({
        "id": doc.id, "transaction_date": doc.transaction_date.to_string(), "invoice_no": doc.invoice_no,
        "discount_type": doc.discount_type.clone().unwrap_or_else(|| "fixed".to_owned()), "discount_amount": money(doc.discount_amount),
        "total_before_tax": money(doc.total_before_tax), "tax_amount": money(doc.tax_amount), "final_total": money(doc.final_total),
        "staff_note": doc.staff_note, "additional_notes": doc.additional_notes, "store_id": doc.store_id, "price_book_id": null,
        "branch_id": doc.branch_id, "shipping_charges": money(doc.charges), "shipping_status": doc.shipping_status,
        "customer_id": c.map(|c| c.seq), "payment_status": doc.payment_status(), "total_paid": doc.paid(),
        "payment": payments_json(&doc), "products": lines_request_shape(&doc), "tax": null,
    })))
}

async fn return_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let d: DocIn = parse_ci(&body)?;
    let doc = s
        .crm
        .save_return(&actor, d.doc(DocKind::SellReturn)?)
        .await?;
    let (_, c) = party_json(&s, &actor, &doc).await?;
    let mut v = echo(&doc, c.map(|c| c.seq));
    v["transaction_id"] = json!(doc.return_of);
    v["return_charges"] = json!(doc.charges);
    Ok(Json(v))
}

async fn return_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, NxError> {
    let doc = s
        .crm
        .doc(&actor, DocKind::SellReturn, id_of(&id, "sales return")?)
        .await?;
    let (customer, c) = party_json(&s, &actor, &doc).await?;
    let store = s
        .crm
        .inventory
        .places(actor.tenant_id, true, None)
        .await?
        .iter()
        .find(|p| p.id == doc.store_id)
        .map(place_json);
    Ok(Json(json!({
        "id": doc.id, "return_parent_id": doc.return_of, "transaction_date": doc.transaction_date.to_string(), "invoice_no": doc.invoice_no,
        "discount_type": doc.discount_type.clone().unwrap_or_else(|| "fixed".to_owned()), "discount_amount": money(doc.discount_amount),
        "total_before_tax": money(doc.total_before_tax), "tax_amount": money(doc.tax_amount), "final_total": money(doc.final_total),
        "staff_note": doc.staff_note, "payment_status": doc.payment_status(), "customer_id": c.map(|c| c.seq), "price_book_id": null,
        "branch_id": doc.branch_id, "store_id": doc.store_id, "return_charges": money(doc.charges), "additional_notes": doc.additional_notes,
        "total_paid": money(doc.paid()), "location": branch_json(&s, &actor, doc.branch_id).await?, "customer": customer,
        "created_by": {"id": null, "name": doc.created_by_name, "firstname": null, "lastname": doc.created_by_name},
        "payment_lines": doc.payments.iter().enumerate().map(|(i, p)| json!({"id": i + 1, "amount": p.amount, "method": p.method, "transaction_no": "", "paid_on": p.paid_on.map(|d| d.to_string()), "note": p.note.clone().unwrap_or_default()})).collect::<Vec<_>>(),
        "store": store, "sell_lines": rich_lines(&s, &actor, &doc).await?,
    })))
}

async fn return_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, NxError> {
    let id = id_of(&id, "sales return")?;
    let old = s.crm.doc(&actor, DocKind::SellReturn, id).await?;
    let d: DocIn = parse_ci(&body)?;
    let mut doc = d.doc(DocKind::SellReturn)?;
    doc.id = old.id;
    doc.uuid = old.uuid;
    doc.invoice_no = old.invoice_no.clone();
    doc.created_at = old.created_at;
    s.crm.save_return(&actor, doc).await?;
    Ok(ok_flat("Return order updated successfully"))
}
