//! The audit trail (`crm_domain::audit`): entries appended in the transaction of the change they
//! record, many rows to a statement; read newest first by record, client, kind and time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::audit::{AuditQuery, AuditStore, Entry};
use crm_domain::ids::TenantId;
use crm_domain::DomainResult;
use sea_query::{Order, Query, SimpleExpr, Value};
use uuid::Uuid;

use crate::db::Exec;
use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

const COLUMNS: [&str; 11] = [
    "tenant_id",
    "at",
    "client_id",
    "client_name",
    "dialect",
    "route",
    "request_id",
    "object",
    "action",
    "record_id",
    "changes",
];

/// Rows per insert statement (11 bound values each).
const ROWS_PER_STATEMENT: usize = 500;

/// Writes `entries` (in the caller's transaction).
pub(crate) async fn append(exec: &mut Exec<'_>, entries: &[Entry]) -> DomainResult<()> {
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let mut q = Query::insert();
        q.into_table(al("audit_log")).columns(COLUMNS.map(al));
        for e in chunk {
            q.values_panic([
                v(e.tenant_id.0),
                v(e.at),
                v(e.client_id),
                v(e.client_name.clone()),
                v(e.dialect.clone()),
                v(e.route.clone()),
                v(e.request_id.clone()),
                v(e.object.as_str()),
                v(e.action.as_str()),
                v(e.record_id),
                v(e.changes.as_ref().map(|c| c.to_string())),
            ]);
        }
        exec.execute(&q).await.map_err(db_error)?;
    }
    Ok(())
}

/// A stored column value as JSON, for an entry's before and after: numbers, text, booleans,
/// times and ids as they read; bytes and expressions as `null`.
pub(crate) fn json_of(expr: &SimpleExpr) -> serde_json::Value {
    use serde_json::Value as J;
    let SimpleExpr::Value(value) = expr else {
        return J::Null;
    };
    match value {
        Value::Bool(b) => b.map_or(J::Null, J::from),
        Value::TinyInt(n) => n.map_or(J::Null, J::from),
        Value::SmallInt(n) => n.map_or(J::Null, J::from),
        Value::Int(n) => n.map_or(J::Null, J::from),
        Value::BigInt(n) => n.map_or(J::Null, J::from),
        Value::TinyUnsigned(n) => n.map_or(J::Null, J::from),
        Value::SmallUnsigned(n) => n.map_or(J::Null, J::from),
        Value::Unsigned(n) => n.map_or(J::Null, J::from),
        Value::BigUnsigned(n) => n.map_or(J::Null, J::from),
        Value::Float(n) => n.map_or(J::Null, |f| J::from(f64::from(f))),
        Value::Double(n) => n.map_or(J::Null, J::from),
        Value::String(s) => s.as_ref().map_or(J::Null, |s| J::from(s.as_str())),
        Value::Char(c) => c.map_or(J::Null, |c| J::from(c.to_string())),
        Value::ChronoDate(d) => d.as_ref().map_or(J::Null, |d| J::from(d.to_string())),
        Value::ChronoDateTimeUtc(d) => d.as_ref().map_or(J::Null, |d| J::from(d.to_rfc3339())),
        Value::ChronoDateTime(d) => d.as_ref().map_or(J::Null, |d| J::from(d.to_string())),
        Value::Uuid(u) => u.as_ref().map_or(J::Null, |u| J::from(u.to_string())),
        _ => J::Null,
    }
}

#[derive(Debug, sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    tenant_id: Uuid,
    at: DateTime<Utc>,
    client_id: Option<Uuid>,
    client_name: Option<String>,
    dialect: Option<String>,
    route: Option<String>,
    request_id: Option<String>,
    object: String,
    action: String,
    record_id: Option<Uuid>,
    changes: Option<String>,
}

impl From<EntryRow> for Entry {
    fn from(r: EntryRow) -> Self {
        Entry {
            seq: r.seq,
            tenant_id: TenantId(r.tenant_id),
            at: r.at,
            client_id: r.client_id,
            client_name: r.client_name,
            dialect: r.dialect,
            route: r.route,
            request_id: r.request_id,
            object: r.object,
            action: r.action,
            record_id: r.record_id,
            changes: r.changes.and_then(|c| serde_json::from_str(&c).ok()),
        }
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn entries(&self, tenant: TenantId, q: &AuditQuery) -> DomainResult<Vec<Entry>> {
        let mut select = Query::select();
        select
            .column(al("seq"))
            .columns(COLUMNS.map(al))
            .from(al("audit_log"))
            .and_where(col("tenant_id").eq(tenant.0));
        if let Some(r) = q.record {
            select.and_where(col("record_id").eq(r));
        }
        if let Some(c) = q.client {
            select.and_where(col("client_id").eq(c));
        }
        if let Some(o) = &q.object {
            select.and_where(col("object").eq(o.as_str()));
        }
        if let Some(s) = q.since {
            select.and_where(col("at").gte(s));
        }
        if let Some(u) = q.until {
            select.and_where(col("at").lt(u));
        }
        if let Some(b) = q.before {
            select.and_where(col("seq").lt(b));
        }
        select
            .order_by(al("seq"), Order::Desc)
            .limit(u64::from(q.limit));
        let mut conn = self.db.read().await.map_err(db_error)?;
        Ok(conn
            .exec()
            .fetch_all::<EntryRow, _>(&select)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(Entry::from)
            .collect())
    }

    async fn redact(
        &self,
        w: &mut crm_domain::work::Work,
        tenant: TenantId,
        record: Uuid,
    ) -> DomainResult<u64> {
        let q = Query::update()
            .table(al("audit_log"))
            .value(al("changes"), Option::<String>::None)
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("record_id").eq(record))
            .to_owned();
        crate::db::tx(w)?.exec().execute(&q).await.map_err(db_error)
    }

    async fn purge_audit(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        let q = Query::delete()
            .from_table(al("audit_log"))
            .and_where(col("at").lt(before))
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let n = tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }
}
