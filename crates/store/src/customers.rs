//! Storage of customers and customer groups.

use async_trait::async_trait;
use crm_domain::customer::{Customer, CustomerData, CustomerGroup, CustomerGroupData};
use crm_domain::ids::{CustomerGroupId, CustomerId, TenantId};
use crm_domain::search::{Field, TextField};
use crm_domain::text::{fold, Email, Phone};
use crm_domain::DomainResult;
use sea_query::{Expr, JoinType, SelectStatement, SimpleExpr};
use uuid::Uuid;

use crate::common::{ownership_values, OwnershipRow, OWNERSHIP_COLUMNS};
use crate::db::Exec;
use crate::table::{al, v, AuditRow, Table, T};

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CustomerRow {
    seq: i64,
    id: Uuid,
    code: String,
    name: String,
    kind: i32,
    tax_code: Option<String>,
    business_type: Option<String>,
    group_id: Option<Uuid>,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    address: Option<String>,
    note: Option<String>,
    #[sqlx(flatten)]
    ownership: OwnershipRow,
    #[sqlx(flatten)]
    ext: crate::ext::ExtRow,
    #[sqlx(flatten)]
    audit: AuditRow,
    group_name: Option<String>,
}

const CUSTOMER_COLUMNS: &[&str] = &[
    "code",
    "name",
    "kind",
    "tax_code",
    "business_type",
    "group_id",
    "phone",
    "email",
    "website",
    "address",
    "note",
    OWNERSHIP_COLUMNS[0],
    OWNERSHIP_COLUMNS[1],
    OWNERSHIP_COLUMNS[2],
    OWNERSHIP_COLUMNS[3],
    crate::ext::EXT_COLUMNS[0],
    crate::ext::EXT_COLUMNS[1],
    crate::ext::EXT_COLUMNS[2],
    crate::ext::EXT_COLUMNS[3],
    crate::ext::EXT_COLUMNS[4],
    crate::ext::EXT_COLUMNS[5],
    crate::ext::EXT_COLUMNS[6],
    crate::ext::EXT_COLUMNS[7],
    crate::ext::EXT_COLUMNS[8],
    crate::ext::EXT_COLUMNS[9],
    crate::ext::EXT_COLUMNS[10],
    crate::ext::EXT_COLUMNS[11],
    crate::ext::EXT_COLUMNS[12],
    crate::ext::EXT_COLUMNS[13],
    crate::ext::EXT_COLUMNS[14],
    crate::ext::EXT_COLUMNS[15],
];

