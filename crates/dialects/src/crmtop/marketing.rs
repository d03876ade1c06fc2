//! CRMTOP `maktemail/*` and `maktzalo/*` (seed 000, lines 1528-1990): campaigns stored
//! and checked (segment and template exist in the tenant), and sent (now or at their
//! appointment) to their segment and uploaded list; get and search add their send totals.
//! Create and update are multipart: fields in the query (or form), the file as `FormFile`.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::Router;
use crm_domain::files::{FileOwner, Upload};
use crm_domain::marketing::{
    EmailCampaign, EmailCampaignData, EmailCampaignInput, ZaloCampaign, ZaloCampaignData,
};
use crm_domain::money::Money;
use crm_domain::search::{Field, Filter};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    body_id, local_time, opt_time, parse_time, path_id, AuditDto, Body, Caller, CrmtopError, Data,
    Envelope, PageDto,
};
use super::form::{file_url, FileDto, FormWithFiles};
use super::resource::{find, int_filter, PageQuery, Resource, WithAudit};
use crate::body::{guid, lenient_int, lenient_money};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    use crate::openapi::{Api, Op};
    use axum::routing::MethodFilter as M;
    // Multipart forms: fields as query parameters (or text parts), the file as `FormFile`.
    let forms = Api::new(spec)
        .form_route::<EmailDto, Envelope<Uuid>, _, _>(
            M::POST,
            "/api/v1/maktemail/create",
            Op::bearer(EmailCampaign::TAG, "Create, with a recipient file"),
            "FormFile",
            create::<EmailCampaign>,
        )
        .form_route::<EmailDto, Envelope<Uuid>, _, _>(
            M::PUT,
            "/api/v1/maktemail/update",
            Op::bearer(EmailCampaign::TAG, "Update (the id in the fields)"),
            "FormFile",
            update::<EmailCampaign>,
        )
        .form_route::<ZaloDto, Envelope<Uuid>, _, _>(
            M::POST,
            "/api/v1/maktzalo/create",
            Op::bearer(ZaloCampaign::TAG, "Create, with a recipient file"),
            "FormFile",
            create::<ZaloCampaign>,
        )
        .form_route::<ZaloDto, Envelope<Uuid>, _, _>(
            M::PUT,
            "/api/v1/maktzalo/update",
            Op::bearer(ZaloCampaign::TAG, "Update (the id in the fields)"),
            "FormFile",
            update::<ZaloCampaign>,
        )
        .router
        .layer(DefaultBodyLimit::disable());
    let api = documented::<EmailCampaign>(Api::new(spec), "maktemail");
    documented::<ZaloCampaign>(api, "maktzalo")
        .merge(forms)
        .router
}

/// A marketing kind's JSON routes, documented: get, delete, search.
fn documented<'a, E: Marketing>(
    api: crate::openapi::Api<'a>,
    prefix: &str,
) -> crate::openapi::Api<'a>
where
    E::Id: From<Uuid>,
{
    use crate::openapi::Op;
    use axum::routing::MethodFilter as M;
    api.route::<(), Envelope<WithFile<E::Out>>, _, _>(
        M::GET,
        &format!("/api/v1/{prefix}/get/{{id}}"),
        Op::bearer(E::TAG, "Get by id, with its recipient file"),
        get_one::<E>,
    )
    .route::<(), Envelope<bool>, _, _>(
        M::DELETE,
        &format!("/api/v1/{prefix}/delete/{{id}}"),
        Op::bearer(E::TAG, "Delete"),
        remove::<E>,
    )
    .route::<E::Query, Envelope<PageDto<WithSends<E::Item>>>, _, _>(
        M::POST,
        &format!("/api/v1/{prefix}/search"),
        Op::bearer(E::TAG, "Search, with each campaign's send totals"),
        search_sent::<E>,
    )
}

/// A marketing campaign kind: its file owner and what its file may be.
trait Marketing: Resource {
    const OWNER: FileOwner;
    /// Content types its `FormFile` may have (any accepted type when empty).
    const FILE_TYPES: &'static [&'static str];
    fn set_file_path(data: &mut Self::Data, path: String);
    /// The campaign key its messages carry.
    fn key(id: Uuid) -> String;
}

impl Marketing for EmailCampaign {
    const OWNER: FileOwner = FileOwner::EmailCampaign;
    const FILE_TYPES: &'static [&'static str] = &[];
    fn set_file_path(d: &mut EmailCampaignData, path: String) {
        d.file_path = Some(path);
    }
    fn key(id: Uuid) -> String {
        crm_domain::service::email_campaign_key(id.into())
    }
}

