//! Storage of the web console's staff logins and sessions (`crm_domain::console`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::auth::{now, Tenant};
use crm_domain::console::{ConsoleRepository, Role, Session, StaffLogin};
use crm_domain::ids::{StaffId, TenantId};
use crm_domain::DomainResult;
use sea_query::{Alias, Expr, JoinType, OnConflict, Query, SelectStatement};
use uuid::Uuid;

use crate::error::db_error;
use crate::table::{al, v};
use crate::SqlStore;

#[derive(Debug, sqlx::FromRow)]
struct LoginRow {
    tenant_id: Uuid,
    user_seq: i64,
    actor_id: Uuid,
    role: String,
    password_hash: String,
    username: String,
    firstname: Option<String>,
    lastname: Option<String>,
}

impl LoginRow {
    /// The login, unless its stored role no longer parses (then it signs in to nothing).
    fn login(self) -> Option<(StaffLogin, String)> {
        let role = Role::parse(&self.role).ok()?;
        // Vietnamese order: family name first.
        let name = [self.lastname, self.firstname]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Some((
            StaffLogin {
                tenant_id: TenantId(self.tenant_id),
                user: StaffId(self.user_seq),
                actor_id: self.actor_id,
                display_name: if name.is_empty() {
                    self.username.clone()
                } else {
                    name
                },
                username: self.username,
                role,
            },
            self.password_hash,
        ))
    }
}

#[derive(Debug, sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    login: LoginRow,
    csrf: String,
    expires_at: DateTime<Utc>,
    tenant_slug: String,
    tenant_name: String,
    tenant_time_zone: String,
    tenant_created_at: DateTime<Utc>,
}

/// Logins joined with their live, unlocked staff user.
fn logins() -> SelectStatement {
    let (l, u) = (al("l"), al("u"));
    Query::select()
        .from_as(al("staff_logins"), l.clone())
        .join_as(
            JoinType::InnerJoin,
            al("users"),
            u.clone(),
            Expr::col((u.clone(), al("tenant_id")))
                .equals((l.clone(), al("tenant_id")))
                .and(Expr::col((u.clone(), al("seq"))).equals((l.clone(), al("user_seq"))))
                .and(Expr::col((u.clone(), al("deleted_at"))).is_null())
                .and(Expr::col((u.clone(), al("is_lock"))).eq(false)),
        )
        .columns(
            ["tenant_id", "user_seq", "actor_id", "role", "password_hash"]
                .map(|c| (l.clone(), al(c))),
        )
        .columns(["username", "firstname", "lastname"].map(|c| (u.clone(), al(c))))
        .to_owned()
}

#[async_trait]
impl ConsoleRepository for SqlStore {
    async fn set_login(
        &self,
        tenant: TenantId,
        user: StaffId,
        role: Role,
        password_hash: &str,
    ) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("staff_logins"))
            .columns(
                [
                    "tenant_id",
                    "user_seq",
                    "actor_id",
                    "role",
                    "password_hash",
                    "updated_at",
                ]
                .map(al),
            )
            .values_panic([
                v(tenant.0),
                v(user.0),
                v(Uuid::now_v7()),
                v(role.as_str()),
                v(password_hash),
                v(now()),
            ])
            .on_conflict(
                OnConflict::columns([al("tenant_id"), al("user_seq")])
                    .update_columns([al("role"), al("password_hash"), al("updated_at")])
                    .to_owned(),
            )
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn find_login(
        &self,
        tenant: TenantId,
        username: &str,
    ) -> DomainResult<Option<(StaffLogin, String)>> {
        let q = logins()
            .and_where(Expr::col((al("l"), al("tenant_id"))).eq(tenant.0))
            .and_where(Expr::col((al("u"), al("username"))).eq(username))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<LoginRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(row.and_then(LoginRow::login))
    }

    async fn logins(&self, tenant: TenantId, limit: u32) -> DomainResult<Vec<StaffLogin>> {
        let q = logins()
            .and_where(Expr::col((al("l"), al("tenant_id"))).eq(tenant.0))
            .order_by((al("u"), al("username")), sea_query::Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<LoginRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.login().map(|(login, _)| login))
            .collect())
    }

    async fn login_of_actor(
        &self,
        tenant: TenantId,
        actor_id: Uuid,
    ) -> DomainResult<Option<StaffLogin>> {
        let q = logins()
            .and_where(Expr::col((al("l"), al("tenant_id"))).eq(tenant.0))
            .and_where(Expr::col((al("l"), al("actor_id"))).eq(actor_id))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<LoginRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(row.and_then(|r| r.login().map(|(login, _)| login)))
    }

    async fn create_session(
        &self,
        digest: &str,
        login: &StaffLogin,
        csrf: &str,
        expires_at: DateTime<Utc>,
    ) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("console_sessions"))
            .columns(
                [
                    "digest",
                    "tenant_id",
                    "user_seq",
                    "csrf",
                    "created_at",
                    "expires_at",
                ]
                .map(al),
            )
            .values_panic([
                v(digest),
                v(login.tenant_id.0),
                v(login.user.0),
                v(csrf),
                v(now()),
                v(expires_at),
            ])
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn find_session(&self, digest: &str, at: DateTime<Utc>) -> DomainResult<Option<Session>> {
        let (s, tn): (Alias, Alias) = (al("s"), al("tn"));
        let q = logins()
            .join_as(
                JoinType::InnerJoin,
                al("console_sessions"),
                s.clone(),
                Expr::col((s.clone(), al("tenant_id")))
                    .equals((al("l"), al("tenant_id")))
                    .and(Expr::col((s.clone(), al("user_seq"))).equals((al("l"), al("user_seq")))),
            )
            .join_as(
                JoinType::InnerJoin,
                al("tenants"),
                tn.clone(),
                Expr::col((tn.clone(), al("id"))).equals((s.clone(), al("tenant_id"))),
            )
            .columns(["csrf", "expires_at"].map(|c| (s.clone(), al(c))))
            .expr_as(Expr::col((tn.clone(), al("slug"))), al("tenant_slug"))
            .expr_as(Expr::col((tn.clone(), al("name"))), al("tenant_name"))
            .expr_as(
                Expr::col((tn.clone(), al("time_zone"))),
                al("tenant_time_zone"),
            )
            .expr_as(Expr::col((tn, al("created_at"))), al("tenant_created_at"))
            .and_where(Expr::col((s.clone(), al("digest"))).eq(digest))
            .and_where(Expr::col((s, al("expires_at"))).gt(at))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<SessionRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(row.and_then(|r| {
            let tenant = Tenant {
                id: TenantId(r.login.tenant_id),
                slug: r.tenant_slug,
                name: r.tenant_name,
                time_zone: r.tenant_time_zone,
                created_at: r.tenant_created_at,
            };
            let (login, _) = r.login.login()?;
            Some(Session {
                tenant,
                login,
                csrf: r.csrf,
                expires_at: r.expires_at,
            })
        }))
    }

    async fn end_session(&self, digest: &str) -> DomainResult<()> {
        let q = Query::delete()
            .from_table(al("console_sessions"))
            .and_where(Expr::col(al("digest")).eq(digest))
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn purge_sessions(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        let q = Query::delete()
            .from_table(al("console_sessions"))
            .and_where(Expr::col(al("expires_at")).lt(before))
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let n = tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }
}
