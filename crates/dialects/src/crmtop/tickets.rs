//! CRMTOP `ticket/*`: tickets (multipart, with attachments), status changes, ticket types and
//! comment threads (seed 000, lines 3399-3883); and our `GET /api/v1/file/{id}` download.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::Router;
use crm_domain::files::FileOwner;
use crm_domain::ids::{FileId, TicketId, TicketTypeId};
use crm_domain::search::{Field, Filter};
use crm_domain::ticket::{self, Ticket, TicketData};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    body_id, local_time, opt_time, page_request, parse_time, path_id, AuditDto, Body, Caller,
    CrmtopError, Data, Envelope, OwnershipDto, PageDto,
};
use super::form::{FileDto, FormWithFiles};
use super::pipeline::parse_status;
use super::resource::{date_range, int_filter, ref_filter, search, PageQuery, Resource, WithAudit};
use crate::body::{guid, lenient_int};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    use crate::openapi::{Api, Op};
    use axum::routing::MethodFilter as M;
    const T: &str = "Ticket";
    // Multipart forms: fields as query parameters (or text parts), files as `FormFiles`.
    let forms = Api::new(spec)
        .form_route::<TicketDto, Envelope<Uuid>, _, _>(
            M::POST,
            "/api/v1/ticket/create",
            Op::bearer(T, "Create, with attachments"),
            "FormFiles",
            create,
        )
        .form_route::<TicketDto, Envelope<Uuid>, _, _>(
            M::PUT,
            "/api/v1/ticket/update",
            Op::bearer(T, "Update (the id in the fields), with attachments"),
            "FormFiles",
            update,
        )
        .form_route::<CommentIn, Envelope<Uuid>, _, _>(
            M::POST,
            "/api/v1/ticket/send/comment",
            Op::bearer(T, "Send a comment, with attachments"),
            "FormFiles",
            send_comment,
        )
        .router
        // Uploads are bounded per file and per request by the form reader instead.
        .layer(DefaultBodyLimit::disable());
    Api::new(spec)
        .route::<(), Envelope<TicketOut>, _, _>(
            M::GET,
            "/api/v1/ticket/get/{id}",
            Op::bearer(T, "Get by id, with its attachments"),
            get_one,
        )
        .route::<(), Envelope<bool>, _, _>(
            M::DELETE,
            "/api/v1/ticket/delete/{id}",
            Op::bearer(T, "Delete"),
            remove,
        )
        .route::<TicketSearch, Envelope<PageDto<WithAudit<TicketDto>>>, _, _>(
            M::POST,
            "/api/v1/ticket/search",
            Op::bearer(T, "Search, a page at a time"),
            search::<Ticket>,
        )
        // A state change on GET, as documented (seed 000, line 3399).
        .route::<(), Envelope<bool>, _, _>(
            M::GET,
            "/api/v1/ticket/change/status/{id}/{status}",
            Op::bearer(T, "Change the status (a GET, as documented)"),
            change_status,
        )
        .route::<CommentSearch, Envelope<PageDto<CommentDto>>, _, _>(
            M::POST,
            "/api/v1/ticket/comment/search",
            Op::bearer(T, "A ticket's comments, a page at a time"),
            comment_search,
        )
        .route::<TypeIn, Envelope<TicketTypeId>, _, _>(
            M::POST,
            "/api/v1/ticket/type/create",
            Op::bearer(T, "Create a ticket type"),
            type_create,
        )
        .route::<TypeSearch, Envelope<PageDto<TypeDto>>, _, _>(
            M::POST,
            "/api/v1/ticket/type/search",
            Op::bearer(T, "Search ticket types"),
            type_search,
        )
        .route::<(), Envelope<bool>, _, _>(
            M::DELETE,
            "/api/v1/ticket/type/{id}",
            Op::bearer(T, "Delete a ticket type").int_id(),
            type_delete,
        )
        .merge(forms)
        // Ours: the download link of `formFiles`.
        .route::<(), (), _, _>(
            M::GET,
            "/api/v1/file/{id}",
            Op::bearer(T, "An attachment's bytes (ours: the link in formFiles)").bytes(),
            download,
        )
        .router
}

/// `AddOrEditTicketRequest`: the query parameters of create/update, and the `get/{id}`
/// object (with `formFiles` listing the attachments).
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TicketDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    type_id: Option<TicketTypeId>,
    #[serde(default)]
    type_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    priority: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    channel: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default)]
    customer_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    contact_id: Option<Uuid>,
    #[serde(default)]
    contact_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    product_id: Option<Uuid>,
    #[serde(default)]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    order_id: Option<Uuid>,
    #[serde(default)]
    order_code: Option<String>,
    #[serde(flatten)]
    ownership: OwnershipDto,
    #[serde(default)]
    created_on: Option<String>,
}

