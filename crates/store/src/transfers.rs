//! Imports and exports (`crm_domain::transfer`): their rows, their rejected rows, and the
//! directory of each one's files under the files directory (`transfers/<tenant>/<id>/`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::ids::TenantId;
use crm_domain::transfer::{
    Direction, Format, Kind, Paths, RowFailure, State, Transfer, TransferStore,
};
use crm_domain::work::{At, Work};
use crm_domain::{DomainError, DomainResult};
use sea_query::{LockType, Order, Query, SelectStatement};
use uuid::Uuid;

use crate::db::Exec;
use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

const COLUMNS: [&str; 19] = [
    "id",
    "tenant_id",
    "direction",
    "kind",
    "format",
    "state",
    "file_name",
    "plan",
    "total",
    "done",
    "created",
    "updated",
    "skipped",
    "failed",
    "cursor_pos",
    "error",
    "created_at",
    "updated_at",
    "finished_at",
];

#[derive(Debug, sqlx::FromRow)]
struct TransferRow {
    id: Uuid,
    tenant_id: Uuid,
    direction: String,
    kind: String,
    format: String,
    state: String,
    file_name: String,
    plan: String,
    total: i64,
    done: i64,
    created: i64,
    updated: i64,
    skipped: i64,
    failed: i64,
    cursor_pos: i64,
    error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<TransferRow> for Transfer {
    type Error = DomainError;

    fn try_from(r: TransferRow) -> DomainResult<Self> {
        let bad = |what: &str| DomainError::Internal(anyhow::anyhow!("stored transfer {what}"));
        Ok(Transfer {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            direction: Direction::parse(&r.direction).ok_or_else(|| bad("direction"))?,
            kind: Kind::parse("kind", &r.kind).map_err(|_| bad("kind"))?,
            format: Format::parse("format", &r.format).map_err(|_| bad("format"))?,
            state: State::parse(&r.state).ok_or_else(|| bad("state"))?,
            file_name: r.file_name,
            plan: r.plan,
            total: r.total,
            done: r.done,
            created: r.created,
            updated: r.updated,
            skipped: r.skipped,
            failed: r.failed,
            cursor: r.cursor_pos,
            error: r.error,
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
        })
    }
}

fn values(t: &Transfer) -> [sea_query::SimpleExpr; 19] {
    [
        v(t.id),
        v(t.tenant_id.0),
        v(t.direction.as_str()),
        v(t.kind.as_str()),
        v(t.format.as_str()),
        v(t.state.as_str()),
        v(t.file_name.as_str()),
        v(t.plan.as_str()),
        v(t.total),
        v(t.done),
        v(t.created),
        v(t.updated),
        v(t.skipped),
        v(t.failed),
        v(t.cursor),
        v(t.error.clone()),
        v(t.created_at),
        v(t.updated_at),
        v(t.finished_at),
    ]
}

fn select(tenant: TenantId) -> SelectStatement {
    Query::select()
        .columns(COLUMNS.map(al))
        .from(al("transfers"))
        .and_where(col("tenant_id").eq(tenant.0))
        .to_owned()
}

#[async_trait]
impl TransferStore for SqlStore {
    async fn create_transfer(&self, w: &mut Work, t: &Transfer) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("transfers"))
            .columns(COLUMNS.map(al))
            .values_panic(values(t))
            .to_owned();
        crate::db::tx(w)?
            .exec()
            .execute(&q)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn lock_transfer(
        &self,
        w: &mut Work,
        tenant: TenantId,
        id: Uuid,
    ) -> DomainResult<Option<Transfer>> {
        let mut q = select(tenant);
        q.and_where(col("id").eq(id));
        let tx = crate::db::tx(w)?;
        let mut exec = tx.exec();
        if matches!(exec, Exec::Postgres(..)) {
            q.lock(LockType::Update);
        }
        let row: Option<TransferRow> = exec.fetch_optional(&q).await.map_err(db_error)?;
        row.map(Transfer::try_from).transpose()
    }

    async fn save_transfer(&self, w: &mut Work, t: &Transfer) -> DomainResult<()> {
        let mut q = Query::update();
        q.table(al("transfers"));
        for (c, value) in COLUMNS.iter().zip(values(t)).skip(2) {
            q.value(al(c), value);
        }
        q.and_where(col("tenant_id").eq(t.tenant_id.0))
            .and_where(col("id").eq(t.id));
        crate::db::tx(w)?
            .exec()
            .execute(&q)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn transfer(
        &self,
        at: At<'_>,
        tenant: TenantId,
        id: Uuid,
    ) -> DomainResult<Option<Transfer>> {
        let mut q = select(tenant);
        q.and_where(col("id").eq(id));
        let mut r = self.db.reader(at).await?;
        let row: Option<TransferRow> = r.exec().fetch_optional(&q).await.map_err(db_error)?;
        row.map(Transfer::try_from).transpose()
    }

    async fn transfers(
        &self,
        tenant: TenantId,
        direction: Direction,
        limit: u32,
    ) -> DomainResult<Vec<Transfer>> {
        let mut q = select(tenant);
        q.and_where(col("direction").eq(direction.as_str()))
            .order_by(al("created_at"), Order::Desc)
            .limit(u64::from(limit));
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<TransferRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        rows.into_iter().map(Transfer::try_from).collect()
    }

    async fn add_failures(
        &self,
        w: &mut Work,
        tenant: TenantId,
        id: Uuid,
        failures: &[RowFailure],
    ) -> DomainResult<()> {
        // 6 values a row: 150 rows a statement stays under every backend's parameter limit.
        let mut seq = 0i64;
        let mut last_row = None;
        let numbered: Vec<(&RowFailure, i64)> = failures
            .iter()
            .map(|f| {
                seq = if last_row == Some(f.row) { seq + 1 } else { 0 };
                last_row = Some(f.row);
                (f, seq)
            })
            .collect();
        for part in numbered.chunks(150) {
            let mut q = Query::insert();
            q.into_table(al("transfer_failures")).columns(
                [
                    "tenant_id",
                    "transfer_id",
                    "row_no",
                    "seq",
                    "column_name",
                    "reason",
                ]
                .map(al),
            );
            for (f, seq) in part {
                q.values_panic([
                    v(tenant.0),
                    v(id),
                    v(f.row),
                    v(*seq),
                    v(f.column.clone()),
                    v(f.reason.as_str()),
                ]);
            }
            crate::db::tx(w)?
                .exec()
                .execute(&q)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    async fn failures(
        &self,
        tenant: TenantId,
        id: Uuid,
        after: i64,
        limit: u32,
    ) -> DomainResult<Vec<RowFailure>> {
        #[derive(sqlx::FromRow)]
        struct FailureRow {
            row_no: i64,
            column_name: Option<String>,
            reason: String,
        }
        let q = Query::select()
            .columns(["row_no", "column_name", "reason"].map(al))
            .from(al("transfer_failures"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("transfer_id").eq(id))
            .and_where(col("row_no").gt(after))
            .order_by(al("row_no"), Order::Asc)
            .order_by(al("seq"), Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<FailureRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| RowFailure {
                row: r.row_no,
                column: r.column_name,
                reason: r.reason,
            })
            .collect())
    }

    fn paths(&self, tenant: TenantId, id: Uuid) -> DomainResult<Paths> {
        let dir = self
            .files
            .dir
            .join("transfers")
            .join(tenant.0.to_string())
            .join(id.to_string());
        crate::files::private_dir(&dir).map_err(|e| {
            DomainError::Internal(anyhow::anyhow!("creating {}: {e}", dir.display()))
        })?;
        Ok(Paths { dir })
    }
}
