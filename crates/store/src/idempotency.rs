//! Idempotency keys (`crm_domain::idempotency`): taken and answered in short transactions of
//! their own (a key is taken before its request runs and answered after it committed).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::idempotency::{Answer, Claim, IdempotencyStore, KEEP_HOURS, STALE_SECS};
use crm_domain::ids::TenantId;
use crm_domain::DomainResult;
use sea_query::{OnConflict, Query};
use uuid::Uuid;

use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

#[derive(Debug, sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    status: Option<i32>,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
    created_at: DateTime<Utc>,
}

fn this_key(q: &mut sea_query::UpdateStatement, tenant: TenantId, client: Uuid, key: &str) {
    q.and_where(col("tenant_id").eq(tenant.0))
        .and_where(col("client_id").eq(client))
        .and_where(col("idem_key").eq(key));
}

#[async_trait]
impl IdempotencyStore for SqlStore {
    async fn claim(
        &self,
        tenant: TenantId,
        client: Uuid,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Claim> {
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let insert = Query::insert()
            .into_table(al("idempotency_keys"))
            .columns(
                [
                    "tenant_id",
                    "client_id",
                    "idem_key",
                    "fingerprint",
                    "created_at",
                ]
                .map(al),
            )
            .values_panic([v(tenant.0), v(client), v(key), v(fingerprint), v(now)])
            .on_conflict(
                OnConflict::columns(["tenant_id", "client_id", "idem_key"].map(al))
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        if tx.exec().execute(&insert).await.map_err(db_error)? == 1 {
            tx.commit().await.map_err(db_error)?;
            return Ok(Claim::Run);
        }
        let row: Option<KeyRow> = tx
            .exec()
            .fetch_optional(
                &Query::select()
                    .columns(
                        [
                            "fingerprint",
                            "status",
                            "content_type",
                            "body",
                            "created_at",
                        ]
                        .map(al),
                    )
                    .from(al("idempotency_keys"))
                    .and_where(col("tenant_id").eq(tenant.0))
                    .and_where(col("client_id").eq(client))
                    .and_where(col("idem_key").eq(key))
                    .to_owned(),
            )
            .await
            .map_err(db_error)?;
        let Some(row) = row else {
            // Purged in between: taken on the next try.
            return Ok(Claim::InProgress);
        };
        let expired = row.created_at < now - chrono::Duration::hours(KEEP_HOURS);
        let abandoned =
            row.status.is_none() && row.created_at < now - chrono::Duration::seconds(STALE_SECS);
        let claim = if expired || abandoned {
            // A key past its time, or left by a request that died: taken afresh.
            let mut q = Query::update();
            q.table(al("idempotency_keys"))
                .value(al("fingerprint"), fingerprint)
                .value(al("status"), None::<i32>)
                .value(al("content_type"), None::<String>)
                .value(al("body"), None::<Vec<u8>>)
                .value(al("created_at"), now);
            this_key(&mut q, tenant, client, key);
            tx.exec().execute(&q).await.map_err(db_error)?;
            Claim::Run
        } else if row.fingerprint != fingerprint {
            Claim::Mismatch
        } else {
            match row.status {
                None => Claim::InProgress,
                Some(status) => Claim::Replay(Answer {
                    status: u16::try_from(status).unwrap_or(200),
                    content_type: row.content_type,
                    body: row.body.unwrap_or_default(),
                }),
            }
        };
        tx.commit().await.map_err(db_error)?;
        Ok(claim)
    }

    async fn complete(
        &self,
        tenant: TenantId,
        client: Uuid,
        key: &str,
        answer: &Answer,
    ) -> DomainResult<()> {
        let mut q = Query::update();
        q.table(al("idempotency_keys"))
            .value(al("status"), i32::from(answer.status))
            .value(al("content_type"), answer.content_type.clone())
            .value(al("body"), answer.body.clone());
        this_key(&mut q, tenant, client, key);
        let mut tx = self.db.begin().await.map_err(db_error)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn release(&self, tenant: TenantId, client: Uuid, key: &str) -> DomainResult<()> {
        let q = Query::delete()
            .from_table(al("idempotency_keys"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("client_id").eq(client))
            .and_where(col("idem_key").eq(key))
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn purge_keys(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        let q = Query::delete()
            .from_table(al("idempotency_keys"))
            .and_where(col("created_at").lt(before))
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let n = tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }
}
