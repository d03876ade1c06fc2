//! NextX's shop API on `open-api.nextx.vn` (seed 003): branches and stores, product
//! categories, customers and suppliers here; products in [`super::products`], purchase orders,
//! sales and returns in [`super::documents`]. Integer ids throughout; list and detail answers
//! are the bare payloads the doc shows. Decisions: `docs/dialects/nextx.md`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::NaiveDate;
use crm_domain::customer::{
    put_primary, Customer, CustomerData, CustomerExt, CustomerInput, Party,
};
use crm_domain::ids::{CategoryId, PlaceId};
use crm_domain::inventory::{Category, Place};
use crm_domain::money::Money;
use crm_domain::search::Filter;
use crm_domain::text::{Email, Phone};
use crm_domain::{Actor, DomainError};
use serde::{Deserialize, Serialize};

use super::kit::api::*;
use crate::body::{lenient_int, lenient_num, parse_ci};
use crate::AppState;

use super::kit::*;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    const B: &str = "Branches and stores";
    const C: &str = "Product categories";
    const P: &str = "Customers";
    let shop = Api::new(spec)
        .route::<(), Vec<PlaceOut>, _, _>(
            M::GET,
            "/api/branch/branch",
            Op::bearer(B, "Every branch"),
            branches,
        )
        .route::<PlaceIn, Created<IdOnly<PlaceId>>, _, _>(
            M::POST,
            "/api/branch/branch",
            Op::bearer(B, "Add a branch (ours)"),
            branch_add,
        )
        .route::<(), Vec<PlaceOut>, _, _>(
            M::GET,
            "/api/branch/store",
            Op::bearer(B, "Every store").query(&[int("branch_id")]),
            stores,
        )
        .route::<PlaceIn, Created<IdOnly<PlaceId>>, _, _>(
            M::POST,
            "/api/branch/store",
            Op::bearer(B, "Add a store (ours)"),
            store_add,
        )
        .route::<(), Vec<CategoryOut>, _, _>(
            M::GET,
            "/api/cate/category-list/{kind}",
            Op::bearer(C, "Product categories (kind `product_category`)")
                .query(&[int("parent_id")]),
            categories,
        )
        .route::<CategoryIn, [CategoryOut; 1], _, _>(
            M::POST,
            "/api/cate/category",
            Op::bearer(C, "Add a product category"),
            category_add,
        )
        // The category in a list, as the doc shows it (seed 003, lines 819-834) and as the
        // create answers it.
        .route::<(), [CategoryOut; 1], _, _>(
            M::GET,
            "/api/cate/category/{id}",
            Op::bearer(C, "A product category with its children").int_id(),
            category_get,
        )
        // The doc's answer is the status wrapped in a list (seed 003, lines 897-902).
        .route::<CategoryIn, [Status; 1], _, _>(
            M::PUT,
            "/api/cate/category/{id}",
            Op::bearer(C, "Update a product category").int_id(),
            category_put,
        )
        .route::<(), Vec<CustomerOut>, _, _>(
            M::GET,
            "/api/customer/customer",
            Op::bearer(P, "Customers, a page").query(PEOPLE),
            customers,
        )
        .route::<CustomerIn, Created<NewCustomer>, _, _>(
            M::POST,
            "/api/customer/customer",
            Op::bearer(P, "Add a customer or supplier"),
            customer_add,
        )
        .route::<(), CustomerOut, _, _>(
            M::GET,
            "/api/customer/customer/{id}",
            Op::bearer(P, "A customer").int_id(),
            customer_get,
        )
        .route::<CustomerIn, CustomerOut, _, _>(
            M::PUT,
            "/api/customer/customer/{id}",
            Op::bearer(P, "Update a customer or supplier").int_id(),
            customer_put,
        )
        .router;
    shop.merge(super::products::router(spec))
        .merge(super::documents::router(spec))
}

// ---- branches and stores ----

