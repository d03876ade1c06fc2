//! What keeps the token endpoints from being turned against the server.
//!
//! - **Hashing is bounded.** Checking a secret runs Argon2id (7 MiB, five passes: a few tens
//!   of ms). At most [`ThrottleSettings::hash_concurrency`] checks run at once, each in a memory buffer that is
//!   allocated once and reused, so memory stays flat whatever the burst. A check that cannot
//!   start within [`ThrottleSettings::hash_wait`] is refused as busy (HTTP 503, `Retry-After`).
//! - **Each source address has a budget** of credential checks ([`governor`]'s GCRA: a burst,
//!   then a steady rate). Past it, attempts from that address are refused (429) before any
//!   hashing.
//! - **Each client id has a budget of failures.** When it is spent, the client id is locked for
//!   the time the budget needs to refill, but only for addresses that have not presented its
//!   secret successfully before: an attacker elsewhere cannot lock the real client out, and the
//!   lock ends by itself.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use crate::error::{DomainError, DomainResult};

/// The limits, all configurable (`docs/limits.md`).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Secret checks running at once.
    pub hash_concurrency: usize,
    /// Longest wait for a place to check a secret.
    pub hash_wait: Duration,
    /// Credential checks one address may make per minute (also its burst).
    pub attempts_per_minute: u32,
    /// Failed checks one client id may have per minute (also its burst) before it is locked.
    pub failures_per_minute: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            hash_wait: Duration::from_secs(1),
            attempts_per_minute: 60,
            failures_per_minute: 10,
        }
    }
}

/// Keys kept in a limiter before stale ones are dropped.
const MAX_KEYS: usize = 100_000;

pub(crate) struct Throttle {
    settings: ThrottleSettings,
    per_address: RwLock<DefaultKeyedRateLimiter<IpAddr>>,
    per_client: RwLock<DefaultKeyedRateLimiter<String>>,
    /// Client ids locked after too many failures, until when.
    locked: Mutex<HashMap<String, Instant>>,
    /// (client id, address) pairs that presented the right secret.
    trusted: Mutex<HashMap<(String, IpAddr), Instant>>,
    hashers: Arc<Semaphore>,
    /// Checks in flight or waiting, per address: one address cannot fill the queue.
    in_flight: Arc<Mutex<HashMap<IpAddr, usize>>>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
    attempts: AtomicU64,
}

fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(n)
}

impl Throttle {
    pub(crate) fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            per_address: RwLock::new(RateLimiter::keyed(per_minute(settings.attempts_per_minute))),
            per_client: RwLock::new(RateLimiter::keyed(per_minute(settings.failures_per_minute))),
            locked: Mutex::default(),
            trusted: Mutex::default(),
            hashers: Arc::new(Semaphore::new(settings.hash_concurrency.max(1))),
            in_flight: Arc::default(),
            buffers: Arc::default(),
            attempts: AtomicU64::new(0),
        }
    }

    /// Before a credential check: the address's budget and the client id's lock.
    pub(crate) fn admit(&self, client_id: &str, from: IpAddr) -> DomainResult<()> {
        if self
            .attempts
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1024)
        {
            self.forget_stale();
        }
        let checked = read(&self.per_address)?.check_key(&from);
        if let Err(not_until) = checked {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(too_many(
                wait,
                "too many token requests from this address; try again later",
            ));
        }
        let now = Instant::now();
        let until = lock(&self.locked)?.get(client_id).copied();
        if let Some(until) = until.filter(|u| *u > now) {
            let trusted = lock(&self.trusted)?.contains_key(&(client_id.to_owned(), from));
            if !trusted {
                return Err(too_many(
                    until - now,
                    "too many failed attempts for this client; try again later",
                ));
            }
        }
        Ok(())
    }

    /// A place in the queue for one check from `from`: at most `hash_concurrency` per address,
    /// so that one address's burst cannot keep others waiting. Freed when dropped.
    pub(crate) fn slot(&self, from: IpAddr) -> DomainResult<Slot> {
        let mut map = lock(&self.in_flight)?;
        let n = map.entry(from).or_default();
        if *n >= self.settings.hash_concurrency.max(1) {
            return Err(too_many(
                Duration::from_secs(1),
                "too many token requests at once from this address; try again shortly",
            ));
        }
        *n += 1;
        Ok(Slot {
            map: self.in_flight.clone(),
            from,
        })
    }

    /// After a check: remember a success, count a failure.
    pub(crate) fn record(&self, client_id: &str, from: IpAddr, ok: bool) -> DomainResult<()> {
        if ok {
            let mut trusted = lock(&self.trusted)?;
            if trusted.len() >= MAX_KEYS {
                trusted.clear();
            }
            trusted.insert((client_id.to_owned(), from), Instant::now());
            return Ok(());
        }
        let checked = read(&self.per_client)?.check_key(&client_id.to_owned());
        if let Err(not_until) = checked {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut locked = lock(&self.locked)?;
            if locked.len() >= MAX_KEYS {
                locked.clear();
            }
            locked.insert(client_id.to_owned(), Instant::now() + wait);
        }
        Ok(())
    }

    fn forget_stale(&self) {
        let now = Instant::now();
        if let Ok(mut locked) = self.locked.lock() {
            locked.retain(|_, until| *until > now);
        }
        if let (Ok(mut a), Ok(mut c)) = (self.per_address.write(), self.per_client.write()) {
            a.retain_recent();
            c.retain_recent();
            if a.len() > MAX_KEYS || c.len() > MAX_KEYS {
                // Shed rather than grow: the hashing bound holds regardless.
                *a = RateLimiter::keyed(per_minute(self.settings.attempts_per_minute));
                *c = RateLimiter::keyed(per_minute(self.settings.failures_per_minute));
            }
        }
    }

    /// A place among the `hash_concurrency` hashing threads, waited for at most `hash_wait`.
    async fn hasher(&self) -> DomainResult<tokio::sync::OwnedSemaphorePermit> {
        tokio::time::timeout(
            self.settings.hash_wait,
            self.hashers.clone().acquire_owned(),
        )
        .await
        .map_err(|_| DomainError::Throttled {
            retry_after: 1,
            busy: true,
            message: "the server is busy checking credentials; try again shortly".to_owned(),
        })?
        .map_err(|e| DomainError::Internal(e.into()))
    }

    /// Hashes a new secret on a blocking thread, once a place is free.
    pub(crate) async fn hash(&self, secret: String) -> DomainResult<String> {
        let permit = self.hasher().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            crate::auth::hash_now(&secret)
        })
        .await
        .map_err(|e| DomainError::Internal(e.into()))?
    }

    /// Checks `secret` against the PHC string `hash` on a blocking thread, once a place is free.
    pub(crate) async fn verify(&self, secret: String, hash: String) -> DomainResult<bool> {
        let permit = self.hasher().await?;
        let buffers = self.buffers.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = lock(&buffers)?.pop().unwrap_or_default();
            let result = verify_in(&secret, &hash, &mut memory);
            lock(&buffers)?.push(memory);
            result
        })
        .await
        .map_err(|e| DomainError::Internal(e.into()))?
    }
}

