//! NextX sales campaigns with stages and the opportunities moving through them (seed 003
//! E45-E52) over the core campaign and opportunity: the same records CRMTOP's `campaign/*`
//! and `opportunity/*` show. A stage's id is `campaign id × 1000 + its position`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::NaiveDate;
use crm_domain::inventory::StaffUser;
use crm_domain::lead::{Lead, LeadExt, LeadInput};
use crm_domain::list::{Campaign, CampaignData, CampaignExt, Stage};
use crm_domain::money::Money;
use crm_domain::opportunity::{Opportunity, OpportunityData, OpportunityExt};
use crm_domain::search::{Field, Filter, PageRequest, Value as FilterValue};
use crm_domain::{Actor, DomainError};
use serde::Deserialize;
use serde_json::Value;

use super::kit::api::*;
use super::kit::{bad, fail, id_of, local_midnight, staff, Caller, Meta, NxError, Params};
use super::pipeline_out::{self as out, stage_id};
use crate::body::{lenient_int, lenient_num, parse_ci};
use crate::AppState;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    const C: &str = "Campaigns";
    const O: &str = "Opportunities";
    Api::new(spec)
        .route::<(), Vec<out::CampaignOut>, _, _>(
            M::GET,
            "/api/crm/campaign",
            Op::bearer(C, "Campaigns, a page").query(&[
                int("page"),
                int("pageLimit"),
                text("strSearch"),
                day("from_date"),
                day("to_date"),
            ]),
            campaigns,
        )
        .route::<CampaignIn, out::CampaignOut, _, _>(
            M::POST,
            "/api/crm/campaign",
            Op::bearer(C, "Add a campaign"),
            campaign_add,
        )
        .route::<(), Vec<super::marketing::DefinitionOut>, _, _>(
            M::GET,
            "/api/automation/automation",
            Op::bearer("Automations", "Automations, a page").query(&[
                int("page"),
                int("pageLimit"),
                text("strSearch"),
            ]),
            automations,
        )
        // Automations, and the doc's create path for campaigns (E47): the body tells them apart.
        .route::<
            Either<super::marketing::AutomationIn, CampaignIn>,
            Either<Meta<'static, super::kit::IdOnly<crm_domain::ids::DefinitionId>>, out::CampaignOut>,
            _,
            _,
        >(
            M::POST,
            "/api/automation/automation",
            Op::bearer(
                "Automations",
                "Add an automation, or a campaign (a body without `automation`, `component`, \
                 `tasks`, `trigger` or `scheduler`)",
            ),
            automation_or_campaign,
        )
        .route::<(), out::CampaignOut, _, _>(
            M::GET,
            "/api/crm/campaign/{id}",
            Op::bearer(C, "A campaign").int_id(),
            campaign_get,
        )
        .route::<CampaignIn, Meta<'static, ()>, _, _>(
            M::PUT,
            "/api/crm/campaign/{id}",
            Op::bearer(C, "Update a campaign").int_id(),
            campaign_put,
        )
        .route::<CampaignIn, Meta<'static, ()>, _, _>(
            M::POST,
            "/api/crm/campaign/{id}",
            Op::bearer(C, "Update a campaign (as the doc's samples send it)").int_id(),
            campaign_put,
        )
        .route::<(), Vec<out::OpportunityOut>, _, _>(
            M::GET,
            "/api/crm/opportunity",
            Op::bearer(O, "Opportunities, a page").query(&[
                int("page"),
                int("pageLimit"),
                text("strSearch"),
                day("from_date"),
                day("to_date"),
                day("from_date_result"),
                day("to_date_result"),
            ]),
            opportunities,
        )
        .route::<CreateIn, Meta<'static, out::NewOpportunity>, _, _>(
            M::POST,
            "/api/crm/opportunity_create",
            Op::bearer(O, "Add an opportunity"),
            opportunity_add,
        )
        .route::<(), out::OpportunityOut, _, _>(
            M::GET,
            "/api/crm/opportunity/{id}",
            Op::bearer(O, "An opportunity").int_id(),
            opportunity_get,
        )
        .route::<OpportunityIn, out::OpportunityOut, _, _>(
            M::PUT,
            "/api/crm/opportunity/{id}",
            Op::bearer(O, "Update an opportunity").int_id(),
            opportunity_put,
        )
        .route::<OpportunityIn, out::OpportunityOut, _, _>(
            M::POST,
            "/api/crm/opportunity/{id}",
            Op::bearer(O, "Update an opportunity (as the doc's samples send it)").int_id(),
            opportunity_put,
        )
        .router
}

