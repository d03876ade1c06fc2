//! Tenants, API clients and bearer tokens.
//!
//! Secrets are stored as Argon2id hashes; tokens are random strings stored as SHA-256
//! digests. A verified access token is cached in memory for a few seconds so that a
//! request costs no extra query; revocation therefore takes effect within that time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::audit::{By, Entry};
use crate::common::{required, Actor, SHORT};
use crate::error::{DomainError, DomainResult};
use crate::ids::{ApiClientId, TenantId};
use crate::scope::Scope;
use crate::throttle::Throttle;
pub use crate::throttle::ThrottleSettings;

/// Most live API clients a tenant may hold when they are made over HTTP (`POST
/// /crm/v1/clients`); the command line has no cap.
pub const MAX_LIVE_CLIENTS: usize = 50;

/// The tenant's default time zone.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Ho_Chi_Minh";

/// A workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    /// Short unique name used on the command line.
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

impl Tenant {
    pub fn tz(&self) -> Tz {
        self.time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Ho_Chi_Minh)
    }

    /// Someone acting in this tenant: an API client (its id), or the operator at the command
    /// line or a web form (the nil id).
    pub fn actor(&self, id: uuid::Uuid, name: impl Into<String>) -> Actor {
        Actor {
            tenant_id: self.id,
            id,
            name: name.into(),
            account: self.slug.clone(),
            time_zone: self.tz(),
        }
    }
}

/// An API client of a tenant. Its secret is never stored, only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    pub id: ApiClientId,
    pub tenant_id: TenantId,
    /// The public identifier callers send as `client_id`/`clientId`.
    pub client_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// What it may do (`crate::scope`).
    pub scope: Scope,
}

/// A client secret, redacted in `Debug`.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A new client with the only copy of its secret.
#[derive(Debug, Clone)]
pub struct IssuedClient {
    pub client: ApiClient,
    pub secret: Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access = 1,
    Refresh = 2,
}

/// A token as stored: its digest and what it grants.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub digest: String,
    pub kind: TokenKind,
    pub tenant_id: TenantId,
    pub client: ApiClientId,
    pub expires_at: DateTime<Utc>,
    /// The grant it descends from: a client-credentials grant starts a family, each refresh
    /// passes it on.
    pub family: uuid::Uuid,
}

/// What presenting a refresh token came to.
#[derive(Debug, Clone)]
pub enum Refresh {
    /// It was live and is now spent: issue the next pair of its family.
    Live(Box<TokenOwner>),
    /// It was spent before: its whole family has been revoked.
    Reused,
    /// Unknown, expired, or its client revoked.
    Unknown,
}

/// What a valid token resolves to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub tenant: Tenant,
    pub client: ApiClient,
    pub expires_at: DateTime<Utc>,
    /// `None` for tokens issued before families were kept.
    pub family: Option<uuid::Uuid>,
}

/// A freshly issued access/refresh pair.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub expires_in: i64,
}

#[async_trait]
pub trait AuthRepository: Send + Sync {
    /// `Conflict` on a duplicate slug.
    async fn create_tenant(&self, tenant: &Tenant) -> DomainResult<()>;
    /// By slug or by id.
    async fn find_tenant(&self, key: &str) -> DomainResult<Option<Tenant>>;
    async fn list_tenants(&self) -> DomainResult<Vec<Tenant>>;
    /// Stores a client; with `max_live`, only while its tenant has fewer live clients than
    /// that (checked and written under the tenant's lock), answering whether it was stored.
    async fn create_client(
        &self,
        client: &ApiClient,
        secret_hash: &str,
        max_live: Option<usize>,
        by: &By,
    ) -> DomainResult<bool>;
    async fn list_clients(&self, tenant: TenantId) -> DomainResult<Vec<ApiClient>>;
    /// The client and its secret hash, revoked or not.
    async fn find_client(&self, client_id: &str) -> DomainResult<Option<(ApiClient, String)>>;
    /// Marks the client and all its tokens revoked; `false` if unknown or already revoked.
    /// Revokes a live client and its tokens; within one tenant when `tenant` is given.
    /// Both record what they did in the audit trail, in their transaction.
    async fn revoke_client(
        &self,
        client_id: &str,
        tenant: Option<TenantId>,
        by: &By,
    ) -> DomainResult<bool>;
    async fn store_tokens(&self, tokens: &[StoredToken], audit: &Entry) -> DomainResult<()>;
    /// A live (unexpired, unrevoked, client live) token of that kind.
    async fn find_token(&self, digest: &str, kind: TokenKind) -> DomainResult<Option<TokenOwner>>;
    /// Atomically spends a live refresh token and returns its owner (so a refresh token works
    /// exactly once). A spent one presented again revokes every token of its family, recorded
    /// in the audit trail in the same transaction.
    async fn consume_refresh(&self, digest: &str) -> DomainResult<Refresh>;
    /// Removes tokens that expired before `before`; answers how many.
    async fn purge_tokens(&self, before: DateTime<Utc>) -> DomainResult<u64>;
}