#[async_trait]
impl Table for Customer {
    const TABLE: &'static str = "customers";
    const ENTITY_CODE: i16 = 1;
    const RANKED: bool = true;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another customer already has this code"));
    const COLUMNS: &'static [&'static str] = CUSTOMER_COLUMNS;
    type Row = CustomerRow;

    fn joins(q: &mut SelectStatement) {
        q.join_as(
            JoinType::LeftJoin,
            al("customer_groups"),
            al("g"),
            Expr::col((al("g"), al("tenant_id")))
                .equals((al(T), al("tenant_id")))
                .and(Expr::col((al("g"), al("id"))).equals((al(T), al("group_id"))))
                .and(Expr::col((al("g"), al("deleted_at"))).is_null()),
        )
        .expr_as(Expr::col((al("g"), al("name"))), al("group_name"));
    }

    fn from_row(r: CustomerRow) -> DomainResult<Self> {
        Ok(Customer {
            id: CustomerId(r.id),
            seq: r.seq,
            data: CustomerData {
                code: Some(r.code),
                name: r.name,
                kind: r.kind,
                tax_code: r.tax_code,
                business_type: r.business_type,
                group_id: r.group_id.map(CustomerGroupId),
                phone: r.phone.map(Phone::from_stored),
                email: r.email.map(Email::from_stored),
                website: r.website,
                address: r.address,
                note: r.note,
                ownership: r.ownership.into(),
                ext: Some(r.ext.into_ext()?),
            },
            group_name: r.group_name,
            audit: r.audit.into(),
        })
    }

    fn values(d: &CustomerData) -> Vec<SimpleExpr> {
        let mut out = vec![
            v(d.code.clone()),
            v(d.name.clone()),
            v(d.kind),
            v(d.tax_code.clone()),
            v(d.business_type.clone()),
            v(d.group_id.map(|g| g.0)),
            v(d.phone.as_ref().map(|p| p.as_str().to_owned())),
            v(d.email.as_ref().map(|e| e.as_str().to_owned())),
            v(d.website.clone()),
            v(d.address.clone()),
            v(d.note.clone()),
        ];
        out.extend(ownership_values(&d.ownership));
        out.extend(crate::ext::ext_values(d.ext.as_ref()));
        out
    }

    fn terms(d: &CustomerData) -> Vec<(TextField, String)> {
        d.terms()
    }

    fn unique(index: &str) -> Option<(&'static str, &'static str)> {
        if index.contains("ref_id") {
            Some(("ref_id", "another customer already has this refId"))
        } else {
            Self::UNIQUE
        }
    }

    async fn after_delete(exec: &mut Exec<'_>, tenant: TenantId, id: Uuid) -> DomainResult<()> {
        crate::lists::drop_memberships(exec, tenant, crm_domain::common::RecordKind::Customer, id)
            .await
    }

    fn column(field: Field) -> Option<&'static str> {
        match field {
            Field::Group => Some("group_id"),
            Field::Code => Some("code"),
            Field::Seq => Some("seq"),
            Field::CustomerStatus => Some("status_id"),
            Field::CustomerType => Some("type_id"),
            Field::Customer => Some("id"),
            Field::OrgUnit => Some("org_unit_id"),
            _ => None,
        }
    }

    const CODE: Option<&'static str> = Some("KH");
    fn code_slot(data: &mut CustomerData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }
    async fn prepare_insert(
        _exec: &mut Exec<'_>,
        _tenant: TenantId,
        data: &mut CustomerData,
    ) -> DomainResult<()> {
        data.ensure_ext();
        Ok(())
    }

    fn keep_on_update(old: &Self, data: &mut CustomerData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.ext.is_none() {
            data.ext.clone_from(&old.data.ext);
            data.sync_primary();
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct GroupRow {
    seq: i64,
    id: Uuid,
    name: String,
    note: Option<String>,
    project_id: Option<Uuid>,
    code: Option<String>,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[async_trait]
impl Table for CustomerGroup {
    const TABLE: &'static str = "customer_groups";
    const ENTITY_CODE: i16 = 2;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("name", "another customer group already has this name"));
    const COLUMNS: &'static [&'static str] = &["name", "name_key", "note", "project_id", "code"];
    type Row = GroupRow;

    fn from_row(r: GroupRow) -> DomainResult<Self> {
        Ok(CustomerGroup {
            id: CustomerGroupId(r.id),
            seq: r.seq,
            data: CustomerGroupData {
                name: r.name,
                note: r.note,
                project: r.project_id.zip(r.code),
            },
            audit: r.audit.into(),
        })
    }

    fn values(d: &CustomerGroupData) -> Vec<SimpleExpr> {
        // Names that differ only in case or accents are the same group.
        let key = fold(&d.name)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        vec![
            v(d.name.clone()),
            v(key),
            v(d.note.clone()),
            v(d.project.as_ref().map(|(p, _)| *p)),
            v(d.project.as_ref().map(|(_, c)| c.clone())),
        ]
    }

    fn terms(d: &CustomerGroupData) -> Vec<(TextField, String)> {
        d.terms()
    }

    fn unique(index: &str) -> Option<(&'static str, &'static str)> {
        if index.contains("code") {
            Some((
                "group_no",
                "another group of the project already has this code",
            ))
        } else {
            Self::UNIQUE
        }
    }

    fn column(field: Field) -> Option<&'static str> {
        match field {
            Field::Project => Some("project_id"),
            Field::Code => Some("code"),
            _ => None,
        }
    }

    fn keep_on_update(old: &Self, data: &mut CustomerGroupData) {
        if data.project.is_none() {
            data.project.clone_from(&old.data.project);
        }
    }
}

/// Joins the customer `t.<column>` points at and selects its name as `customer_name`.
pub(crate) fn customer_name_join(q: &mut SelectStatement, column: &str) {
    q.join_as(
        JoinType::LeftJoin,
        al("customers"),
        al("c"),
        Expr::col((al("c"), al("tenant_id")))
            .equals((al(T), al("tenant_id")))
            .and(Expr::col((al("c"), al("id"))).equals((al(T), al(column))))
            .and(Expr::col((al("c"), al("deleted_at"))).is_null()),
    )
    .expr_as(Expr::col((al("c"), al("name"))), al("customer_name"));
}
