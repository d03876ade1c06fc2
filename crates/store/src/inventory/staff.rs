//! The staff directory (`users`): NextX users and employees.

use crate::db::tx;
use async_trait::async_trait;
use chrono::NaiveDate;
use crm_domain::ids::{PlaceId, StaffId, TenantId};
use crm_domain::repo::StaffStore;
use crm_domain::work::{At, Work};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Expr, Order, Query};

use crate::common::fill_codes_counted;
use crate::error::db_error;
use crate::table::{al, v};
use crate::SqlStore;

use super::SeqRow;

#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    seq: i64,
    username: String,
    email: Option<String>,
    firstname: Option<String>,
    lastname: Option<String>,
    joined: Option<NaiveDate>,
    designation: Option<String>,
    picture: Option<String>,
    tel: Option<String>,
    crm_extension_id: Option<i64>,
    employee_code: Option<String>,
    branch_id: Option<i64>,
    is_sale: bool,
    is_lock: bool,
    is_access_crm: bool,
    is_validated: bool,
}

const USER_COLUMNS: [&str; 15] = [
    "username",
    "email",
    "firstname",
    "lastname",
    "joined",
    "designation",
    "picture",
    "tel",
    "crm_extension_id",
    "code",
    "branch_id",
    "is_sale",
    "is_lock",
    "is_access_crm",
    "is_validated",
];

fn user_values(u: &crm_domain::inventory::StaffUser) -> Vec<sea_query::SimpleExpr> {
    vec![
        v(u.username.clone()),
        v(u.email.clone()),
        v(u.firstname.clone()),
        v(u.lastname.clone()),
        v(u.joined),
        v(u.designation.clone()),
        v(u.picture.clone()),
        v(u.tel.clone()),
        v(u.crm_extension_id),
        v(u.employee_code.clone()),
        v(u.branch_id.map(|b| b.0)),
        v(u.is_sale),
        v(u.is_lock),
        v(u.can_use_crm),
        v(u.is_validated),
    ]
}

#[async_trait]
impl StaffStore for SqlStore {
    async fn save_user(
        &self,
        w: &mut Work,
        actor: &Actor,
        mut u: crm_domain::inventory::StaffUser,
    ) -> DomainResult<StaffId> {
        let tenant = actor.tenant_id;
        let tx = tx(w)?;
        let conflict =
            |e| crate::error::unique(e, "username", "another user already has this username");
        let id = if u.id.is_zero() {
            let mut code = u.employee_code.clone();
            fill_codes_counted(
                &mut tx.exec(),
                tenant,
                "users",
                "users",
                "NV",
                std::iter::once(&mut code),
            )
            .await?;
            u.employee_code = code;
            let mut cols = vec!["tenant_id", "created_at"];
            cols.extend(USER_COLUMNS);
            let mut vals = vec![v(tenant.0), v(crm_domain::auth::now())];
            vals.extend(user_values(&u));
            let q = Query::insert()
                .into_table(al("users"))
                .columns(cols.into_iter().map(al))
                .values_panic(vals)
                .returning_col(al("seq"))
                .to_owned();
            tx.exec()
                .fetch_optional::<SeqRow, _>(&q)
                .await
                .map_err(conflict)?
                .map(|r| r.seq)
                .unwrap_or_default()
        } else {
            let mut q = Query::update();
            q.table(al("users"));
            for (c, val) in USER_COLUMNS.iter().zip(user_values(&u)) {
                if *c == "code" && u.employee_code.is_none() {
                    continue;
                }
                q.value(al(c), val);
            }
            q.and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                .and_where(Expr::col(al("seq")).eq(u.id.0))
                .and_where(Expr::col(al("deleted_at")).is_null());
            if tx.exec().execute(&q).await.map_err(conflict)? == 0 {
                return Err(DomainError::not_found("user"));
            }
            u.id.0
        };
        Ok(StaffId(id))
    }

    async fn users(
        &self,
        at: At<'_>,
        tenant: TenantId,
    ) -> DomainResult<Vec<crm_domain::inventory::StaffUser>> {
        let mut cols = vec!["seq"];
        cols.extend(
            USER_COLUMNS
                .iter()
                .map(|c| if *c == "code" { "code" } else { c }),
        );
        let q = Query::select()
            .columns(cols.into_iter().map(al))
            .expr_as(Expr::col(al("code")), al("employee_code"))
            .from(al("users"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .order_by(al("seq"), Order::Asc)
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let rows = conn
            .exec()
            .fetch_all::<UserRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| crm_domain::inventory::StaffUser {
                id: StaffId(r.seq),
                username: r.username,
                email: r.email,
                firstname: r.firstname,
                lastname: r.lastname,
                joined: r.joined,
                designation: r.designation,
                picture: r.picture,
                tel: r.tel,
                crm_extension_id: r.crm_extension_id,
                employee_code: r.employee_code,
                branch_id: r.branch_id.map(PlaceId),
                is_sale: r.is_sale,
                is_lock: r.is_lock,
                can_use_crm: r.is_access_crm,
                is_validated: r.is_validated,
            })
            .collect())
    }

    async fn delete_user(&self, w: &mut Work, actor: &Actor, id: StaffId) -> DomainResult<bool> {
        let q = Query::update()
            .table(al("users"))
            .value(al("deleted_at"), crm_domain::auth::now())
            .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
            .and_where(Expr::col(al("seq")).eq(id.0))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .to_owned();
        let tx = tx(w)?;
        let n = tx.exec().execute(&q).await.map_err(db_error)?;
        Ok(n == 1)
    }
}
