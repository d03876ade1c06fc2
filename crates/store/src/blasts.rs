//! Campaign sends (`crm_domain::campaign`): a plan and where its fan-out stands.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::campaign::{Blast, BlastState, BlastStore};
use crm_domain::ids::TenantId;
use crm_domain::messaging::Channel;
use crm_domain::work::{At, Work};
use crm_domain::{DomainError, DomainResult};
use sea_query::{LockType, OnConflict, Query, SelectStatement};
use uuid::Uuid;

use crate::db::Exec;
use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

const COLUMNS: [&str; 17] = [
    "tenant_id",
    "campaign",
    "name",
    "name_folded",
    "channel",
    "state",
    "plan",
    "version",
    "run_at",
    "cursor_part",
    "cursor_pos",
    "recipients",
    "duplicates",
    "started_at",
    "finished_at",
    "created_at",
    "updated_at",
];

#[derive(Debug, sqlx::FromRow)]
struct BlastRow {
    tenant_id: Uuid,
    campaign: String,
    name: String,
    channel: String,
    state: String,
    plan: String,
    version: i32,
    run_at: DateTime<Utc>,
    cursor_part: i32,
    cursor_pos: i64,
    recipients: i64,
    duplicates: i64,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<BlastRow> for Blast {
    type Error = DomainError;

    fn try_from(r: BlastRow) -> DomainResult<Self> {
        let bad = |what: &str| DomainError::Internal(anyhow::anyhow!("stored blast {what}"));
        Ok(Blast {
            tenant_id: TenantId(r.tenant_id),
            campaign: r.campaign,
            name: r.name,
            channel: Channel::parse(&r.channel).map_err(|_| bad("channel"))?,
            state: BlastState::parse(&r.state).ok_or_else(|| bad("state"))?,
            plan: r.plan,
            version: r.version,
            run_at: r.run_at,
            cursor_part: r.cursor_part,
            cursor_pos: r.cursor_pos,
            recipients: r.recipients,
            duplicates: r.duplicates,
            started_at: r.started_at,
            finished_at: r.finished_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn select(tenant: TenantId) -> SelectStatement {
    Query::select()
        .columns(COLUMNS.map(al))
        .from(al("blasts"))
        .and_where(col("tenant_id").eq(tenant.0))
        .to_owned()
}

#[async_trait]
impl BlastStore for SqlStore {
    async fn save_blast(&self, w: &mut Work, b: &Blast) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("blasts"))
            .columns(COLUMNS.map(al))
            .values_panic([
                v(b.tenant_id.0),
                v(b.campaign.as_str()),
                v(b.name.as_str()),
                v(crm_domain::text::fold(&b.name)),
                v(b.channel.as_str()),
                v(b.state.as_str()),
                v(b.plan.as_str()),
                v(b.version),
                v(b.run_at),
                v(b.cursor_part),
                v(b.cursor_pos),
                v(b.recipients),
                v(b.duplicates),
                v(b.started_at),
                v(b.finished_at),
                v(b.created_at),
                v(b.updated_at),
            ])
            .on_conflict(
                OnConflict::columns([al("tenant_id"), al("campaign")])
                    .update_columns(COLUMNS[2..].iter().copied().map(al))
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

    async fn blast(
        &self,
        at: At<'_>,
        tenant: TenantId,
        campaign: &str,
    ) -> DomainResult<Option<Blast>> {
        let mut q = select(tenant);
        q.and_where(col("campaign").eq(campaign));
        let mut r = self.db.reader(at).await?;
        let row: Option<BlastRow> = r.exec().fetch_optional(&q).await.map_err(db_error)?;
        row.map(Blast::try_from).transpose()
    }

    async fn lock_blast(
        &self,
        w: &mut Work,
        tenant: TenantId,
        campaign: &str,
    ) -> DomainResult<Option<Blast>> {
        let mut q = select(tenant);
        q.and_where(col("campaign").eq(campaign));
        let tx = crate::db::tx(w)?;
        let mut exec = tx.exec();
        if matches!(exec, Exec::Postgres(..)) {
            q.lock(LockType::Update);
        }
        let row: Option<BlastRow> = exec.fetch_optional(&q).await.map_err(db_error)?;
        row.map(Blast::try_from).transpose()
    }

    async fn blasts(&self, tenant: TenantId, campaigns: &[String]) -> DomainResult<Vec<Blast>> {
        if campaigns.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = select(tenant);
        q.and_where(col("campaign").is_in(campaigns.iter().map(String::as_str)));
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<BlastRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        rows.into_iter().map(Blast::try_from).collect()
    }

    async fn latest_blasts(&self, tenant: TenantId, limit: u32) -> DomainResult<Vec<Blast>> {
        let mut q = select(tenant);
        q.order_by(al("run_at"), sea_query::Order::Desc)
            .order_by(al("campaign"), sea_query::Order::Asc)
            .limit(u64::from(limit));
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<BlastRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        rows.into_iter().map(Blast::try_from).collect()
    }

    async fn campaigns_named(
        &self,
        tenant: TenantId,
        text: &str,
        limit: u32,
    ) -> DomainResult<Vec<String>> {
        #[derive(sqlx::FromRow)]
        struct Key {
            campaign: String,
        }
        let pattern = format!(
            "%{}%",
            crm_domain::text::fold(text)
                .replace('\\', "")
                .replace(['%', '_'], "")
        );
        let q = Query::select()
            .column(al("campaign"))
            .from(al("blasts"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("name_folded").like(pattern))
            .limit(u64::from(limit))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<Key> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        Ok(rows.into_iter().map(|k| k.campaign).collect())
    }
}
