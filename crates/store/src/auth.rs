//! Storage of tenants, API clients and token digests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::audit::{By, Entry};
use crm_domain::auth::{
    now, ApiClient, AuthRepository, Refresh, StoredToken, Tenant, TokenKind, TokenOwner,
};
use crm_domain::ids::{ApiClientId, TenantId};
use crm_domain::scope::Scope;
use crm_domain::work::{Lock, Transaction};
use crm_domain::{DomainError, DomainResult};
use sea_query::{Asterisk, Condition, Expr, Func, JoinType, Order, Query, SelectStatement};
use uuid::Uuid;

use crate::db::{Exec, Scalar};
use crate::error::db_error;
use crate::table::{al, v};
use crate::SqlStore;

#[derive(Debug, sqlx::FromRow)]
struct TenantRow {
    id: Uuid,
    slug: String,
    name: String,
    time_zone: String,
    created_at: DateTime<Utc>,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            id: TenantId(r.id),
            slug: r.slug,
            name: r.name,
            time_zone: r.time_zone,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ClientRow {
    id: Uuid,
    tenant_id: Uuid,
    client_id: String,
    name: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    secret_hash: String,
    scope: String,
}

impl From<ClientRow> for (ApiClient, String) {
    fn from(r: ClientRow) -> Self {
        (
            ApiClient {
                id: ApiClientId(r.id),
                tenant_id: TenantId(r.tenant_id),
                client_id: r.client_id,
                name: r.name,
                created_at: r.created_at,
                revoked_at: r.revoked_at,
                // Written as `Scope`'s own text; a hand-edited one that no longer parses
                // grants nothing.
                scope: Scope::parse(&r.scope).unwrap_or(Scope::NOTHING),
            },
            r.secret_hash,
        )
    }
}

/// A token joined with its client and tenant.
#[derive(Debug, sqlx::FromRow)]
struct OwnerRow {
    token_expires_at: DateTime<Utc>,
    token_revoked_at: Option<DateTime<Utc>>,
    token_family: Option<Uuid>,
    #[sqlx(flatten)]
    client: ClientRow,
    tenant_slug: String,
    tenant_name: String,
    tenant_time_zone: String,
    tenant_created_at: DateTime<Utc>,
}

impl OwnerRow {
    /// The owner, if the token and its client are still live.
    fn live(self) -> Option<TokenOwner> {
        if self.token_revoked_at.is_some()
            || self.client.revoked_at.is_some()
            || self.token_expires_at <= now()
        {
            return None;
        }
        let tenant = Tenant {
            id: TenantId(self.client.tenant_id),
            slug: self.tenant_slug,
            name: self.tenant_name,
            time_zone: self.tenant_time_zone,
            created_at: self.tenant_created_at,
        };
        let (client, _) = self.client.into();
        Some(TokenOwner {
            tenant,
            client,
            expires_at: self.token_expires_at,
            family: self.token_family,
        })
    }
}

const CLIENT_COLUMNS: [&str; 8] = [
    "id",
    "tenant_id",
    "client_id",
    "name",
    "created_at",
    "revoked_at",
    "secret_hash",
    "scope",
];

fn owner_query(digest: &str, kind: TokenKind) -> SelectStatement {
    let (tk, c, tn) = (al("tk"), al("c"), al("tn"));
    Query::select()
        .from_as(al("auth_tokens"), tk.clone())
        .join_as(
            JoinType::InnerJoin,
            al("api_clients"),
            c.clone(),
            Expr::col((c.clone(), al("id"))).equals((tk.clone(), al("api_client_id"))),
        )
        .join_as(
            JoinType::InnerJoin,
            al("tenants"),
            tn.clone(),
            Expr::col((tn.clone(), al("id"))).equals((tk.clone(), al("tenant_id"))),
        )
        .expr_as(
            Expr::col((tk.clone(), al("expires_at"))),
            al("token_expires_at"),
        )
        .expr_as(
            Expr::col((tk.clone(), al("revoked_at"))),
            al("token_revoked_at"),
        )
        .expr_as(Expr::col((tk.clone(), al("family"))), al("token_family"))
        .columns(CLIENT_COLUMNS.map(|col| (c.clone(), al(col))))
        .expr_as(Expr::col((tn.clone(), al("slug"))), al("tenant_slug"))
        .expr_as(Expr::col((tn.clone(), al("name"))), al("tenant_name"))
        .expr_as(
            Expr::col((tn.clone(), al("time_zone"))),
            al("tenant_time_zone"),
        )
        .expr_as(Expr::col((tn, al("created_at"))), al("tenant_created_at"))
        .and_where(Expr::col((tk.clone(), al("digest"))).eq(digest))
        .and_where(Expr::col((tk, al("kind"))).eq(kind as i16))
        .to_owned()
}

async fn find_owner(
    exec: &mut Exec<'_>,
    digest: &str,
    kind: TokenKind,
) -> DomainResult<Option<TokenOwner>> {
    Ok(exec
        .fetch_optional::<OwnerRow, _>(&owner_query(digest, kind))
        .await
        .map_err(db_error)?
        .and_then(OwnerRow::live))
}

fn tenant_select() -> SelectStatement {
    Query::select()
        .columns(["id", "slug", "name", "time_zone", "created_at"].map(al))
        .from(al("tenants"))
        .to_owned()
}

#[async_trait]
impl AuthRepository for SqlStore {
    async fn create_tenant(&self, t: &Tenant) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("tenants"))
            .columns(
                [
                    "id",
                    "slug",
                    "name",
                    "time_zone",
                    "created_at",
                    "search_version",
                ]
                .map(al),
            )
            .values_panic([
                v(t.id.0),
                v(t.slug.as_str()),
                v(t.name.as_str()),
                v(t.time_zone.as_str()),
                v(t.created_at),
                v(crate::TERMS_VERSION),
            ])
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        tx.exec().execute(&q).await.map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                DomainError::conflict(Some("slug"), format!("tenant '{}' already exists", t.slug))
            }
            _ => db_error(e),
        })?;
        tx.commit().await.map_err(db_error)
    }

    async fn find_tenant(&self, key: &str) -> DomainResult<Option<Tenant>> {
        let mut cond = Condition::any().add(Expr::col(al("slug")).eq(key));
        if let Ok(id) = key.parse::<Uuid>() {
            cond = cond.add(Expr::col(al("id")).eq(id));
        }
        let q = tenant_select().cond_where(cond).to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        Ok(conn
            .exec()
            .fetch_optional::<TenantRow, _>(&q)
            .await
            .map_err(db_error)?
            .map(Into::into))
    }

    async fn list_tenants(&self) -> DomainResult<Vec<Tenant>> {
        let q = tenant_select()
            .order_by(al("created_at"), Order::Asc)
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        Ok(conn
            .exec()
            .fetch_all::<TenantRow, _>(&q)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    async fn create_client(
        &self,
        c: &ApiClient,
        secret_hash: &str,
        max_live: Option<usize>,
        by: &By,
    ) -> DomainResult<bool> {
        let q = Query::insert()
            .into_table(al("api_clients"))
            .columns(CLIENT_COLUMNS.map(al))
            .values_panic([
                v(c.id.0),
                v(c.tenant_id.0),
                v(c.client_id.as_str()),
                v(c.name.as_str()),
                v(c.created_at),
                v(c.revoked_at),
                v(secret_hash),
                v(c.scope.to_string()),
            ])
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        if let Some(max) = max_live {
            // Counted and inserted under the tenant's lock: concurrent callers take turns.
            Transaction::lock(&mut tx, c.tenant_id, Lock::Clients).await?;
            let live = tx
                .exec()
                .fetch_optional::<Scalar, _>(
                    &Query::select()
                        .expr_as(Func::count(Expr::col(Asterisk)), al("value"))
                        .from(al("api_clients"))
                        .and_where(Expr::col(al("tenant_id")).eq(c.tenant_id.0))
                        .and_where(Expr::col(al("revoked_at")).is_null())
                        .to_owned(),
                )
                .await
                .map_err(db_error)?
                .map_or(0, |n| n.value);
            if usize::try_from(live).unwrap_or(usize::MAX) >= max {
                return Ok(false);
            }
        }
        tx.exec().execute(&q).await.map_err(db_error)?;
        let entry = Entry::new(c.tenant_id, by, "api_client", "created", Some(c.id.0), None);
        crate::audit::append(&mut tx.exec(), &[entry]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn list_clients(&self, tenant: TenantId) -> DomainResult<Vec<ApiClient>> {
        let q = Query::select()
            .columns(CLIENT_COLUMNS.map(al))
            .from(al("api_clients"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .order_by(al("created_at"), Order::Asc)
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        Ok(conn
            .exec()
            .fetch_all::<ClientRow, _>(&q)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|r| <(ApiClient, String)>::from(r).0)
            .collect())
    }

    async fn find_client(&self, client_id: &str) -> DomainResult<Option<(ApiClient, String)>> {
        let q = Query::select()
            .columns(CLIENT_COLUMNS.map(al))
            .from(al("api_clients"))
            .and_where(Expr::col(al("client_id")).eq(client_id))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        Ok(conn
            .exec()
            .fetch_optional::<ClientRow, _>(&q)
            .await
            .map_err(db_error)?
            .map(Into::into))
    }

    async fn revoke_client(
        &self,
        client_id: &str,
        tenant: Option<TenantId>,
        by: &By,
    ) -> DomainResult<bool> {
        let at = now();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let mut find = Query::select()
            .columns(CLIENT_COLUMNS.map(al))
            .from(al("api_clients"))
            .and_where(Expr::col(al("client_id")).eq(client_id))
            .and_where(Expr::col(al("revoked_at")).is_null())
            .to_owned();
        if let Some(t) = tenant {
            find.and_where(Expr::col(al("tenant_id")).eq(t.0));
        }
        let Some((client, _)) = tx
            .exec()
            .fetch_optional::<ClientRow, _>(&find)
            .await
            .map_err(db_error)?
            .map(<(ApiClient, String)>::from)
        else {
            return Ok(false);
        };
        let revoke_client = Query::update()
            .table(al("api_clients"))
            .value(al("revoked_at"), at)
            .and_where(Expr::col(al("id")).eq(client.id.0))
            .to_owned();
        let revoke_tokens = Query::update()
            .table(al("auth_tokens"))
            .value(al("revoked_at"), at)
            .and_where(Expr::col(al("api_client_id")).eq(client.id.0))
            .and_where(Expr::col(al("revoked_at")).is_null())
            .to_owned();
        tx.exec().execute(&revoke_client).await.map_err(db_error)?;
        tx.exec().execute(&revoke_tokens).await.map_err(db_error)?;
        let entry = Entry::new(
            client.tenant_id,
            by,
            "api_client",
            "revoked",
            Some(client.id.0),
            None,
        );
        crate::audit::append(&mut tx.exec(), &[entry]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn store_tokens(&self, tokens: &[StoredToken], audit: &Entry) -> DomainResult<()> {
        let at = now();
        let mut q = Query::insert();
        q.into_table(al("auth_tokens")).columns(
            [
                "digest",
                "kind",
                "tenant_id",
                "api_client_id",
                "expires_at",
                "created_at",
                "family",
            ]
            .map(al),
        );
        for t in tokens {
            q.values_panic([
                v(t.digest.as_str()),
                v(t.kind as i16),
                v(t.tenant_id.0),
                v(t.client.0),
                v(t.expires_at),
                v(at),
                v(t.family),
            ]);
        }
        let mut tx = self.db.begin().await.map_err(db_error)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        crate::audit::append(&mut tx.exec(), std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn find_token(&self, digest: &str, kind: TokenKind) -> DomainResult<Option<TokenOwner>> {
        let mut conn = self.db.read().await.map_err(db_error)?;
        find_owner(&mut conn.exec(), digest, kind).await
    }

    async fn consume_refresh(&self, digest: &str) -> DomainResult<Refresh> {
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let Some(row) = tx
            .exec()
            .fetch_optional::<OwnerRow, _>(&owner_query(digest, TokenKind::Refresh))
            .await
            .map_err(db_error)?
        else {
            return Ok(Refresh::Unknown);
        };
        let at = now();
        if row.token_revoked_at.is_some()
            && row.client.revoked_at.is_none()
            && row.token_expires_at > at
        {
            // Spent before: whoever holds its successors may not be who should.
            let (client, _) = <(ApiClient, String)>::from(row.client);
            if let Some(family) = row.token_family {
                let revoke = Query::update()
                    .table(al("auth_tokens"))
                    .value(al("revoked_at"), at)
                    .and_where(Expr::col(al("family")).eq(family))
                    .and_where(Expr::col(al("revoked_at")).is_null())
                    .to_owned();
                tx.exec().execute(&revoke).await.map_err(db_error)?;
            }
            let by = By {
                client_id: Some(client.id.0),
                name: client.name.clone(),
            };
            let entry = Entry::new(
                client.tenant_id,
                &by,
                "token",
                "reused",
                Some(client.id.0),
                Some(serde_json::json!({"family": row.token_family, "revoked": true})),
            );
            crate::audit::append(&mut tx.exec(), &[entry]).await?;
            tx.commit().await.map_err(db_error)?;
            return Ok(Refresh::Reused);
        }
        let Some(owner) = row.live() else {
            return Ok(Refresh::Unknown);
        };
        let used = Query::update()
            .table(al("auth_tokens"))
            .value(al("revoked_at"), at)
            .and_where(Expr::col(al("digest")).eq(digest))
            .and_where(Expr::col(al("revoked_at")).is_null())
            .to_owned();
        let consumed = tx.exec().execute(&used).await.map_err(db_error)? == 1;
        tx.commit().await.map_err(db_error)?;
        Ok(if consumed {
            Refresh::Live(Box::new(owner))
        } else {
            Refresh::Unknown
        })
    }

    async fn purge_tokens(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        let q = Query::delete()
            .from_table(al("auth_tokens"))
            .and_where(Expr::col(al("expires_at")).lt(before))
            .to_owned();
        let mut tx = self.db.begin().await.map_err(db_error)?;
        let n = tx.exec().execute(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }
}
