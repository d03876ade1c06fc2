//! CRMTOP's CRUD pattern, once: `POST …/create`, `PUT …/update` (id in the body),
//! `GET …/get/{id}`, `DELETE …/delete/{id}` and `POST …/search` (seed 000, catalog §3.1).
//! Each resource describes its DTOs and filters through [`Resource`].

use axum::extract::{Path, State};
use axum::routing::MethodFilter;
use axum::Router;
use crm_domain::search::{Field, Filter, Value};
use crm_domain::service::Managed;
use crm_domain::Actor;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    body_id, page_request, parse_time, path_id, AuditDto, Body, Caller, CrmtopError, Data,
    Envelope, PageDto,
};
use crate::body::lenient_int;
use crate::openapi::{Api, Op, Spec};
use crate::AppState;

/// How one CRMTOP resource maps onto a domain record kind.
pub(super) trait Resource: Managed {
    /// The `AddOrEdit…Request` body of create and update.
    type In: DeserializeOwned + JsonSchema + Send + 'static;
    /// The `get/{id}` object.
    type Out: Serialize + JsonSchema + Send + 'static;
    /// The `Search…Request` body (with [`PageQuery`] flattened in).
    type Query: DeserializeOwned + JsonSchema + Send + Sync + 'static;
    /// One item of a search page.
    type Item: Serialize + JsonSchema + Send + 'static;
    /// What the doc calls the record, in the OpenAPI document (`Customer`).
    const TAG: &'static str;

    fn id(body: &Self::In) -> Option<Uuid>;
    fn input(body: Self::In, actor: &Actor) -> Result<Self::Input, CrmtopError>;
    fn out(record: &Self, actor: &Actor) -> Self::Out;
    fn page(query: &Self::Query) -> &PageQuery;
    /// The criteria beyond `search`, which every resource matches on all its terms.
    fn filter(query: &Self::Query, actor: &Actor) -> Result<Filter, CrmtopError>;
    fn item(record: Self, actor: &Actor) -> Self::Item;
}

/// The fields every search body starts with.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageQuery {
    #[serde(default, deserialize_with = "lenient_int")]
    pub page_number: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    pub page_size: Option<i64>,
    #[serde(default)]
    pub search: Option<String>,
}

/// A search item: the record's fields followed by its audit fields.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "{T}_WithAudit")]
pub(super) struct WithAudit<T> {
    #[serde(flatten)]
    pub record: T,
    #[serde(flatten)]
    pub audit: AuditDto,
}

/// Which of the five routes a resource has, under `/api/v1/{prefix}/`.
pub(super) struct Routes {
    pub get: bool,
}

pub(super) fn routes<E: Resource>(spec: &mut Spec, prefix: &str, which: Routes) -> Router<AppState>
where
    E::Id: From<Uuid>,
{
    let tag = E::TAG;
    let mut api = Api::new(spec)
        .route::<E::In, Envelope<Uuid>, _, _>(
            MethodFilter::POST,
            &format!("/api/v1/{prefix}/create"),
            Op::bearer(tag, "Create"),
            create::<E>,
        )
        .route::<E::In, Envelope<Uuid>, _, _>(
            MethodFilter::PUT,
            &format!("/api/v1/{prefix}/update"),
            Op::bearer(tag, "Update (the id in the body)"),
            update::<E>,
        )
        .route::<(), Envelope<bool>, _, _>(
            MethodFilter::DELETE,
            &format!("/api/v1/{prefix}/delete/{{id}}"),
            Op::bearer(tag, "Delete"),
            remove::<E>,
        )
        .route::<E::Query, Envelope<PageDto<E::Item>>, _, _>(
            MethodFilter::POST,
            &format!("/api/v1/{prefix}/search"),
            Op::bearer(tag, "Search, a page at a time"),
            search::<E>,
        );
    if which.get {
        api = api.route::<(), Envelope<E::Out>, _, _>(
            MethodFilter::GET,
            &format!("/api/v1/{prefix}/get/{{id}}"),
            Op::bearer(tag, "Get by id"),
            get_one::<E>,
        );
    }
    api.router
}

