//! CRMTOP `segment/*` and `campaign/*`, including their members (seed 000, lines 322-661
//! and 2900-3213).

use axum::extract::{Path, State};
use axum::Router;
use crm_domain::list::{
    member_kind, Campaign, CampaignData, ListKind, Member, Segment, SegmentData,
};
use crm_domain::money::Money;
use crm_domain::search::{Field, Filter};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    local_time, opt_time, page_request, parse_time, AuditDto, Body, Caller, CrmtopError, Data,
    Envelope, OwnershipDto, PageDto,
};
use super::resource::{int_filter, routes, PageQuery, Resource, Routes};
use crate::body::{guid, lenient_int, lenient_money, lenient_num};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    use crate::openapi::{Api, Op};
    use axum::routing::MethodFilter as M;
    let segments = routes::<Segment>(spec, "segment", Routes { get: true });
    let campaigns = routes::<Campaign>(spec, "campaign", Routes { get: true });
    Api::new(spec)
        .route::<MemberAdd, Envelope<bool>, _, _>(
            M::POST,
            "/api/v1/segment/member/add",
            Op::bearer(Segment::TAG, "Add members"),
            segment_member_add,
        )
        // A delete on POST with a body, as documented (seed 000, line 3041).
        .route::<MemberDelete, Envelope<bool>, _, _>(
            M::POST,
            "/api/v1/segment/member/delete",
            Op::bearer(Segment::TAG, "Remove members (a POST, as documented)"),
            segment_member_delete,
        )
        .route::<MemberSearch, Envelope<PageDto<MemberDto>>, _, _>(
            M::POST,
            "/api/v1/segment/member/search",
            Op::bearer(Segment::TAG, "Search members"),
            segment_member_search,
        )
        .route::<MemberAdd, Envelope<bool>, _, _>(
            M::POST,
            "/api/v1/campaign/member/add",
            Op::bearer(Campaign::TAG, "Add members"),
            campaign_member_add,
        )
        .route::<(), Envelope<bool>, _, _>(
            M::DELETE,
            "/api/v1/campaign/member/delete/{id}",
            Op::bearer(Campaign::TAG, "Remove a member").int_id(),
            campaign_member_delete,
        )
        .route::<MemberSearch, Envelope<PageDto<MemberDto>>, _, _>(
            M::POST,
            "/api/v1/campaign/member/search",
            Op::bearer(Campaign::TAG, "Search members"),
            campaign_member_search,
        )
        .merge(segments)
        .merge(campaigns)
        .router
}

/// `AddOrEditSegmentRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SegmentIn {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// `SearchSegmentDto`: what `get/{id}` and search items are.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct SegmentDto {
    id: Uuid,
    name: String,
    total_member: i64,
    description: Option<String>,
    created_by: Option<Uuid>,
    created_by_name: Option<String>,
    created_on: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(super) struct SegmentSearch {
    #[serde(flatten)]
    page: PageQuery,
}

impl Resource for Segment {
    const TAG: &'static str = "Segment";
    type In = SegmentIn;
    type Out = SegmentDto;
    type Query = SegmentSearch;
    type Item = SegmentDto;

    fn id(body: &SegmentIn) -> Option<Uuid> {
        body.id
    }
    fn input(b: SegmentIn, _: &Actor) -> Result<SegmentData, CrmtopError> {
        Ok(SegmentData {
            name: b.name.unwrap_or_default(),
            description: b.description,
        })
    }
    fn out(s: &Self, actor: &Actor) -> SegmentDto {
        SegmentDto {
            id: s.id.0,
            name: s.data.name.clone(),
            total_member: s.total_members,
            description: s.data.description.clone(),
            created_by: s.audit.created_by,
            created_by_name: s.audit.created_by_name.clone(),
            created_on: local_time(s.audit.created_at, actor.time_zone),
        }
    }
    fn page(q: &SegmentSearch) -> &PageQuery {
        &q.page
    }
    fn filter(_: &SegmentSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all())
    }
    fn item(s: Self, actor: &Actor) -> SegmentDto {
        Self::out(&s, actor)
    }
}