/// The `get/{id}` object: the ticket and its attachments.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TicketOut {
    #[serde(flatten)]
    record: TicketDto,
    form_files: Vec<FileDto>,
}

/// `SearchTicketRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TicketSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "lenient_int")]
    type_id: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    priority: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    channel: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    contact_id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    product_id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    order_id: Option<Uuid>,
    #[serde(default)]
    field_date: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    owner_id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    org_unit_id: Option<Uuid>,
}

impl Resource for Ticket {
    const TAG: &'static str = "Ticket";
    type In = TicketDto;
    type Out = TicketDto;
    type Query = TicketSearch;
    type Item = WithAudit<TicketDto>;

    fn id(b: &TicketDto) -> Option<Uuid> {
        b.id
    }
    fn input(b: TicketDto, actor: &Actor) -> Result<TicketData, CrmtopError> {
        Ok(TicketData {
            code: b.code,
            subject: b.subject.unwrap_or_default(),
            description: b.description,
            type_id: b.type_id,
            priority: b.priority,
            status: b.status.unwrap_or(0),
            channel: b.channel,
            customer_id: b.customer_id.map(Into::into),
            contact_id: b.contact_id.map(Into::into),
            product_id: b.product_id.map(Into::into),
            order_id: b.order_id.map(Into::into),
            reported_at: parse_time("createdOn", b.created_on.as_deref(), actor.time_zone)?,
            ownership: b.ownership.into(),
            ..TicketData::default()
        })
    }
    fn out(t: &Self, actor: &Actor) -> TicketDto {
        let d = &t.data;
        TicketDto {
            id: Some(t.id.0),
            code: d.code.clone(),
            subject: Some(d.subject.clone()),
            description: d.description.clone(),
            type_id: d.type_id,
            type_name: d.type_name.clone(),
            priority: d.priority,
            status: Some(d.status),
            channel: d.channel,
            customer_id: d.customer_id.map(|i| i.0),
            customer_name: d.customer_name.clone(),
            contact_id: d.contact_id.map(|i| i.0),
            contact_name: d.contact_name.clone(),
            product_id: d.product_id.map(|i| i.0),
            product_name: d.product_name.clone(),
            order_id: d.order_id.map(|i| i.0),
            order_code: d.order_code.clone(),
            ownership: (&d.ownership).into(),
            created_on: opt_time(d.reported_at, actor.time_zone),
        }
    }
    fn page(q: &TicketSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &TicketSearch, actor: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(int_filter(Field::TicketType, q.type_id))
            .and(int_filter(Field::Priority, q.priority))
            .and(int_filter(Field::Status, q.status))
            .and(int_filter(Field::Channel, q.channel))
            .and(ref_filter(Field::Customer, q.customer_id))
            .and(ref_filter(Field::Contact, q.contact_id))
            .and(ref_filter(Field::Product, q.product_id))
            .and(ref_filter(Field::Order, q.order_id))
            .and(ref_filter(Field::Owner, q.owner_id))
            .and(ref_filter(Field::OrgUnit, q.org_unit_id))
            .and(date_range(
                &q.field_date,
                &q.from,
                &q.to,
                &[
                    ("createdOn", Field::ReportedAt),
                    ("updatedOn", Field::UpdatedAt),
                ],
                Field::ReportedAt,
                actor,
            )?))
    }
    fn item(t: Self, actor: &Actor) -> WithAudit<TicketDto> {
        WithAudit {
            record: Self::out(&t, actor),
            audit: AuditDto::new(&t.audit, actor.time_zone),
        }
    }
}

async fn create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    form: FormWithFiles<TicketDto>,
) -> Result<Data<Uuid>, CrmtopError> {
    let input = Ticket::input(form.fields, &actor)?;
    let id = s.crm.create::<Ticket>(&actor, input).await?;
    s.crm
        .attach(&actor, FileOwner::Ticket, id.0, form.files)
        .await?;
    Ok(Data(id.0))
}

/// Replaces the ticket's fields; files sent are added to its attachments.
async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    form: FormWithFiles<TicketDto>,
) -> Result<Data<Uuid>, CrmtopError> {
    let id = body_id(form.fields.id)?;
    let input = Ticket::input(form.fields, &actor)?;
    s.crm.update::<Ticket>(&actor, TicketId(id), input).await?;
    s.crm
        .attach(&actor, FileOwner::Ticket, id, form.files)
        .await?;
    Ok(Data(id))
}

