//! CRMTOP `activity/*`, `opportunity/*` and `template/*` (seed 000, lines 48-320,
//! 1991-2234 and 3214-3398).

use axum::extract::{Path, State};
use axum::Router;
use crm_domain::activity::{self, Activity, ActivityData};
use crm_domain::common::{int_in, Link};
use crm_domain::ids::ActivityId;
use crm_domain::money::Money;
use crm_domain::opportunity::{Opportunity, OpportunityData};
use crm_domain::search::{Field, Filter, TextField};
use crm_domain::template::{Template, TemplateData};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::envelope::{
    opt_time, parse_time, path_id, AuditDto, Caller, CrmtopError, Data, Envelope, OwnershipDto,
};
use super::resource::{
    date_range, int_filter, ref_filter, routes, text_filter, PageQuery, Resource, Routes, WithAudit,
};
use crate::body::{guid, lenient_int, lenient_money, lenient_num};
use crate::AppState;

pub fn router(spec: &mut crate::openapi::Spec) -> Router<AppState> {
    use crate::openapi::{Api, Op};
    use axum::routing::MethodFilter as M;
    let activities = routes::<Activity>(spec, "activity", Routes { get: true });
    let opportunities = routes::<Opportunity>(spec, "opportunity", Routes { get: true });
    let templates = routes::<Template>(spec, "template", Routes { get: true });
    Api::new(spec)
        // A state change on GET, as documented (seed 000, line 237).
        .route::<(), Envelope<bool>, _, _>(
            M::GET,
            "/api/v1/activity/status/{id}/{status}",
            Op::bearer(Activity::TAG, "Change the status (a GET, as documented)"),
            activity_status,
        )
        .merge(activities)
        .merge(opportunities)
        .merge(templates)
        .router
}

/// `AddOrEditActivityRequest`, both ways. Link names are the linked records' names.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActivityDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    priority: Option<i32>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    is_all_day: Option<bool>,
    #[serde(flatten)]
    ownership: OwnershipDto,
    #[serde(default)]
    extra_data: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    primary_type: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    primary_id: Option<Uuid>,
    #[serde(default)]
    primary_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    related_type: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    related_id: Option<Uuid>,
    #[serde(default)]
    related_name: Option<String>,
}

/// `SearchActivityRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActivitySearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    status: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    priority: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    owner_id: Option<Uuid>,
    #[serde(default, deserialize_with = "lenient_int")]
    primary_type: Option<i32>,
    #[serde(default, deserialize_with = "guid")]
    primary_id: Option<Uuid>,
    #[serde(default)]
    primary_name: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    field_date: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

fn link_parts(link: &Option<Link>) -> (Option<i32>, Option<Uuid>, Option<String>) {
    match link {
        Some(l) => (Some(l.kind.code()), Some(l.id), l.name.clone()),
        None => (None, None, None),
    }
}

impl Resource for Activity {
    const TAG: &'static str = "Activity";
    type In = ActivityDto;
    type Out = ActivityDto;
    type Query = ActivitySearch;
    type Item = WithAudit<ActivityDto>;