/// The recipient list is a spreadsheet.
const SHEETS: &[&str] = &[
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
    "text/csv; charset=utf-8",
];

impl Marketing for ZaloCampaign {
    const OWNER: FileOwner = FileOwner::ZaloCampaign;
    const FILE_TYPES: &'static [&'static str] = SHEETS;
    fn set_file_path(d: &mut ZaloCampaignData, path: String) {
        d.file_path = Some(path);
    }
    fn key(id: Uuid) -> String {
        crm_domain::service::zalo_campaign_key(id.into())
    }
}

/// At most one file, of the kind's types.
fn one_file<E: Marketing>(mut files: Vec<Upload>) -> Result<Option<Upload>, CrmtopError> {
    if files.len() > 1 {
        return Err(CrmtopError::field("FormFile", "takes one file"));
    }
    let file = files.pop();
    if let Some(f) = &file {
        if !E::FILE_TYPES.is_empty() && !E::FILE_TYPES.contains(&f.content_type.as_str()) {
            return Err(CrmtopError::field(
                "FormFile",
                format!(
                    "'{}' must be an Excel or CSV file (.xlsx, .xls, .csv)",
                    f.name
                ),
            ));
        }
    }
    Ok(file)
}

/// A recipient list must be readable now, not when the campaign runs (read off the async
/// threads: a large sheet takes a while).
async fn check_list<E: Marketing>(file: &mut Option<Upload>) -> Result<(), CrmtopError> {
    let Some(f) = file.as_mut().filter(|_| !E::FILE_TYPES.is_empty()) else {
        return Ok(());
    };
    // The bytes go to the reading thread and come back: a large list is not copied.
    let (read, bytes) =
        crm_domain::sheet::check_blocking(f.name.clone(), std::mem::take(&mut f.bytes)).await;
    f.bytes = bytes;
    match read {
        Ok(()) => Ok(()),
        Err(crm_domain::DomainError::Validation { message, .. }) => Err(CrmtopError::field(
            "FormFile",
            format!("'{}' {message}", f.name),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Stores the campaign and its file (replacing any earlier one, `filePath` pointing at it) in
/// one unit of work: a campaign sent at once goes to the list uploaded with it.
async fn save<E: Marketing>(
    s: &AppState,
    actor: &Actor,
    id: Option<Uuid>,
    input: E::Input,
    file: Option<Upload>,
) -> Result<Uuid, CrmtopError>
where
    E::Data: Clone,
{
    let id = s
        .crm
        .save_with_file::<E>(actor, id.map(E::Id::from), input, file, |f, d| {
            E::set_file_path(d, file_url(f))
        })
        .await?;
    Ok(id.into())
}

async fn create<E: Marketing>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    form: FormWithFiles<E::In>,
) -> Result<Data<Uuid>, CrmtopError>
where
    E::Data: Clone,
{
    let mut file = one_file::<E>(form.files)?;
    check_list::<E>(&mut file).await?;
    let input = E::input(form.fields, &actor)?;
    Ok(Data(save::<E>(&s, &actor, None, input, file).await?))
}

async fn update<E: Marketing>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    form: FormWithFiles<E::In>,
) -> Result<Data<Uuid>, CrmtopError>
where
    E::Data: Clone,
{
    let mut file = one_file::<E>(form.files)?;
    check_list::<E>(&mut file).await?;
    let id = body_id(E::id(&form.fields))?;
    let input = E::input(form.fields, &actor)?;
    Ok(Data(save::<E>(&s, &actor, Some(id), input, file).await?))
}

/// A campaign's send totals (ours; not in the doc): recipients met, and their messages by
/// state.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SendTotals {
    recipients: i64,
    queued: i64,
    sent: i64,
    failed: i64,
    skipped: i64,
    duplicates: i64,
    started_on: Option<String>,
    finished_on: Option<String>,
}

impl SendTotals {
    fn new(v: &crm_domain::service::BlastView, actor: &Actor) -> Self {
        let t = v.totals;
        Self {
            recipients: v.blast.recipients,
            queued: t.queued,
            sent: t.sent,
            failed: t.failed,
            skipped: t.skipped,
            duplicates: v.blast.duplicates,
            started_on: v.blast.started_at.map(|t| local_time(t, actor.time_zone)),
            finished_on: v.blast.finished_at.map(|t| local_time(t, actor.time_zone)),
        }
    }
}

/// Search items with their send totals (`null` before a send is planned).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "{T}_WithSends")]
struct WithSends<T> {
    #[serde(flatten)]
    item: T,
    send_totals: Option<SendTotals>,
}

async fn sends_of<E: Marketing>(
    s: &AppState,
    actor: &Actor,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, SendTotals)>, CrmtopError> {
    let keys: Vec<String> = ids.iter().map(|id| E::key(*id)).collect();
    let views = s.crm.blasts(actor, &keys).await?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            let key = E::key(*id);
            views
                .iter()
                .find(|v| v.blast.campaign == key)
                .map(|v| (*id, SendTotals::new(v, actor)))
        })
        .collect())
}

