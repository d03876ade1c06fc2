//! Columns shared by several record kinds: ownership and generated codes.

use crm_domain::common::Ownership;
use crm_domain::ids::TenantId;
use crm_domain::DomainResult;
use sea_query::{Expr, OnConflict, Query, SimpleExpr};
use uuid::Uuid;

use crate::db::{Exec, Scalar};
use crate::error::db_error;
use crate::table::{al, v};

pub(crate) const OWNERSHIP_COLUMNS: [&str; 4] =
    ["owner_id", "owner_name", "org_unit_id", "org_unit_name"];

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OwnershipRow {
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub org_unit_id: Option<Uuid>,
    pub org_unit_name: Option<String>,
}

impl From<OwnershipRow> for Ownership {
    fn from(r: OwnershipRow) -> Self {
        Self {
            owner_id: r.owner_id,
            owner_name: r.owner_name,
            org_unit_id: r.org_unit_id,
            org_unit_name: r.org_unit_name,
        }
    }
}

pub(crate) fn ownership_values(o: &Ownership) -> [SimpleExpr; 4] {
    [
        v(o.owner_id),
        v(o.owner_name.clone()),
        v(o.org_unit_id),
        v(o.org_unit_name.clone()),
    ]
}

/// The next free business code `PREFIX000001` of a kind in a tenant, from a per-tenant counter.
/// Codes a caller chose by hand are skipped.
pub(crate) async fn next_code(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    table: &str,
    prefix: &str,
) -> DomainResult<String> {
    loop {
        let bump = Query::insert()
            .into_table(al("counters"))
            .columns([al("tenant_id"), al("name"), al("value")])
            .values_panic([v(tenant.0), v(table), v(1i64)])
            .on_conflict(
                OnConflict::columns([al("tenant_id"), al("name")])
                    .value(al("value"), Expr::col((al("counters"), al("value"))).add(1))
                    .to_owned(),
            )
            .returning_col(al("value"))
            .to_owned();
        let n = exec
            .fetch_optional::<Scalar, _>(&bump)
            .await
            .map_err(db_error)?
            .map_or(1, |s| s.value);
        let code = format!("{prefix}{n:06}");
        let taken = Query::select()
            .expr_as(Expr::val(1i64), al("value"))
            .from(al(table))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("code")).eq(code.as_str()))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .to_owned();
        if exec
            .fetch_optional::<Scalar, _>(&taken)
            .await
            .map_err(db_error)?
            .is_none()
        {
            return Ok(code);
        }
    }
}