    fn id(body: &ActivityDto) -> Option<Uuid> {
        body.id
    }
    fn input(b: ActivityDto, actor: &Actor) -> Result<ActivityData, CrmtopError> {
        let tz = actor.time_zone;
        Ok(ActivityData {
            kind: b.kind.unwrap_or(0),
            subject: b.subject.unwrap_or_default(),
            description: b.description,
            status: b.status.unwrap_or(0),
            priority: b.priority,
            start_time: parse_time("startTime", b.start_time.as_deref(), tz)?,
            end_time: parse_time("endTime", b.end_time.as_deref(), tz)?,
            due_date: parse_time("dueDate", b.due_date.as_deref(), tz)?,
            is_all_day: b.is_all_day.unwrap_or(false),
            extra_data: b.extra_data,
            primary: Link::parse("primary", b.primary_type, b.primary_id, b.primary_name)?,
            related: Link::parse("related", b.related_type, b.related_id, b.related_name)?,
            ownership: b.ownership.into(),
            // NextX's task attributes are kept.
            ext: None,
        })
    }
    fn out(a: &Self, actor: &Actor) -> ActivityDto {
        let tz = actor.time_zone;
        let d = &a.data;
        let (primary_type, primary_id, primary_name) = link_parts(&d.primary);
        let (related_type, related_id, related_name) = link_parts(&d.related);
        ActivityDto {
            id: Some(a.id.0),
            kind: Some(d.kind),
            subject: Some(d.subject.clone()),
            description: d.description.clone(),
            status: Some(d.status),
            priority: d.priority,
            start_time: opt_time(d.start_time, tz),
            end_time: opt_time(d.end_time, tz),
            due_date: opt_time(d.due_date, tz),
            is_all_day: Some(d.is_all_day),
            ownership: (&d.ownership).into(),
            extra_data: d.extra_data.clone(),
            primary_type,
            primary_id,
            primary_name,
            related_type,
            related_id,
            related_name,
        }
    }
    fn page(q: &ActivitySearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &ActivitySearch, actor: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(int_filter(Field::Kind, q.kind))
            .and(int_filter(Field::Status, q.status))
            .and(int_filter(Field::Priority, q.priority))
            .and(ref_filter(Field::Owner, q.owner_id))
            .and(int_filter(Field::PrimaryKind, q.primary_type))
            .and(ref_filter(Field::Primary, q.primary_id))
            .and(text_filter(TextField::PrimaryName, &q.primary_name))
            .and(text_filter(TextField::Subject, &q.subject))
            .and(date_range(
                &q.field_date,
                &q.from,
                &q.to,
                &[
                    ("startTime", Field::StartTime),
                    ("endTime", Field::EndTime),
                    ("dueDate", Field::DueDate),
                    ("createdOn", Field::CreatedAt),
                    ("updatedOn", Field::UpdatedAt),
                ],
                Field::StartTime,
                actor,
            )?))
    }
    fn item(a: Self, actor: &Actor) -> Self::Item {
        WithAudit {
            record: Self::out(&a, actor),
            audit: AuditDto::new(&a.audit, actor.time_zone),
        }
    }
}

async fn activity_status(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, status)): Path<(String, String)>,
) -> Result<Data<bool>, CrmtopError> {
    let id = ActivityId(path_id(&id)?);
    let status = parse_status(&status, activity::STATUSES)?;
    s.crm
        .change::<Activity>(&actor, id, |d| {
            d.status = status;
            Ok(())
        })
        .await?;
    Ok(Data(true))
}

/// The `{status}` of a status route: an integer in `range`.
pub(super) fn parse_status(
    raw: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<i32, CrmtopError> {
    let n = raw
        .trim()
        .parse::<i32>()
        .map_err(|_| CrmtopError::field("status", format!("'{raw}' is not an integer")))?;
    Ok(int_in("status", Some(n), range)?.unwrap_or(n))
}

/// `AddOrEditOpportunityRequest`, both ways.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct OpportunityDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default)]
    customer_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    contact_id: Option<Uuid>,
    #[serde(default)]
    contact_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    lead_id: Option<Uuid>,
    #[serde(default)]
    lead_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_money")]
    amount: Option<Money>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    probability: Option<f64>,
    #[serde(default, deserialize_with = "lenient_int")]
    stage: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    priority: Option<i32>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    expected_close_date: Option<String>,
    #[serde(default)]
    actual_close_date: Option<String>,
    #[serde(flatten)]
    ownership: OwnershipDto,
}

/// `SearchOpportunityRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct OpportunitySearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, deserialize_with = "guid")]
    customer_id: Option<Uuid>,
    #[serde(default)]
    customer_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    contact_id: Option<Uuid>,
    #[serde(default)]
    contact_name: Option<String>,
    #[serde(default, deserialize_with = "guid")]
    lead_id: Option<Uuid>,
    #[serde(default)]
    lead_name: Option<String>,
}

impl Resource for Opportunity {
    const TAG: &'static str = "Opportunity";
    type In = OpportunityDto;
    type Out = OpportunityDto;
    type Query = OpportunitySearch;
    type Item = WithAudit<OpportunityDto>;