fn ymd(field: &str, raw: &Option<String>) -> Result<Option<NaiveDate>, NxError> {
    raw.as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d")
                .map_err(|_| bad(field, format!("'{d}' is not a Y-m-d date")))
        })
        .transpose()
}

fn id_text(v: &Option<Value>, field: &str) -> Result<Option<i64>, NxError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(field, format!("'{s}' is not an id"))),
        Some(other) => Err(bad(field, format!("{other} is not an id"))),
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct StageIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    order: Option<i32>,
    #[serde(default, deserialize_with = "lenient_int")]
    stage_type_id: Option<i32>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct CorrelativeIn {
    #[serde(default, deserialize_with = "lenient_int")]
    id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    rate: Option<i64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct CampaignIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    start_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    budget: Option<f64>,
    #[serde(default)]
    objective: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    campaign_type: Option<Value>,
    #[serde(default, deserialize_with = "lenient_int")]
    assigned_to: Option<crm_domain::ids::StaffId>,
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<crm_domain::ids::PlaceId>,
    #[serde(default, deserialize_with = "lenient_int")]
    allow_duplicate_opportunity: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    divide_opportunity_auto: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    hide_opportunity_info: Option<i64>,
    #[serde(default)]
    correlatives: Vec<CorrelativeIn>,
    #[serde(default)]
    stages: Option<Vec<StageIn>>,
}

fn campaign_data(
    actor: &Actor,
    b: CampaignIn,
    old: Option<&Campaign>,
) -> Result<CampaignData, NxError> {
    let base = old.map(|c| c.data.clone());
    let mut ext: CampaignExt = base
        .as_ref()
        .and_then(|d| d.ext.clone())
        .unwrap_or_default();
    if let Some(stages) = b.stages {
        ext.stages = stages
            .into_iter()
            .enumerate()
            .map(|(i, s)| Stage {
                name: s.name.clone().unwrap_or_default(),
                value: s.value.or(s.name),
                order: s.order.unwrap_or(i as i32 + 1),
                kind: s.stage_type_id.unwrap_or(0),
            })
            .collect();
    }
    ext.objective = b.objective.or(ext.objective);
    ext.assigned_to = b.assigned_to.or(ext.assigned_to);
    ext.branch_id = b.branch_id.or(ext.branch_id);
    ext.allow_duplicate_opportunity = b
        .allow_duplicate_opportunity
        .map_or(ext.allow_duplicate_opportunity, |v| v == 1);
    ext.divide_opportunity_auto = b
        .divide_opportunity_auto
        .map_or(ext.divide_opportunity_auto, |v| v == 1);
    ext.hide_opportunity_info = b
        .hide_opportunity_info
        .map_or(ext.hide_opportunity_info, |v| v == 1);
    if !b.correlatives.is_empty() {
        ext.correlatives = b
            .correlatives
            .iter()
            .filter_map(|c| Some((c.id?, c.rate.unwrap_or(1))))
            .collect();
    }
    ext.type_id = id_text(&b.campaign_type, "campaign_type")?.or(ext.type_id);
    ext.status_id = id_text(&b.status, "status")?.or(ext.status_id);
    Ok(CampaignData {
        code: b
            .code
            .filter(|c| !c.trim().is_empty())
            .or_else(|| base.as_ref().and_then(|d| d.code.clone())),
        name: b
            .name
            .or_else(|| base.as_ref().map(|d| d.name.clone()))
            .unwrap_or_default(),
        kind: base.as_ref().and_then(|d| d.kind),
        status: base.as_ref().and_then(|d| d.status),
        start_date: local_midnight(actor, ymd("start_date", &b.start_date)?)
            .or_else(|| base.as_ref().and_then(|d| d.start_date)),
        end_date: local_midnight(actor, ymd("end_date", &b.end_date)?)
            .or_else(|| base.as_ref().and_then(|d| d.end_date)),
        expected_revenue: base.as_ref().map_or(Money::ZERO, |d| d.expected_revenue),
        budgeted_cost: b
            .budget
            .map(Money::from_f64)
            .unwrap_or_else(|| base.as_ref().map_or(Money::ZERO, |d| d.budgeted_cost)),
        actual_cost: base.as_ref().map_or(Money::ZERO, |d| d.actual_cost),
        expected_response_rate: base.as_ref().map_or(0.0, |d| d.expected_response_rate),
        actual_response_rate: base.as_ref().map_or(0.0, |d| d.actual_response_rate),
        note: b
            .description
            .or_else(|| base.as_ref().and_then(|d| d.note.clone())),
        ownership: base.map(|d| d.ownership).unwrap_or_default(),
        ext: Some(ext),
    })
}

