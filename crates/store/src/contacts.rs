//! Storage of contacts.

use async_trait::async_trait;
use chrono::NaiveDate;
use crm_domain::contact::{Contact, ContactData};
use crm_domain::ids::{ContactId, CustomerId, TenantId};
use crm_domain::search::{Field, TextField};
use crm_domain::text::{Email, Phone};
use crm_domain::DomainResult;
use sea_query::{Expr, Query, SelectStatement, SimpleExpr};
use uuid::Uuid;

use crate::common::{ownership_values, OwnershipRow, OWNERSHIP_COLUMNS};
use crate::customers::customer_name_join;
use crate::db::Exec;
use crate::error::db_error;
use crate::table::{al, v, AuditRow, Table};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ContactRow {
    seq: i64,
    id: Uuid,
    customer_id: Option<Uuid>,
    code: String,
    full_name: String,
    position: Option<String>,
    department: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    gender: Option<i32>,
    birthday: Option<NaiveDate>,
    national_id: Option<String>,
    address: Option<String>,
    status: Option<String>,
    is_primary: bool,
    note: Option<String>,
    #[sqlx(flatten)]
    ownership: OwnershipRow,
    #[sqlx(flatten)]
    audit: AuditRow,
    customer_name: Option<String>,
}

#[async_trait]
impl Table for Contact {
    const TABLE: &'static str = "contacts";
    const ENTITY_CODE: i16 = 3;
    const RANKED: bool = true;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another contact already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "customer_id",
        "code",
        "full_name",
        "position",
        "department",
        "phone",
        "email",
        "gender",
        "birthday",
        "national_id",
        "address",
        "status",
        "is_primary",
        "note",
        OWNERSHIP_COLUMNS[0],
        OWNERSHIP_COLUMNS[1],
        OWNERSHIP_COLUMNS[2],
        OWNERSHIP_COLUMNS[3],
    ];
    type Row = ContactRow;

    fn joins(q: &mut SelectStatement) {
        customer_name_join(q, "customer_id");
    }

    fn from_row(r: ContactRow) -> DomainResult<Self> {
        Ok(Contact {
            id: ContactId(r.id),
            seq: r.seq,
            data: ContactData {
                customer_id: r.customer_id.map(CustomerId),
                code: Some(r.code),
                full_name: r.full_name,
                position: r.position,
                department: r.department,
                phone: r.phone.map(Phone::from_stored),
                email: r.email.map(Email::from_stored),
                gender: r.gender,
                birthday: r.birthday,
                national_id: r.national_id,
                address: r.address,
                status: r.status,
                is_primary: r.is_primary,
                note: r.note,
                ownership: r.ownership.into(),
            },
            customer_name: r.customer_name,
            audit: r.audit.into(),
        })
    }

    fn values(d: &ContactData) -> Vec<SimpleExpr> {
        let mut out = vec![
            v(d.customer_id.map(|c| c.0)),
            v(d.code.clone()),
            v(d.full_name.clone()),
            v(d.position.clone()),
            v(d.department.clone()),
            v(d.phone.as_ref().map(|p| p.as_str().to_owned())),
            v(d.email.as_ref().map(|e| e.as_str().to_owned())),
            v(d.gender),
            v(d.birthday),
            v(d.national_id.clone()),
            v(d.address.clone()),
            v(d.status.clone()),
            v(d.is_primary),
            v(d.note.clone()),
        ];
        out.extend(ownership_values(&d.ownership));
        out
    }

    fn terms(d: &ContactData) -> Vec<(TextField, String)> {
        d.terms()
    }

    async fn after_delete(exec: &mut Exec<'_>, tenant: TenantId, id: Uuid) -> DomainResult<()> {
        crate::lists::drop_memberships(exec, tenant, crm_domain::common::RecordKind::Contact, id)
            .await
    }

    fn column(field: Field) -> Option<&'static str> {
        match field {
            Field::Customer => Some("customer_id"),
            Field::OrgUnit => Some("org_unit_id"),
            _ => None,
        }
    }

    const CODE: Option<&'static str> = Some("LH");
    fn code_slot(data: &mut ContactData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }

    /// One primary contact per customer: marking one unmarks the others.
    async fn after_write(
        exec: &mut Exec<'_>,
        tenant: TenantId,
        id: Uuid,
        data: &ContactData,
    ) -> DomainResult<()> {
        let (true, Some(customer)) = (data.is_primary, data.customer_id) else {
            return Ok(());
        };
        let q = Query::update()
            .table(al(Self::TABLE))
            .value(al("is_primary"), false)
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("customer_id")).eq(customer.0))
            .and_where(Expr::col(al("id")).ne(id))
            .and_where(Expr::col(al("is_primary")).eq(true))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .to_owned();
        exec.execute(&q).await.map_err(db_error)?;
        Ok(())
    }

    fn keep_on_update(old: &Self, data: &mut ContactData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
    }
}