    fn id(body: &OpportunityDto) -> Option<Uuid> {
        body.id
    }
    fn input(b: OpportunityDto, actor: &Actor) -> Result<OpportunityData, CrmtopError> {
        let tz = actor.time_zone;
        Ok(OpportunityData {
            code: b.code,
            name: b.name.unwrap_or_default(),
            description: b.description,
            customer_id: b.customer_id.map(Into::into),
            customer_name: None,
            contact_id: b.contact_id.map(Into::into),
            contact_name: None,
            lead_id: b.lead_id.map(Into::into),
            lead_name: None,
            amount: b.amount.unwrap_or_default(),
            currency: b.currency.unwrap_or_default(),
            probability: b.probability.unwrap_or(0.0),
            stage: b.stage,
            priority: b.priority,
            source: b.source,
            expected_close_date: parse_time(
                "expectedCloseDate",
                b.expected_close_date.as_deref(),
                tz,
            )?,
            actual_close_date: parse_time("actualCloseDate", b.actual_close_date.as_deref(), tz)?,
            ownership: b.ownership.into(),
            // NextX's pipeline attributes are kept.
            ext: None,
        })
    }
    fn out(o: &Self, actor: &Actor) -> OpportunityDto {
        let tz = actor.time_zone;
        let d = &o.data;
        OpportunityDto {
            id: Some(o.id.0),
            code: d.code.clone(),
            name: Some(d.name.clone()),
            description: d.description.clone(),
            customer_id: d.customer_id.map(|i| i.0),
            customer_name: d.customer_name.clone(),
            contact_id: d.contact_id.map(|i| i.0),
            contact_name: d.contact_name.clone(),
            lead_id: d.lead_id.map(|i| i.0),
            lead_name: d.lead_name.clone(),
            amount: Some(d.amount),
            currency: Some(d.currency.clone()),
            probability: Some(d.probability),
            stage: d.stage,
            priority: d.priority,
            source: d.source.clone(),
            expected_close_date: opt_time(d.expected_close_date, tz),
            actual_close_date: opt_time(d.actual_close_date, tz),
            ownership: (&d.ownership).into(),
        }
    }
    fn page(q: &OpportunitySearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &OpportunitySearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all()
            .and(ref_filter(Field::Customer, q.customer_id))
            .and(text_filter(TextField::CustomerName, &q.customer_name))
            .and(ref_filter(Field::Contact, q.contact_id))
            .and(text_filter(TextField::ContactName, &q.contact_name))
            .and(ref_filter(Field::Lead, q.lead_id))
            .and(text_filter(TextField::LeadName, &q.lead_name)))
    }
    fn item(o: Self, actor: &Actor) -> Self::Item {
        WithAudit {
            record: Self::out(&o, actor),
            audit: AuditDto::new(&o.audit, actor.time_zone),
        }
    }
}

/// `AddOrEditTemplateRequest`, both ways.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TemplateDto {
    #[serde(default, deserialize_with = "guid")]
    id: Option<Uuid>,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

/// `SearchTemplateDto`: the template, its placeholders and audit fields.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TemplateItem {
    #[serde(flatten)]
    record: TemplateDto,
    placeholders: Vec<String>,
    #[serde(flatten)]
    audit: AuditDto,
}

/// `SearchTemplateRequest`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct TemplateSearch {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default, rename = "type", deserialize_with = "lenient_int")]
    kind: Option<i32>,
}

impl Resource for Template {
    const TAG: &'static str = "Template";
    type In = TemplateDto;
    type Out = TemplateDto;
    type Query = TemplateSearch;
    type Item = TemplateItem;

    fn id(body: &TemplateDto) -> Option<Uuid> {
        body.id
    }
    fn input(b: TemplateDto, _: &Actor) -> Result<TemplateData, CrmtopError> {
        Ok(TemplateData {
            kind: b.kind.unwrap_or(0),
            name: b.name.unwrap_or_default(),
            content: b.content.unwrap_or_default(),
        })
    }
    fn out(t: &Self, _: &Actor) -> TemplateDto {
        TemplateDto {
            id: Some(t.id.0),
            kind: Some(t.data.kind),
            name: Some(t.data.name.clone()),
            content: Some(t.data.content.clone()),
        }
    }
    fn page(q: &TemplateSearch) -> &PageQuery {
        &q.page
    }
    fn filter(q: &TemplateSearch, _: &Actor) -> Result<Filter, CrmtopError> {
        Ok(Filter::all().and(int_filter(Field::Kind, q.kind)))
    }
    fn item(t: Self, actor: &Actor) -> TemplateItem {
        TemplateItem {
            record: Self::out(&t, actor),
            placeholders: t.data.placeholders(),
            audit: AuditDto::new(&t.audit, actor.time_zone),
        }
    }
}
