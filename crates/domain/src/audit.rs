//! The audit trail: who changed what, when, through which API, and how.
//!
//! Every create, update, delete and state change appends an [`Entry`] inside its own unit of
//! work ([`Work::audit`]): the entries are written with the commit, so a change and its record
//! stand or fall together. Updates through the generic repository carry the changed fields
//! with their values before and after. Issuing and refreshing tokens and making and revoking
//! API clients are recorded the same way, in the transactions that do them.
//!
//! Which dialect and route a change came through is the request's [`Origin`], set by the
//! server around each request ([`within`]); a change made by a job (a campaign, an automation
//! step) has none.
//!
//! [`Work::audit`]: crate::work::Work::audit

use std::future::Future;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::common::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;

/// Where a request came in: its dialect, its route and its request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub dialect: &'static str,
    /// `METHOD /route/{pattern}`.
    pub route: String,
    pub request_id: String,
}

tokio::task_local! {
    static ORIGIN: Origin;
}

/// Runs `f` (a request's handling) with `origin` as the origin of what it changes.
pub async fn within<F: Future>(origin: Origin, f: F) -> F::Output {
    ORIGIN.scope(origin, f).await
}

/// Runs `f` with `origin` as the origin of what it changes when there is one; otherwise under
/// whatever origin is in effect.
pub async fn within_if<F: Future>(origin: Option<Origin>, f: F) -> F::Output {
    match origin {
        Some(o) => within(o, f).await,
        None => f.await,
    }
}

/// The origin of the running request, if the change is made by one.
pub fn origin() -> Option<Origin> {
    ORIGIN.try_with(Clone::clone).ok()
}

/// Who acted: an API client (its id and name), or the operator's command line (no id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct By {
    pub client_id: Option<Uuid>,
    pub name: String,
}

impl By {
    pub fn actor(actor: &Actor) -> Self {
        Self {
            client_id: Some(actor.id),
            name: actor.name.clone(),
        }
    }

    /// The operator, on the command line.
    pub fn operator() -> Self {
        Self {
            client_id: None,
            name: "command line".to_owned(),
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Entry {
    /// Its place in the trail (ascending); 0 before it is stored.
    pub seq: i64,
    #[serde(skip)]
    #[schemars(skip)]
    pub tenant_id: TenantId,
    pub at: DateTime<Utc>,
    /// The API client that acted (its internal id); `None` for the command line.
    #[serde(skip)]
    #[schemars(skip)]
    pub client_id: Option<Uuid>,
    /// Who acted: the API client's name, or `command line`.
    pub client_name: Option<String>,
    /// `crmtop`, `nextx`, `vbot`, `omi` or `crm` (our own endpoints); `null` outside a request.
    pub dialect: Option<String>,
    /// `METHOD /route/{pattern}`; `null` outside a request.
    pub route: Option<String>,
    pub request_id: Option<String>,
    /// `customer`, `lead`, `order`, `sale`, `api_client`, `token`, …
    pub object: String,
    /// `created`, `updated`, `deleted`, `approved`, `issued`, `revoked`, …
    pub action: String,
    pub record_id: Option<Uuid>,
    /// `{"field": {"before": …, "after": …}}` for the fields an update changed.
    pub changes: Option<serde_json::Value>,
}

impl Entry {
    /// An entry about `record_id` by `by` in `tenant`, now, from the running request's origin.
    pub fn new(
        tenant: TenantId,
        by: &By,
        object: &str,
        action: &str,
        record_id: Option<Uuid>,
        changes: Option<serde_json::Value>,
    ) -> Self {
        let origin = origin();
        Self {
            seq: 0,
            tenant_id: tenant,
            at: crate::clock::now(),
            client_id: by.client_id,
            client_name: Some(by.name.clone()),
            dialect: origin.as_ref().map(|o| o.dialect.to_owned()),
            route: origin.as_ref().map(|o| o.route.clone()),
            request_id: origin.map(|o| o.request_id),
            object: object.to_owned(),
            action: action.to_owned(),
            record_id,
            changes,
        }
    }

    /// An entry about a change made by `actor`.
    pub fn by_actor(actor: &Actor, object: &str, action: &str, record_id: Uuid) -> Self {
        Self::new(
            actor.tenant_id,
            &By::actor(actor),
            object,
            action,
            Some(record_id),
            None,
        )
    }
}

/// Most entries one read answers.
pub const MAX_LIMIT: u32 = 500;
/// Entries one read answers unless told.
pub const DEFAULT_LIMIT: u32 = 100;

/// Which entries to read: all filters must hold; newest first, before `before` (a `seq`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub record: Option<Uuid>,
    pub client: Option<Uuid>,
    pub object: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only entries older than this `seq` (the next page after a page ending at it).
    pub before: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    /// Bounds the query before it runs: `limit` 1 to [`MAX_LIMIT`], an object name of at most
    /// 40 characters.
    pub fn check(mut self) -> DomainResult<Self> {
        if self.limit == 0 {
            self.limit = DEFAULT_LIMIT;
        }
        if self.limit > MAX_LIMIT {
            return Err(DomainError::validation(
                "limit",
                format!("must be 1 to {MAX_LIMIT}"),
            ));
        }
        if self.object.as_ref().is_some_and(|o| o.len() > 40) {
            return Err(DomainError::validation("object", "is not a record kind"));
        }
        if let (Some(s), Some(u)) = (self.since, self.until) {
            if s > u {
                return Err(DomainError::validation("since", "must not be after until"));
            }
        }
        Ok(self)
    }
}

/// A bound of a read: an RFC 3339 time, or a day (`2026-12-06`, from midnight UTC).
pub fn parse_instant(field: &str, raw: &str) -> DomainResult<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| {
            DomainError::validation(field, "must be an RFC 3339 time or a day (YYYY-MM-DD)")
        })
}