async fn campaigns(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<out::CampaignOut>>, NxError> {
    let p = Params::parse(q)?;
    let filter = Filter::all()
        .and(p.search().and_then(|t| Filter::text(None, &t)))
        .and(p.created(&actor, "from_date", &["to_date"])?);
    let found = s
        .crm
        .search::<Campaign>(&actor, &filter, p.crm_page()?)
        .await?;
    let users = staff(&s, &actor).await?;
    Ok(Json(
        found
            .items
            .iter()
            .map(|c| out::campaign(c, &actor, &users))
            .collect(),
    ))
}

async fn campaign_by_seq(s: &AppState, actor: &Actor, seq: i64) -> Result<Campaign, NxError> {
    s.crm
        .by_seq(actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "campaign not found"))
}

async fn automations(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<super::marketing::DefinitionOut>>, NxError> {
    super::marketing::automation_list(&s, &actor, q).await
}

/// `POST /api/automation/automation`: an automation body (`automation`, `component`,
/// `tasks`…) stores an automation; a campaign body (the doc's E47) creates a campaign.
async fn automation_or_campaign(
    state: State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, NxError> {
    if super::marketing::is_automation(&body) {
        return Ok(super::marketing::automation_add(&state.0, &caller.0, &body)
            .await?
            .into_response());
    }
    Ok(campaign_add(state, caller, body).await?.into_response())
}

async fn campaign_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<out::CampaignOut>, NxError> {
    let b: CampaignIn = parse_ci(&body)?;
    let data = campaign_data(&actor, b, None)?;
    let id = s.crm.create::<Campaign>(&actor, data).await?;
    let c: Campaign = s.crm.get(&actor, id).await?;
    Ok(Json(out::campaign(&c, &actor, &staff(&s, &actor).await?)))
}

async fn campaign_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<out::CampaignOut>, NxError> {
    let c = campaign_by_seq(&s, &actor, id_of(&id, "campaign")?).await?;
    Ok(Json(out::campaign(&c, &actor, &staff(&s, &actor).await?)))
}

async fn campaign_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Meta<'static, ()>>, NxError> {
    let old = campaign_by_seq(&s, &actor, id_of(&id, "campaign")?).await?;
    let b: CampaignIn = parse_ci(&body)?;
    let data = campaign_data(&actor, b, Some(&old))?;
    s.crm.update::<Campaign>(&actor, old.id, data).await?;
    Ok(Json(Meta::ok("Successfully", ())))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct ContactIn {
    #[serde(default, deserialize_with = "lenient_int")]
    contact_id: Option<i64>,
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
    sex: Option<String>,
    #[serde(default)]
    website: Option<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct OpportunityIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    probability: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    opportunity_amount: Option<f64>,
    #[serde(default, deserialize_with = "lenient_int")]
    assigned_to: Option<crm_domain::ids::StaffId>,
    #[serde(default, deserialize_with = "lenient_int")]
    campaign_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    contact_id: Option<i64>,
    #[serde(default)]
    expected_close_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    lead_source: Option<i64>,
    #[serde(default)]
    lead_source_description: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    sales_stage: Option<i64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct CreateIn {
    #[serde(default)]
    contact: Option<ContactIn>,
    #[serde(default)]
    opportunity: Option<OpportunityIn>,
}

/// The campaign and stage an opportunity is placed in; the first stage by default.
async fn place(
    s: &AppState,
    actor: &Actor,
    campaign: Option<i64>,
    stage: Option<i64>,
) -> Result<Option<(Campaign, Stage)>, NxError> {
    let campaign = match (campaign.filter(|c| *c != 0), stage.filter(|s| *s != 0)) {
        (Some(c), _) => c,
        (None, Some(st)) => st / 1000,
        (None, None) => return Ok(None),
    };
    let c = campaign_by_seq(s, actor, campaign)
        .await
        .map_err(|_| bad("campaign_id", format!("campaign {campaign} does not exist")))?;
    let stages = c
        .data
        .ext
        .as_ref()
        .map(|e| e.stages.clone())
        .unwrap_or_default();
    let chosen = match stage.filter(|s| *s != 0) {
        Some(st) if st / 1000 == c.seq => stages
            .iter()
            .find(|x| i64::from(x.order) == st % 1000)
            .cloned(),
        Some(_) => None,
        None => stages.first().cloned(),
    };
    let chosen =
        chosen.ok_or_else(|| bad("sales_stage", format!("not a stage of campaign {}", c.seq)))?;
    Ok(Some((c, chosen)))
}

async fn opportunity_data(
    s: &AppState,
    actor: &Actor,
    o: OpportunityIn,
    lead: Option<&Lead>,
    old: Option<&Opportunity>,
) -> Result<OpportunityData, NxError> {
    let base = old.map(|x| x.data.clone());
    let mut ext: OpportunityExt = base
        .as_ref()
        .and_then(|d| d.ext.clone())
        .unwrap_or_default();
    let campaign = o.campaign_id.or(ext.campaign_seq);
    let stage = o
        .sales_stage
        .or_else(|| match (ext.campaign_seq, ext.stage_order) {
            (Some(c), Some(order)) if o.campaign_id.is_none_or(|x| x == c) => {
                Some(stage_id(c, order))
            }
            _ => None,
        });
    let placed = place(s, actor, campaign, stage).await?;
    let moved =
        placed.as_ref().map(|(c, st)| (c.seq, st.order)) != ext.campaign_seq.zip(ext.stage_order);
    if moved {
        ext.stage_changed_at = Some(crm_domain::auth::now());
    }
    ext.campaign_seq = placed.as_ref().map(|(c, _)| c.seq);
    ext.stage_order = placed.as_ref().map(|(_, st)| st.order);
    ext.lead_source = o.lead_source.or(ext.lead_source);
    ext.lead_source_description = o.lead_source_description.or(ext.lead_source_description);
    ext.assigned_to = o.assigned_to.or(ext.assigned_to);
    let stage_kind = placed.as_ref().map(|(_, st)| st.kind);
    let closed = matches!(stage_kind, Some(5 | 6));
    Ok(OpportunityData {
        code: base.as_ref().and_then(|d| d.code.clone()),
        name: o
            .name
            .or_else(|| base.as_ref().map(|d| d.name.clone()))
            .unwrap_or_default(),
        description: o
            .description
            .or_else(|| base.as_ref().and_then(|d| d.description.clone())),
        customer_id: base.as_ref().and_then(|d| d.customer_id),
        customer_name: None,
        contact_id: base.as_ref().and_then(|d| d.contact_id),
        contact_name: None,
        lead_id: lead
            .map(|l| l.id)
            .or_else(|| base.as_ref().and_then(|d| d.lead_id)),
        lead_name: None,
        amount: o
            .opportunity_amount
            .map(Money::from_f64)
            .unwrap_or_else(|| base.as_ref().map_or(Money::ZERO, |d| d.amount)),
        currency: base
            .as_ref()
            .map_or_else(|| "VND".to_owned(), |d| d.currency.clone()),
        probability: o
            .probability
            .unwrap_or_else(|| base.as_ref().map_or(0.0, |d| d.probability)),
        stage: stage_kind.or_else(|| base.as_ref().and_then(|d| d.stage)),
        priority: base.as_ref().and_then(|d| d.priority),
        source: base.as_ref().and_then(|d| d.source.clone()),
        expected_close_date: local_midnight(
            actor,
            ymd("expected_close_date", &o.expected_close_date)?,
        )
        .or_else(|| base.as_ref().and_then(|d| d.expected_close_date)),
        actual_close_date: if closed {
            base.as_ref()
                .and_then(|d| d.actual_close_date)
                .or(Some(crm_domain::auth::now()))
        } else {
            None
        },
        ownership: base.map(|d| d.ownership).unwrap_or_default(),
        ext: Some(ext),
    })
}

/// What opportunities' answers refer to: their campaigns, leads and the staff, loaded in one
/// query each for a whole page.
struct OppRefs {
    campaigns: Vec<Campaign>,
    leads: Vec<Lead>,
    users: Vec<StaffUser>,
}

async fn opp_refs(s: &AppState, actor: &Actor, opps: &[&Opportunity]) -> Result<OppRefs, NxError> {
    let mut seqs: Vec<i64> = opps
        .iter()
        .filter_map(|o| o.data.ext.as_ref().and_then(|e| e.campaign_seq))
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    let mut leads: Vec<uuid::Uuid> = opps
        .iter()
        .filter_map(|o| o.data.lead_id.map(|l| l.0))
        .collect();
    leads.sort_unstable();
    leads.dedup();
    let campaigns = match Filter::any_of(
        Field::Seq,
        seqs.iter().map(|n| FilterValue::Int(*n)).collect(),
    ) {
        Some(f) => {
            s.crm
                .search::<Campaign>(actor, &f, PageRequest::new(1, seqs.len() as u32)?)
                .await?
                .items
        }
        None => Vec::new(),
    };
    let leads = if leads.is_empty() {
        Vec::new()
    } else {
        let n = leads.len() as u32;
        s.crm
            .search::<Lead>(
                actor,
                &Filter::Ids {
                    ids: leads,
                    negate: false,
                },
                PageRequest::new(1, n)?,
            )
            .await?
            .items
    };
    Ok(OppRefs {
        campaigns,
        leads,
        users: staff(s, actor).await?,
    })
}

impl OppRefs {
    fn of<'a>(&'a self, o: &Opportunity) -> out::OppContext<'a> {
        let e = o.data.ext.as_ref();
        out::OppContext {
            campaign: e
                .and_then(|e| e.campaign_seq)
                .and_then(|c| self.campaigns.iter().find(|x| x.seq == c)),
            lead: o
                .data
                .lead_id
                .and_then(|l| self.leads.iter().find(|x| x.id == l)),
            users: &self.users,
        }
    }
}

/// One opportunity's answer, with its references.
async fn opportunity_one(
    s: &AppState,
    actor: &Actor,
    o: &Opportunity,
) -> Result<out::OpportunityOut, NxError> {
    let refs = opp_refs(s, actor, &[o]).await?;
    Ok(out::opportunity(actor, o, refs.of(o)))
}

async fn opportunities(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<out::OpportunityOut>>, NxError> {
    let p = Params::parse(q)?;
    // `from_date_result`/`to_date_result` (the doc's sample URLs): when the deal was won or lost.
    let filter = Filter::all()
        .and(p.search().and_then(|t| Filter::text(None, &t)))
        .and(p.created(&actor, "from_date", &["to_date"])?)
        .and(p.day_range(
            &actor,
            Field::ClosedAt,
            "from_date_result",
            &["to_date_result"],
        )?);
    let found = s
        .crm
        .search::<Opportunity>(&actor, &filter, p.crm_page()?)
        .await?;
    let page: Vec<&Opportunity> = found.items.iter().collect();
    let refs = opp_refs(&s, &actor, &page).await?;
    Ok(Json(
        page.iter()
            .map(|o| out::opportunity(&actor, o, refs.of(o)))
            .collect(),
    ))
}

async fn opportunity_by_seq(
    s: &AppState,
    actor: &Actor,
    raw: &str,
) -> Result<Opportunity, NxError> {
    let seq = id_of(raw, "opportunity")?;
    s.crm
        .by_seq(actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "opportunity not found"))
}

async fn lead_by_seq(s: &AppState, actor: &Actor, seq: i64) -> Result<Lead, NxError> {
    s.crm
        .by_seq(actor, seq)
        .await?
        .ok_or_else(|| bad("contact_id", format!("lead {seq} does not exist")))
}

async fn opportunity_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<Meta<'static, out::NewOpportunity>>, NxError> {
    let b: CreateIn = parse_ci(&body)?;
    let o = b
        .opportunity
        .ok_or_else(|| bad("opportunity", "is required"))?;
    let contact = b.contact.unwrap_or_default();
    let existing = match contact.contact_id.or(o.contact_id).filter(|c| *c != 0) {
        Some(seq) => Some(lead_by_seq(&s, &actor, seq).await?),
        None => None,
    };
    let data = opportunity_data(&s, &actor, o, existing.as_ref(), None).await?;
    let new_lead = match &existing {
        Some(_) => None,
        None => Some(LeadInput {
            full_name: contact
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .or_else(|| Some(data.name.clone()).filter(|n| !n.trim().is_empty())),
            phone: contact.mobile.clone().filter(|m| !m.trim().is_empty()),
            email: contact.email.clone().filter(|m| !m.trim().is_empty()),
            notes: contact.description.clone().filter(|d| !d.is_empty()),
            ext: Some(LeadExt {
                address: contact.address.clone().filter(|a| !a.is_empty()),
                sex: contact.sex.clone(),
                website: contact.website.clone().filter(|w| !w.is_empty()),
                origin: Some("opportunity".to_owned()),
                ..LeadExt::default()
            }),
            ..LeadInput::default()
        }),
    };
    // The lead and the opportunity are one unit of work: a bad opportunity writes neither.
    let (id, created_lead) = s.crm.create_opportunity(&actor, new_lead, data).await?;
    let lead: Lead = match (existing, created_lead) {
        (Some(l), _) => l,
        (None, Some(id)) => s.crm.get(&actor, id).await?,
        (None, None) => return Err(DomainError::not_found("lead").into()),
    };
    let created: Opportunity = s.crm.get(&actor, id).await?;
    Ok(Json(Meta::ok(
        "Successfully",
        out::NewOpportunity {
            id: created.seq,
            contact_id: lead.seq,
        },
    )))
}

async fn opportunity_get(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<out::OpportunityOut>, NxError> {
    let o = opportunity_by_seq(&s, &actor, &id).await?;
    Ok(Json(opportunity_one(&s, &actor, &o).await?))
}

async fn opportunity_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<out::OpportunityOut>, NxError> {
    let old = opportunity_by_seq(&s, &actor, &id).await?;
    let o: OpportunityIn = parse_ci(&body)?;
    let lead = match o.contact_id.filter(|c| *c != 0) {
        Some(seq) => Some(lead_by_seq(&s, &actor, seq).await?),
        None => None,
    };
    let data = opportunity_data(&s, &actor, o, lead.as_ref(), Some(&old)).await?;
    s.crm.update_opportunity(&actor, old.id, data).await?;
    let updated: Opportunity = s.crm.get(&actor, old.id).await?;
    Ok(Json(opportunity_one(&s, &actor, &updated).await?))
}
