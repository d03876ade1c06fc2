//! NextX users and staff (seed 003 E02-E05, E12-E14): user accounts with their employee
//! record, the sales users list and the customer resources (lead sources).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use chrono::NaiveDate;
use crm_domain::ids::StaffId;
use crm_domain::inventory::StaffUser;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kit::api::*;
use super::kit::{bad, fail, id_of, Caller, EmployeeOut, IdName, NxError, Params, Status};
use crate::body::{lenient_int, parse_ci};
use crate::AppState;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    const T: &str = "Users and staff";
    Api::new(spec)
        .route::<(), Vec<UserOut>, _, _>(
            M::GET,
            "/api/user/users",
            Op::bearer(T, "Every user"),
            list,
        )
        .route::<UserIn, [UserOut; 1], _, _>(
            M::POST,
            "/api/user/users",
            Op::bearer(T, "Add a user"),
            add,
        )
        .route::<UserIn, [Status; 1], _, _>(
            M::PUT,
            "/api/user/users/{id}",
            Op::bearer(T, "Update a user").int_id(),
            update,
        )
        .route::<(), [Status; 1], _, _>(
            M::DELETE,
            "/api/user/users/{id}",
            Op::bearer(T, "Delete a user").int_id(),
            remove,
        )
        .route::<(), Vec<EmployeeRow>, _, _>(
            M::GET,
            "/api/cate/employee",
            Op::bearer(T, "Every employee").query(&[int("branch_id")]),
            employees,
        )
        // The request line says POST, the python sample GET: both.
        .route::<(), Vec<SalesUser>, _, _>(
            M::GET,
            "/api/cate/users",
            Op::bearer(T, "The sales users"),
            sales_users,
        )
        .route::<(), Vec<SalesUser>, _, _>(
            M::POST,
            "/api/cate/users",
            Op::bearer(T, "The sales users"),
            sales_users,
        )
        .route::<(), Vec<IdName<i64>>, _, _>(
            M::GET,
            "/api/cate/resources",
            Op::bearer(T, "The customer resources (lead sources)"),
            resources,
        )
        .router
}

/// Lead and customer sources offered by `cate/resources` (ours; the doc lists none).
pub const RESOURCES: [(i64, &str); 6] = [
    (1, "Facebook"),
    (2, "Zalo"),
    (3, "Website"),
    (4, "Giới thiệu"),
    (5, "Sự kiện"),
    (6, "Khác"),
];

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct EmployeeIn {
    #[serde(default)]
    code: Option<String>,
    #[serde(default, rename = "isSale")]
    is_sale: Option<bool>,
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<crm_domain::ids::PlaceId>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct UserIn {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    firstname: Option<String>,
    #[serde(default)]
    lastname: Option<String>,
    #[serde(default)]
    joined: Option<String>,
    #[serde(default)]
    designation: Option<String>,
    #[serde(default)]
    picture: Option<String>,
    #[serde(default)]
    tel: Option<Value>,
    #[serde(default, deserialize_with = "lenient_int")]
    crm_extension_id: Option<i64>,
    #[serde(default)]
    employee: Option<EmployeeIn>,
    #[serde(default, rename = "isLock", deserialize_with = "lenient_int")]
    is_lock: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    is_access_crm: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    is_validated: Option<i64>,
}

fn flag(name: &str, v: Option<i64>, old: bool) -> Result<bool, NxError> {
    match v {
        None => Ok(old),
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        Some(other) => Err(bad(name, format!("{other} is not 0 or 1"))),
    }
}

fn user(b: UserIn, old: Option<&StaffUser>) -> Result<StaffUser, NxError> {
    let base = old.cloned().unwrap_or_default();
    let joined = match b.joined.as_deref().map(str::trim).filter(|j| !j.is_empty()) {
        None => base.joined,
        Some(j) => Some(
            NaiveDate::parse_from_str(j, "%d/%m/%Y")
                .or_else(|_| NaiveDate::parse_from_str(j, "%Y-%m-%d"))
                .map_err(|_| bad("joined", format!("'{j}' is not a d/m/Y date")))?,
        ),
    };
    let tel = match &b.tel {
        None | Some(Value::Null) => base.tel.clone(),
        Some(Value::String(s)) => {
            Some(s.clone()).filter(|s| !s.trim().is_empty() && s.trim() != "0")
        }
        Some(Value::Number(n)) => Some(n.to_string()).filter(|s| s != "0"),
        Some(other) => return Err(bad("tel", format!("{other} is not a phone number"))),
    };
    let employee = b.employee.unwrap_or_default();
    Ok(StaffUser {
        id: base.id,
        username: b.username.unwrap_or(base.username),
        email: b.email.filter(|e| !e.is_empty()).or(base.email),
        firstname: b.firstname.or(base.firstname),
        lastname: b.lastname.or(base.lastname),
        joined,
        designation: b.designation.or(base.designation),
        picture: b.picture.or(base.picture),
        tel,
        crm_extension_id: b.crm_extension_id.or(base.crm_extension_id),
        employee_code: employee
            .code
            .filter(|c| !c.is_empty())
            .or(base.employee_code),
        branch_id: employee.branch_id.or(base.branch_id),
        is_sale: employee.is_sale.unwrap_or(base.is_sale),
        is_lock: flag("isLock", b.is_lock, base.is_lock)?,
        can_use_crm: flag(
            "is_access_crm",
            b.is_access_crm,
            old.is_none_or(|o| o.can_use_crm),
        )?,
        is_validated: flag("is_validated", b.is_validated, base.is_validated)?,
    }
    .validate()?)
}

/// A user account with its employee record.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct UserOut {
    id: StaffId,
    email: String,
    username: String,
    firstname: String,
    lastname: String,
    /// `dd/mm/yyyy`.
    joined: Option<String>,
    designation: String,
    picture: Option<String>,
    tel: String,
    crm_extension_id: Option<i64>,
    employee_id: StaffId,
    employee: EmployeeOut,
    #[serde(rename = "isLock")]
    is_lock: i32,
    is_access_crm: i32,
    is_validated: i32,
}