async fn create<E: Resource>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<E::In>,
) -> Result<Data<Uuid>, CrmtopError> {
    let input = E::input(body, &actor)?;
    let id = s.crm.create::<E>(&actor, input).await?;
    Ok(Data(id.into()))
}

async fn update<E: Resource>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(body): Body<E::In>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = body_id(E::id(&body))?;
    let input = E::input(body, &actor)?;
    s.crm.update::<E>(&actor, E::Id::from(id), input).await?;
    Ok(Data(id))
}

async fn get_one<E: Resource>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<E::Out>, CrmtopError> {
    let record: E = s.crm.get(&actor, E::Id::from(path_id(&id)?)).await?;
    Ok(Data(E::out(&record, &actor)))
}

async fn remove<E: Resource>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm
        .delete::<E>(&actor, E::Id::from(path_id(&id)?))
        .await?;
    Ok(Data(true))
}

pub(super) async fn search<E: Resource>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(query): Body<E::Query>,
) -> Result<Data<PageDto<E::Item>>, CrmtopError> {
    let found = find::<E>(&s, &actor, &query).await?;
    Ok(Data(PageDto::from_page(found, |r| E::item(r, &actor))))
}

/// The page a search body asks for.
pub(super) async fn find<E: Resource>(
    s: &AppState,
    actor: &Actor,
    query: &E::Query,
) -> Result<crm_domain::search::Page<E>, CrmtopError> {
    let p = E::page(query);
    let page = page_request(p.page_number, p.page_size)?;
    let keyword = p.search.as_deref().and_then(|q| Filter::text(None, q));
    let filter = E::filter(query, actor)?.and(keyword);
    Ok(s.crm.search::<E>(actor, &filter, page).await?)
}

/// A text criterion; absent or blank means none.
pub(super) fn text_filter(
    field: crm_domain::search::TextField,
    value: &Option<String>,
) -> Option<Filter> {
    value.as_deref().and_then(|v| Filter::text(Some(field), v))
}

/// A reference criterion; absent (or the empty GUID) means none.
pub(super) fn ref_filter(field: Field, id: Option<Uuid>) -> Option<Filter> {
    id.map(|id| Filter::id(field, id))
}

/// A code criterion (`type`, `status`…); absent or 0 (.NET's "unset") means none.
pub(super) fn int_filter(field: Field, value: Option<i32>) -> Option<Filter> {
    value.filter(|v| *v != 0).map(|v| Filter::Eq {
        field,
        value: Value::Int(i64::from(v)),
    })
}

/// The `fieldDate` / `from` / `to` trio: which instant to filter on (by its wire name, case
/// insensitive; `default` when not given) and the bounds. A `to` at local midnight covers
/// that whole day, the way a date picker means it.
pub(super) fn date_range(
    field_date: &Option<String>,
    from: &Option<String>,
    to: &Option<String>,
    allowed: &[(&str, Field)],
    default: Field,
    actor: &Actor,
) -> Result<Option<Filter>, CrmtopError> {
    let tz = actor.time_zone;
    let from = parse_time("from", from.as_deref(), tz)?;
    let mut to = parse_time("to", to.as_deref(), tz)?;
    if let Some(t) = to {
        if t.with_timezone(&tz).time() == chrono::NaiveTime::MIN {
            to = Some(t + chrono::Duration::days(1) - chrono::Duration::microseconds(1));
        }
    }
    let field = match field_date
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        None => default,
        Some(name) => allowed
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                CrmtopError::field(
                    "fieldDate",
                    format!("'{name}' is not one of {}", names.join(", ")),
                )
            })?,
    };
    Ok((from.is_some() || to.is_some()).then_some(Filter::Range { field, from, to }))
}
