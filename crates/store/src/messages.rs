//! Channel settings and send records.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::ids::TenantId;
use crm_domain::messaging::{
    Attempt, Channel, Message, MessageFilter, MessageStore, SendState, Settings, Totals,
};
use crm_domain::search::PageRequest;
use crm_domain::work::{At, Work};
use crm_domain::{DomainError, DomainResult};
use sea_query::{
    Asterisk, CommonTableExpression, Expr, Func, OnConflict, Order, Query, ValueTuple, WithClause,
};
use uuid::Uuid;

use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

/// The longest provider answer kept with a message.
const MAX_ANSWER: usize = 2_000;
/// Rows per multi-row statement (14 parameters each).
const INSERT_CHUNK: usize = 250;

const MESSAGE_COLUMNS: [&str; 14] = [
    "id",
    "tenant_id",
    "channel",
    "campaign",
    "recipient",
    "content",
    "state",
    "provider_id",
    "reason",
    "answer",
    "attempts",
    "created_at",
    "updated_at",
    "sent_at",
];

#[derive(Debug, sqlx::FromRow)]
struct MessageRow {
    seq: i64,
    id: Uuid,
    tenant_id: Uuid,
    channel: String,
    campaign: String,
    recipient: String,
    content: String,
    state: String,
    provider_id: Option<String>,
    reason: Option<String>,
    answer: Option<String>,
    attempts: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<MessageRow> for Message {
    type Error = DomainError;

    fn try_from(r: MessageRow) -> DomainResult<Self> {
        let bad = |what: &str| DomainError::Internal(anyhow::anyhow!("stored message {what}"));
        Ok(Message {
            seq: r.seq,
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            channel: Channel::parse(&r.channel).map_err(|_| bad("channel"))?,
            campaign: r.campaign,
            recipient: r.recipient,
            content: r.content,
            state: SendState::parse(&r.state).ok_or_else(|| bad("state"))?,
            provider_id: r.provider_id,
            reason: r.reason,
            answer: r.answer,
            attempts: r.attempts,
            created_at: r.created_at,
            updated_at: r.updated_at,
            sent_at: r.sent_at,
        })
    }
}

fn bounded(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|a| {
        let mut end = a.len().min(MAX_ANSWER);
        while !a.is_char_boundary(end) {
            end -= 1;
        }
        a[..end].to_owned()
    })
}

#[derive(Debug, sqlx::FromRow)]
struct SettingsRow {
    settings: String,
}

#[derive(Debug, sqlx::FromRow)]
struct CountRow {
    campaign: String,
    state: String,
    n: i64,
}

impl SqlStore {
    async fn one_message(&self, q: &sea_query::SelectStatement) -> DomainResult<Option<Message>> {
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<MessageRow> = conn.exec().fetch_optional(q).await.map_err(db_error)?;
        row.map(Message::try_from).transpose()
    }
}

#[async_trait]
impl MessageStore for SqlStore {
    async fn settings(&self, at: At<'_>, tenant: TenantId, scope: &str) -> DomainResult<Settings> {
        let q = Query::select()
            .column(al("settings"))
            .from(al("channel_settings"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("channel").eq(scope))
            .to_owned();
        let mut r = self.db.reader(at).await?;
        let row: Option<SettingsRow> = r.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(Settings {
            values: row
                .and_then(|r| serde_json::from_str(&r.settings).ok())
                .unwrap_or_default(),
        })
    }

    async fn save_settings(
        &self,
        w: &mut Work,
        tenant: TenantId,
        scope: &str,
        s: &Settings,
    ) -> DomainResult<()> {
        let json = serde_json::to_string(&s.values).map_err(|e| DomainError::Internal(e.into()))?;
        let q = Query::insert()
            .into_table(al("channel_settings"))
            .columns(["tenant_id", "channel", "settings", "updated_at"].map(al))
            .values_panic([v(tenant.0), v(scope), v(json), v(crm_domain::auth::now())])
            .on_conflict(
                OnConflict::columns([al("tenant_id"), al("channel")])
                    .update_columns([al("settings"), al("updated_at")])
                    .to_owned(),
            )
            .to_owned();
        crate::db::tx(w)?
            .exec()
            .execute(&q)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn add_messages(&self, w: &mut Work, list: &[Message]) -> DomainResult<HashSet<Uuid>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
        }
        let mut stored = HashSet::with_capacity(list.len());
        // Chunks keep each statement well under either backend's bound-parameter limit.
        for chunk in list.chunks(INSERT_CHUNK) {
            let mut q = Query::insert();
            q.into_table(al("messages"))
                .columns(MESSAGE_COLUMNS.map(al))
                .on_conflict(
                    OnConflict::columns(["tenant_id", "channel", "campaign", "recipient"].map(al))
                        .do_nothing()
                        .to_owned(),
                )
                .returning_col(al("id"));
            for m in chunk {
                q.values_panic([
                    v(m.id),
                    v(m.tenant_id.0),
                    v(m.channel.as_str()),
                    v(m.campaign.as_str()),
                    v(m.recipient.as_str()),
                    v(m.content.as_str()),
                    v(m.state.as_str()),
                    v(m.provider_id.clone()),
                    v(m.reason.clone()),
                    v(bounded(&m.answer)),
                    v(m.attempts),
                    v(m.created_at),
                    v(m.updated_at),
                    v(m.sent_at),
                ]);
            }
            let rows: Vec<Row> = crate::db::tx(w)?
                .exec()
                .fetch_all(&q)
                .await
                .map_err(db_error)?;
            stored.extend(rows.into_iter().map(|r| r.id));
        }
        Ok(stored)
    }