/// `SaveCampaignRequest`, both ways.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CampaignDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default)]
    start_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_money")]
    expected_revenue: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    budgeted_cost: Option<Money>,
    #[serde(default, deserialize_with = "lenient_money")]
    actual_cost: Option<Money>,
    #[serde(default, deserialize_with = "lenient_num")]
    expected_response_rate: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    actual_response_rate: Option<f64>,
    #[serde(default)]
    note: Option<String>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

/// `SearchCampaignDto`: the campaign, its member count and audit fields.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CampaignItem {
    #[serde(flatten)]
    record: CampaignDto,
    total_member: i64,
    #[serde(flatten)]
    audit: AuditDto,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CampaignSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
}

impl Resource for Campaign {
    const TAG: &'static str = "Campaign";
    type In = CampaignDto;
    type Out = CampaignDto;
    type Query = CampaignSearch;
    type Item = CampaignItem;

    fn id(body: &CampaignDto) -> Option<Uuid> {
        body.id
    }
    fn input(b: CampaignDto, actor: &Actor) -> Result<CampaignData, CrmtopError> {
        let tz = actor.time_zone;
        Ok(CampaignData {
            code: b.code,
            name: b.name.unwrap_or_default(),
            kind: b.kind,
            status: b.status,
            start_date: parse_time("startDate", b.start_date.as_deref(), tz)?,
            end_date: parse_time("endDate", b.end_date.as_deref(), tz)?,
            expected_revenue: b.expected_revenue.unwrap_or_default(),
            budgeted_cost: b.budgeted_cost.unwrap_or_default(),
            actual_cost: b.actual_cost.unwrap_or_default(),
            expected_response_rate: b.expected_response_rate.unwrap_or(0.0),
            actual_response_rate: b.actual_response_rate.unwrap_or(0.0),
            note: b.note,
            ownership: b.ownership.into(),
            // NextX's stages are kept.
            ext: None,
        })
    }
    fn out(c: &Self, actor: &Actor) -> CampaignDto {
        let tz = actor.time_zone;
        let d = &c.data;
        CampaignDto {
            id: Some(c.id.0),
            code: d.code.clone(),
            name: Some(d.name.clone()),
            kind: d.kind,
            status: d.status,
            start_date: opt_time(d.start_date, tz),
            end_date: opt_time(d.end_date, tz),
            expected_revenue: Some(d.expected_revenue),
            budgeted_cost: Some(d.budgeted_cost),
            actual_cost: Some(d.actual_cost),
            expected_response_rate: Some(d.expected_response_rate),
            actual_response_rate: Some(d.actual_response_rate),
            note: d.note.clone(),
            ownership: (&d.ownership).into(),
        }
    }
    fn page(q: &CampaignSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &CampaignSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(int_filter(Field::Kind, q.kind))
            .and(int_filter(Field::Status, q.status)))
    }
    fn item(c: Self, actor: &Actor) -> CampaignItem {
        CampaignItem {
            record: Self::out(&c, actor),
            total_member: c.total_members,
            audit: AuditDto::new(&c.audit, actor.time_zone),
        }
    }
}

/// `AddSegMemberRequest` / `SaveCampMemberRequest` (the list id under either name).
/// `maktReports` (item shape undocumented) is accepted and ignored.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MemberAdd {
    #[serde(default, deserialize_with = "guid")]
    segment_id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    campaign_id: Option<Uuid>,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    makt_reports: Option<serde_json::Value>,
}

/// `DeleteSegMemberRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MemberDelete {
    #[serde(default, deserialize_with = "guid")]
    segment_id: Option<Uuid>,
    #[serde(default)]
    ids: Vec<crm_domain::ids::MemberId>,
}

/// `SearchSegMemberRequest` / `SearchCampMemberRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MemberSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "guid")]
    segment_id: Option<Uuid>,
    #[serde(default, deserialize_with = "guid")]
    campaign_id: Option<Uuid>,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
}

