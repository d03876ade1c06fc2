//! The job table: enqueue inside a unit of work, claim under a lease, finish.
//!
//! A claim is one `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING *`. On PostgreSQL the
//! inner select takes `FOR UPDATE SKIP LOCKED`, so concurrent claims from any number of nodes
//! take disjoint jobs without waiting on each other. On SQLite the claim runs in the single
//! writer's `BEGIN IMMEDIATE` transaction, which serialises it with every other write.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::ids::TenantId;
use crm_domain::jobs::{Job, JobFilter, JobState, JobStore, KindStats, NewJob, Outcome, Schedule};
use crm_domain::work::Work;
use crm_domain::{DomainError, DomainResult};
use sea_query::{
    Expr, Func, LockBehavior, LockType, OnConflict, Order, Query, SelectStatement, SimpleExpr,
};
use uuid::Uuid;

use crate::db::{tx, Db};
use crate::error::db_error;
use crate::table::{al, col, v};
use crate::SqlStore;

const COLUMNS: [&str; 14] = [
    "id",
    "tenant_id",
    "kind",
    "payload",
    "state",
    "attempts",
    "max_attempts",
    "run_at",
    "locked_by",
    "locked_until",
    "last_error",
    "unique_key",
    "created_at",
    "updated_at",
];