/// A queued or running check of one address; see [`Throttle::slot`].
pub(crate) struct Slot {
    map: Arc<Mutex<HashMap<IpAddr, usize>>>,
    from: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.map.lock() {
            if let Some(n) = map.get_mut(&self.from) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.from);
                }
            }
        }
    }
}

/// Argon2 verification in the caller's buffer (grown once to the hash's memory cost).
fn verify_in(secret: &str, hash: &str, memory: &mut Vec<Block>) -> DomainResult<bool> {
    let internal =
        |e: String| DomainError::Internal(anyhow::anyhow!("stored hash unreadable: {e}"));
    let parsed = PasswordHash::new(hash).map_err(|e| internal(e.to_string()))?;
    let params = Params::try_from(&parsed).map_err(|e| internal(e.to_string()))?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|e| internal(e.to_string()))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| internal(e.to_string()))?
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(internal("no salt or hash".to_owned()));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| internal(e.to_string()))?;
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let blocks = params.block_count();
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(secret.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .map_err(|e| internal(e.to_string()))?;
    // `Output`'s equality is constant-time.
    Ok(argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected))
}

fn too_many(wait: Duration, message: &str) -> DomainError {
    DomainError::Throttled {
        retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        busy: false,
        message: message.to_owned(),
    }
}

fn read<T>(m: &RwLock<T>) -> DomainResult<std::sync::RwLockReadGuard<'_, T>> {
    m.read()
        .map_err(|_| DomainError::Internal(anyhow::anyhow!("throttle lock poisoned")))
}

fn lock<T>(m: &Mutex<T>) -> DomainResult<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| DomainError::Internal(anyhow::anyhow!("throttle lock poisoned")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};

    #[tokio::test]
    async fn verifies_in_a_reused_buffer() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let hash = Argon2::default()
            .hash_password(b"right", &salt)
            .expect("hash")
            .to_string();
        let t = Throttle::new(ThrottleSettings::default());
        assert!(t.verify("right".into(), hash.clone()).await.expect("ok"));
        assert!(!t.verify("wrong".into(), hash).await.expect("ok"));
        assert_eq!(t.buffers.lock().expect("lock").len(), 1);
    }

    #[test]
    fn failures_lock_a_client_only_for_untrusted_addresses() {
        let t = Throttle::new(ThrottleSettings {
            failures_per_minute: 3,
            ..ThrottleSettings::default()
        });
        let real: IpAddr = "10.0.0.1".parse().expect("ip");
        let attacker: IpAddr = "10.0.0.2".parse().expect("ip");
        t.record("c", real, true).expect("record");
        for _ in 0..4 {
            t.admit("c", attacker).expect("admitted until locked");
            t.record("c", attacker, false).expect("record");
        }
        assert!(matches!(
            t.admit("c", attacker),
            Err(DomainError::Throttled { busy: false, .. })
        ));
        t.admit("c", real)
            .expect("the real client is not locked out");
    }
}