/// Lifetimes and cache settings.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// How long a verified access token is trusted without asking the database again.
    pub cache_ttl: Duration,
    /// Bounds on credential checks (`crate::throttle`).
    pub throttle: ThrottleSettings,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            cache_ttl: Duration::from_secs(5),
            throttle: ThrottleSettings::default(),
        }
    }
}

struct Cached {
    actor: Actor,
    scope: Scope,
    expires_at: DateTime<Utc>,
    checked: Instant,
}

const CACHE_CAPACITY: usize = 100_000;

/// Issues and verifies credentials.
#[derive(Clone)]
pub struct AuthService {
    repo: Arc<dyn AuthRepository>,
    settings: AuthSettings,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    throttle: Arc<Throttle>,
}

impl AuthService {
    pub fn new(repo: Arc<dyn AuthRepository>, settings: AuthSettings) -> Self {
        Self {
            repo,
            settings,
            cache: Arc::default(),
            throttle: Arc::new(Throttle::new(settings.throttle)),
        }
    }

    pub fn settings(&self) -> AuthSettings {
        self.settings
    }

    pub async fn create_tenant(
        &self,
        name: &str,
        slug: Option<&str>,
        time_zone: Option<&str>,
    ) -> DomainResult<Tenant> {
        let name = required("name", Some(name.to_owned()), SHORT)?;
        let slug = match slug {
            Some(s) => s.trim().to_lowercase(),
            None => crate::text::words(&name).join("-"),
        };
        if slug.is_empty()
            || !slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(DomainError::validation(
                "slug",
                "use letters, digits, '-' and '_' only",
            ));
        }
        let time_zone = time_zone.unwrap_or(DEFAULT_TIME_ZONE);
        if time_zone.parse::<Tz>().is_err() {
            return Err(DomainError::validation(
                "time_zone",
                format!("unknown time zone '{time_zone}'"),
            ));
        }
        let tenant = Tenant {
            id: TenantId::new(),
            slug,
            name,
            time_zone: time_zone.to_owned(),
            created_at: now(),
        };
        self.repo.create_tenant(&tenant).await?;
        Ok(tenant)
    }

    pub async fn find_tenant(&self, key: &str) -> DomainResult<Tenant> {
        self.repo
            .find_tenant(key)
            .await?
            .ok_or(DomainError::not_found("tenant"))
    }

    pub async fn list_tenants(&self) -> DomainResult<Vec<Tenant>> {
        self.repo.list_tenants().await
    }

    /// A new client of `tenant` with `scope`, made by the operator (the command line: no cap).
    pub async fn create_client(
        &self,
        tenant: &Tenant,
        name: &str,
        scope: Scope,
    ) -> DomainResult<IssuedClient> {
        self.make_client(tenant.id, name, scope, None, &By::operator())
            .await
    }

    /// A new client of the caller's tenant, made by the caller (over HTTP): at most
    /// [`MAX_LIVE_CLIENTS`] live ones, its secret hashed within the credential checks'
    /// concurrency bound, and its `scope` no wider than the caller's own (`caller`).
    pub async fn add_client(
        &self,
        actor: &Actor,
        caller: Scope,
        name: &str,
        scope: Scope,
    ) -> DomainResult<IssuedClient> {
        if !caller.covers(&scope) {
            return Err(DomainError::Forbidden {
                message: format!(
                    "a client with scope '{caller}' cannot make one with the wider scope '{scope}'"
                ),
            });
        }
        self.make_client(
            actor.tenant_id,
            name,
            scope,
            Some(MAX_LIVE_CLIENTS),
            &By::actor(actor),
        )
        .await
    }

    async fn make_client(
        &self,
        tenant: TenantId,
        name: &str,
        scope: Scope,
        max_live: Option<usize>,
        by: &By,
    ) -> DomainResult<IssuedClient> {
        let client = ApiClient {
            id: ApiClientId::new(),
            tenant_id: tenant,
            client_id: hex(&random_bytes::<16>()),
            name: required("name", Some(name.to_owned()), SHORT)?,
            created_at: now(),
            revoked_at: None,
            scope,
        };
        let secret = URL_SAFE_NO_PAD.encode(random_bytes::<30>());
        let hash = self.throttle.hash(secret.clone()).await?;
        if !self
            .repo
            .create_client(&client, &hash, max_live, by)
            .await?
        {
            return Err(DomainError::Conflict {
                field: None,
                message: format!(
                    "a tenant has at most {MAX_LIVE_CLIENTS} live API clients; revoke one first"
                ),
            });
        }
        Ok(IssuedClient {
            client,
            secret: Secret(secret),
        })
    }

    pub async fn list_clients(&self, tenant: &Tenant) -> DomainResult<Vec<ApiClient>> {
        self.repo.list_clients(tenant.id).await
    }

    /// The caller's tenant.
    pub async fn tenant_of(&self, actor: &Actor) -> DomainResult<Tenant> {
        self.find_tenant(&actor.tenant_id.0.to_string()).await
    }

    /// The caller's tenant's clients, oldest first.
    pub async fn clients_of(&self, actor: &Actor) -> DomainResult<Vec<ApiClient>> {
        self.repo.list_clients(actor.tenant_id).await
    }

    /// Revokes any live client (the operator's command line).
    pub async fn revoke_client(&self, client_id: &str) -> DomainResult<()> {
        self.revoke(client_id, None, &By::operator()).await
    }

    /// Revokes a live client of the caller's tenant; another tenant's is not found. A client
    /// does not revoke itself (that would lock its caller out mid-request): another client, or
    /// the command line, does.
    pub async fn revoke_client_of(&self, actor: &Actor, client_id: &str) -> DomainResult<()> {
        let own = self
            .repo
            .list_clients(actor.tenant_id)
            .await?
            .into_iter()
            .any(|c| c.id.0 == actor.id && c.client_id == client_id);
        if own {
            return Err(DomainError::Conflict {
                field: Some("client_id"),
                message: "a client cannot revoke itself; revoke it with another client or \
                          `crm client revoke`"
                    .to_owned(),
            });
        }
        self.revoke(client_id, Some(actor.tenant_id), &By::actor(actor))
            .await
    }

    async fn revoke(&self, client_id: &str, tenant: Option<TenantId>, by: &By) -> DomainResult<()> {
        if client_id.len() > 128 {
            return Err(DomainError::not_found("api client"));
        }
        if self.repo.revoke_client(client_id, tenant, by).await? {
            self.cache.lock().map_err(poisoned)?.clear();
            Ok(())
        } else {
            Err(DomainError::not_found("api client"))
        }
    }

    /// Client-credentials grant, for a caller at address `from`. Unknown client, wrong secret
    /// and revoked client all fail the same way, after the same amount of hashing work. Too many
    /// attempts, or no capacity to check, fail as `Throttled` before any hashing.
    pub async fn issue(
        &self,
        client_id: &str,
        client_secret: &str,
        from: IpAddr,
    ) -> DomainResult<TokenPair> {
        let client_id = client_id.trim();
        // No client id is that long; an over-long one is not worth a hash or a key.
        if client_id.len() > 128 || client_secret.len() > 1024 {
            return Err(DomainError::Unauthorized);
        }
        self.throttle.admit(client_id, from)?;
        let _slot = self.throttle.slot(from)?;
        let found = self.repo.find_client(client_id).await?;
        let (client, hash) = match found {
            Some((c, h)) => (Some(c), h),
            None => (None, dummy_hash().to_owned()),
        };
        let secret_ok = self.throttle.verify(client_secret.to_owned(), hash).await?;
        let live = client.filter(|c| secret_ok && c.revoked_at.is_none());
        self.throttle.record(client_id, from, live.is_some())?;
        match live {
            Some(c) => self.mint(&c, "issued", uuid::Uuid::now_v7()).await,
            None => Err(DomainError::Unauthorized),
        }
    }

    /// Checks a password against its stored hash under the same throttle as the token
    /// endpoints: `key` names what is signed in to (a client id, a console user), `hash` is
    /// `None` for an unknown one (checked against a dummy hash, so it costs the same).
    pub async fn check_password(
        &self,
        key: &str,
        from: IpAddr,
        password: &str,
        hash: Option<String>,
    ) -> DomainResult<bool> {
        self.throttle.admit(key, from)?;
        let _slot = self.throttle.slot(from)?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = self.throttle.verify(password.to_owned(), hash).await? && known;
        self.throttle.record(key, from, ok)?;
        Ok(ok)
    }

    /// Refresh grant: the old refresh token stops working, a new pair is issued.
    /// A spent refresh token presented again (a stolen copy, or a client that retried) revokes
    /// its whole family, the live access token included (OAuth 2.0 security best practice).
    pub async fn refresh(&self, refresh_token: &str) -> DomainResult<TokenPair> {
        if refresh_token.len() > 1024 {
            return Err(DomainError::Unauthorized);
        }
        match self
            .repo
            .consume_refresh(&digest(refresh_token.trim()))
            .await?
        {
            Refresh::Live(owner) => {
                let family = owner.family.unwrap_or_else(uuid::Uuid::now_v7);
                self.mint(&owner.client, "refreshed", family).await
            }
            Refresh::Reused => {
                self.cache.lock().map_err(poisoned)?.clear();
                Err(DomainError::Unauthorized)
            }
            Refresh::Unknown => Err(DomainError::Unauthorized),
        }
    }

    /// Removes tokens a day past their expiry (the server's maintenance, once a minute).
    pub async fn purge_expired_tokens(&self) -> DomainResult<u64> {
        self.repo
            .purge_tokens(now() - chrono::Duration::days(1))
            .await
    }

    /// Resolves a bearer access token to the acting client.
    pub async fn authenticate(&self, access_token: &str) -> DomainResult<Actor> {
        Ok(self.authorize(access_token).await?.0)
    }

    /// Resolves a bearer access token to the acting client and its client's scope.
    pub async fn authorize(&self, access_token: &str) -> DomainResult<(Actor, Scope)> {
        let key = digest(access_token.trim());
        let now_utc = now();
        if !self.settings.cache_ttl.is_zero() {
            let cache = self.cache.lock().map_err(poisoned)?;
            if let Some(c) = cache.get(&key) {
                if c.checked.elapsed() < self.settings.cache_ttl && c.expires_at > now_utc {
                    return Ok((c.actor.clone(), c.scope));
                }
            }
        }
        let owner = self
            .repo
            .find_token(&key, TokenKind::Access)
            .await?
            .ok_or(DomainError::Unauthorized)?;
        let scope = owner.client.scope;
        let actor = owner.tenant.actor(owner.client.id.0, owner.client.name);
        if !self.settings.cache_ttl.is_zero() {
            let mut cache = self.cache.lock().map_err(poisoned)?;
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(
                key,
                Cached {
                    actor: actor.clone(),
                    scope,
                    expires_at: owner.expires_at,
                    checked: Instant::now(),
                },
            );
        }
        Ok((actor, scope))
    }

    /// A new token pair for `client`, recorded in the audit trail as `token.<action>`.
    async fn mint(
        &self,
        client: &ApiClient,
        action: &str,
        family: uuid::Uuid,
    ) -> DomainResult<TokenPair> {
        let issued = now();
        let access_token = random_token();
        let refresh_token = random_token();
        let access_expires_at = issued + to_chrono(self.settings.access_ttl);
        let tokens = [
            StoredToken {
                digest: digest(&access_token),
                kind: TokenKind::Access,
                tenant_id: client.tenant_id,
                client: client.id,
                expires_at: access_expires_at,
                family,
            },
            StoredToken {
                digest: digest(&refresh_token),
                kind: TokenKind::Refresh,
                tenant_id: client.tenant_id,
                client: client.id,
                expires_at: issued + to_chrono(self.settings.refresh_ttl),
                family,
            },
        ];
        let by = By {
            client_id: Some(client.id.0),
            name: client.name.clone(),
        };
        let entry = Entry::new(
            client.tenant_id,
            &by,
            "token",
            action,
            Some(client.id.0),
            None,
        );
        self.repo.store_tokens(&tokens, &entry).await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            access_expires_at,
            expires_in: self.settings.access_ttl.as_secs() as i64,
        })
    }
}

/// Now, from the server's one time source ([`crate::clock`]).
pub fn now() -> DateTime<Utc> {
    crate::clock::now()
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> DomainError {
    DomainError::Internal(anyhow::anyhow!("token cache lock poisoned"))
}

/// A random 256-bit token, URL-safe base64 (access and refresh tokens, console sessions and
/// CSRF tokens).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a token.
pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Argon2id at m = 7 MiB, t = 5, p = 1: the lowest-memory of the settings OWASP's password
/// storage cheat sheet gives as equal in strength (19 MiB × 2 passes is the crate's default).
/// Each secret check holds its memory cost; at 7 MiB a burst of checks (one per core) stays
/// small beside the rest of the server. A hash stored with other parameters is checked with
/// its own (they are in the hash).
fn hasher() -> Argon2<'static> {
    match argon2::Params::new(7 * 1024, 5, 1, None) {
        Ok(params) => Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params),
        Err(_) => Argon2::default(),
    }
}

/// The PHC string of `secret` (slow: call it on a blocking thread).
pub(crate) fn hash_now(secret: &str) -> DomainResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("hashing secret: {e}")))
}

/// A valid hash of a random secret, so that an unknown client id costs the same as a known one.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(&random_bytes::<16>(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