    async fn message_to(
        &self,
        at: At<'_>,
        tenant: TenantId,
        channel: Channel,
        campaign: &str,
        recipient: &str,
    ) -> DomainResult<Option<Message>> {
        let q = Query::select()
            .columns(MESSAGE_COLUMNS.map(al))
            .column(al("seq"))
            .from(al("messages"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("channel").eq(channel.as_str()))
            .and_where(col("campaign").eq(campaign))
            .and_where(col("recipient").eq(recipient))
            .to_owned();
        let mut r = self.db.reader(at).await?;
        let row: Option<MessageRow> = r.exec().fetch_optional(&q).await.map_err(db_error)?;
        row.map(Message::try_from).transpose()
    }

    async fn message(&self, tenant: TenantId, id: Uuid) -> DomainResult<Option<Message>> {
        let q = Query::select()
            .columns(MESSAGE_COLUMNS.map(al))
            .column(al("seq"))
            .from(al("messages"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("id").eq(id))
            .to_owned();
        self.one_message(&q).await
    }

    async fn messages_by_id(&self, ids: &[Uuid]) -> DomainResult<Vec<Message>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut conn = self.db.read().await.map_err(db_error)?;
        for chunk in ids.chunks(INSERT_CHUNK) {
            let q = Query::select()
                .columns(MESSAGE_COLUMNS.map(al))
                .column(al("seq"))
                .from(al("messages"))
                .and_where(col("id").is_in(chunk.iter().copied()))
                .to_owned();
            let rows: Vec<MessageRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
            for r in rows {
                out.push(Message::try_from(r)?);
            }
        }
        Ok(out)
    }

    async fn record(&self, w: &mut Work, attempts: &[Attempt]) -> DomainResult<HashSet<Uuid>> {
        let now = crm_domain::auth::now();
        let mut recorded = HashSet::with_capacity(attempts.len());
        for chunk in attempts.chunks(INSERT_CHUNK) {
            let rows: Vec<IdRow> = crate::db::tx(w)?
                .exec()
                .fetch_all(&record_statement(chunk, now))
                .await
                .map_err(db_error)?;
            recorded.extend(rows.into_iter().map(|r| r.id));
        }
        Ok(recorded)
    }

    async fn record_alone(&self, attempts: &[Attempt]) -> DomainResult<Option<HashSet<Uuid>>> {
        if attempts.len() > INSERT_CHUNK {
            return Ok(None);
        }
        let q = record_statement(attempts, crm_domain::auth::now());
        let rows: Vec<IdRow> = self.db.fetch_alone(&q).await.map_err(db_error)?;
        Ok(Some(rows.into_iter().map(|r| r.id).collect()))
    }

    async fn messages(
        &self,
        tenant: TenantId,
        f: &MessageFilter,
        page: PageRequest,
    ) -> DomainResult<Vec<Message>> {
        let mut q = Query::select();
        q.columns(MESSAGE_COLUMNS.map(al))
            .column(al("seq"))
            .from(al("messages"))
            .and_where(col("tenant_id").eq(tenant.0))
            .order_by(al("seq"), Order::Desc)
            .limit(u64::from(page.size))
            .offset(page.offset());
        if let Some(r) = &f.recipient {
            q.and_where(col("recipient").eq(r.as_str()));
        }
        if let Some(list) = &f.campaigns {
            q.and_where(col("campaign").is_in(list.iter().map(String::as_str)));
        }
        if let Some(from) = f.from {
            q.and_where(col("created_at").gte(from));
        }
        if let Some(to) = f.to {
            q.and_where(col("created_at").lte(to));
        }
        if let Some(c) = f.channel {
            q.and_where(col("channel").eq(c.as_str()));
        }
        if let Some(c) = &f.campaign {
            q.and_where(col("campaign").eq(c.as_str()));
        }
        if let Some(s) = f.state {
            q.and_where(col("state").eq(s.as_str()));
        }
        if let Some(below) = f.below_seq {
            q.and_where(col("seq").lt(below));
        }
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<MessageRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        rows.into_iter().map(Message::try_from).collect()
    }

    async fn totals(
        &self,
        tenant: TenantId,
        campaigns: &[&str],
    ) -> DomainResult<BTreeMap<String, Totals>> {
        let mut out: BTreeMap<String, Totals> = BTreeMap::new();
        let mut conn = self.db.read().await.map_err(db_error)?;
        for chunk in campaigns.chunks(INSERT_CHUNK) {
            let q = Query::select()
                .column(al("campaign"))
                .column(al("state"))
                .expr_as(Func::count(Expr::col(al("id"))), al("n"))
                .from(al("messages"))
                .and_where(col("tenant_id").eq(tenant.0))
                .and_where(col("campaign").is_in(chunk.iter().copied()))
                .group_by_col(al("campaign"))
                .group_by_col(al("state"))
                .to_owned();
            let rows: Vec<CountRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
            for r in rows {
                let t = out.entry(r.campaign).or_default();
                match SendState::parse(&r.state) {
                    Some(SendState::Queued) => t.queued = r.n,
                    Some(SendState::Sent) => t.sent = r.n,
                    Some(SendState::Failed) => t.failed = r.n,
                    Some(SendState::Skipped) => t.skipped = r.n,
                    None => {}
                }
            }
        }
        Ok(out)
    }

    async fn unsubscribe(
        &self,
        tenant: TenantId,
        channel: Channel,
        address: &str,
    ) -> DomainResult<bool> {
        let q = Query::insert()
            .into_table(al("unsubscribes"))
            .columns(["tenant_id", "channel", "address", "at"].map(al))
            .values_panic([
                v(tenant.0),
                v(channel.as_str()),
                v(address),
                v(crm_domain::auth::now()),
            ])
            .on_conflict(
                OnConflict::columns(["tenant_id", "channel", "address"].map(al))
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        Ok(self.db.write(&q).await? == 1)
    }

    async fn unsubscribed(
        &self,
        at: At<'_>,
        tenant: TenantId,
        channel: Channel,
        addresses: &[&str],
    ) -> DomainResult<HashSet<String>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            address: String,
        }
        let mut found = HashSet::new();
        let mut r = self.db.reader(at).await?;
        for chunk in addresses.chunks(INSERT_CHUNK) {
            let q = Query::select()
                .column(al("address"))
                .from(al("unsubscribes"))
                .and_where(col("tenant_id").eq(tenant.0))
                .and_where(col("channel").eq(channel.as_str()))
                .and_where(col("address").is_in(chunk.iter().copied()))
                .to_owned();
            let rows: Vec<Row> = r.exec().fetch_all(&q).await.map_err(db_error)?;
            found.extend(rows.into_iter().map(|r| r.address));
        }
        Ok(found)
    }
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: Uuid,
}