async fn search_sent<E: Marketing>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(query): Body<E::Query>,
) -> Result<Data<PageDto<WithSends<E::Item>>>, CrmtopError> {
    let found = find::<E>(&s, &actor, &query).await?;
    let ids: Vec<Uuid> = found.items.iter().map(|r| r.record_id().into()).collect();
    let mut sends = sends_of::<E>(&s, &actor, &ids).await?;
    Ok(Data(PageDto::from_page(found, |r| {
        let id: Uuid = r.record_id().into();
        let send_totals = sends
            .iter()
            .position(|(i, _)| *i == id)
            .map(|at| sends.swap_remove(at).1);
        WithSends {
            item: E::item(r, &actor),
            send_totals,
        }
    })))
}

/// The `get/{id}` object: the campaign and, as `formFile`, its stored file (or null).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "{T}_WithFile")]
struct WithFile<T> {
    #[serde(flatten)]
    record: T,
    form_file: Option<FileDto>,
    send_totals: Option<SendTotals>,
}

async fn get_one<E: Marketing>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<WithFile<E::Out>>, CrmtopError> {
    let id = path_id(&id)?;
    let record: E = s.crm.get(&actor, E::Id::from(id)).await?;
    let files = s.crm.files_of(&actor, E::OWNER, &[id]).await?;
    let send_totals = sends_of::<E>(&s, &actor, &[id])
        .await?
        .pop()
        .map(|(_, t)| t);
    Ok(Data(WithFile {
        record: E::out(&record, &actor),
        form_file: files.last().map(|f| FileDto::new(f, actor.time_zone)),
        send_totals,
    }))
}

async fn remove<E: Marketing>(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    s.crm
        .delete::<E>(&actor, E::Id::from(path_id(&id)?))
        .await?;
    Ok(Data(true))
}

/// `AddOrEditMaktEmailRequest` (query parameters / `get/{id}`).
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct EmailDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    supplier: Option<i32>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    template_id: Option<Uuid>,
    #[serde(default)]
    template_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    send_type: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    segment_id: Option<Uuid>,
    #[serde(default)]
    segment_name: Option<String>,
    #[serde(default)]
    file_path: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default)]
    appointment_date: Option<String>,
}

/// `SearchMaktEmailRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct EmailSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    supplier: Option<i32>,
}

impl Resource for EmailCampaign {
    const TAG: &'static str = "E-mail marketing";
    type In = EmailDto;
    type Out = EmailDto;
    type Query = EmailSearch;
    type Item = WithAudit<EmailDto>;

    fn id(b: &EmailDto) -> Option<Uuid> {
        b.id
    }
    fn input(b: EmailDto, actor: &Actor) -> Result<EmailCampaignInput, CrmtopError> {
        Ok(EmailCampaignInput {
            data: EmailCampaignData {
                code: b.code,
                name: b.name.unwrap_or_default(),
                description: b.description,
                subject: b.subject,
                supplier: b.supplier,
                from: None,
                display_name: b.display_name,
                template_id: b.template_id.map(Into::into),
                template_name: None,
                send_type: b.send_type.unwrap_or(0),
                segment_id: b.segment_id.map(Into::into),
                segment_name: None,
                file_path: b.file_path,
                status: b.status.unwrap_or(0),
                appointment_date: parse_time(
                    "appointmentDate",
                    b.appointment_date.as_deref(),
                    actor.time_zone,
                )?,
            },
            from: b.from,
        })
    }
    fn out(c: &Self, actor: &Actor) -> EmailDto {
        let d = &c.data;
        EmailDto {
            id: Some(c.id.0),
            code: d.code.clone(),
            name: Some(d.name.clone()),
            description: d.description.clone(),
            subject: d.subject.clone(),
            supplier: d.supplier,
            from: d.from.as_ref().map(|e| e.as_str().to_owned()),
            display_name: d.display_name.clone(),
            template_id: d.template_id.map(|t| t.0),
            template_name: d.template_name.clone(),
            send_type: Some(d.send_type),
            segment_id: d.segment_id.map(|t| t.0),
            segment_name: d.segment_name.clone(),
            file_path: d.file_path.clone(),
            status: Some(d.status),
            appointment_date: opt_time(d.appointment_date, actor.time_zone),
        }
    }
    fn page(q: &EmailSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &EmailSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(int_filter(Field::Status, q.status))
            .and(int_filter(Field::Supplier, q.supplier)))
    }
    fn item(c: Self, actor: &Actor) -> WithAudit<EmailDto> {
        WithAudit {
            record: Self::out(&c, actor),
            audit: AuditDto::new(&c.audit, actor.time_zone),
        }
    }
}

