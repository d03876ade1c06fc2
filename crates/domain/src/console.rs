//! Staff sign-in for the web console (`docs/console.md`): a staff login is a role and an
//! Argon2id password hash on a user of the staff directory (the one NextX's user endpoints
//! show); a session is a random token, stored as its SHA-256 digest, with a CSRF token of its
//! own and an expiry.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::auth::{digest, now, random_token, AuthService, Tenant};
use crate::common::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{StaffId, TenantId};

/// Shortest and longest password accepted.
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 1024;
/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// What a staff member may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, settings included.
    Admin,
    /// Customers, leads, deals, orders, tickets and activities.
    Sales,
    /// Campaigns and automations, and the customers and activities they reach.
    Marketing,
    /// Sees, changes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Sales, Role::Marketing, Role::Viewer];

    pub fn parse(s: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::validation("role", "must be admin, sales, marketing or viewer")
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Sales => "sales",
            Role::Marketing => "marketing",
            Role::Viewer => "viewer",
        }
    }

    /// Whether the role may change records of `resource` (one of [`crate::scope::RESOURCES`]).
    pub fn may_change(self, resource: &str) -> bool {
        match self {
            Role::Admin => true,
            Role::Sales => matches!(
                resource,
                "customers" | "leads" | "sales" | "support" | "activities"
            ),
            Role::Marketing => matches!(resource, "marketing" | "customers" | "activities"),
            Role::Viewer => false,
        }
    }
}

/// A staff member who may sign in.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffLogin {
    pub tenant_id: TenantId,
    pub user: StaffId,
    /// Who the audit trail names for the console's changes.
    pub actor_id: uuid::Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Session {
    pub tenant: Tenant,
    pub login: StaffLogin,
    /// Every state-changing form carries it.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// The actor the console's changes are made as.
    pub fn actor(&self) -> Actor {
        self.tenant
            .actor(self.login.actor_id, self.login.display_name.clone())
    }

    /// `Forbidden` unless the role may change `resource`.
    pub fn may_change(&self, resource: &str) -> DomainResult<()> {
        if self.login.role.may_change(resource) {
            Ok(())
        } else {
            Err(DomainError::Forbidden {
                message: format!(
                    "the {} role cannot change {resource}",
                    self.login.role.as_str()
                ),
            })
        }
    }
}

#[async_trait]
pub trait ConsoleRepository: Send + Sync {
    /// Gives staff user `user` a role and a password (replacing any it had).
    async fn set_login(
        &self,
        tenant: TenantId,
        user: StaffId,
        role: Role,
        password_hash: &str,
    ) -> DomainResult<()>;
    /// A live, unlocked staff user's login and password hash, by username.
    async fn find_login(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> DomainResult<Option<(StaffLogin, String)>>;
    /// The tenant's staff who may sign in, by username (at most `limit`).
    async fn logins(&self, tenant: TenantId, limit: u32) -> DomainResult<Vec<StaffLogin>>;
    /// A staff member of the tenant who may sign in, by the id the audit trail names.
    async fn login_of_actor(
        &self,
        tenant: TenantId,
        actor_id: uuid::Uuid,
    ) -> DomainResult<Option<StaffLogin>>;
    async fn create_session(
        &self,
        digest: &str,
        login: &StaffLogin,
        csrf: &str,
        expires_at: DateTime<Utc>,
    ) -> DomainResult<()>;
    /// An unexpired session whose user may still sign in.
    async fn find_session(&self, digest: &str, now: DateTime<Utc>)
        -> DomainResult<Option<Session>>;
    async fn end_session(&self, digest: &str) -> DomainResult<()>;
    /// Removes sessions that expired before `before`; answers how many.
    async fn purge_sessions(&self, before: DateTime<Utc>) -> DomainResult<u64>;
}

/// Staff logins a console list offers (as owners to filter by or assign).
pub const MAX_LOGINS_LISTED: u32 = 500;

/// Sign-in, sessions and sign-out for the console.
#[derive(Clone)]
pub struct ConsoleAuth {
    repo: std::sync::Arc<dyn ConsoleRepository>,
    auth: AuthService,
}

impl ConsoleAuth {
    pub fn new(repo: std::sync::Arc<dyn ConsoleRepository>, auth: AuthService) -> Self {
        Self { repo, auth }
    }

