//! What NextX's sales campaigns and opportunities answer (seed 003 E45–E52), as typed shapes.
//! The doc's opportunity carries many call-centre fields no endpoint defines; they are always
//! `null`, `0` or `[]` here, as the doc's example shows them for a fresh opportunity.

use crm_domain::ids::{PlaceId, StaffId};
use crm_domain::inventory::StaffUser;
use crm_domain::lead::Lead;
use crm_domain::list::{Campaign, STAGE_TYPES};
use crm_domain::opportunity::Opportunity;
use crm_domain::Actor;
use serde::Serialize;

use super::kit::{money, user_ref, Known, NoData, UserRefOut, NO_DATA};

/// A campaign stage's id: the campaign's number and the stage's position.
pub(super) fn stage_id(campaign: i64, order: i32) -> i64 {
    campaign * 1000 + i64::from(order)
}

pub(super) fn local_day(actor: &Actor, t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.with_timezone(&actor.time_zone).date_naive().to_string())
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct StageOut {
    id: i64,
    name: String,
    value: Option<String>,
    campaign_id: i64,
    order: i32,
    parent_id: (),
    stage_type_id: i32,
    stage_type_name: Option<&'static str>,
}

pub(super) fn stages(c: &Campaign) -> Vec<StageOut> {
    c.data
        .ext
        .as_ref()
        .map(|e| {
            e.stages
                .iter()
                .map(|s| StageOut {
                    id: stage_id(c.seq, s.order),
                    name: s.name.clone(),
                    value: s.value.clone(),
                    campaign_id: c.seq,
                    order: s.order,
                    parent_id: (),
                    stage_type_id: s.kind,
                    stage_type_name: STAGE_TYPES.get((s.kind - 1).max(0) as usize).copied(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `{id, name: null}`: a category id NextX keeps elsewhere.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct CategoryRef {
    id: i64,
    name: (),
}

/// `{name}`: who created a record.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Author {
    name: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct CampaignOut {
    id: i64,
    code: Option<String>,
    name: String,
    start_date: Option<String>,
    end_date: Option<String>,
    budget: String,
    actual_cost: (),
    objective: String,
    description: String,
    status: Option<String>,
    campaign_status: Option<CategoryRef>,
    #[serde(rename = "type")]
    kind: Option<CategoryRef>,
    impression: (),
    expected_cost: (),
    expected_revenue: (),
    assigned_to: Option<StaffId>,
    user: Author,
    assigned: Option<Known<UserRefOut>>,
    user_id: (),
    allow_duplicate_opportunity: i32,
    divide_opportunity_auto: i32,
    hide_opportunity_info: i32,
    branch_id: Option<PlaceId>,
    stage: Vec<StageOut>,
}

pub(super) fn campaign(c: &Campaign, actor: &Actor, users: &[StaffUser]) -> CampaignOut {
    let e = c.data.ext.clone().unwrap_or_default();
    CampaignOut {
        id: c.seq,
        code: c.data.code.clone(),
        name: c.data.name.clone(),
        start_date: local_day(actor, c.data.start_date),
        end_date: local_day(actor, c.data.end_date),
        budget: format!("{:.2}", c.data.budgeted_cost),
        actual_cost: (),
        objective: e.objective.unwrap_or_default(),
        description: c.data.note.clone().unwrap_or_default(),
        status: e.status_id.map(|s| s.to_string()),
        campaign_status: e.status_id.map(|id| CategoryRef { id, name: () }),
        kind: e.type_id.map(|id| CategoryRef { id, name: () }),
        impression: (),
        expected_cost: (),
        expected_revenue: (),
        assigned_to: e.assigned_to,
        user: Author {
            name: c.audit.created_by_name.clone(),
        },
        assigned: user_ref(users, e.assigned_to),
        user_id: (),
        allow_duplicate_opportunity: i32::from(e.allow_duplicate_opportunity),
        divide_opportunity_auto: i32::from(e.divide_opportunity_auto),
        hide_opportunity_info: i32::from(e.hide_opportunity_info),
        branch_id: e.branch_id,
        stage: stages(c),
    }
}

/// The stage an opportunity is at.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct OppStage {
    id: i64,
    name: String,
    stage_type_id: i32,
    order: i32,
}

/// The campaign an opportunity belongs to, in brief.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct OppCampaign {
    id: i64,
    name: String,
    start_date: Option<String>,
    end_date: Option<String>,
    allow_duplicate_opportunity: i32,
    divide_opportunity_auto: i32,
    hide_opportunity_info: i32,
    success_campaign_id: (),
    failed_campaign_id: (),
}

/// The opportunity's contact: the lead it was made for.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct OppContact {
    id: i64,
    name: String,
    email: Option<String>,
    code: String,
    mobile: Option<String>,
    address: Option<String>,
    resources: NoData,
    categories: NoData,
    relationships: NoData,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct OpportunityOut {
    id: i64,
    name: String,
    opportunity_amount: String,
    sales_stage: Option<i64>,
    probability: f64,
    description: String,
    expected_close_date: Option<String>,
    #[serde(rename = "type")]
    kind: (),
    lead_source: Option<i64>,
    campaign_id: Option<i64>,
    assigned_to: Option<StaffId>,
    user: Author,
    assigned: Option<Known<UserRefOut>>,
    lead_source_description: Option<String>,
    contact_id: Option<i64>,
    user_id: (),
    /// `success` or `failed` once a campaign's opportunity is closed.
    status: Option<&'static str>,
    reason_failed: (),
    model_name: &'static str,
    campaign: Option<OppCampaign>,
    source: (),
    stage: Option<OppStage>,
    // Call actions and their results are not modelled (no endpoint defines them).
    result_id: (),
    action_id: (),
    next_action_id: (),
    prev_action_id: (),
    perform_after_day: i32,
    perform_after_hour: i32,
    perform_after_minute: i32,
    action: (),
    next_action: (),
    prev_action: (),
    action_result: (),
    resource_contact: NoData,
    category_contact: NoData,
    relationships_contact: NoData,
    time_update_status: (),
    last_comment: (),
    contact: Option<OppContact>,
    contact_name: Option<String>,
    contact_mobile: Option<String>,
    contact_email: Option<String>,
    contact_address: Option<String>,
    created_at: String,
    updated_at: String,
    time_updated_result: Option<String>,
    tags: NoData,
    activity_log: (),
    total_money: String,
    campaign_stage: Vec<StageOut>,
}

/// What an opportunity answer needs besides the opportunity: its campaign, lead and the staff.
pub(super) struct OppContext<'a> {
    pub campaign: Option<&'a Campaign>,
    pub lead: Option<&'a Lead>,
    pub users: &'a [StaffUser],
}

pub(super) fn opportunity(actor: &Actor, o: &Opportunity, cx: OppContext<'_>) -> OpportunityOut {
    let e = o.data.ext.clone().unwrap_or_default();
    let OppContext {
        campaign,
        lead,
        users,
    } = cx;
    let stage = campaign.and_then(|c| {
        let order = e.stage_order?;
        c.data
            .ext
            .as_ref()?
            .stages
            .iter()
            .find(|st| st.order == order)
            .map(|st| OppStage {
                id: stage_id(c.seq, st.order),
                name: st.name.clone(),
                stage_type_id: st.kind,
                order: st.order,
            })
    });
    let status = match o.data.stage {
        Some(5) if e.campaign_seq.is_some() => Some("success"),
        Some(6) if e.campaign_seq.is_some() => Some("failed"),
        _ => None,
    };
    let fmt = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&actor.time_zone)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let phone = |l: &Lead| l.data.phone.as_ref().map(|p| p.as_str().to_owned());
    let email = |l: &Lead| l.data.email.as_ref().map(|m| m.as_str().to_owned());
    let address = |l: &Lead| l.data.ext.as_ref().and_then(|x| x.address.clone());
    OpportunityOut {
        id: o.seq,
        name: o.data.name.clone(),
        opportunity_amount: format!("{:.2}", o.data.amount),
        sales_stage: campaign
            .zip(e.stage_order)
            .map(|(c, order)| stage_id(c.seq, order)),
        probability: o.data.probability,
        description: o.data.description.clone().unwrap_or_default(),
        expected_close_date: local_day(actor, o.data.expected_close_date),
        kind: (),
        lead_source: e.lead_source,
        campaign_id: e.campaign_seq,
        assigned_to: e.assigned_to,
        user: Author {
            name: o.audit.created_by_name.clone(),
        },
        assigned: user_ref(users, e.assigned_to),
        lead_source_description: e.lead_source_description.clone(),
        contact_id: lead.map(|l| l.seq),
        user_id: (),
        status,
        reason_failed: (),
        model_name: "App\\Models\\Crm\\Opportunity",
        campaign: campaign.map(|c| {
            let ce = c.data.ext.clone().unwrap_or_default();
            OppCampaign {
                id: c.seq,
                name: c.data.name.clone(),
                start_date: local_day(actor, c.data.start_date),
                end_date: local_day(actor, c.data.end_date),
                allow_duplicate_opportunity: i32::from(ce.allow_duplicate_opportunity),
                divide_opportunity_auto: i32::from(ce.divide_opportunity_auto),
                hide_opportunity_info: i32::from(ce.hide_opportunity_info),
                success_campaign_id: (),
                failed_campaign_id: (),
            }
        }),
        source: (),
        stage,
        result_id: (),
        action_id: (),
        next_action_id: (),
        prev_action_id: (),
        perform_after_day: 0,
        perform_after_hour: 0,
        perform_after_minute: 0,
        action: (),
        next_action: (),
        prev_action: (),
        action_result: (),
        resource_contact: NO_DATA,
        category_contact: NO_DATA,
        relationships_contact: NO_DATA,
        time_update_status: (),
        last_comment: (),
        contact: lead.map(|l| OppContact {
            id: l.seq,
            name: l.data.full_name.clone(),
            email: email(l),
            code: format!("KH{:08}", l.seq),
            mobile: phone(l),
            address: address(l),
            resources: NO_DATA,
            categories: NO_DATA,
            relationships: NO_DATA,
        }),
        contact_name: lead.map(|l| l.data.full_name.clone()),
        contact_mobile: lead.and_then(phone),
        contact_email: lead.and_then(email),
        contact_address: lead.and_then(address),
        created_at: fmt(o.audit.created_at),
        updated_at: fmt(o.audit.updated_at),
        time_updated_result: e.stage_changed_at.map(fmt),
        tags: NO_DATA,
        activity_log: (),
        total_money: money(o.data.amount),
        campaign_stage: campaign.map(stages).unwrap_or_default(),
    }
}

/// A created opportunity and the lead (contact) it is for.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct NewOpportunity {
    pub id: i64,
    pub contact_id: i64,
}
