//! Columns shared by several record kinds: ownership and generated codes.

use crm_domain::common::Ownership;
use crm_domain::ids::TenantId;
use crm_domain::DomainResult;
use sea_query::{Expr, OnConflict, Query, SimpleExpr};
use uuid::Uuid;

use crate::db::{Exec, Scalar};
use crate::error::db_error;
use crate::table::{al, v};

/// `column LIKE '%text%'` (or `'text%'` with `prefix`), LIKE's wildcards in `text` taken
/// literally. A text longer than any stored value cannot match, and is not sent (SQLite refuses
/// patterns over 50,000 bytes).
pub(crate) fn like_text(column: &str, text: &str, prefix: bool) -> SimpleExpr {
    if text.chars().count() > crm_domain::common::LONG {
        return Expr::value(1).eq(0);
    }
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = if prefix {
        format!("{escaped}%")
    } else {
        format!("%{escaped}%")
    };
    Expr::col(al(column)).like(sea_query::LikeExpr::new(pattern).escape('\\'))
}

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

/// Reserves `n` consecutive values of a per-tenant counter; returns the first. On PostgreSQL
/// outside the caller's transaction ([`Exec::counter`]).
async fn reserve(exec: &mut Exec<'_>, tenant: TenantId, name: &str, n: i64) -> DomainResult<i64> {
    let bump = Query::insert()
        .into_table(al("counters"))
        .columns([al("tenant_id"), al("name"), al("value")])
        .values_panic([v(tenant.0), v(name), v(n)])
        .on_conflict(
            OnConflict::columns([al("tenant_id"), al("name")])
                .value(al("value"), Expr::col((al("counters"), al("value"))).add(n))
                .to_owned(),
        )
        .returning_col(al("value"))
        .to_owned();
    let last = exec
        .counter::<Scalar, _>(&bump)
        .await
        .map_err(db_error)?
        .map_or(n, |s| s.value);
    Ok(last - n + 1)
}

/// Fills every missing code of a batch from the counter in one step, skipping codes that
/// live records (or the batch itself) already use.
pub(crate) async fn fill_codes<'a>(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    table: &str,
    prefix: &str,
    codes: impl Iterator<Item = &'a mut Option<String>>,
) -> DomainResult<()> {
    fill_codes_counted(exec, tenant, table, table, prefix, codes).await
}

/// Like [`fill_codes`], with a counter of its own (several kinds of record in one table).
pub(crate) async fn fill_codes_counted<'a>(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    table: &str,
    counter: &str,
    prefix: &str,
    codes: impl Iterator<Item = &'a mut Option<String>>,
) -> DomainResult<()> {
    let mut missing: Vec<&'a mut Option<String>> = Vec::new();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for code in codes {
        match code {
            Some(c) => {
                taken.insert(c.clone());
            }
            None => missing.push(code),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut pending = missing.into_iter();
    let mut need = pending.len();
    while need > 0 {
        let first = reserve(exec, tenant, counter, need as i64).await?;
        let candidates: Vec<String> = (first..first + need as i64)
            .map(|n| format!("{prefix}{n:06}"))
            .collect();
        let used = Query::select()
            .column(al("code"))
            .from(al(table))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("code")).is_in(candidates.iter().map(String::as_str)))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .to_owned();
        let rows = exec
            .fetch_all::<CodeRow, _>(&used)
            .await
            .map_err(db_error)?;
        taken.extend(rows.into_iter().map(|r| r.code));
        for candidate in candidates {
            if taken.contains(&candidate) {
                continue;
            }
            if let Some(slot) = pending.next() {
                *slot = Some(candidate);
                need -= 1;
            }
        }
    }
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
struct CodeRow {
    code: String,
}