async fn get_one(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<TicketOut>, CrmtopError> {
    let t: Ticket = s.crm.get(&actor, TicketId(path_id(&id)?)).await?;
    let files = s.crm.files_of(&actor, FileOwner::Ticket, &[t.id.0]).await?;
    Ok(Data(TicketOut {
        record: Ticket::out(&t, &actor),
        form_files: files
            .iter()
            .map(|f| FileDto::new(f, actor.time_zone))
            .collect(),
    }))
}

async fn remove(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm
        .delete::<Ticket>(&actor, TicketId(path_id(&id)?))
        .await?;
    Ok(Data(true))
}

async fn change_status(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, status)): Path<(String, String)>,
) -> Result<Data<bool>, CrmtopError> {
    let id = TicketId(path_id(&id)?);
    let status = parse_status(&status, ticket::STATUSES)?;
    s.crm
        .change::<Ticket>(&actor, id, |d| {
            d.status = status;
            Ok(())
        })
        .await?;
    Ok(Data(true))
}

/// The query parameters of `send/comment`. `tenantCode` is accepted; the token decides the
/// tenant.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CommentIn {
    #[serde(default, deserialize_with = "guid")]
    ticket_id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    user_id: Option<Uuid>,
    #[serde(default)]
    user_name: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

async fn send_comment(
    State(s): State<AppState>,
    Caller(actor): Caller,
    form: FormWithFiles<CommentIn>,
) -> Result<Data<Uuid>, CrmtopError> {
    let c = form.fields;
    let ticket = c
        .ticket_id
        .ok_or_else(|| CrmtopError::field("ticketId", "is required"))?;
    let id = s
        .crm
        .add_comment(
            &actor,
            TicketId(ticket),
            c.user_id,
            c.user_name,
            c.message,
            form.files,
        )
        .await?;
    Ok(Data(id.0))
}

/// `SearchCommentRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CommentSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "guid")]
    ticket_id: Option<Uuid>,
}

/// `TicketCommentDto`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CommentDto {
    id: Uuid,
    ticket_id: Uuid,
    user_id: Option<Uuid>,
    user_name: Option<String>,
    message: Option<String>,
    form_files: Vec<FileDto>,
    created_on: String,
}

async fn comment_search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<CommentSearch>,
) -> Result<Data<PageDto<CommentDto>>, CrmtopError> {
    let ticket = q
        .ticket_id
        .ok_or_else(|| CrmtopError::field("ticketId", "is required"))?;
    let page = page_request(q.page.page_number, q.page.page_size)?;
    let found = s
        .crm
        .search_comments(&actor, TicketId(ticket), q.page.search.as_deref(), page)
        .await?;
    let ids: Vec<Uuid> = found.items.iter().map(|c| c.id.0).collect();
    let files = s.crm.files_of(&actor, FileOwner::Comment, &ids).await?;
    let tz = actor.time_zone;
    Ok(Data(PageDto::from_page(found, |c| CommentDto {
        id: c.id.0,
        ticket_id: c.ticket_id.0,
        user_id: c.user_id,
        user_name: c.user_name,
        message: c.message,
        form_files: files
            .iter()
            .filter(|f| f.owner_id == c.id.0)
            .map(|f| FileDto::new(f, tz))
            .collect(),
        created_on: local_time(c.created_at, tz),
    })))
}

/// `AddOrEditTicketTypeRequest`: id 0 creates, another id renames that type.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TypeIn {
    #[serde(default, deserialize_with = "lenient_int")]
    id: Option<TicketTypeId>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `SearchTicketTypeDto`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TypeDto {
    id: TicketTypeId,
    name: String,
    note: Option<String>,
    created_on: String,
}

async fn type_create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<TypeIn>,
) -> Result<Data<TicketTypeId>, CrmtopError> {
    Ok(Data(
        s.crm.save_ticket_type(&actor, b.id, b.name, b.note).await?,
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct TypeSearch {
    #[serde(flatten)]
    page: PageQuery,
}

async fn type_search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<TypeSearch>,
) -> Result<Data<PageDto<TypeDto>>, CrmtopError> {
    let page = page_request(q.page.page_number, q.page.page_size)?;
    let found = s
        .crm
        .search_ticket_types(&actor, q.page.search.as_deref(), page)
        .await?;
    Ok(Data(PageDto::from_page(found, |t| TypeDto {
        id: t.id,
        name: t.name,
        note: t.note,
        created_on: local_time(t.created_at, actor.time_zone),
    })))
}

async fn type_delete(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    let id = id
        .trim()
        .parse::<i64>()
        .map_err(|_| CrmtopError::field("id", format!("'{id}' is not an integer")))?;
    s.crm.delete_ticket_type(&actor, id.into()).await?;
    Ok(Data(true))
}

/// Our download of a stored file: the bytes, for the tenant that owns them only.
async fn download(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Response, CrmtopError> {
    let (file, bytes) = s.crm.read_file(&actor, FileId(path_id(&id)?)).await?;
    let disposition = crate::body::disposition(&file.name);
    Ok((
        [
            (CONTENT_TYPE, file.content_type),
            (CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
