//! Webhooks: a tenant's endpoints, the events they receive, and the delivery log.
//!
//! Every write a use case makes through any vendor's API names an [`Event`]; inside the same
//! unit of work the event becomes one delivery job per endpoint that wants it (see
//! [`crate::service::Crm::emit`]). Deliveries follow the Standard Webhooks scheme and run in
//! `crm_jobs`. See `docs/webhooks.md`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::work::At;

/// The job kind of one delivery.
pub const DELIVERY_JOB: &str = "webhook";
/// Attempts of one delivery: with the default backoff (10 s doubling) about a day.
pub const DELIVERY_ATTEMPTS: i32 = 14;
/// Most endpoints a tenant may register.
pub const MAX_ENDPOINTS: usize = 50;
/// Longest endpoint URL.
pub const MAX_URL: usize = 2_000;

/// Every event an endpoint can ask for.
pub const EVENTS: &[&str] = &[
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "lead.created",
    "lead.updated",
    "lead.deleted",
    "lead.converted",
    "opportunity.created",
    "opportunity.updated",
    "opportunity.deleted",
    "order.created",
    "order.updated",
    "order.deleted",
    "order.approved",
    "order.rejected",
    "ticket.created",
    "ticket.updated",
    "ticket.deleted",
    "product.created",
    "product.updated",
    "product.deleted",
    "activity.created",
    "activity.updated",
    "activity.deleted",
    "sale.created",
    "sale.paid",
    "purchase.created",
    "return.created",
    "stock.low",
];

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub url: String,
    /// The events it receives; empty for all.
    pub events: Vec<String>,
    /// `whsec_` and the base64 key, as Standard Webhooks writes it.
    pub secret: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl Endpoint {
    pub fn wants(&self, event: &str) -> bool {
        !self.disabled && (self.events.is_empty() || self.events.iter().any(|e| e == event))
    }
}

/// Checks an endpoint's URL and events before it is stored: http(s) only, a host, bounded.
/// Whether the host may be a private address is the delivering side's check (it resolves
/// the name each time).
pub fn check_endpoint(url: &str, events: &[String]) -> DomainResult<()> {
    if url.len() > MAX_URL {
        return Err(DomainError::validation(
            "url",
            format!("must be at most {MAX_URL} characters"),
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| DomainError::validation("url", "must be an http or https URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') || host.chars().any(char::is_whitespace) {
        return Err(DomainError::validation(
            "url",
            "must name a host (and no user info)",
        ));
    }
    if events.len() > EVENTS.len() {
        return Err(DomainError::validation("events", "too many events"));
    }
    for e in events {
        if !EVENTS.contains(&e.as_str()) {
            return Err(DomainError::validation(
                "events",
                format!("unknown event '{e}'"),
            ));
        }
    }
    Ok(())
}

/// One attempt to deliver one message to one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub endpoint_id: Uuid,
    /// The job that made it (redeliver runs it again).
    pub job_id: Uuid,
    /// The message id (`webhook-id`), the same on every attempt.
    pub msg_id: String,
    pub event: String,
    pub attempt: i32,
    /// The receiver's HTTP status; `None` when no answer came (timeout, refused).
    pub status: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

/// Endpoints and deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn add_endpoint(
        &self,
        w: &mut crate::work::Work,
        endpoint: &Endpoint,
    ) -> DomainResult<()>;
    /// The tenant's endpoints, read where `at` says (inside a unit of work when a write
    /// fans out to them).
    async fn endpoints(&self, at: At<'_>, tenant: TenantId) -> DomainResult<Vec<Endpoint>>;
    async fn endpoint(&self, tenant: TenantId, id: Uuid) -> DomainResult<Option<Endpoint>>;
    /// An endpoint by id alone, for the worker delivering to it.
    async fn endpoint_by_id(&self, id: Uuid) -> DomainResult<Option<Endpoint>>;
    async fn set_disabled(&self, tenant: TenantId, id: Uuid, disabled: bool) -> DomainResult<bool>;
    async fn set_secret(&self, tenant: TenantId, id: Uuid, secret: &str) -> DomainResult<bool>;
    async fn delete_endpoint(&self, tenant: TenantId, id: Uuid) -> DomainResult<bool>;
    async fn log_delivery(&self, delivery: &Delivery) -> DomainResult<()>;
    /// The endpoint's latest deliveries, newest first.
    async fn deliveries(
        &self,
        tenant: TenantId,
        endpoint: Uuid,
        limit: u32,
    ) -> DomainResult<Vec<Delivery>>;
    async fn delivery(&self, tenant: TenantId, id: Uuid) -> DomainResult<Option<Delivery>>;
    /// Removes delivery logs older than `before`; returns how many.
    async fn purge_deliveries(&self, before: DateTime<Utc>) -> DomainResult<u64>;
}

/// What a delivery job carries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeliveryJob {
    pub endpoint_id: Uuid,
    pub msg_id: String,
    pub event: String,
    /// The exact body sent (and signed) on every attempt.
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        assert!(check_endpoint("https://example.vn/hook", &[]).is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000/x", &["customer.created".into()]).is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@host/",
            "javascript:alert(1)",
        ] {
            assert!(check_endpoint(bad, &[]).is_err(), "{bad}");
        }
        assert!(check_endpoint("https://x.vn", &["nope".into()]).is_err());
    }
}