    /// The API's credentials (the console's settings list, make and revoke API clients).
    pub fn api(&self) -> &AuthService {
        &self.auth
    }

    /// The tenant's staff who may sign in (the owners the console assigns), by username.
    pub async fn logins(&self, tenant: TenantId) -> DomainResult<Vec<StaffLogin>> {
        self.repo.logins(tenant, MAX_LOGINS_LISTED).await
    }

    /// The staff member a record may be put in the charge of: one of the tenant's staff who may
    /// sign in, named by the id the audit trail gives it (`field` names it in the refusal).
    pub async fn staff_member(
        &self,
        tenant: TenantId,
        actor_id: uuid::Uuid,
        field: &str,
    ) -> DomainResult<StaffLogin> {
        self.repo
            .login_of_actor(tenant, actor_id)
            .await?
            .ok_or_else(|| DomainError::validation(field, "is not one of this shop's staff"))
    }

    /// Sets the role and password of the staff user `user` (`crm user create`).
    pub async fn set_login(
        &self,
        tenant: &Tenant,
        user: StaffId,
        role: Role,
        password: &str,
    ) -> DomainResult<()> {
        let chars = password.chars().count();
        if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&chars) {
            return Err(DomainError::validation(
                "password",
                format!("must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
            ));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || crate::auth::hash_now(&password))
            .await
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("hashing: {e}")))??;
        self.repo.set_login(tenant.id, user, role, &hash).await
    }

    /// Signs a staff member in from `from`: a new session and its token (for the cookie). An
    /// unknown workspace or user and a wrong password fail alike, after the same hashing work;
    /// repeated failures are throttled like the API's token endpoints.
    pub async fn sign_in(
        &self,
        workspace: &str,
        username: &str,
        password: &str,
        from: IpAddr,
    ) -> DomainResult<(String, Session)> {
        let (workspace, username) = (workspace.trim(), username.trim());
        if workspace.len() > 128 || username.len() > 256 || password.len() > MAX_PASSWORD * 4 {
            return Err(DomainError::Unauthorized);
        }
        let key = format!("console:{workspace}/{username}");
        let tenant = self.auth.find_tenant(workspace).await.ok();
        let found = match &tenant {
            Some(t) => self.repo.find_login(t.id, username).await?,
            None => None,
        };
        let hash = found.as_ref().map(|(_, h)| h.clone());
        let ok = self.auth.check_password(&key, from, password, hash).await?;
        let (Some(tenant), Some((login, _)), true) = (tenant, found, ok) else {
            return Err(DomainError::Unauthorized);
        };
        let token = random_token();
        let csrf = random_token();
        let expires_at =
            now() + chrono::Duration::from_std(SESSION_TTL).unwrap_or(chrono::Duration::hours(12));
        self.repo
            .create_session(&digest(&token), &login, &csrf, expires_at)
            .await?;
        Ok((
            token,
            Session {
                tenant,
                login,
                csrf,
                expires_at,
            },
        ))
    }

    /// The session a cookie's token opens; `Unauthorized` when there is none, it expired, or
    /// its user was locked or deleted since.
    pub async fn session(&self, token: &str) -> DomainResult<Session> {
        if token.is_empty() || token.len() > 256 {
            return Err(DomainError::Unauthorized);
        }
        self.repo
            .find_session(&digest(token), now())
            .await?
            .ok_or(DomainError::Unauthorized)
    }

    pub async fn sign_out(&self, token: &str) -> DomainResult<()> {
        if token.len() > 256 {
            return Ok(());
        }
        self.repo.end_session(&digest(token)).await
    }

    /// Removes sessions a day past their expiry (the server's maintenance).
    pub async fn purge_expired(&self) -> DomainResult<u64> {
        self.repo
            .purge_sessions(now() - chrono::Duration::days(1))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_fence() {
        assert_eq!(Role::parse("sales").ok(), Some(Role::Sales));
        assert!(Role::parse("root").is_err());
        assert!(Role::Admin.may_change("admin"));
        assert!(Role::Sales.may_change("customers"));
        assert!(!Role::Sales.may_change("marketing"));
        assert!(Role::Marketing.may_change("marketing"));
        assert!(!Role::Marketing.may_change("sales"));
        for r in crate::scope::RESOURCES {
            assert!(!Role::Viewer.may_change(r), "{r}");
        }
    }
}
