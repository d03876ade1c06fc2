//! Storage of activities, opportunities and message templates.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::activity::{Activity, ActivityData};
use crm_domain::common::{Link, RecordKind};
use crm_domain::ids::{ActivityId, OpportunityId, TemplateId};
use crm_domain::opportunity::{Opportunity, OpportunityData};
use crm_domain::search::{Field, TextField};
use crm_domain::template::{Template, TemplateData};
use crm_domain::{DomainError, DomainResult};
use sea_query::SimpleExpr;
use uuid::Uuid;

use crate::common::{ownership_values, OwnershipRow, OWNERSHIP_COLUMNS};
use crate::table::{v, vm, AuditRow, Table};
use crm_domain::money::Money;

/// The three columns of a link: kind code, id, name.
fn link_values(link: &Option<Link>) -> [SimpleExpr; 3] {
    [
        v(link.as_ref().map(|l| l.kind.code())),
        v(link.as_ref().map(|l| l.id)),
        v(link.as_ref().and_then(|l| l.name.clone())),
    ]
}

fn link_from(
    kind: Option<i32>,
    id: Option<Uuid>,
    name: Option<String>,
) -> DomainResult<Option<Link>> {
    match (kind, id) {
        (Some(kind), Some(id)) => Ok(Some(Link {
            kind: RecordKind::from_code("kind", kind)
                .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored link: {e}")))?,
            id,
            name,
        })),
        _ => Ok(None),
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ActivityRow {
    seq: i64,
    id: Uuid,
    kind: i32,
    subject: String,
    description: Option<String>,
    status: i32,
    priority: Option<i32>,
    start_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
    due_date: Option<DateTime<Utc>>,
    is_all_day: bool,
    extra_data: Option<String>,
    primary_kind: Option<i32>,
    primary_id: Option<Uuid>,
    primary_name: Option<String>,
    related_kind: Option<i32>,
    related_id: Option<Uuid>,
    related_name: Option<String>,
    ext_json: Option<String>,
    #[sqlx(flatten)]
    ownership: OwnershipRow,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct TaskJson {
    progress: i32,
    category_id: Option<i64>,
    color: Option<String>,
    assigned_to: Option<crm_domain::ids::StaffId>,
    parent_id: Option<i64>,
}

#[async_trait]
impl Table for Activity {
    const TABLE: &'static str = "activities";
    const ENTITY_CODE: i16 = 5;
    const COLUMNS: &'static [&'static str] = &[
        "kind",
        "subject",
        "description",
        "status",
        "priority",
        "start_time",
        "end_time",
        "due_date",
        "is_all_day",
        "extra_data",
        "primary_kind",
        "primary_id",
        "primary_name",
        "related_kind",
        "related_id",
        "related_name",
        "ext_json",
        OWNERSHIP_COLUMNS[0],
        OWNERSHIP_COLUMNS[1],
        OWNERSHIP_COLUMNS[2],
        OWNERSHIP_COLUMNS[3],
    ];
    type Row = ActivityRow;

    fn from_row(r: ActivityRow) -> DomainResult<Self> {
        Ok(Activity {
            id: ActivityId(r.id),
            seq: r.seq,
            data: ActivityData {
                kind: r.kind,
                subject: r.subject,
                description: r.description,
                status: r.status,
                priority: r.priority,
                start_time: r.start_time,
                end_time: r.end_time,
                due_date: r.due_date,
                is_all_day: r.is_all_day,
                extra_data: r.extra_data,
                primary: link_from(r.primary_kind, r.primary_id, r.primary_name)?,
                related: link_from(r.related_kind, r.related_id, r.related_name)?,
                ownership: r.ownership.into(),
                ext: match r.ext_json {
                    None => None,
                    Some(raw) => {
                        let j: TaskJson = serde_json::from_str(&raw).map_err(|e| {
                            DomainError::Internal(anyhow::anyhow!("stored task: {e}"))
                        })?;
                        Some(crm_domain::activity::TaskExt {
                            progress: j.progress,
                            category_id: j.category_id,
                            color: j.color,
                            assigned_to: j.assigned_to,
                            parent_id: j.parent_id,
                        })
                    }
                },
            },
            audit: r.audit.into(),
        })
    }

    fn values(d: &ActivityData) -> Vec<SimpleExpr> {
        let mut out = vec![
            v(d.kind),
            v(d.subject.clone()),
            v(d.description.clone()),
            v(d.status),
            v(d.priority),
            v(d.start_time),
            v(d.end_time),
            v(d.due_date),
            v(d.is_all_day),
            v(d.extra_data.clone()),
        ];
        out.extend(link_values(&d.primary));
        out.extend(link_values(&d.related));
        out.push(v(d.ext.as_ref().map(|e| {
            serde_json::to_string(&TaskJson {
                progress: e.progress,
                category_id: e.category_id,
                color: e.color.clone(),
                assigned_to: e.assigned_to,
                parent_id: e.parent_id,
            })
            .unwrap_or_else(|_| "{}".to_owned())
        })));
        out.extend(ownership_values(&d.ownership));
        out
    }

    fn keep_on_update(old: &Self, data: &mut ActivityData) {
        if data.ext.is_none() {
            data.ext.clone_from(&old.data.ext);
        }
    }

    fn terms(d: &ActivityData) -> Vec<(TextField, String)> {
        d.terms()
    }

    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::Kind => "kind",
            Field::Status => "status",
            Field::Priority => "priority",
            Field::OrgUnit => "org_unit_id",
            Field::Primary => "primary_id",
            Field::PrimaryKind => "primary_kind",
            Field::StartTime => "start_time",
            Field::EndTime => "end_time",
            Field::DueDate => "due_date",
            Field::Seq => "seq",
            _ => return None,
        })
    }
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct OppJson {
    campaign_seq: Option<i64>,
    stage_order: Option<i32>,
    lead_source: Option<i64>,
    lead_source_description: Option<String>,
    assigned_to: Option<crm_domain::ids::StaffId>,
    stage_changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OpportunityRow {
    seq: i64,
    id: Uuid,
    code: String,
    name: String,
    description: Option<String>,
    customer_id: Option<Uuid>,
    customer_name: Option<String>,
    contact_id: Option<Uuid>,
    contact_name: Option<String>,
    lead_id: Option<Uuid>,
    lead_name: Option<String>,
    amount: f64,
    currency: String,
    probability: f64,
    stage: Option<i32>,
    priority: Option<i32>,
    source: Option<String>,
    expected_close_date: Option<DateTime<Utc>>,
    actual_close_date: Option<DateTime<Utc>>,
    opp_json: Option<String>,
    #[sqlx(flatten)]
    ownership: OwnershipRow,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[async_trait]
impl Table for Opportunity {
    const TABLE: &'static str = "opportunities";
    const ENTITY_CODE: i16 = 6;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another opportunity already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "description",
        "customer_id",
        "customer_name",
        "contact_id",
        "contact_name",
        "lead_id",
        "lead_name",
        "amount",
        "currency",
        "probability",
        "stage",
        "priority",
        "source",
        "expected_close_date",
        "actual_close_date",
        "opp_json",
        OWNERSHIP_COLUMNS[0],
        OWNERSHIP_COLUMNS[1],
        OWNERSHIP_COLUMNS[2],
        OWNERSHIP_COLUMNS[3],
    ];
    type Row = OpportunityRow;

    fn from_row(r: OpportunityRow) -> DomainResult<Self> {
        Ok(Opportunity {
            id: OpportunityId(r.id),
            seq: r.seq,
            data: OpportunityData {
                code: Some(r.code),
                name: r.name,
                description: r.description,
                customer_id: r.customer_id.map(Into::into),
                customer_name: r.customer_name,
                contact_id: r.contact_id.map(Into::into),
                contact_name: r.contact_name,
                lead_id: r.lead_id.map(Into::into),
                lead_name: r.lead_name,
                amount: Money::from_f64(r.amount),
                currency: r.currency,
                probability: r.probability,
                stage: r.stage,
                priority: r.priority,
                source: r.source,
                expected_close_date: r.expected_close_date,
                actual_close_date: r.actual_close_date,
                ownership: r.ownership.into(),
                ext: match r.opp_json {
                    None => None,
                    Some(raw) => {
                        let j: OppJson = serde_json::from_str(&raw).map_err(|e| {
                            DomainError::Internal(anyhow::anyhow!("stored opportunity: {e}"))
                        })?;
                        Some(crm_domain::opportunity::OpportunityExt {
                            campaign_seq: j.campaign_seq,
                            stage_order: j.stage_order,
                            lead_source: j.lead_source,
                            lead_source_description: j.lead_source_description,
                            assigned_to: j.assigned_to,
                            stage_changed_at: j.stage_changed_at,
                        })
                    }
                },
            },
            audit: r.audit.into(),
        })
    }

    fn values(d: &OpportunityData) -> Vec<SimpleExpr> {
        let mut out = vec![
            v(d.code.clone()),
            v(d.name.clone()),
            v(d.description.clone()),
            v(d.customer_id.map(|i| i.0)),
            v(d.customer_name.clone()),
            v(d.contact_id.map(|i| i.0)),
            v(d.contact_name.clone()),
            v(d.lead_id.map(|i| i.0)),
            v(d.lead_name.clone()),
            vm(d.amount),
            v(d.currency.clone()),
            v(d.probability),
            v(d.stage),
            v(d.priority),
            v(d.source.clone()),
            v(d.expected_close_date),
            v(d.actual_close_date),
            v(d.ext.as_ref().map(|e| {
                serde_json::to_string(&OppJson {
                    campaign_seq: e.campaign_seq,
                    stage_order: e.stage_order,
                    lead_source: e.lead_source,
                    lead_source_description: e.lead_source_description.clone(),
                    assigned_to: e.assigned_to,
                    stage_changed_at: e.stage_changed_at,
                })
                .unwrap_or_else(|_| "{}".to_owned())
            })),
        ];
        out.extend(ownership_values(&d.ownership));
        out
    }

    fn terms(d: &OpportunityData) -> Vec<(TextField, String)> {
        d.terms()
    }

    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::Customer => "customer_id",
            Field::Contact => "contact_id",
            Field::Lead => "lead_id",
            Field::OrgUnit => "org_unit_id",
            Field::Status => "stage",
            Field::Priority => "priority",
            Field::Seq => "seq",
            Field::ClosedAt => "actual_close_date",
            _ => return None,
        })
    }

    const CODE: Option<&'static str> = Some("CH");
    fn code_slot(data: &mut OpportunityData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }

    fn keep_on_update(old: &Self, data: &mut OpportunityData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.ext.is_none() {
            data.ext.clone_from(&old.data.ext);
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TemplateRow {
    seq: i64,
    id: Uuid,
    kind: i32,
    name: String,
    content: String,
    #[sqlx(flatten)]
    audit: AuditRow,
}

impl Table for Template {
    const TABLE: &'static str = "templates";
    const ENTITY_CODE: i16 = 7;
    const COLUMNS: &'static [&'static str] = &["kind", "name", "content"];
    type Row = TemplateRow;

    fn from_row(r: TemplateRow) -> DomainResult<Self> {
        Ok(Template {
            id: TemplateId(r.id),
            seq: r.seq,
            data: TemplateData {
                kind: r.kind,
                name: r.name,
                content: r.content,
            },
            audit: r.audit.into(),
        })
    }

    fn values(d: &TemplateData) -> Vec<SimpleExpr> {
        vec![v(d.kind), v(d.name.clone()), v(d.content.clone())]
    }

    fn terms(d: &TemplateData) -> Vec<(TextField, String)> {
        d.terms()
    }

    fn column(field: Field) -> Option<&'static str> {
        (field == Field::Kind).then_some("kind")
    }
}
