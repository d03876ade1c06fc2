//! Automations' flows and the steps their runs reached (`crm_domain::automation`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::automation::{AutomationStore, Flow, StepRun, StepState};
use crm_domain::ids::TenantId;
use crm_domain::work::{At, Work};
use crm_domain::{DomainError, DomainResult};
use sea_query::{LockType, OnConflict, Order, Query};
use uuid::Uuid;

use crate::db::Exec;
use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

const STEP_COLUMNS: [&str; 12] = [
    "id",
    "tenant_id",
    "automation_id",
    "run_key",
    "record",
    "step",
    "state",
    "detail",
    "message_id",
    "due_at",
    "created_at",
    "updated_at",
];

#[derive(Debug, sqlx::FromRow)]
struct StepRow {
    id: Uuid,
    tenant_id: Uuid,
    automation_id: i64,
    run_key: String,
    record: String,
    step: i64,
    state: String,
    detail: Option<String>,
    message_id: Option<Uuid>,
    due_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<StepRow> for StepRun {
    type Error = DomainError;

    fn try_from(r: StepRow) -> DomainResult<Self> {
        Ok(StepRun {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            automation_id: r.automation_id,
            run_key: r.run_key,
            record: r.record,
            step: r.step,
            state: StepState::parse(&r.state).ok_or_else(|| {
                DomainError::Internal(anyhow::anyhow!("stored step state '{}'", r.state))
            })?,
            detail: r.detail,
            message_id: r.message_id,
            due_at: r.due_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct FlowRow {
    automation_id: i64,
    flow: String,
}

#[async_trait]
impl AutomationStore for SqlStore {
    async fn save_flow(
        &self,
        w: &mut Work,
        tenant: TenantId,
        automation_id: i64,
        flow: &Flow,
    ) -> DomainResult<()> {
        let json = serde_json::to_string(flow).map_err(|e| DomainError::Internal(e.into()))?;
        let q = Query::insert()
            .into_table(al("automation_flows"))
            .columns(
                [
                    "tenant_id",
                    "automation_id",
                    "trigger_event",
                    "active",
                    "flow",
                    "updated_at",
                ]
                .map(al),
            )
            .values_panic([
                v(tenant.0),
                v(automation_id),
                v(flow.trigger.as_str()),
                v(flow.active),
                v(json),
                v(crm_domain::clock::now()),
            ])
            .on_conflict(
                OnConflict::columns([al("tenant_id"), al("automation_id")])
                    .update_columns(["trigger_event", "active", "flow", "updated_at"].map(al))
                    .to_owned(),
            )
            .to_owned();
        crate::db::tx(w)?
            .exec()
            .execute(&q)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn remove_flow(
        &self,
        w: &mut Work,
        tenant: TenantId,
        automation_id: i64,
    ) -> DomainResult<()> {
        let q = Query::delete()
            .from_table(al("automation_flows"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("automation_id").eq(automation_id))
            .to_owned();
        crate::db::tx(w)?
            .exec()
            .execute(&q)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn flow(
        &self,
        at: At<'_>,
        tenant: TenantId,
        automation_id: i64,
    ) -> DomainResult<Option<Flow>> {
        let q = Query::select()
            .columns(["automation_id", "flow"].map(al))
            .from(al("automation_flows"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("automation_id").eq(automation_id))
            .to_owned();
        let mut r = self.db.reader(at).await?;
        let row: Option<FlowRow> = r.exec().fetch_optional(&q).await.map_err(db_error)?;
        row.map(|r| {
            serde_json::from_str(&r.flow)
                .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored flow: {e}")))
        })
        .transpose()
    }

    async fn flows_for(
        &self,
        at: At<'_>,
        tenant: TenantId,
        trigger: &str,
    ) -> DomainResult<Vec<(i64, Flow)>> {
        let q = Query::select()
            .columns(["automation_id", "flow"].map(al))
            .from(al("automation_flows"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("trigger_event").eq(trigger))
            .and_where(col("active").eq(true))
            .order_by(al("automation_id"), Order::Asc)
            .to_owned();
        let mut r = self.db.reader(at).await?;
        let rows: Vec<FlowRow> = r.exec().fetch_all(&q).await.map_err(db_error)?;
        rows.into_iter()
            .map(|r| {
                serde_json::from_str(&r.flow)
                    .map(|f| (r.automation_id, f))
                    .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored flow: {e}")))
            })
            .collect()
    }

    async fn add_step_runs(
        &self,
        w: &mut Work,
        rows: &[StepRun],
    ) -> DomainResult<std::collections::HashSet<Uuid>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
        }
        let mut stored = std::collections::HashSet::with_capacity(rows.len());
        // Chunks keep each statement well under either backend's bound-parameter limit.
        for chunk in rows.chunks(250) {
            let mut q = Query::insert();
            q.into_table(al("automation_steps"))
                .columns(STEP_COLUMNS.map(al))
                .on_conflict(
                    OnConflict::columns(["tenant_id", "automation_id", "run_key", "step"].map(al))
                        .do_nothing()
                        .to_owned(),
                )
                .returning_col(al("id"));
            for s in chunk {
                q.values_panic([
                    v(s.id),
                    v(s.tenant_id.0),
                    v(s.automation_id),
                    v(s.run_key.as_str()),
                    v(s.record.as_str()),
                    v(s.step),
                    v(s.state.as_str()),
                    v(s.detail.clone()),
                    v(s.message_id),
                    v(s.due_at),
                    v(s.created_at),
                    v(s.updated_at),
                ]);
            }
            let got: Vec<Row> = crate::db::tx(w)?
                .exec()
                .fetch_all(&q)
                .await
                .map_err(db_error)?;
            stored.extend(got.into_iter().map(|r| r.id));
        }
        Ok(stored)
    }

    async fn lock_step_run(&self, w: &mut Work, id: Uuid) -> DomainResult<Option<StepRun>> {
        let mut q = Query::select()
            .columns(STEP_COLUMNS.map(al))
            .from(al("automation_steps"))
            .and_where(col("id").eq(id))
            .to_owned();
        let tx = crate::db::tx(w)?;
        let mut exec = tx.exec();
        if matches!(exec, Exec::Postgres(..)) {
            q.lock(LockType::Update);
        }
        let row: Option<StepRow> = exec.fetch_optional(&q).await.map_err(db_error)?;
        row.map(StepRun::try_from).transpose()
    }

    async fn finish_step_run(
        &self,
        w: &mut Work,
        id: Uuid,
        state: StepState,
        detail: Option<&str>,
        message_id: Option<Uuid>,
    ) -> DomainResult<()> {
        let q = Query::update()
            .table(al("automation_steps"))
            .values([
                (al("state"), v(state.as_str())),
                (al("detail"), v(detail.map(str::to_owned))),
                (al("message_id"), v(message_id)),
                (al("updated_at"), v(crm_domain::clock::now())),
            ])
            .and_where(col("id").eq(id))
            .to_owned();
        crate::db::tx(w)?
            .exec()
            .execute(&q)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn step_runs(
        &self,
        tenant: TenantId,
        automation_id: i64,
        limit: u32,
        offset: u32,
    ) -> DomainResult<Vec<StepRun>> {
        let q = Query::select()
            .columns(STEP_COLUMNS.map(al))
            .from(al("automation_steps"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("automation_id").eq(automation_id))
            .order_by(al("id"), Order::Desc)
            .limit(u64::from(limit))
            .offset(u64::from(offset))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<StepRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        rows.into_iter().map(StepRun::try_from).collect()
    }
}
