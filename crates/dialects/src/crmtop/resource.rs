//! CRMTOP's CRUD pattern, once: `POST …/create`, `PUT …/update` (id in the body),
//! `GET …/get/{id}`, `DELETE …/delete/{id}` and `POST …/search` (seed 000, catalog §3.1).
//! Each resource describes its DTOs and filters through [`Resource`].

use axum::extract::{Path, State};
use axum::routing::{delete, get, post, put};
use axum::Router;
use crm_domain::search::Filter;
use crm_domain::service::Managed;
use crm_domain::Actor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    body_id, page_request, path_id, AuditDto, Body, Caller, CrmtopError, Data, PageDto,
};
use crate::body::lenient_int;
use crate::AppState;

/// How one CRMTOP resource maps onto a domain record kind.
pub(super) trait Resource: Managed {
    /// The `AddOrEdit…Request` body of create and update.
    type In: DeserializeOwned + Send + 'static;
    /// The `get/{id}` object.
    type Out: Serialize + Send + 'static;
    /// The `Search…Request` body (with [`PageQuery`] flattened in).
    type Query: DeserializeOwned + Send + 'static;
    /// One item of a search page.
    type Item: Serialize + Send + 'static;

    fn id(body: &Self::In) -> Option<Uuid>;
    fn input(body: Self::In, actor: &Actor) -> Result<Self::Input, CrmtopError>;
    fn out(record: &Self, actor: &Actor) -> Self::Out;
    fn page(query: &Self::Query) -> &PageQuery;
    /// The criteria beyond `search`, which every resource matches on all its terms.
    fn filter(query: &Self::Query) -> Filter;
    fn item(record: Self, actor: &Actor) -> Self::Item;
}

/// The fields every search body starts with.
#[derive(Debug, Deserialize)]
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
#[derive(Debug, Serialize)]
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

pub(super) fn routes<E: Resource>(prefix: &str, which: Routes) -> Router<AppState>
where
    E::Id: From<Uuid>,
{
    let mut r = Router::new()
        .route(&format!("/api/v1/{prefix}/create"), post(create::<E>))
        .route(&format!("/api/v1/{prefix}/update"), put(update::<E>))
        .route(
            &format!("/api/v1/{prefix}/delete/{{id}}"),
            delete(remove::<E>),
        )
        .route(&format!("/api/v1/{prefix}/search"), post(search::<E>));
    if which.get {
        r = r.route(&format!("/api/v1/{prefix}/get/{{id}}"), get(get_one::<E>));
    }
    r
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

async fn search<E: Resource>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(query): Body<E::Query>,
) -> Result<Data<PageDto<E::Item>>, CrmtopError> {
    let p = E::page(&query);
    let page = page_request(p.page_number, p.page_size)?;
    let keyword = p.search.as_deref().and_then(|q| Filter::text(None, q));
    let filter = E::filter(&query).and(keyword);
    let found = s.crm.search::<E>(&actor, &filter, page).await?;
    Ok(Data(PageDto::from_page(found, |r| E::item(r, &actor))))
}

/// A text criterion; absent or blank means none.
pub(super) fn text_filter(
    field: crm_domain::search::TextField,
    value: &Option<String>,
) -> Option<Filter> {
    value.as_deref().and_then(|v| Filter::text(Some(field), v))
}

/// A reference criterion; absent (or the empty GUID) means none.
pub(super) fn ref_filter(field: crm_domain::search::RefField, id: Option<Uuid>) -> Option<Filter> {
    id.map(|id| Filter::Ref { field, id })
}
