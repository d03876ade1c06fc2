//! How many live records of each kind a tenant has, kept by the writes themselves.
//!
//! A list with no filter answers its total from here instead of counting the tenant's rows:
//! at a million customers, `COUNT(*)` reads a million index entries on every page (and on
//! PostgreSQL, while writes stream in, the heap of every page not yet marked all-visible), so
//! an unfiltered list's cost grew with the table.
//!
//! Each write transaction adds up what it did per tenant and kind ([`crate::db::Tx::count`]:
//! an insert +1, a soft delete −1, a restore +1, erasing a live record −1) and writes the sums
//! just before it commits, so a count moves exactly when its records do. On PostgreSQL the sum
//! goes to one of [`PG_SHARDS`] rows picked at random per transaction, so that concurrent
//! writers of one tenant seldom wait for each other's row, and one transaction writes its rows
//! in key order, so two of them never wait for each other in a cycle. A total is the sum of
//! the shards. SQLite has a single writer and keeps one row.

use std::collections::BTreeMap;

use crm_domain::ids::TenantId;
use sea_query::{Expr, OnConflict, Query, SelectStatement};
use uuid::Uuid;

use crate::table::{al, v};

/// Rows per tenant and kind on PostgreSQL.
pub(crate) const PG_SHARDS: u8 = 16;

/// One transaction's changes, by tenant and kind.
#[derive(Debug, Default)]
pub(crate) struct Deltas(BTreeMap<(Uuid, i16), i64>);

impl Deltas {
    pub(crate) fn add(&mut self, tenant: Uuid, entity: i16, n: i64) {
        *self.0.entry((tenant, entity)).or_default() += n;
    }

    /// The statement that adds the changes to one shard in `0..shards`; none when nothing
    /// changed.
    pub(crate) fn upsert(self, shards: u8) -> Option<sea_query::InsertStatement> {
        let shard = i16::from(Uuid::new_v4().as_bytes()[0] % shards.max(1));
        let mut q = Query::insert();
        q.into_table(al("record_counts"))
            .columns([al("tenant_id"), al("entity"), al("shard"), al("n")])
            .on_conflict(
                OnConflict::columns([al("tenant_id"), al("entity"), al("shard")])
                    .value(al("n"), Expr::cust("record_counts.n + excluded.n"))
                    .to_owned(),
            );
        let mut any = false;
        for ((tenant, entity), n) in self.0 {
            if n != 0 {
                any = true;
                q.values_panic([v(tenant), v(entity), v(shard), v(n)]);
            }
        }
        any.then_some(q)
    }
}

/// `SELECT <total> AS value`: the live records of kind `entity` in `tenant`.
pub(crate) fn total(tenant: TenantId, entity: i16) -> SelectStatement {
    Query::select()
        .expr_as(
            Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"),
            al("value"),
        )
        .from(al("record_counts"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("entity")).eq(entity))
        .to_owned()
}