/// One statement recording `attempts` (at most [`INSERT_CHUNK`]): the outcomes as a table `v`,
/// joined on the message id, on messages still queued; returns the ids recorded.
fn record_statement(
    attempts: &[Attempt],
    now: chrono::DateTime<chrono::Utc>,
) -> sea_query::UpdateStatement {
    let target = |c: &str| Expr::col((al("messages"), al(c)));
    let rows = attempts.iter().map(|a| {
        ValueTuple::Many(vec![
            a.message.into(),
            a.outcome.state.as_str().into(),
            a.outcome.provider_id.clone().into(),
            a.outcome.reason.clone().into(),
            bounded(&a.outcome.answer).into(),
        ])
    });
    let outcomes = Query::select()
        .column(Asterisk)
        .from_values(rows, al("t"))
        .to_owned();
    let v = CommonTableExpression::new()
        .query(outcomes)
        .columns(["mid", "new_state", "pid", "why", "said"].map(al))
        .table_name(al("v"))
        .to_owned();
    Query::update()
        .table(al("messages"))
        .from(al("v"))
        .value(al("state"), Expr::col(al("new_state")))
        .value(
            al("provider_id"),
            Func::coalesce([Expr::col(al("pid")).into(), target("provider_id").into()]),
        )
        .value(al("reason"), Expr::col(al("why")))
        .value(al("answer"), Expr::col(al("said")))
        .value(al("updated_at"), now)
        .value(al("attempts"), target("attempts").add(1))
        .value(
            al("sent_at"),
            Expr::case(
                Expr::col(al("new_state")).eq(SendState::Sent.as_str()),
                Expr::val(now),
            )
            .finally(target("sent_at")),
        )
        .and_where(target("id").equals(al("mid")))
        // A message that reached an end stays there: a late attempt changes nothing.
        .and_where(target("state").eq(SendState::Queued.as_str()))
        .with_cte(WithClause::new().cte(v).to_owned())
        .returning(Query::returning().column((al("messages"), al("id"))))
        .to_owned()
}
