//! Storage of branches and stores (`places`), product categories, documents (`docs`,
//! `doc_lines`) and the stock ledger (`stock_moves`).

use crm_domain::ids::TenantId;
use crm_domain::DomainResult;
use sea_query::{Expr, Query};

use crate::db::{Db, Tx};
use crate::error::db_error;

mod docs;
mod places;
mod staff;

#[derive(Debug, sqlx::FromRow)]
struct SeqRow {
    seq: i64,
}

/// Serialises stock-moving writes of one tenant on PostgreSQL (SQLite has one writer).
async fn lock_tenant(db: &Db, tx: &mut Tx, tenant: TenantId) -> DomainResult<()> {
    if let Db::Postgres(_) = db {
        let key = i64::from_le_bytes(tenant.0.as_bytes()[..8].try_into().unwrap_or([0; 8]));
        let q = Query::select()
            .expr(Expr::cust_with_values("pg_advisory_xact_lock($1)", [key]))
            .to_owned();
        tx.exec().execute(&q).await.map_err(db_error)?;
    }
    Ok(())
}