/// `AddOrEditMaktZaloRequest` (query parameters / `get/{id}`).
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ZaloDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    channel: Option<i32>,
    #[serde(default)]
    social_id: Option<String>,
    #[serde(default)]
    social_name: Option<String>,
    #[serde(default)]
    zns_template_id: Option<String>,
    #[serde(default)]
    zns_template_name: Option<String>,
    #[serde(default)]
    zns_template_param: Option<String>,
    #[serde(default)]
    zns_template_preview_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_money")]
    zns_template_price: Option<Money>,
    #[serde(default, deserialize_with = "guid")]
    sms_template_id: Option<Uuid>,
    #[serde(default)]
    sms_template_name: Option<String>,
    #[serde(default)]
    sms_template_param: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    send_type: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    segment_id: Option<Uuid>,
    #[serde(default)]
    segment_name: Option<String>,
    #[serde(default)]
    file_path: Option<String>,
    #[serde(default)]
    excel_header: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default)]
    appointment_date: Option<String>,
}

/// `SearchMaktZaloRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ZaloSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
}

impl Resource for ZaloCampaign {
    const TAG: &'static str = "Zalo marketing";
    type In = ZaloDto;
    type Out = ZaloDto;
    type Query = ZaloSearch;
    type Item = WithAudit<ZaloDto>;

    fn id(b: &ZaloDto) -> Option<Uuid> {
        b.id
    }
    fn input(b: ZaloDto, actor: &Actor) -> Result<ZaloCampaignData, CrmtopError> {
        Ok(ZaloCampaignData {
            code: b.code,
            name: b.name.unwrap_or_default(),
            description: b.description,
            channel: b.channel,
            social_id: b.social_id,
            social_name: b.social_name,
            zns_template_id: b.zns_template_id,
            zns_template_name: b.zns_template_name,
            zns_template_param: b.zns_template_param,
            zns_template_preview_url: b.zns_template_preview_url,
            zns_template_price: b.zns_template_price.unwrap_or_default(),
            sms_template_id: b.sms_template_id.map(Into::into),
            sms_template_name: None,
            sms_template_param: b.sms_template_param,
            send_type: b.send_type.unwrap_or(0),
            segment_id: b.segment_id.map(Into::into),
            segment_name: None,
            file_path: b.file_path,
            excel_header: b.excel_header,
            status: b.status.unwrap_or(0),
            appointment_date: parse_time(
                "appointmentDate",
                b.appointment_date.as_deref(),
                actor.time_zone,
            )?,
        })
    }
    fn out(c: &Self, actor: &Actor) -> ZaloDto {
        let d = &c.data;
        ZaloDto {
            id: Some(c.id.0),
            code: d.code.clone(),
            name: Some(d.name.clone()),
            description: d.description.clone(),
            channel: d.channel,
            social_id: d.social_id.clone(),
            social_name: d.social_name.clone(),
            zns_template_id: d.zns_template_id.clone(),
            zns_template_name: d.zns_template_name.clone(),
            zns_template_param: d.zns_template_param.clone(),
            zns_template_preview_url: d.zns_template_preview_url.clone(),
            zns_template_price: Some(d.zns_template_price),
            sms_template_id: d.sms_template_id.map(|t| t.0),
            sms_template_name: d.sms_template_name.clone(),
            sms_template_param: d.sms_template_param.clone(),
            send_type: Some(d.send_type),
            segment_id: d.segment_id.map(|t| t.0),
            segment_name: d.segment_name.clone(),
            file_path: d.file_path.clone(),
            excel_header: d.excel_header.clone(),
            status: Some(d.status),
            appointment_date: opt_time(d.appointment_date, actor.time_zone),
        }
    }
    fn page(q: &ZaloSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &ZaloSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all().and(int_filter(Field::Status, q.status)))
    }
    fn item(c: Self, actor: &Actor) -> WithAudit<ZaloDto> {
        WithAudit {
            record: Self::out(&c, actor),
            audit: AuditDto::new(&c.audit, actor.time_zone),
        }
    }
}