/// Where entries are kept. They are appended by the store with the unit of work that made
/// them ([`crate::work::Transaction::commit`]).
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// A tenant's entries, newest first.
    async fn entries(&self, tenant: TenantId, q: &AuditQuery) -> DomainResult<Vec<Entry>>;
    /// Removes entries older than `before`; answers how many.
    async fn purge_audit(&self, before: DateTime<Utc>) -> DomainResult<u64>;
    /// Drops the recorded field values of a record's entries (an erased person's data), in
    /// the erasing unit of work; the entries themselves stay.
    async fn redact(
        &self,
        w: &mut crate::work::Work,
        tenant: TenantId,
        record: Uuid,
    ) -> DomainResult<u64>;
}

/// The fields that differ between `before` and `after` (each a list of `(field, value)` in
/// the same order), as `{"field": {"before": …, "after": …}}`; `None` when none does.
pub fn changes(
    before: Vec<(&str, serde_json::Value)>,
    after: Vec<(&str, serde_json::Value)>,
) -> Option<serde_json::Value> {
    let mut out = serde_json::Map::new();
    for ((field, old), (_, new)) in before.into_iter().zip(after) {
        if old != new {
            out.insert(
                field.to_owned(),
                serde_json::json!({"before": old, "after": new}),
            );
        }
    }
    (!out.is_empty()).then_some(serde_json::Value::Object(out))
}

/// Record kinds that can be restored after a delete, by the name the audit trail uses.
pub const RESTORABLE: &[&str] = &[
    "customer",
    "contact",
    "lead",
    "activity",
    "opportunity",
    "product",
    "order",
    "ticket",
];

/// Record kinds that hold a person's data and can be erased for good.
pub const ERASABLE: &[&str] = &["customer", "contact", "lead"];

fn unknown_kind(list: &[&str]) -> DomainError {
    DomainError::validation("kind", format!("must be one of {}", list.join(", ")))
}

impl crate::service::Crm {
    /// Undoes the delete of a record of `kind`: it is found, listed and searchable again with
    /// the links it kept (a customer's contacts, an order's lines); memberships of segments and
    /// campaigns, dropped by the delete, are not brought back. Recorded as `<kind>.restored`.
    pub async fn restore_record(&self, actor: &Actor, kind: &str, id: Uuid) -> DomainResult<()> {
        use crate::service::Managed;
        async fn go<E: Managed>(
            crm: &crate::service::Crm,
            actor: &Actor,
            id: Uuid,
        ) -> DomainResult<()> {
            let mut w = crm.begin().await?;
            if !E::repo(crm).restore(&mut w, actor, E::Id::from(id)).await? {
                return Err(DomainError::not_found(E::NAME));
            }
            crm.emit_kind::<E>(&mut w, actor, "restored", id).await?;
            w.commit().await
        }
        match kind {
            "customer" => go::<crate::customer::Customer>(self, actor, id).await,
            "contact" => go::<crate::contact::Contact>(self, actor, id).await,
            "lead" => go::<crate::lead::Lead>(self, actor, id).await,
            "activity" => go::<crate::activity::Activity>(self, actor, id).await,
            "opportunity" => go::<crate::opportunity::Opportunity>(self, actor, id).await,
            "product" => go::<crate::sales::Product>(self, actor, id).await,
            "order" => go::<crate::sales::Order>(self, actor, id).await,
            "ticket" => go::<crate::ticket::Ticket>(self, actor, id).await,
            _ => Err(unknown_kind(RESTORABLE)),
        }
    }

