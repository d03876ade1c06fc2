//! Branches and stores (`places`) and product categories.

use crate::db::tx;
use async_trait::async_trait;
use crm_domain::ids::{CategoryId, PlaceId, TenantId};
use crm_domain::inventory::{Category, Place};
use crm_domain::repo::PlaceStore;
use crm_domain::work::{At, Work};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Expr, Order, Query};

use crate::error::db_error;
use crate::table::{al, v};
use crate::SqlStore;

use super::SeqRow;

#[derive(Debug, sqlx::FromRow)]
struct PlaceRow {
    seq: i64,
    branch_id: Option<i64>,
    code: String,
    name: String,
    tel: Option<String>,
    fax: Option<String>,
    avatar: Option<String>,
    address: Option<String>,
    description: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct CategoryRow {
    seq: i64,
    name: String,
    parent_id: i64,
    picture: Option<String>,
    description: Option<String>,
}

#[async_trait]
impl PlaceStore for SqlStore {
    async fn create_place(
        &self,
        w: &mut Work,
        actor: &Actor,
        store: bool,
        p: Place,
    ) -> DomainResult<PlaceId> {
        let q = Query::insert()
            .into_table(al("places"))
            .columns(
                [
                    "tenant_id",
                    "is_store",
                    "branch_id",
                    "code",
                    "name",
                    "tel",
                    "fax",
                    "avatar",
                    "address",
                    "description",
                    "created_at",
                ]
                .map(al),
            )
            .values_panic([
                v(actor.tenant_id.0),
                v(store),
                v(p.branch_id.map(|b| b.0)),
                v(p.code),
                v(p.name),
                v(p.tel),
                v(p.fax),
                v(p.avatar),
                v(p.address),
                v(p.description),
                v(crm_domain::auth::now()),
            ])
            .returning_col(al("seq"))
            .to_owned();
        let tx = tx(w)?;
        let id = tx
            .exec()
            .fetch_optional::<SeqRow, _>(&q)
            .await
            .map_err(db_error)?
            .map(|r| r.seq)
            .unwrap_or_default();
        Ok(PlaceId(id))
    }

    async fn places(
        &self,
        at: At<'_>,
        tenant: TenantId,
        store: bool,
        branch: Option<PlaceId>,
    ) -> DomainResult<Vec<Place>> {
        let mut q = Query::select();
        q.columns(
            [
                "seq",
                "branch_id",
                "code",
                "name",
                "tel",
                "fax",
                "avatar",
                "address",
                "description",
            ]
            .map(al),
        )
        .from(al("places"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("is_store")).eq(store))
        .order_by(al("seq"), Order::Asc);
        if let Some(b) = branch {
            q.and_where(Expr::col(al("branch_id")).eq(b.0));
        }
        let mut conn = self.db.reader(at).await?;
        let rows = conn
            .exec()
            .fetch_all::<PlaceRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| Place {
                id: PlaceId(r.seq),
                branch_id: r.branch_id.map(PlaceId),
                code: r.code,
                name: r.name,
                tel: r.tel,
                fax: r.fax,
                avatar: r.avatar,
                address: r.address,
                description: r.description,
            })
            .collect())
    }

    async fn save_category(
        &self,
        w: &mut Work,
        actor: &Actor,
        c: Category,
    ) -> DomainResult<CategoryId> {
        let tx = tx(w)?;
        let id = if c.id.is_zero() {
            let q = Query::insert()
                .into_table(al("categories"))
                .columns(
                    [
                        "tenant_id",
                        "name",
                        "parent_id",
                        "picture",
                        "description",
                        "created_at",
                    ]
                    .map(al),
                )
                .values_panic([
                    v(actor.tenant_id.0),
                    v(c.name),
                    v(c.parent_id.0),
                    v(c.picture),
                    v(c.description),
                    v(crm_domain::auth::now()),
                ])
                .returning_col(al("seq"))
                .to_owned();
            tx.exec()
                .fetch_optional::<SeqRow, _>(&q)
                .await
                .map_err(db_error)?
                .map(|r| r.seq)
                .unwrap_or_default()
        } else {
            let q = Query::update()
                .table(al("categories"))
                .value(al("name"), c.name)
                .value(al("parent_id"), c.parent_id.0)
                .value(al("picture"), c.picture)
                .value(al("description"), c.description)
                .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
                .and_where(Expr::col(al("seq")).eq(c.id.0))
                .to_owned();
            if tx.exec().execute(&q).await.map_err(db_error)? == 0 {
                return Err(DomainError::not_found("category"));
            }
            c.id.0
        };
        Ok(CategoryId(id))
    }

    async fn categories(&self, at: At<'_>, tenant: TenantId) -> DomainResult<Vec<Category>> {
        let q = Query::select()
            .columns(["seq", "name", "parent_id", "picture", "description"].map(al))
            .from(al("categories"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .order_by(al("seq"), Order::Asc)
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let rows = conn
            .exec()
            .fetch_all::<CategoryRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| Category {
                id: CategoryId(r.seq),
                name: r.name,
                parent_id: CategoryId(r.parent_id),
                picture: r.picture,
                description: r.description,
            })
            .collect())
    }
}
