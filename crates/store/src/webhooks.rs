//! Webhook endpoints and the delivery log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::ids::TenantId;
use crm_domain::webhooks::{Delivery, Endpoint, WebhookStore};
use crm_domain::work::At;
use crm_domain::DomainResult;
use sea_query::{Order, Query};
use uuid::Uuid;

use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

const ENDPOINT_COLUMNS: [&str; 7] = [
    "id",
    "tenant_id",
    "url",
    "events",
    "secret",
    "disabled",
    "created_at",
];

const DELIVERY_COLUMNS: [&str; 11] = [
    "id",
    "tenant_id",
    "endpoint_id",
    "job_id",
    "msg_id",
    "event",
    "attempt",
    "status",
    "latency_ms",
    "error",
    "at",
];

#[derive(Debug, sqlx::FromRow)]
struct EndpointRow {
    id: Uuid,
    tenant_id: Uuid,
    url: String,
    events: String,
    secret: String,
    disabled: bool,
    created_at: DateTime<Utc>,
}

impl From<EndpointRow> for Endpoint {
    fn from(r: EndpointRow) -> Self {
        Endpoint {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            url: r.url,
            events: serde_json::from_str(&r.events).unwrap_or_default(),
            secret: r.secret,
            disabled: r.disabled,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct DeliveryRow {
    id: Uuid,
    tenant_id: Uuid,
    endpoint_id: Uuid,
    job_id: Uuid,
    msg_id: String,
    event: String,
    attempt: i32,
    status: Option<i32>,
    latency_ms: i64,
    error: Option<String>,
    at: DateTime<Utc>,
}

impl From<DeliveryRow> for Delivery {
    fn from(r: DeliveryRow) -> Self {
        Delivery {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            endpoint_id: r.endpoint_id,
            job_id: r.job_id,
            msg_id: r.msg_id,
            event: r.event,
            attempt: r.attempt,
            status: r.status,
            latency_ms: r.latency_ms,
            error: r.error,
            at: r.at,
        }
    }
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn add_endpoint(&self, w: &mut crm_domain::work::Work, e: &Endpoint) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("webhook_endpoints"))
            .columns(ENDPOINT_COLUMNS.map(al))
            .values_panic([
                v(e.id),
                v(e.tenant_id.0),
                v(e.url.as_str()),
                v(serde_json::to_string(&e.events).unwrap_or_else(|_| "[]".to_owned())),
                v(e.secret.as_str()),
                v(e.disabled),
                v(e.created_at),
            ])
            .to_owned();
        crate::db::tx(w)?
            .exec()
            .execute(&q)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn endpoints(&self, at: At<'_>, tenant: TenantId) -> DomainResult<Vec<Endpoint>> {
        let q = Query::select()
            .columns(ENDPOINT_COLUMNS.map(al))
            .from(al("webhook_endpoints"))
            .and_where(col("tenant_id").eq(tenant.0))
            .order_by(al("created_at"), Order::Asc)
            .to_owned();
        let mut r = self.db.reader(at).await?;
        let rows: Vec<EndpointRow> = r.exec().fetch_all(&q).await.map_err(db_error)?;
        Ok(rows.into_iter().map(Endpoint::from).collect())
    }

    async fn endpoint(&self, tenant: TenantId, id: Uuid) -> DomainResult<Option<Endpoint>> {
        Ok(self
            .endpoint_by_id(id)
            .await?
            .filter(|e| e.tenant_id == tenant))
    }

    async fn endpoint_by_id(&self, id: Uuid) -> DomainResult<Option<Endpoint>> {
        let q = Query::select()
            .columns(ENDPOINT_COLUMNS.map(al))
            .from(al("webhook_endpoints"))
            .and_where(col("id").eq(id))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<EndpointRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(row.map(Endpoint::from))
    }

    async fn set_disabled(&self, tenant: TenantId, id: Uuid, disabled: bool) -> DomainResult<bool> {
        let q = Query::update()
            .table(al("webhook_endpoints"))
            .value(al("disabled"), disabled)
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("id").eq(id))
            .to_owned();
        Ok(self.db.write(&q).await? == 1)
    }

    async fn set_secret(&self, tenant: TenantId, id: Uuid, secret: &str) -> DomainResult<bool> {
        let q = Query::update()
            .table(al("webhook_endpoints"))
            .value(al("secret"), secret)
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("id").eq(id))
            .to_owned();
        Ok(self.db.write(&q).await? == 1)
    }

    async fn delete_endpoint(&self, tenant: TenantId, id: Uuid) -> DomainResult<bool> {
        let q = Query::delete()
            .from_table(al("webhook_endpoints"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("id").eq(id))
            .to_owned();
        Ok(self.db.write(&q).await? == 1)
    }

    async fn log_delivery(&self, d: &Delivery) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("webhook_deliveries"))
            .columns(DELIVERY_COLUMNS.map(al))
            .values_panic([
                v(d.id),
                v(d.tenant_id.0),
                v(d.endpoint_id),
                v(d.job_id),
                v(d.msg_id.as_str()),
                v(d.event.as_str()),
                v(d.attempt),
                v(d.status),
                v(d.latency_ms),
                v(d.error.clone()),
                v(d.at),
            ])
            .to_owned();
        self.db.write_relaxed(&q).await.map(|_| ())
    }

    async fn deliveries(
        &self,
        tenant: TenantId,
        endpoint: Uuid,
        limit: u32,
    ) -> DomainResult<Vec<Delivery>> {
        let q = Query::select()
            .columns(DELIVERY_COLUMNS.map(al))
            .from(al("webhook_deliveries"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("endpoint_id").eq(endpoint))
            .order_by(al("at"), Order::Desc)
            .order_by(al("id"), Order::Desc)
            .limit(u64::from(limit))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<DeliveryRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        Ok(rows.into_iter().map(Delivery::from).collect())
    }

    async fn delivery(&self, tenant: TenantId, id: Uuid) -> DomainResult<Option<Delivery>> {
        let q = Query::select()
            .columns(DELIVERY_COLUMNS.map(al))
            .from(al("webhook_deliveries"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("id").eq(id))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<DeliveryRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(row.map(Delivery::from))
    }

    async fn purge_deliveries(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        let q = Query::delete()
            .from_table(al("webhook_deliveries"))
            .and_where(col("at").lt(before))
            .to_owned();
        self.db.write(&q).await
    }
}