pub(super) async fn branches(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<PlaceOut>>, NxError> {
    let list = s.crm.places(&actor, false, None).await?;
    Ok(Json(list.iter().map(PlaceOut::branch).collect()))
}

pub(super) async fn stores(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<PlaceOut>>, NxError> {
    let p = Params::parse(q)?;
    let list = s.crm.places(&actor, true, p.int("branch_id")?).await?;
    Ok(Json(list.iter().map(PlaceOut::store).collect()))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
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
) -> Result<Json<Created<IdOnly<PlaceId>>>, NxError> {
    let p: PlaceIn = parse_ci(&body)?;
    let id = s.crm.create_place(&actor, false, p.place()).await?;
    Ok(Json(Created::new(
        "Branch created successfully",
        IdOnly { id },
    )))
}

async fn store_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Created<IdOnly<PlaceId>>>, NxError> {
    let p: PlaceIn = parse_ci(&body)?;
    let id = s.crm.create_place(&actor, true, p.place()).await?;
    Ok(Json(Created::new(
        "Store created successfully",
        IdOnly { id },
    )))
}

// ---- categories ----

pub(super) async fn categories(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(kind): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<CategoryOut>>, NxError> {
    if kind != "product_category" {
        return Err(fail(
            StatusCode::NOT_FOUND,
            format!("category type '{kind}' is not served (only product_category)"),
        ));
    }
    let p = Params::parse(q)?;
    let parent: CategoryId = p.int("parent_id")?.unwrap_or_default();
    let all = s.crm.categories(&actor).await?;
    Ok(Json(
        all.iter()
            .filter(|c| c.parent_id == parent)
            .map(|c| CategoryOut::new(c, &all, false))
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
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
) -> Result<Json<[CategoryOut; 1]>, NxError> {
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
    Ok(Json([CategoryOut::new(created, &all, true)]))
}

async fn category_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<[CategoryOut; 1]>, NxError> {
    let id = id_of(&id, "category")?;
    let all = s.crm.categories(&actor).await?;
    let c = all
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "category not found"))?;
    Ok(Json([CategoryOut::new(c, &all, true)]))
}

async fn category_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<[Status; 1]>, NxError> {
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
    Ok(Json([Status::ok("Category updated successfully")]))
}

// ---- customers and suppliers ----

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub(super) struct ResourceIn {
    #[serde(default, deserialize_with = "lenient_int")]
    id: Option<i64>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
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

/// A created customer's number and code.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct NewCustomer {
    id: i64,
    code: Option<String>,
}

/// The customer in NextX's shape.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct CustomerOut {
    id: i64,
    /// The assigned employee (sic); the documented bodies cannot assign one.
    employers: (),
    avatar: Option<String>,
    contact_id: i64,
    name: String,
    code: Option<String>,
    first_name: (),
    last_name: String,
    mobile: Option<String>,
    email: Option<String>,
    address: Option<String>,
    description: Option<String>,
    fax_number: &'static str,
    tax_number: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    customer_group_id: (),
    birthday: Option<String>,
    gender: Option<i32>,
    opening_balance: Money,
    credit_limit: Money,
    current_due: String,
    pay_term_number: (),
    pay_term: &'static str,
    branch_id: Option<crm_domain::ids::PlaceId>,
    resources: Vec<IdName<i64>>,
    account_name: String,
    account_address: String,
    account_no: String,
    /// On list rows only.
    #[serde(skip_serializing_if = "Option::is_none")]
    day_over_due: Option<i32>,
}

/// The customer in NextX's shape; `due` is what its sales and returns leave open.
fn customer_out(c: &Customer, due: Money) -> CustomerOut {
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
    CustomerOut {
        id: c.seq,
        employers: (),
        avatar: d.ext.as_ref().and_then(|e| e.avatar_url.clone()),
        contact_id: c.seq,
        name: d.name.clone(),
        code: d.code.clone(),
        first_name: (),
        last_name: d.name.clone(),
        mobile: d.phone.as_ref().map(|p| p.as_str().to_owned()),
        email: d.email.as_ref().map(|e| e.as_str().to_owned()),
        address: d.address.clone(),
        description: d.note.clone(),
        fax_number: "",
        tax_number: d.tax_code.clone(),
        kind: party.kind,
        customer_group_id: (),
        birthday: party.birthday.map(|b| b.to_string()),
        gender: party.gender,
        opening_balance: party.opening_balance,
        credit_limit: party.credit_limit,
        current_due: money(due),
        pay_term_number: (),
        pay_term: "",
        branch_id: party.branch_id,
        resources: party
            .resources
            .into_iter()
            .map(|(id, name)| IdName { id, name })
            .collect(),
        account_name: party.account_name.unwrap_or_default(),
        account_address: party.account_address.unwrap_or_default(),
        account_no: party.account_no.unwrap_or_default(),
        day_over_due: None,
    }
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
) -> Result<Json<Vec<CustomerOut>>, NxError> {
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
    Ok(Json(
        page.into_iter()
            .zip(dues)
            .map(|(c, due)| CustomerOut {
                day_over_due: Some(0),
                ..customer_out(c, due)
            })
            .collect(),
    ))
}

async fn customer_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Created<NewCustomer>>, NxError> {
    let c = customer_body(&s, &actor, &body).await?;
    let input = customer_input(c, None)?;
    let id = s.crm.create::<Customer>(&actor, input).await?;
    let created: Customer = s.crm.get(&actor, id).await?;
    Ok(Json(Created::new(
        "Customer created successfully",
        NewCustomer {
            id: created.seq,
            code: created.data.code,
        },
    )))
}

async fn customer_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<CustomerOut>, NxError> {
    let c = customer_by_seq(&s, &actor, &id).await?;
    let due = dues(&s, &actor, &[&c]).await?[0];
    Ok(Json(customer_out(&c, due)))
}

async fn customer_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<CustomerOut>, NxError> {
    let old = customer_by_seq(&s, &actor, &id).await?;
    let c = customer_body(&s, &actor, &body).await?;
    let input = customer_input(c, Some(&old.data))?;
    s.crm.update::<Customer>(&actor, old.id, input).await?;
    let updated: Customer = s.crm.get(&actor, old.id).await?;
    let due = dues(&s, &actor, &[&updated]).await?[0];
    Ok(Json(customer_out(&updated, due)))
}
