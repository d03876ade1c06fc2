//! The NextX dialect kit: its error envelope and error mapping, the caller extractor, query
//! parameters (Laravel's `key[]` and `search[key]` forms, paging, day ranges in the tenant's
//! zone) and the small formatters every NextX module shares.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use crm_domain::ids::StaffId;
use crm_domain::inventory::StaffUser;
use crm_domain::search::{Field, Filter, PageRequest, TextField};
use crm_domain::{Actor, DomainError};

use crate::body::BodyError;
use crate::AppState;

pub(super) use super::wire::*;

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
        if self.flat {
            let body = Status {
                status_code: self.status.as_u16(),
                message: self.message,
            };
            (self.status, Json(body)).into_response()
        } else {
            let body = Meta {
                meta: MetaHead {
                    message: &self.message,
                    status_code: i64::from(self.status.as_u16()),
                },
                data: NO_DATA,
            };
            (self.status, Json(body)).into_response()
        }
    }
}

fn snake(field: &str) -> String {
    // A document's lines are its `products`.
    if let Some(rest) = field.strip_prefix("lines") {
        return format!("products{rest}");
    }
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
            DomainError::Forbidden { message } => fail(StatusCode::FORBIDDEN, message),
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
        match crate::caller(parts, state, || DomainError::Unauthorized).await {
            Ok(actor) => Ok(Caller(actor)),
            Err(DomainError::Unauthorized) => Err(unauthorized()),
            Err(DomainError::Forbidden { message }) => Err(NxError {
                status: StatusCode::FORBIDDEN,
                message,
                flat,
            }),
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
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        let bracketed = format!("search[{name}]");
        self.0
            .iter()
            .find(|(k, _)| k == name || *k == bracketed)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
    pub(super) fn all(&self, name: &str) -> Vec<String> {
        let arr = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == arr || k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
    /// An integer parameter, or an integer id (`PlaceId`, `CategoryId`, …).
    pub(super) fn int<T: From<i64>>(&self, name: &str) -> Result<Option<T>, NxError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map(T::from)
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
        let page: i64 = self.int("page")?.unwrap_or(0);
        if page < 0 {
            return Err(bad("page", "starts from 0"));
        }
        self.sized(page.saturating_add(1))
    }
    /// The CRM host's paging: `page` from 1 (its examples use `page=1`; 0 reads as 1).
    pub(super) fn crm_page(&self) -> Result<PageRequest, NxError> {
        self.sized(self.int::<i64>("page")?.unwrap_or(1).max(1))
    }
    /// Page `number` (1-based) of `pageLimit` items: 15 by default, 1-100.
    pub(super) fn sized(&self, number: i64) -> Result<PageRequest, NxError> {
        let limit: i64 = self.int("pageLimit")?.unwrap_or(15);
        if !(1..=100).contains(&limit) {
            return Err(bad("pageLimit", "must be between 1 and 100"));
        }
        let number = u32::try_from(number).map_err(|_| bad("page", "is too large"))?;
        // NextX's lists carry no total: the matches are not counted (a count of every customer
        // on every page was what slowed the PostgreSQL soak as the table grew).
        Ok(PageRequest::typed(number, limit as u32)?.counting_up_to(0))
    }
    /// The creation time between the whole days `from` and `to` (`Y-m-d`, the tenant's zone);
    /// the first present of `to` names is read (the lead and customer tables call it `units`).
    pub(super) fn created(
        &self,
        actor: &Actor,
        from: &str,
        to: &[&str],
    ) -> Result<Option<Filter>, NxError> {
        self.day_range(actor, Field::CreatedAt, from, to)
    }
    /// `field` between the whole days `from` and `to` (`Y-m-d`, the tenant's zone); the first
    /// present of the `to` names is read.
    pub(super) fn day_range(
        &self,
        actor: &Actor,
        field: Field,
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
            field,
            from: local_midnight(actor, f),
            to: local_midnight(actor, t)
                .map(|t| t + chrono::Duration::days(1) - chrono::Duration::microseconds(1)),
        }))
    }
    /// `branch_id` (0 or absent: every branch) as a filter on the records' branch term.
    pub(super) fn branch(&self) -> Result<Option<Filter>, NxError> {
        Ok(self
            .int::<i64>("branch_id")?
            .filter(|b| *b != 0)
            .map(|b| Filter::whole(TextField::Branch, &b.to_string())))
    }
    /// `category_id` on the lead and customer lists. The doc's bodies give a record no category,
    /// so none has one: a category other than 0 matches nothing.
    pub(super) fn no_category(&self) -> Result<Option<Filter>, NxError> {
        Ok(self
            .int::<i64>("category_id")?
            .filter(|c| *c != 0)
            .map(|_| Filter::Nothing))
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
    d.and_then(|d| crm_domain::common::day_start(actor.time_zone, d))
}

/// A path's integer id (`DocId`, `StaffId`, … or a record's number).
pub(super) fn id_of<T: From<i64>>(raw: &str, what: &str) -> Result<T, NxError> {
    raw.trim()
        .parse::<i64>()
        .map(T::from)
        .map_err(|_| bad("id", format!("'{raw}' is not the integer id of a {what}")))
}

pub(super) fn money(v: crm_domain::money::Money) -> String {
    format!("{:.4}", v.decimal())
}

pub(super) fn ok_flat(message: &str) -> Json<Status> {
    Json(Status::ok(message))
}

/// The tenant's staff, loaded once per answer that names users.
pub(super) async fn staff(s: &AppState, actor: &Actor) -> Result<Vec<StaffUser>, NxError> {
    Ok(s.crm.users(actor).await?)
}

/// A user reference (`assigned`, `user`) filled from the staff directory; an id that names no
/// user keeps only its id.
pub(super) fn user_ref(users: &[StaffUser], id: Option<StaffId>) -> Option<Known<UserRefOut>> {
    staff_ref(users, id)
}

/// An employee reference filled from the staff directory; an unknown id keeps only its id.
pub(super) fn employee_ref(users: &[StaffUser], id: Option<StaffId>) -> Option<Known<EmployeeOut>> {
    staff_ref(users, id)
}

/// What the routers document their routes with.
pub(super) mod api {
    pub(in crate::nextx) use crate::openapi::{
        day, int, needed, text, texts, Api, Either, Op, Param, Spec,
    };
    pub(in crate::nextx) use axum::routing::MethodFilter as M;

    /// A branch's goods, a page: products, purchase orders.
    pub(in crate::nextx) const BRANCH_GOODS: &[Param] = &[
        int("page"),
        int("pageLimit"),
        needed(int("branch_id")),
        int("store_id"),
        texts("type[]"),
        text("strSearch"),
    ];
    /// A span of days.
    pub(in crate::nextx) const DAYS: &[Param] = &[day("from_date"), day("to_date")];
    /// The paging and filters of the lead and customer lists.
    pub(in crate::nextx) const PEOPLE: &[Param] = &[
        int("page"),
        int("pageLimit"),
        int("branch_id"),
        int("category_id"),
        text("sttsearch"),
        day("from_date"),
        day("to_date"),
    ];
}
