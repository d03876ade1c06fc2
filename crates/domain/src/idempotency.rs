//! Idempotency keys on writes (`Idempotency-Key`, as in the IETF httpapi draft): the first
//! request with a key runs and its answer is kept; the same key with the same request replays
//! that answer; with another request it is refused; while the first still runs, a second waits
//! its turn by being refused as in progress. Keys belong to one API client of one tenant and are
//! kept [`KEEP_HOURS`] hours.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;

/// How long a key's answer is kept.
pub const KEEP_HOURS: i64 = 24;
/// Longest key accepted.
pub const MAX_KEY: usize = 255;
/// Largest answer kept for replay; a larger one is not kept (the key is freed).
pub const MAX_ANSWER: usize = 1024 * 1024;
/// A key still "in progress" after this many seconds was left by a request that died: the
/// next request with it runs.
pub const STALE_SECS: i64 = 120;

/// A kept answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What a request with a key does.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is new (or its holder died): run the request, then `complete` or `release`.
    Run,
    /// The same request was answered before: send this again.
    Replay(Answer),
    /// The key was used for another request.
    Mismatch,
    /// The first request with the key is still running.
    InProgress,
}

/// Checks a key as a client sends it: 1 to 255 visible ASCII characters.
pub fn check_key(key: &str) -> DomainResult<()> {
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(DomainError::validation(
            "Idempotency-Key",
            format!("must be 1 to {MAX_KEY} visible ASCII characters"),
        ));
    }
    Ok(())
}

/// What makes two requests "the same": method, path, query and body.
pub fn fingerprint(method: &str, path: &str, query: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        method.as_bytes(),
        b" ",
        path.as_bytes(),
        b"?",
        query.as_bytes(),
        b"\n",
    ] {
        h.update(part);
    }
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Takes the key for a request with `fingerprint` (atomically: of concurrent requests
    /// with one key, one runs).
    async fn claim(
        &self,
        tenant: TenantId,
        client: Uuid,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> DomainResult<Claim>;
    /// Keeps the answer of the request that ran.
    async fn complete(
        &self,
        tenant: TenantId,
        client: Uuid,
        key: &str,
        answer: &Answer,
    ) -> DomainResult<()>;
    /// Frees the key (the request failed on our side, or its answer is too large to keep).
    async fn release(&self, tenant: TenantId, client: Uuid, key: &str) -> DomainResult<()>;
    /// Removes keys taken before `before`; answers how many.
    async fn purge_keys(&self, before: DateTime<Utc>) -> DomainResult<u64>;
}

impl crate::service::Crm {
    /// Takes `key` for the caller's request `fingerprint` (see [`Claim`]).
    pub async fn idempotency_claim(
        &self,
        actor: &crate::Actor,
        key: &str,
        fingerprint: &str,
    ) -> DomainResult<Claim> {
        check_key(key)?;
        self.idempotency
            .claim(
                actor.tenant_id,
                actor.id,
                key,
                fingerprint,
                crate::auth::now(),
            )
            .await
    }

    /// Keeps the answer of the request that ran with `key`.
    pub async fn idempotency_complete(
        &self,
        actor: &crate::Actor,
        key: &str,
        answer: &Answer,
    ) -> DomainResult<()> {
        self.idempotency
            .complete(actor.tenant_id, actor.id, key, answer)
            .await
    }

    /// Frees `key`: the request with it may run again.
    pub async fn idempotency_release(&self, actor: &crate::Actor, key: &str) -> DomainResult<()> {
        self.idempotency
            .release(actor.tenant_id, actor.id, key)
            .await
    }

    /// Removes keys older than [`KEEP_HOURS`]; answers how many.
    pub async fn purge_idempotency_keys(&self) -> DomainResult<u64> {
        self.idempotency
            .purge_keys(crate::auth::now() - chrono::Duration::hours(KEEP_HOURS))
            .await
    }
}