/// `SearchSegMemberDto` / `SearchCampMemberDto`: the row id (what delete takes), the list,
/// the member's type and record id, its current name, phone and e-mail, and when it was added.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct MemberDto {
    id: crm_domain::ids::MemberId,
    #[serde(skip_serializing_if = "Option::is_none")]
    segment_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign_id: Option<Uuid>,
    #[serde(rename = "type")]
    kind: i32,
    member_id: Uuid,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    created_by: Option<Uuid>,
    created_by_name: Option<String>,
    created_on: String,
}

fn member_dto(list: ListKind, m: Member, actor: &Actor) -> MemberDto {
    MemberDto {
        id: m.id,
        segment_id: (list == ListKind::Segment).then_some(m.list_id),
        campaign_id: (list == ListKind::Campaign).then_some(m.list_id),
        kind: m.kind.code(),
        member_id: m.record_id,
        name: m.name,
        phone: m.phone,
        email: m.email,
        created_by: m.added_by,
        created_by_name: m.added_by_name,
        created_on: local_time(m.added_at, actor.time_zone),
    }
}

fn list_id(id: Option<Uuid>, field: &str) -> Result<Uuid, CrmtopError> {
    id.ok_or_else(|| CrmtopError::field(field, "is required"))
}

async fn add(
    s: &AppState,
    actor: &Actor,
    list: ListKind,
    id: Uuid,
    b: MemberAdd,
) -> Result<Data<bool>, CrmtopError> {
    let kind = member_kind("type", b.kind)?;
    let ids = b
        .ids
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            raw.trim()
                .parse::<Uuid>()
                .map_err(|_| CrmtopError::field("ids", format!("[{i}] '{raw}' is not a GUID")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    s.crm.add_members(actor, list, id, kind, ids).await?;
    Ok(Data(true))
}

async fn search(
    s: &AppState,
    actor: &Actor,
    list: ListKind,
    id: Uuid,
    q: MemberSearch,
) -> Result<Data<PageDto<MemberDto>>, CrmtopError> {
    let page = page_request(q.page.page_number, q.page.page_size)?;
    let kind = match q.kind.filter(|k| *k != 0) {
        Some(k) => Some(member_kind("type", Some(k))?),
        None => None,
    };
    let text = q.page.search.as_deref().and_then(|t| Filter::text(None, t));
    let found = s
        .crm
        .search_members(actor, list, id, kind, text.as_ref(), page)
        .await?;
    Ok(Data(PageDto::from_page(found, |m| {
        member_dto(list, m, actor)
    })))
}

async fn segment_member_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<MemberAdd>,
) -> Result<Data<bool>, CrmtopError> {
    let id = list_id(b.segment_id, "segmentId")?;
    add(&s, &actor, ListKind::Segment, id, b).await
}

async fn campaign_member_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<MemberAdd>,
) -> Result<Data<bool>, CrmtopError> {
    let id = list_id(b.campaign_id, "campaignId")?;
    add(&s, &actor, ListKind::Campaign, id, b).await
}

async fn segment_member_delete(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<MemberDelete>,
) -> Result<Data<bool>, CrmtopError> {
    let id = list_id(b.segment_id, "segmentId")?;
    s.crm
        .remove_members(&actor, ListKind::Segment, Some(id), &b.ids)
        .await?;
    Ok(Data(true))
}

async fn campaign_member_delete(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Data<bool>, CrmtopError> {
    let id = id
        .trim()
        .parse::<i64>()
        .map_err(|_| CrmtopError::field("id", format!("'{id}' is not an integer member id")))?;
    s.crm
        .remove_members(&actor, ListKind::Campaign, None, &[id.into()])
        .await?;
    Ok(Data(true))
}

async fn segment_member_search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<MemberSearch>,
) -> Result<Data<PageDto<MemberDto>>, CrmtopError> {
    let id = list_id(q.segment_id, "segmentId")?;
    search(&s, &actor, ListKind::Segment, id, q).await
}

async fn campaign_member_search(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Body(q): Body<MemberSearch>,
) -> Result<Data<PageDto<MemberDto>>, CrmtopError> {
    let id = list_id(q.campaign_id, "campaignId")?;
    search(&s, &actor, ListKind::Campaign, id, q).await
}
