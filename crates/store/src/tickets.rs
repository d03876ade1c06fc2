//! Storage of tickets, ticket types and ticket comments.

use crate::db::tx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::ids::{CommentId, TenantId, TicketId, TicketTypeId};
use crm_domain::repo::TicketStore;
use crm_domain::search::{Field, Page, PageRequest, TextField};
use crm_domain::text::fold;
use crm_domain::ticket::{Comment, Ticket, TicketData, TicketType};
use crm_domain::work::{At, Work};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Condition, Expr, Func, JoinType, Order, Query, SelectStatement, SimpleExpr};
use uuid::Uuid;

use crate::common::{like_text, ownership_values, OwnershipRow, OWNERSHIP_COLUMNS};
use crate::db::{Exec, Scalar};
use crate::error::db_error;
use crate::table::{al, v, AuditRow, Table, T};
use crate::SqlStore;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TicketRow {
    seq: i64,
    id: Uuid,
    code: String,
    subject: String,
    description: Option<String>,
    type_id: Option<i64>,
    type_name: Option<String>,
    priority: Option<i32>,
    status: i32,
    channel: Option<i32>,
    customer_id: Option<Uuid>,
    customer_name: Option<String>,
    contact_id: Option<Uuid>,
    contact_name: Option<String>,
    product_id: Option<Uuid>,
    product_name: Option<String>,
    order_id: Option<Uuid>,
    order_code: Option<String>,
    reported_at: Option<DateTime<Utc>>,
    #[sqlx(flatten)]
    ownership: OwnershipRow,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[async_trait]
impl Table for Ticket {
    const TABLE: &'static str = "tickets";
    const ENTITY_CODE: i16 = 12;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another ticket already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "subject",
        "description",
        "type_id",
        "priority",
        "status",
        "channel",
        "customer_id",
        "customer_name",
        "contact_id",
        "contact_name",
        "product_id",
        "product_name",
        "order_id",
        "order_code",
        "reported_at",
        OWNERSHIP_COLUMNS[0],
        OWNERSHIP_COLUMNS[1],
        OWNERSHIP_COLUMNS[2],
        OWNERSHIP_COLUMNS[3],
    ];
    type Row = TicketRow;

    fn joins(q: &mut SelectStatement) {
        q.join_as(
            JoinType::LeftJoin,
            al("ticket_types"),
            al("tt"),
            Expr::col((al("tt"), al("tenant_id")))
                .equals((al(T), al("tenant_id")))
                .and(Expr::col((al("tt"), al("seq"))).equals((al(T), al("type_id")))),
        )
        .expr_as(Expr::col((al("tt"), al("name"))), al("type_name"));
    }
    fn from_row(r: TicketRow) -> DomainResult<Self> {
        Ok(Ticket {
            id: TicketId(r.id),
            seq: r.seq,
            data: TicketData {
                code: Some(r.code),
                subject: r.subject,
                description: r.description,
                type_id: r.type_id.map(TicketTypeId),
                type_name: r.type_name,
                priority: r.priority,
                status: r.status,
                channel: r.channel,
                customer_id: r.customer_id.map(Into::into),
                customer_name: r.customer_name,
                contact_id: r.contact_id.map(Into::into),
                contact_name: r.contact_name,
                product_id: r.product_id.map(Into::into),
                product_name: r.product_name,
                order_id: r.order_id.map(Into::into),
                order_code: r.order_code,
                reported_at: r.reported_at,
                ownership: r.ownership.into(),
            },
            audit: r.audit.into(),
        })
    }
    fn values(d: &TicketData) -> Vec<SimpleExpr> {
        let mut out = vec![
            v(d.code.clone()),
            v(d.subject.clone()),
            v(d.description.clone()),
            v(d.type_id.map(|t| t.0)),
            v(d.priority),
            v(d.status),
            v(d.channel),
            v(d.customer_id.map(|i| i.0)),
            v(d.customer_name.clone()),
            v(d.contact_id.map(|i| i.0)),
            v(d.contact_name.clone()),
            v(d.product_id.map(|i| i.0)),
            v(d.product_name.clone()),
            v(d.order_id.map(|i| i.0)),
            v(d.order_code.clone()),
            v(d.reported_at),
        ];
        out.extend(ownership_values(&d.ownership));
        out
    }
    fn terms(d: &TicketData) -> Vec<(TextField, String)> {
        d.terms()
    }
    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::TicketType => "type_id",
            Field::Priority => "priority",
            Field::Status => "status",
            Field::Channel => "channel",
            Field::Customer => "customer_id",
            Field::Contact => "contact_id",
            Field::Product => "product_id",
            Field::Order => "order_id",
            Field::OrgUnit => "org_unit_id",
            Field::ReportedAt => "reported_at",
            _ => return None,
        })
    }
    const CODE: Option<&'static str> = Some("TK");
    fn code_slot(data: &mut TicketData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }
    async fn prepare_insert(
        _exec: &mut Exec<'_>,
        _tenant: TenantId,
        data: &mut TicketData,
    ) -> DomainResult<()> {
        if data.reported_at.is_none() {
            data.reported_at = Some(crm_domain::auth::now());
        }
        Ok(())
    }
    fn keep_on_update(old: &Self, data: &mut TicketData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.reported_at.is_none() {
            data.reported_at = old.data.reported_at;
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct TypeRow {
    seq: i64,
    name: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<TypeRow> for TicketType {
    fn from(r: TypeRow) -> Self {
        Self {
            id: TicketTypeId(r.seq),
            name: r.name,
            note: r.note,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct CommentRow {
    id: Uuid,
    ticket_id: Uuid,
    user_id: Option<Uuid>,
    user_name: Option<String>,
    message: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
struct SeqRow {
    seq: i64,
}

fn key(text: &str) -> String {
    fold(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl TicketStore for SqlStore {
    async fn save_type(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: Option<TicketTypeId>,
        name: String,
        note: Option<String>,
    ) -> DomainResult<TicketTypeId> {
        let at = crm_domain::auth::now();
        let name_key = key(&name);
        let tx = tx(w)?;
        let id = match id {
            Some(id) => {
                let q = Query::update()
                    .table(al("ticket_types"))
                    .value(al("name"), name)
                    .value(al("name_key"), name_key)
                    .value(al("note"), note)
                    .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
                    .and_where(Expr::col(al("seq")).eq(id.0))
                    .and_where(Expr::col(al("deleted_at")).is_null())
                    .to_owned();
                if tx.exec().execute(&q).await.map_err(db_error)? == 0 {
                    return Err(DomainError::not_found("ticket type"));
                }
                id
            }
            None => {
                let q = Query::insert()
                    .into_table(al("ticket_types"))
                    .columns(["tenant_id", "name", "name_key", "note", "created_at"].map(al))
                    .values_panic([v(actor.tenant_id.0), v(name), v(name_key), v(note), v(at)])
                    .returning_col(al("seq"))
                    .to_owned();
                tx.exec()
                    .fetch_optional::<SeqRow, _>(&q)
                    .await
                    .map_err(db_error)?
                    .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("insert returned no id")))?
                    .seq
                    .into()
            }
        };
        Ok(id)
    }

    async fn get_type(
        &self,
        at: At<'_>,
        tenant: TenantId,
        id: TicketTypeId,
    ) -> DomainResult<Option<TicketType>> {
        let q = Query::select()
            .columns(["seq", "name", "note", "created_at"].map(al))
            .from(al("ticket_types"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("seq")).eq(id.0))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        Ok(conn
            .exec()
            .fetch_optional::<TypeRow, _>(&q)
            .await
            .map_err(db_error)?
            .map(Into::into))
    }

    async fn search_types(
        &self,
        tenant: TenantId,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<TicketType>> {
        let mut cond = Condition::all()
            .add(Expr::col(al("tenant_id")).eq(tenant.0))
            .add(Expr::col(al("deleted_at")).is_null());
        if let Some(text) = text {
            cond = cond.add(like_text("name_key", &key(text), false));
        }
        let count = Query::select()
            .expr_as(Func::count(Expr::col(sea_query::Asterisk)), al("value"))
            .from(al("ticket_types"))
            .cond_where(cond.clone())
            .to_owned();
        let q = Query::select()
            .columns(["seq", "name", "note", "created_at"].map(al))
            .from(al("ticket_types"))
            .cond_where(cond)
            .order_by(al("seq"), Order::Asc)
            .limit(u64::from(page.size))
            .offset(page.offset())
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let mut exec = conn.exec();
        let total = exec
            .fetch_optional::<Scalar, _>(&count)
            .await
            .map_err(db_error)?
            .map_or(0, |s| s.value);
        let rows = exec.fetch_all::<TypeRow, _>(&q).await.map_err(db_error)?;
        Ok(Page {
            items: rows.into_iter().map(Into::into).collect(),
            total: total.max(0) as u64,
            request: page,
        })
    }

    async fn delete_type(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: TicketTypeId,
    ) -> DomainResult<bool> {
        let q = Query::update()
            .table(al("ticket_types"))
            .value(al("deleted_at"), crm_domain::auth::now())
            .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
            .and_where(Expr::col(al("seq")).eq(id.0))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .to_owned();
        let tx = tx(w)?;
        let n = tx.exec().execute(&q).await.map_err(db_error)?;
        Ok(n == 1)
    }

    async fn add_comment(&self, w: &mut Work, actor: &Actor, c: &Comment) -> DomainResult<()> {
        let q = Query::insert()
            .into_table(al("ticket_comments"))
            .columns(
                [
                    "id",
                    "tenant_id",
                    "ticket_id",
                    "user_id",
                    "user_name",
                    "message",
                    "message_key",
                    "created_at",
                ]
                .map(al),
            )
            .values_panic([
                v(c.id.0),
                v(actor.tenant_id.0),
                v(c.ticket_id.0),
                v(c.user_id),
                v(c.user_name.clone()),
                v(c.message.clone()),
                v(c.message.as_deref().map(key)),
                v(c.created_at),
            ])
            .to_owned();
        let tx = tx(w)?;
        tx.exec().execute(&q).await.map_err(db_error)?;
        Ok(())
    }

    async fn search_comments(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        text: Option<&str>,
        page: PageRequest,
    ) -> DomainResult<Page<Comment>> {
        let mut cond = Condition::all()
            .add(Expr::col(al("tenant_id")).eq(tenant.0))
            .add(Expr::col(al("ticket_id")).eq(ticket.0));
        if let Some(text) = text {
            cond = cond.add(like_text("message_key", &key(text), false));
        }
        let count = Query::select()
            .expr_as(Func::count(Expr::col(sea_query::Asterisk)), al("value"))
            .from(al("ticket_comments"))
            .cond_where(cond.clone())
            .to_owned();
        let q = Query::select()
            .columns(
                [
                    "id",
                    "ticket_id",
                    "user_id",
                    "user_name",
                    "message",
                    "created_at",
                ]
                .map(al),
            )
            .from(al("ticket_comments"))
            .cond_where(cond)
            .order_by(al("seq"), Order::Asc)
            .limit(u64::from(page.size))
            .offset(page.offset())
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let mut exec = conn.exec();
        let total = exec
            .fetch_optional::<Scalar, _>(&count)
            .await
            .map_err(db_error)?
            .map_or(0, |s| s.value);
        let rows = exec
            .fetch_all::<CommentRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|r| Comment {
                    id: CommentId(r.id),
                    ticket_id: TicketId(r.ticket_id),
                    user_id: r.user_id,
                    user_name: r.user_name,
                    message: r.message,
                    created_at: r.created_at,
                })
                .collect(),
            total: total.max(0) as u64,
            request: page,
        })
    }
}