#[derive(Debug, sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    tenant_id: Uuid,
    kind: String,
    payload: String,
    state: String,
    attempts: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    locked_by: Option<String>,
    locked_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    unique_key: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<JobRow> for Job {
    type Error = DomainError;
    fn try_from(r: JobRow) -> DomainResult<Job> {
        Ok(Job {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            kind: r.kind,
            payload: r.payload,
            state: JobState::parse(&r.state).ok_or_else(|| {
                DomainError::Internal(anyhow::anyhow!("stored job state '{}'", r.state))
            })?,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: r.run_at,
            locked_by: r.locked_by,
            locked_until: r.locked_until,
            last_error: r.last_error,
            key: r.unique_key,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn rows(rows: Vec<JobRow>) -> DomainResult<Vec<Job>> {
    rows.into_iter().map(Job::try_from).collect()
}

fn state(s: JobState) -> SimpleExpr {
    v(s.as_str())
}

/// Longest error text kept on a job.
const MAX_ERROR: usize = 2_000;

fn clip(error: &str) -> String {
    let mut end = error.len().min(MAX_ERROR);
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    error[..end].to_owned()
}

#[derive(Debug, sqlx::FromRow)]
struct IdRow {
    id: Uuid,
}

#[derive(Debug, sqlx::FromRow)]
struct WhenRow {
    value: Option<DateTime<Utc>>,
}

#[derive(Debug, sqlx::FromRow)]
struct StatRow {
    kind: String,
    state: String,
    due: bool,
    failed: bool,
    n: i64,
}

impl SqlStore {
    async fn min_of(&self, column: &str, st: JobState) -> DomainResult<Option<DateTime<Utc>>> {
        let q = Query::select()
            .expr_as(Func::min(col(column)), al("value"))
            .from(al("jobs"))
            .and_where(col("state").eq(st.as_str()))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<WhenRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(row.and_then(|r| r.value))
    }
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue(&self, w: &mut Work, job: NewJob) -> DomainResult<Uuid> {
        let now = crm_domain::clock::now();
        let id = Uuid::now_v7();
        let q = Query::insert()
            .into_table(al("jobs"))
            .columns(COLUMNS.map(al))
            .values_panic([
                v(id),
                v(job.tenant_id.0),
                v(job.kind.as_str()),
                v(job.payload.as_str()),
                state(JobState::Queued),
                v(0i32),
                v(job.max_attempts),
                v(job.run_at.unwrap_or(now)),
                v(None::<String>),
                v(None::<DateTime<Utc>>),
                v(None::<String>),
                v(job.key.clone()),
                v(now),
                v(now),
            ])
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .to_owned();
        let t = tx(w)?;
        if t.exec().execute(&q).await.map_err(db_error)? == 1 {
            return Ok(id);
        }
        // The key was taken: the first job with it stands.
        let q = Query::select()
            .column(al("id"))
            .from(al("jobs"))
            .and_where(col("tenant_id").eq(job.tenant_id.0))
            .and_where(col("kind").eq(job.kind.as_str()))
            .and_where(col("unique_key").eq(job.key.clone()))
            .to_owned();
        let row: Option<IdRow> = t.exec().fetch_optional(&q).await.map_err(db_error)?;
        row.map(|r| r.id).ok_or_else(|| {
            DomainError::Internal(anyhow::anyhow!("a job insert was refused without a key"))
        })
    }

    async fn claim(
        &self,
        node: &str,
        limit: u32,
        lease: std::time::Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<Vec<Job>> {
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(1));
        // Only queued, due jobs: the partial index `jobs_due` serves this.
        let mut pick: SelectStatement = Query::select()
            .column(al("id"))
            .from(al("jobs"))
            .and_where(col("state").eq(JobState::Queued.as_str()))
            .and_where(col("run_at").lte(now))
            .order_by(al("run_at"), Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        if matches!(self.db, Db::Postgres(..)) {
            pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let q = Query::update()
            .table(al("jobs"))
            .values([
                (al("state"), state(JobState::Running)),
                (al("locked_by"), v(node)),
                (al("locked_until"), v(until)),
                (al("attempts"), col("attempts").add(1)),
                (al("updated_at"), v(now)),
            ])
            .and_where(col("id").in_subquery(pick))
            .returning(Query::returning().columns(COLUMNS.map(al)))
            .to_owned();
        let mut tx = self.db.begin_relaxed().await.map_err(db_error)?;
        let claimed: Vec<JobRow> = tx.exec().fetch_all(&q).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        rows(claimed)
    }

    async fn requeue_expired(&self, now: DateTime<Utc>) -> DomainResult<u64> {
        // The run that was cut off keeps its attempt.
        let expired = Query::update()
            .table(al("jobs"))
            .values([
                (al("state"), state(JobState::Queued)),
                (al("locked_by"), v(None::<String>)),
                (al("locked_until"), v(None::<DateTime<Utc>>)),
                (al("updated_at"), v(now)),
            ])
            .and_where(col("state").eq(JobState::Running.as_str()))
            .and_where(col("locked_until").lt(now))
            .to_owned();
        self.db.write_relaxed(&expired).await
    }

    async fn finish(&self, node: &str, outcomes: &[(Uuid, Outcome)]) -> DomainResult<u64> {
        let now = crm_domain::clock::now();
        let base = || {
            vec![
                (al("locked_by"), v(None::<String>)),
                (al("locked_until"), v(None::<DateTime<Utc>>)),
                (al("updated_at"), v(now)),
            ]
        };
        let mine = |q: &mut sea_query::UpdateStatement| {
            q.and_where(col("locked_by").eq(node))
                .and_where(col("state").eq(JobState::Running.as_str()));
        };
        let mut statements = Vec::new();
        // Successes in one statement; failures one by one (each keeps its own error).
        let done: Vec<Uuid> = outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::Done)
            .map(|(id, _)| *id)
            .collect();
        if !done.is_empty() {
            let mut values = base();
            values.push((al("state"), state(JobState::Done)));
            let mut q = Query::update()
                .table(al("jobs"))
                .values(values)
                .and_where(col("id").is_in(done))
                .to_owned();
            mine(&mut q);
            statements.push(q);
        }
        for (id, outcome) in outcomes {
            let mut values = base();
            match outcome {
                Outcome::Done => continue,
                Outcome::Retry { at, error } => {
                    values.push((al("state"), state(JobState::Queued)));
                    values.push((al("run_at"), v(*at)));
                    values.push((al("last_error"), v(clip(error))));
                }
                Outcome::Dead { error } => {
                    values.push((al("state"), state(JobState::Dead)));
                    values.push((al("last_error"), v(clip(error))));
                }
            }
            let mut q = Query::update()
                .table(al("jobs"))
                .values(values)
                .and_where(col("id").eq(*id))
                .to_owned();
            mine(&mut q);
            statements.push(q);
        }
        let mut tx = self.db.begin_relaxed().await.map_err(db_error)?;
        let mut n = 0;
        for q in &statements {
            n += tx.exec().execute(q).await.map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(n)
    }

    async fn extend(
        &self,
        node: &str,
        lease: std::time::Duration,
        now: DateTime<Utc>,
    ) -> DomainResult<u64> {
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::hours(1));
        let q = Query::update()
            .table(al("jobs"))
            .values([(al("locked_until"), v(until))])
            .and_where(col("locked_by").eq(node))
            .and_where(col("state").eq(JobState::Running.as_str()))
            .to_owned();
        self.db.write_relaxed(&q).await
    }

    async fn release(&self, node: &str) -> DomainResult<u64> {
        let now = crm_domain::clock::now();
        let q = Query::update()
            .table(al("jobs"))
            .values([
                (al("state"), state(JobState::Queued)),
                (al("locked_by"), v(None::<String>)),
                (al("locked_until"), v(None::<DateTime<Utc>>)),
                (al("attempts"), col("attempts").sub(1)),
                (al("run_at"), v(now)),
                (al("updated_at"), v(now)),
            ])
            .and_where(col("locked_by").eq(node))
            .and_where(col("state").eq(JobState::Running.as_str()))
            .to_owned();
        self.db.write(&q).await
    }

    async fn next_due(&self) -> DomainResult<Option<DateTime<Utc>>> {
        let queued = self.min_of("run_at", JobState::Queued).await?;
        let leased = self.min_of("locked_until", JobState::Running).await?;
        Ok(match (queued, leased) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    async fn list(&self, filter: &JobFilter) -> DomainResult<Vec<Job>> {
        let mut q = Query::select()
            .columns(COLUMNS.map(al))
            .from(al("jobs"))
            .order_by(al("created_at"), Order::Desc)
            .limit(u64::from(filter.limit.clamp(1, 1_000)))
            .to_owned();
        if let Some(t) = filter.tenant_id {
            q.and_where(col("tenant_id").eq(t.0));
        }
        if let Some(k) = &filter.kind {
            q.and_where(col("kind").eq(k.as_str()));
        }
        if let Some(s) = filter.state {
            q.and_where(col("state").eq(s.as_str()));
        }
        let mut conn = self.db.read().await.map_err(db_error)?;
        rows(conn.exec().fetch_all(&q).await.map_err(db_error)?)
    }

    async fn get(&self, id: Uuid) -> DomainResult<Option<Job>> {
        let q = Query::select()
            .columns(COLUMNS.map(al))
            .from(al("jobs"))
            .and_where(col("id").eq(id))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<JobRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        row.map(Job::try_from).transpose()
    }

    async fn retry_now(&self, id: Uuid) -> DomainResult<bool> {
        let now = crm_domain::clock::now();
        let q = Query::update()
            .table(al("jobs"))
            .values([
                (al("state"), state(JobState::Queued)),
                (al("attempts"), v(0i32)),
                (al("run_at"), v(now)),
                (al("updated_at"), v(now)),
            ])
            .and_where(col("id").eq(id))
            .and_where(col("state").is_in([
                JobState::Dead.as_str(),
                JobState::Cancelled.as_str(),
                JobState::Queued.as_str(),
            ]))
            .to_owned();
        Ok(self.db.write(&q).await? == 1)
    }

    async fn cancel(&self, id: Uuid) -> DomainResult<bool> {
        let q = Query::update()
            .table(al("jobs"))
            .values([
                (al("state"), state(JobState::Cancelled)),
                (al("updated_at"), v(crm_domain::clock::now())),
            ])
            .and_where(col("id").eq(id))
            .and_where(col("state").eq(JobState::Queued.as_str()))
            .to_owned();
        Ok(self.db.write(&q).await? == 1)
    }

    async fn stats(&self, now: DateTime<Utc>) -> DomainResult<Vec<KindStats>> {
        let q = Query::select()
            .column(al("kind"))
            .column(al("state"))
            .expr_as(col("run_at").lte(now), al("due"))
            .expr_as(col("last_error").is_not_null(), al("failed"))
            .expr_as(Func::count(Expr::val(1)), al("n"))
            .from(al("jobs"))
            // By position: a bound `now` in the select and another in the grouping would be
            // two different expressions to PostgreSQL.
            .add_group_by([
                Expr::cust("1"),
                Expr::cust("2"),
                Expr::cust("3"),
                Expr::cust("4"),
            ])
            .order_by(al("kind"), Order::Asc)
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let found: Vec<StatRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        let mut out: Vec<KindStats> = Vec::new();
        for r in found {
            if out.last().is_none_or(|s| s.kind != r.kind) {
                out.push(KindStats {
                    kind: r.kind.clone(),
                    ..KindStats::default()
                });
            }
            let Some(s) = out.last_mut() else { continue };
            match JobState::parse(&r.state) {
                Some(JobState::Queued) => {
                    if r.due {
                        s.due += r.n;
                    } else {
                        s.scheduled += r.n;
                    }
                    if r.failed {
                        s.failed += r.n;
                    }
                }
                Some(JobState::Running) => s.running += r.n,
                Some(JobState::Done) => s.done += r.n,
                Some(JobState::Dead) => s.dead += r.n,
                Some(JobState::Cancelled) => s.cancelled += r.n,
                None => {}
            }
        }
        Ok(out)
    }

    async fn save_schedule(&self, w: &mut Work, schedule: &Schedule) -> DomainResult<()> {
        let t = tx(w)?;
        let drop = Query::delete()
            .from_table(al("job_schedules"))
            .and_where(col("tenant_id").eq(schedule.tenant_id.0))
            .and_where(col("name").eq(schedule.name.as_str()))
            .to_owned();
        t.exec().execute(&drop).await.map_err(db_error)?;
        let q = Query::insert()
            .into_table(al("job_schedules"))
            .columns(SCHEDULE_COLUMNS.map(al))
            .values_panic([
                v(schedule.id),
                v(schedule.tenant_id.0),
                v(schedule.name.as_str()),
                v(schedule.kind.as_str()),
                v(schedule.payload.as_str()),
                v(schedule.cron.as_str()),
                v(schedule.time_zone.as_str()),
                v(schedule.next_run_at),
                v(schedule.created_at),
            ])
            .to_owned();
        t.exec().execute(&q).await.map_err(db_error)?;
        Ok(())
    }

    async fn schedules(&self, tenant: Option<TenantId>) -> DomainResult<Vec<Schedule>> {
        let mut q = Query::select()
            .columns(SCHEDULE_COLUMNS.map(al))
            .from(al("job_schedules"))
            .order_by(al("name"), Order::Asc)
            .to_owned();
        if let Some(t) = tenant {
            q.and_where(col("tenant_id").eq(t.0));
        }
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<ScheduleRow> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        Ok(rows.into_iter().map(Schedule::from).collect())
    }

    async fn delete_schedule(
        &self,
        w: &mut Work,
        tenant: TenantId,
        name: &str,
    ) -> DomainResult<bool> {
        let q = Query::delete()
            .from_table(al("job_schedules"))
            .and_where(col("tenant_id").eq(tenant.0))
            .and_where(col("name").eq(name))
            .to_owned();
        Ok(tx(w)?.exec().execute(&q).await.map_err(db_error)? == 1)
    }

    async fn next_schedule(&self) -> DomainResult<Option<DateTime<Utc>>> {
        let q = Query::select()
            .expr_as(Func::min(col("next_run_at")), al("value"))
            .from(al("job_schedules"))
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let row: Option<WhenRow> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(row.and_then(|r| r.value))
    }

    async fn due_schedules(
        &self,
        w: &mut Work,
        now: DateTime<Utc>,
        limit: u32,
    ) -> DomainResult<Vec<Schedule>> {
        let mut q = Query::select()
            .columns(SCHEDULE_COLUMNS.map(al))
            .from(al("job_schedules"))
            .and_where(col("next_run_at").lte(now))
            .order_by(al("next_run_at"), Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        if matches!(self.db, Db::Postgres(..)) {
            q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows: Vec<ScheduleRow> = tx(w)?.exec().fetch_all(&q).await.map_err(db_error)?;
        Ok(rows.into_iter().map(Schedule::from).collect())
    }

    async fn set_next_run(&self, w: &mut Work, id: Uuid, next: DateTime<Utc>) -> DomainResult<()> {
        let q = Query::update()
            .table(al("job_schedules"))
            .value(al("next_run_at"), next)
            .and_where(col("id").eq(id))
            .to_owned();
        tx(w)?.exec().execute(&q).await.map_err(db_error)?;
        Ok(())
    }

    async fn purge(&self, before: DateTime<Utc>) -> DomainResult<u64> {
        let q = Query::delete()
            .from_table(al("jobs"))
            .and_where(col("state").is_in([JobState::Done.as_str(), JobState::Cancelled.as_str()]))
            .and_where(col("updated_at").lt(before))
            .to_owned();
        self.db.write(&q).await
    }
}

const SCHEDULE_COLUMNS: [&str; 9] = [
    "id",
    "tenant_id",
    "name",
    "kind",
    "payload",
    "cron",
    "time_zone",
    "next_run_at",
    "created_at",
];

#[derive(Debug, sqlx::FromRow)]
struct ScheduleRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    kind: String,
    payload: String,
    cron: String,
    time_zone: String,
    next_run_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl From<ScheduleRow> for Schedule {
    fn from(r: ScheduleRow) -> Self {
        Schedule {
            id: r.id,
            tenant_id: TenantId(r.tenant_id),
            name: r.name,
            kind: r.kind,
            payload: r.payload,
            cron: r.cron,
            time_zone: r.time_zone,
            next_run_at: r.next_run_at,
            created_at: r.created_at,
        }
    }
}
