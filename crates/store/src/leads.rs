//! Storage of leads and their conversion.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::auth::now;
use crm_domain::ids::{ContactId, CustomerId, LeadId, TenantId};
use crm_domain::lead::{Lead, LeadConversion, LeadData, LeadExt};
use crm_domain::repo::LeadStore;
use crm_domain::search::{Field, TextField};
use crm_domain::text::{Email, Phone};
use crm_domain::work::Work;
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Condition, Expr, Query, SelectStatement, SimpleExpr};
use uuid::Uuid;

use crate::common::{ownership_values, OwnershipRow, OWNERSHIP_COLUMNS};
use crate::db::{tx, Exec};
use crate::error::db_error;
use crate::table::{al, v, AuditRow, Table, T};
use crate::SqlStore;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LeadRow {
    seq: i64,
    id: Uuid,
    source: Option<i32>,
    status: Option<i32>,
    full_name: String,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    position: Option<String>,
    industry: Option<i32>,
    rating: Option<i32>,
    probability: Option<i32>,
    notes: Option<String>,
    assigned_to: Option<i64>,
    #[sqlx(flatten)]
    ownership: OwnershipRow,
    converted_at: Option<DateTime<Utc>>,
    converted_customer_id: Option<Uuid>,
    converted_contact_id: Option<Uuid>,
    ext_json: Option<String>,
    #[sqlx(flatten)]
    audit: AuditRow,
}

/// NextX's lead attributes as stored in `leads.ext_json`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct LeadExtJson {
    website: Option<String>,
    address: Option<String>,
    status_text: Option<String>,
    date_assigned: Option<chrono::NaiveDate>,
    birthday: Option<chrono::NaiveDate>,
    sex: Option<String>,
    avatar: Option<String>,
    account_name: Option<String>,
    account_address: Option<String>,
    account_no: Option<String>,
    resources: Vec<(i64, String)>,
    branch_id: Option<crm_domain::ids::PlaceId>,
    employee_id: Option<crm_domain::ids::StaffId>,
    origin: Option<String>,
}

fn lead_ext(raw: Option<String>) -> DomainResult<LeadExt> {
    let Some(raw) = raw else {
        return Ok(LeadExt::default());
    };
    let j: LeadExtJson = serde_json::from_str(&raw)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored lead: {e}")))?;
    Ok(LeadExt {
        website: j.website,
        address: j.address,
        status_text: j.status_text,
        date_assigned: j.date_assigned,
        birthday: j.birthday,
        sex: j.sex,
        avatar: j.avatar,
        account_name: j.account_name,
        account_address: j.account_address,
        account_no: j.account_no,
        resources: j.resources,
        branch_id: j.branch_id,
        employee_id: j.employee_id,
        origin: j.origin,
    })
}

fn lead_ext_json(e: &LeadExt) -> String {
    serde_json::to_string(&LeadExtJson {
        website: e.website.clone(),
        address: e.address.clone(),
        status_text: e.status_text.clone(),
        date_assigned: e.date_assigned,
        birthday: e.birthday,
        sex: e.sex.clone(),
        avatar: e.avatar.clone(),
        account_name: e.account_name.clone(),
        account_address: e.account_address.clone(),
        account_no: e.account_no.clone(),
        resources: e.resources.clone(),
        branch_id: e.branch_id,
        employee_id: e.employee_id,
        origin: e.origin.clone(),
    })
    .unwrap_or_else(|_| "{}".to_owned())
}

