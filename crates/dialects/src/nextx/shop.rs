//! NextX's shop API on `open-api.nextx.vn` (seed 003): branches and stores, product
//! categories, customers and suppliers here; products in [`super::products`], purchase orders,
//! sales and returns in [`super::documents`]. Integer ids throughout; list and detail answers
//! are the bare payloads the doc shows. Decisions: `docs/dialects/nextx.md`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use crm_domain::customer::{
    put_primary, Customer, CustomerData, CustomerExt, CustomerInput, Party,
};
use crm_domain::ids::CategoryId;
use crm_domain::inventory::{Category, Place};
use crm_domain::money::Money;
use crm_domain::search::Filter;
use crm_domain::text::{Email, Phone};
use crm_domain::{Actor, DomainError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::{lenient_int, lenient_num, parse_ci};
use crate::AppState;

use super::kit::*;

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
        .route("/api/customer/customer", get(customers).post(customer_add))
        .route(
            "/api/customer/customer/{id}",
            get(customer_get).put(customer_put),
        )
        .merge(super::products::router())
        .merge(super::documents::router())
}

// ---- branches and stores ----

pub(super) fn place_json(p: &Place) -> Value {
    json!({"id": p.id, "name": p.name, "code": p.code, "tel": p.tel, "fax": p.fax, "avatar": p.avatar, "address": p.address, "description": p.description})
}

pub(super) async fn branches(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Value>, NxError> {
    let list = s.crm.places(&actor, false, None).await?;
    Ok(Json(Value::Array(list.iter().map(place_json).collect())))
}

pub(super) async fn stores(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    let p = Params::parse(q)?;
    let list = s.crm.places(&actor, true, p.int("branch_id")?).await?;
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
    branch_id: Option<crm_domain::ids::PlaceId>,
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
            id: Default::default(),
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

pub(super) async fn categories(
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
    let parent: CategoryId = p.int("parent_id")?.unwrap_or_default();
    let all = s.crm.categories(&actor).await?;
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
    parent_id: Option<crm_domain::ids::CategoryId>,
    #[serde(default)]
    picture: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    category_type: Option<String>,
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
    let parent = c.parent_id.unwrap_or_default();
    let cat = Category {
        id: Default::default(),
        name: c.name.unwrap_or_default(),
        parent_id: parent,
        picture: c.picture,
        description: c.description,
    }
    .validate()?;
    let id = s.crm.save_category(&actor, cat).await?;
    let all = s.crm.categories(&actor).await?;
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
    let all = s.crm.categories(&actor).await?;
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
    let all = s.crm.categories(&actor).await?;
    let old = all
        .iter()
        .find(|x| x.id == id)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "category not found"))?;
    let parent = c.parent_id.unwrap_or(old.parent_id);
    let cat = Category {
        id,
        name: c.name.unwrap_or_else(|| old.name.clone()),
        parent_id: parent,
        picture: c.picture.or_else(|| old.picture.clone()),
        description: c.description.or_else(|| old.description.clone()),
    }
    .validate()?;
    s.crm.save_category(&actor, cat).await?;
    Ok(ok_flat("Category updated successfully"))
}

// ---- customers and suppliers ----

#[derive(Debug, Default, Deserialize)]
pub(super) struct ResourceIn {
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
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<crm_domain::ids::PlaceId>,
}

/// The customer body, with the branch it names checked against the tenant's.
async fn customer_body(s: &AppState, actor: &Actor, body: &Bytes) -> Result<CustomerIn, NxError> {
    let c: CustomerIn = parse_ci(body)?;
    if let Some(b) = c.branch_id.and_then(|b| b.nonzero()) {
        s.crm.branch(actor, b).await?;
    }
    Ok(c)
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
    let phone = mobile
        .as_deref()
        .map(|m| Phone::parse("mobile", m))
        .transpose()?;
    put_primary(&mut ext.phones, phone);
    let email = c.email.clone().filter(|m| !m.trim().is_empty());
    let parsed = email
        .as_deref()
        .map(|e| Email::parse("email", e))
        .transpose()?;
    put_primary(&mut ext.emails, parsed);
    ext.avatar_url = c
        .avatar
        .clone()
        .filter(|a| !a.is_empty())
        .or(ext.avatar_url);
    let old_party = ext.party.take();
    ext.party = Some(Party {
        kind,
        opening_balance: Money::from_f64(c.opening_balance.unwrap_or(0.0)),
        credit_limit: Money::from_f64(c.credit_limit.unwrap_or(0.0)),
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
        branch_id: c
            .branch_id
            .and_then(|b| b.nonzero())
            .or_else(|| old_party.as_ref().and_then(|p| p.branch_id)),
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
fn customer_json(c: &Customer, due: Money) -> Value {
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
        // `employers` (sic) is the assigned employee; the documented bodies cannot assign one.
        "id": c.seq, "employers": null, "avatar": d.ext.as_ref().and_then(|e| e.avatar_url.clone()), "contact_id": c.seq,
        "name": d.name, "code": d.code, "first_name": null, "last_name": d.name,
        "mobile": d.phone.as_ref().map(|p| p.as_str().to_owned()), "email": d.email.as_ref().map(|e| e.as_str().to_owned()),
        "address": d.address, "description": d.note, "fax_number": "", "tax_number": d.tax_code,
        "type": party.kind, "customer_group_id": null,
        "birthday": party.birthday.map(|b| b.to_string()), "gender": party.gender,
        "opening_balance": party.opening_balance, "credit_limit": party.credit_limit,
        "current_due": money(due),
        "pay_term_number": null, "pay_term": "", "branch_id": party.branch_id,
        "resources": party.resources.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "account_name": party.account_name.unwrap_or_default(), "account_address": party.account_address.unwrap_or_default(),
        "account_no": party.account_no.unwrap_or_default(),
    })
}

/// What each customer owes on its documents, in one query, in the order given.
async fn dues(s: &AppState, actor: &Actor, customers: &[&Customer]) -> Result<Vec<Money>, NxError> {
    let ids: Vec<_> = customers.iter().map(|c| c.id).collect();
    let dues = s.crm.customer_dues(actor, &ids).await?;
    Ok(dues.into_iter().map(|(_, due)| due).collect())
}

async fn customer_by_seq(s: &AppState, actor: &Actor, raw: &str) -> Result<Customer, NxError> {
    let seq = id_of(raw, "customer")?;
    s.crm
        .by_seq(actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "customer not found"))
}

pub(super) async fn customers(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, NxError> {
    let p = Params::parse(q)?;
    let page = p.page()?;
    let filter = Filter::all()
        .and(p.search().and_then(|t| Filter::text(None, &t)))
        .and(p.created(&actor, "from_date", &["to_date", "units"])?)
        .and(p.branch()?)
        .and(p.no_category()?);
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
    let c = customer_body(&s, &actor, &body).await?;
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
    let c = customer_body(&s, &actor, &body).await?;
    let input = customer_input(c, Some(&old.data))?;
    s.crm.update::<Customer>(&actor, old.id, input).await?;
    let updated: Customer = s.crm.get(&actor, old.id).await?;
    let due = dues(&s, &actor, &[&updated]).await?[0];
    Ok(Json(customer_json(&updated, due)))
}