impl From<&StaffUser> for UserOut {
    fn from(u: &StaffUser) -> Self {
        Self {
            id: u.id,
            email: u.email.clone().unwrap_or_default(),
            username: u.username.clone(),
            firstname: u.firstname.clone().unwrap_or_default(),
            lastname: u.lastname.clone().unwrap_or_default(),
            joined: u.joined.map(|d| d.format("%d/%m/%Y").to_string()),
            designation: u.designation.clone().unwrap_or_default(),
            picture: u.picture.clone(),
            tel: u.tel.clone().unwrap_or_else(|| "0".to_owned()),
            crm_extension_id: u.crm_extension_id,
            employee_id: u.id,
            employee: u.into(),
            is_lock: i32::from(u.is_lock),
            is_access_crm: i32::from(u.can_use_crm),
            is_validated: i32::from(u.is_validated),
        }
    }
}

/// An employee in the employee list.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct EmployeeRow {
    id: StaffId,
    code: Option<String>,
    first_name: String,
    last_name: String,
    avatar: String,
}

/// A user who may sell.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct SalesUser {
    id: StaffId,
    name: String,
    firstname: String,
    lastname: String,
}

async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<UserOut>>, NxError> {
    let users = s.crm.users(&actor).await?;
    Ok(Json(users.iter().map(UserOut::from).collect()))
}

async fn add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<[UserOut; 1]>, NxError> {
    let b: UserIn = parse_ci(&body)?;
    let mut u = user(b, None)?;
    u.id = s.crm.save_user(&actor, u.clone()).await?;
    let saved = s
        .crm
        .users(&actor)
        .await?
        .into_iter()
        .find(|x| x.id == u.id)
        .unwrap_or(u);
    Ok(Json([UserOut::from(&saved)]))
}

async fn find(s: &AppState, actor: &crm_domain::Actor, raw: &str) -> Result<StaffUser, NxError> {
    let id = id_of(raw, "user")?;
    s.crm
        .users(actor)
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "user not found"))
}

async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<[Status; 1]>, NxError> {
    let old = find(&s, &actor, &id).await?;
    let b: UserIn = parse_ci(&body)?;
    let u = user(b, Some(&old))?;
    s.crm.save_user(&actor, u).await?;
    Ok(Json([Status::ok("User updated successfully")]))
}

async fn remove(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<[Status; 1]>, NxError> {
    let u = find(&s, &actor, &id).await?;
    s.crm.delete_user(&actor, u.id).await?;
    Ok(Json([Status::ok("User deleted successfully")]))
}

async fn employees(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<EmployeeRow>>, NxError> {
    let p = Params::parse(q)?;
    let branch = p.int("branch_id")?;
    let users = s.crm.users(&actor).await?;
    Ok(Json(
        users
            .iter()
            .filter(|u| branch.is_none() || u.branch_id == branch)
            .map(|u| EmployeeRow {
                id: u.id,
                code: u.employee_code.clone(),
                first_name: u.firstname.clone().unwrap_or_default(),
                last_name: u.lastname.clone().unwrap_or_default(),
                avatar: u.picture.clone().unwrap_or_default(),
            })
            .collect(),
    ))
}

/// Users who may sell: not locked, with CRM access.
async fn sales_users(
    State(s): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<SalesUser>>, NxError> {
    let users = s.crm.users(&actor).await?;
    Ok(Json(
        users
            .iter()
            .filter(|u| !u.is_lock && u.can_use_crm)
            .map(|u| SalesUser {
                id: u.id,
                name: u.username.clone(),
                firstname: u.firstname.clone().unwrap_or_default(),
                lastname: u.lastname.clone().unwrap_or_default(),
            })
            .collect(),
    ))
}

async fn resources(Caller(_actor): Caller) -> Json<Vec<IdName<i64>>> {
    Json(
        RESOURCES
            .iter()
            .map(|(id, name)| IdName {
                id: *id,
                name: (*name).to_owned(),
            })
            .collect(),
    )
}