#[async_trait]
impl Table for Lead {
    const TABLE: &'static str = "leads";
    const ENTITY_CODE: i16 = 4;
    const RANKED: bool = true;
    const COLUMNS: &'static [&'static str] = &[
        "source",
        "status",
        "full_name",
        "email",
        "phone",
        "company",
        "position",
        "industry",
        "rating",
        "probability",
        "notes",
        "assigned_to",
        OWNERSHIP_COLUMNS[0],
        OWNERSHIP_COLUMNS[1],
        OWNERSHIP_COLUMNS[2],
        OWNERSHIP_COLUMNS[3],
        "ext_json",
    ];
    type Row = LeadRow;

    /// Conversion columns are read with the lead but written only by [`LeadConverter::convert`].
    fn joins(q: &mut SelectStatement) {
        q.columns(
            [
                "converted_at",
                "converted_customer_id",
                "converted_contact_id",
            ]
            .map(|c| (al(T), al(c))),
        );
    }

    fn from_row(r: LeadRow) -> DomainResult<Self> {
        let conversion = match (
            r.converted_at,
            r.converted_customer_id,
            r.converted_contact_id,
        ) {
            (Some(at), Some(customer), Some(contact)) => Some(LeadConversion {
                converted_at: at,
                customer_id: CustomerId(customer),
                contact_id: ContactId(contact),
            }),
            _ => None,
        };
        Ok(Lead {
            id: LeadId(r.id),
            seq: r.seq,
            data: LeadData {
                source: r.source,
                status: r.status,
                full_name: r.full_name,
                email: r.email.map(Email::from_stored),
                phone: r.phone.map(Phone::from_stored),
                company: r.company,
                position: r.position,
                industry: r.industry,
                rating: r.rating,
                probability: r.probability,
                notes: r.notes,
                assigned_to: r.assigned_to,
                ownership: r.ownership.into(),
                ext: Some(lead_ext(r.ext_json)?),
            },
            conversion,
            audit: r.audit.into(),
        })
    }

    fn values(d: &LeadData) -> Vec<SimpleExpr> {
        let mut out = vec![
            v(d.source),
            v(d.status),
            v(d.full_name.clone()),
            v(d.email.as_ref().map(|e| e.as_str().to_owned())),
            v(d.phone.as_ref().map(|p| p.as_str().to_owned())),
            v(d.company.clone()),
            v(d.position.clone()),
            v(d.industry),
            v(d.rating),
            v(d.probability),
            v(d.notes.clone()),
            v(d.assigned_to),
        ];
        out.extend(ownership_values(&d.ownership));
        out.push(v(d.ext.as_ref().map(lead_ext_json)));
        out
    }

    fn keep_on_update(old: &Self, data: &mut LeadData) {
        if data.ext.is_none() {
            data.ext.clone_from(&old.data.ext);
        }
    }

    fn terms(d: &LeadData) -> Vec<(TextField, String)> {
        d.terms()
    }

    async fn after_delete(exec: &mut Exec<'_>, tenant: TenantId, id: Uuid) -> DomainResult<()> {
        crate::lists::drop_memberships(exec, tenant, crm_domain::common::RecordKind::Lead, id).await
    }

    fn column(field: Field) -> Option<&'static str> {
        match field {
            Field::Customer => Some("converted_customer_id"),
            Field::Seq => Some("seq"),
            Field::OrgUnit => Some("org_unit_id"),
            _ => None,
        }
    }
}

#[async_trait]
impl LeadStore for SqlStore {
    async fn mark_converted(
        &self,
        w: &mut Work,
        actor: &Actor,
        lead: LeadId,
        conversion: &LeadConversion,
    ) -> DomainResult<()> {
        let q = Query::update()
            .table(al("leads"))
            .value(al("converted_at"), conversion.converted_at)
            .value(al("converted_customer_id"), conversion.customer_id.0)
            .value(al("converted_contact_id"), conversion.contact_id.0)
            .value(al("updated_at"), now())
            .value(al("updated_by"), actor.id)
            .value(al("updated_by_name"), actor.name.clone())
            .cond_where(
                Condition::all()
                    .add(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
                    .add(Expr::col(al("id")).eq(lead.0))
                    .add(Expr::col(al("deleted_at")).is_null()),
            )
            .to_owned();
        if tx(w)?.exec().execute(&q).await.map_err(db_error)? == 0 {
            return Err(DomainError::not_found("lead"));
        }
        Ok(())
    }
}