    /// Erases a person (customer, contact or lead) for good, on their request (Vietnam's
    /// personal-data decree 13/2023): the row, its search terms and files go, the field values
    /// the audit trail recorded for it are dropped, and one entry `<kind>.erased` says that it
    /// happened, without the data. A person other records still point at (orders, tickets) is
    /// refused with `InUse`.
    pub async fn erase_record(&self, actor: &Actor, kind: &str, id: Uuid) -> DomainResult<()> {
        use crate::service::Managed;
        async fn go<E: Managed>(
            crm: &crate::service::Crm,
            actor: &Actor,
            id: Uuid,
        ) -> DomainResult<()> {
            let mut w = crm.begin().await?;
            // What would refuse its delete refuses its erasure: nothing may point at nothing.
            E::check_delete(crm, &mut w, actor, E::Id::from(id)).await?;
            if !E::repo(crm).erase(&mut w, actor, E::Id::from(id)).await? {
                return Err(DomainError::not_found(E::NAME));
            }
            if let Some(owner) = E::FILES {
                crm.files.remove_owned(&mut w, actor, owner, id).await?;
            }
            crm.audit.redact(&mut w, actor.tenant_id, id).await?;
            w.audit(Entry::by_actor(actor, E::NAME, "erased", id));
            w.commit().await
        }
        match kind {
            "customer" => go::<crate::customer::Customer>(self, actor, id).await,
            "contact" => go::<crate::contact::Contact>(self, actor, id).await,
            "lead" => go::<crate::lead::Lead>(self, actor, id).await,
            _ => Err(unknown_kind(ERASABLE)),
        }
    }

    /// The caller's tenant's audit trail.
    pub async fn audit_trail(&self, actor: &Actor, q: AuditQuery) -> DomainResult<Vec<Entry>> {
        let q = q.check()?;
        self.audit.entries(actor.tenant_id, &q).await
    }

    /// A tenant's audit trail (the command line).
    pub async fn audit_trail_of(
        &self,
        tenant: TenantId,
        q: AuditQuery,
    ) -> DomainResult<Vec<Entry>> {
        let q = q.check()?;
        self.audit.entries(tenant, &q).await
    }

    /// Removes entries older than `keep`.
    pub async fn purge_audit(&self, keep: std::time::Duration) -> DomainResult<u64> {
        let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        self.audit.purge_audit(crate::clock::now() - keep).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_kept() {
        let before = vec![("name", json!("An")), ("phone", json!("0912"))];
        let after = vec![("name", json!("Bình")), ("phone", json!("0912"))];
        assert_eq!(
            changes(before, after),
            Some(json!({"name": {"before": "An", "after": "Bình"}}))
        );
        assert_eq!(changes(vec![("a", json!(1))], vec![("a", json!(1))]), None);
    }

    #[test]
    fn queries_are_bounded() {
        assert_eq!(
            AuditQuery::default()
                .check()
                .expect("the default is fine")
                .limit,
            DEFAULT_LIMIT
        );
        let big = AuditQuery {
            limit: MAX_LIMIT + 1,
            ..AuditQuery::default()
        };
        assert!(big.check().is_err());
        let odd = AuditQuery {
            object: Some("x".repeat(41)),
            ..AuditQuery::default()
        };
        assert!(odd.check().is_err());
    }

    #[tokio::test]
    async fn the_origin_is_the_requests() {
        assert_eq!(origin(), None);
        let o = Origin {
            dialect: "nextx",
            route: "PUT /api/customer/customer/{id}".into(),
            request_id: "r1".into(),
        };
        let seen = within(o.clone(), async { origin() }).await;
        assert_eq!(seen, Some(o));
    }
}
