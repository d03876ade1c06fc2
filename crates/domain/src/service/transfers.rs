//! A transfer's lifecycle: started (its file staged and its job enqueued in one unit of work),
//! run chunk by chunk or all at once, finished with its per-row report; and read back.

use std::time::{Duration, Instant};

use uuid::Uuid;

use super::Crm;
use crate::common::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::jobs::NewJob;
use crate::transfer::stage::StagedRows;
use crate::transfer::{
    stage, Direction, Format, ImportOptions, Kind, RowFailure, Starter, State, Transfer,
    TransferPlan, CHUNK, IMPORT_JOB, MAX_ALL_OR_NOTHING,
};
use crate::work::Work;

use super::imports::ChunkOutcome;

/// Rows between two catch-ups of the store ([`crate::work::Transactions::settle`]).
const SETTLE_EVERY: i64 = 10_000;

/// A transfer's run, one loop turn: the transfer held by a unit of work, with what runs it.
pub(crate) struct Run {
    pub w: Work,
    pub t: Transfer,
    pub plan: TransferPlan,
    /// Who started it: its writes are theirs.
    pub actor: Actor,
    pub paths: crate::transfer::Paths,
}

impl Crm {
    /// The transfer locked in a new unit of work, or `None` when it is gone or has ended.
    pub(crate) async fn next_run(&self, tenant: TenantId, id: Uuid) -> DomainResult<Option<Run>> {
        let mut w = self.begin().await?;
        let Some(t) = self.transfers.lock_transfer(&mut w, tenant, id).await? else {
            return Ok(None);
        };
        if matches!(t.state, State::Done | State::Failed) {
            return Ok(None);
        }
        let plan = t.plan()?;
        let actor = plan
            .starter
            .as_ref()
            .map(|s| s.actor(tenant))
            .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("transfer without a starter")))?;
        let paths = self.transfers.paths(tenant, id)?;
        Ok(Some(Run {
            w,
            t,
            plan,
            actor,
            paths,
        }))
    }
}

/// What a job needs to run an import.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct TransferJob {
    pub id: Uuid,
}

impl Crm {
    /// Where a new transfer's files go; the caller writes an import's upload to
    /// `paths.source(format)` before [`Crm::start_import`].
    pub fn transfer_paths(&self, actor: &Actor, id: Uuid) -> DomainResult<crate::transfer::Paths> {
        self.transfers.paths(actor.tenant_id, id)
    }

    /// Starts the import of the file written at `paths.source(format)`: checks its options,
    /// records it and enqueues its job, in one unit of work. With `inline` the caller runs it
    /// (the command line) and the job is only a fallback, due in five minutes, should the
    /// caller die first: a run and the job take turns chunk by chunk, never storing a row twice.
    pub async fn start_import(
        &self,
        actor: &Actor,
        id: Uuid,
        kind: Kind,
        file_name: &str,
        options: ImportOptions,
        inline: bool,
    ) -> DomainResult<Transfer> {
        if !kind.importable() {
            return Err(DomainError::validation(
                "kind",
                "only customers, contacts, leads and products are imported",
            ));
        }
        let format = Format::of_name(file_name)?;
        if options.all_or_nothing && options.dry_run {
            return Err(DomainError::validation(
                "all_or_nothing",
                "a dry run writes nothing anyway",
            ));
        }
        if let Some((h, f)) = options
            .mapping
            .iter()
            .find(|(h, f)| h.len() > 200 || f.len() > 200)
        {
            return Err(DomainError::validation(
                "mapping",
                format!("'{h}' → '{f}' is too long"),
            ));
        }
        if options.mapping.len() > crate::transfer::MAX_COLUMNS {
            return Err(DomainError::validation("mapping", "names too many columns"));
        }
        let known = crate::transfer::columns::fields(kind);
        if let Some(f) = options
            .mapping
            .values()
            .find(|f| !f.is_empty() && !f.starts_with("stock:") && !known.contains(&f.as_str()))
        {
            return Err(DomainError::validation(
                "mapping",
                format!(
                    "'{f}' is not a field of {} ({})",
                    kind.as_str(),
                    known.join(", ")
                ),
            ));
        }
        let now = crate::auth::now();
        let mut t = Transfer {
            id,
            tenant_id: actor.tenant_id,
            direction: Direction::Import,
            kind,
            format,
            state: State::Queued,
            file_name: file_name.to_owned(),
            plan: String::new(),
            total: -1,
            done: 0,
            created: 0,
            updated: 0,
            skipped: 0,
            failed: 0,
            cursor: 0,
            error: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        t.set_plan(&TransferPlan {
            starter: Some(Starter::of(actor)),
            import: options,
            ..TransferPlan::default()
        })?;
        let mut w = self.begin().await?;
        self.transfers.create_transfer(&mut w, &t).await?;
        self.enqueue_transfer(&mut w, &t, IMPORT_JOB, inline)
            .await?;
        w.commit().await?;
        Ok(t)
    }

    pub(crate) async fn enqueue_transfer(
        &self,
        w: &mut Work,
        t: &Transfer,
        kind: &str,
        fallback: bool,
    ) -> DomainResult<()> {
        let payload = serde_json::to_string(&TransferJob { id: t.id })
            .map_err(|e| DomainError::Internal(e.into()))?;
        let mut job = NewJob::new(t.tenant_id, kind, payload);
        // The key names the cursor: a run repeated after a crash finds the next one queued.
        job.key = Some(format!("{}:{}:{}", t.id, t.done, t.cursor));
        job.max_attempts = 20;
        if fallback {
            job.run_at = Some(crate::auth::now() + chrono::Duration::minutes(5));
        }
        self.enqueue_in(w, job).await?;
        Ok(())
    }

    /// A transfer of the caller's tenant.
    pub async fn transfer(&self, actor: &Actor, id: Uuid) -> DomainResult<Transfer> {
        self.transfers
            .transfer(crate::work::At::Committed, actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found("transfer"))
    }

    /// The caller's tenant's transfers of one direction, newest first.
    pub async fn transfers(
        &self,
        actor: &Actor,
        direction: Direction,
        limit: u32,
    ) -> DomainResult<Vec<Transfer>> {
        self.transfers
            .transfers(actor.tenant_id, direction, limit.clamp(1, 500))
            .await
    }

    /// An import's rejected and skipped rows after row `after`, in row order.
    pub async fn transfer_failures(
        &self,
        actor: &Actor,
        id: Uuid,
        after: i64,
        limit: u32,
    ) -> DomainResult<Vec<RowFailure>> {
        self.transfer(actor, id).await?;
        self.transfers
            .failures(actor.tenant_id, id, after, limit.clamp(1, 1000))
            .await
    }

    /// A finished transfer's file (an import's report, an export's sheet), with the name to
    /// download it as.
    pub async fn transfer_output(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> DomainResult<(std::path::PathBuf, String)> {
        let t = self.transfer(actor, id).await?;
        let path = self.transfers.paths(t.tenant_id, t.id)?.output(t.format);
        if t.state != State::Done || !path.exists() {
            return Err(DomainError::not_found(match t.direction {
                Direction::Import => "report (only an import with rejected rows has one)",
                Direction::Export => "export file (not written yet)",
            }));
        }
        let stem = t
            .file_name
            .rsplit_once('.')
            .map_or(t.file_name.as_str(), |(s, _)| s);
        let name = match t.direction {
            Direction::Import => format!("{stem}.errors.{}", t.format.as_str()),
            Direction::Export => t.file_name.clone(),
        };
        Ok((path, name))
    }

    /// Runs an import for about `budget` (see the module's doc); answers whether it has
    /// finished. A run that stops short has queued the job that goes on (unless `inline`).
    /// `progress` sees the import after each chunk.
    pub async fn run_import(
        &self,
        tenant: TenantId,
        id: Uuid,
        budget: Duration,
        inline: bool,
        progress: &(dyn Fn(&Transfer) + Send + Sync),
    ) -> DomainResult<bool> {
        let started = Instant::now();
        loop {
            let Some(Run {
                mut w,
                mut t,
                mut plan,
                actor,
                paths,
            }) = self.next_run(tenant, id).await?
            else {
                return Ok(true);
            };
            if t.total < 0 {
                drop(w);
                self.stage_import(&mut t, &mut plan, &paths).await?;
                progress(&t);
                continue;
            }
            if plan.import.all_or_nothing {
                drop(w);
                self.import_all_or_nothing(&actor, &mut t, &plan, &paths)
                    .await?;
                progress(&t);
                return Ok(true);
            }
            let rows_path = paths.rows();
            let at = u64::try_from(t.cursor).unwrap_or(0);
            let (rows, end) =
                tokio::task::spawn_blocking(move || stage::read_chunk(&rows_path, at, CHUNK))
                    .await
                    .map_err(|e| DomainError::Internal(e.into()))??;
            if rows.is_empty() {
                drop(w);
                self.finish_import(tenant, id, &t, &paths).await?;
                if let Ok(Some(done)) = self
                    .transfers
                    .transfer(crate::work::At::Committed, tenant, id)
                    .await
                {
                    progress(&done);
                }
                return Ok(true);
            }
            let n = rows.len() as i64;
            let kind = t.kind;
            let outcome = if plan.import.dry_run {
                // Everything is done as for real, then undone: what would happen, exactly.
                let mut trial = w;
                let o = self
                    .import_chunk(kind, &mut trial, &actor, &plan, rows)
                    .await?;
                drop(trial);
                w = self.begin().await?;
                t = self
                    .transfers
                    .lock_transfer(&mut w, tenant, id)
                    .await?
                    .ok_or(DomainError::not_found("transfer"))?;
                o
            } else {
                self.import_chunk(kind, &mut w, &actor, &plan, rows).await?
            };
            self.transfers
                .add_failures(&mut w, tenant, id, &outcome.report)
                .await?;
            t.state = State::Running;
            t.done += n;
            t.created += outcome.created;
            t.updated += outcome.updated;
            t.skipped += outcome.skipped;
            t.failed += outcome.failed;
            t.cursor = i64::try_from(end).unwrap_or(i64::MAX);
            t.updated_at = crate::auth::now();
            let hand_over = !inline && started.elapsed() >= budget;
            if hand_over {
                self.enqueue_transfer(&mut w, &t, IMPORT_JOB, false).await?;
            }
            self.transfers.save_transfer(&mut w, &t).await?;
            w.commit().await?;
            progress(&t);
            // Every 10,000 rows, the store catches up with what was written.
            if t.done % SETTLE_EVERY < n {
                self.work.settle().await?;
            }
            if hand_over {
                return Ok(false);
            }
        }
    }

    /// Stores a chunk with its kind's rules.
    async fn import_chunk(
        &self,
        kind: Kind,
        w: &mut Work,
        actor: &Actor,
        plan: &TransferPlan,
        rows: StagedRows,
    ) -> DomainResult<ChunkOutcome> {
        use super::import_kinds::{Contacts, Customers, Leads, Products};
        match kind {
            Kind::Customers => self.import_rows(&Customers, w, actor, plan, rows).await,
            Kind::Contacts => self.import_rows(&Contacts, w, actor, plan, rows).await,
            Kind::Leads => self.import_rows(&Leads, w, actor, plan, rows).await,
            Kind::Products => self.import_rows(&Products, w, actor, plan, rows).await,
            Kind::Orders | Kind::Messages => Err(DomainError::validation(
                "kind",
                "only customers, contacts, leads and products are imported",
            )),
        }
    }

    /// Reads the uploaded file into staged rows (outside any transaction: it can take a while),
    /// then records what was found. A file that cannot be read fails the import.
    async fn stage_import(
        &self,
        t: &mut Transfer,
        plan: &mut TransferPlan,
        paths: &crate::transfer::Paths,
    ) -> DomainResult<()> {
        let (kind, format, mapping) = (t.kind, t.format, plan.import.mapping.clone());
        let (source, rows) = (paths.source(format), paths.rows());
        let staged = tokio::task::spawn_blocking(move || {
            stage::stage(kind, format, &source, &rows, &mapping)
        })
        .await
        .map_err(|e| DomainError::Internal(e.into()))?;
        let mut w = self.begin().await?;
        let mut current = self
            .transfers
            .lock_transfer(&mut w, t.tenant_id, t.id)
            .await?
            .ok_or(DomainError::not_found("transfer"))?;
        if current.total >= 0 || matches!(current.state, State::Done | State::Failed) {
            // Another run (one cut off, then retried) staged it first and may have stored
            // chunks since: its cursor stands.
            *t = current;
            return Ok(());
        }
        let now = crate::auth::now();
        match staged {
            Ok(s) => {
                if plan.import.all_or_nothing && s.rows > MAX_ALL_OR_NOTHING {
                    current.state = State::Failed;
                    current.error = Some(format!(
                        "an all-or-nothing import holds at most {MAX_ALL_OR_NOTHING} rows \
                         (this file has {}): split it, or import without all-or-nothing",
                        s.rows
                    ));
                    current.finished_at = Some(now);
                } else {
                    plan.header = s.header;
                    plan.columns = s.columns;
                    current.set_plan(plan)?;
                    current.total = s.rows;
                    current.cursor =
                        i64::try_from(stage::first_row(&paths.rows())?).unwrap_or(i64::MAX);
                    current.state = State::Running;
                }
            }
            Err(DomainError::Validation { message, .. }) => {
                current.state = State::Failed;
                current.error = Some(format!("the file {message}"));
                current.finished_at = Some(now);
            }
            Err(e) => return Err(e),
        }
        current.updated_at = now;
        self.transfers.save_transfer(&mut w, &current).await?;
        w.commit().await?;
        *t = current;
        Ok(())
    }

    /// Every row in one unit of work: all stored, or (when any fails) none, and the report says
    /// why.
    async fn import_all_or_nothing(
        &self,
        actor: &Actor,
        t: &mut Transfer,
        plan: &TransferPlan,
        paths: &crate::transfer::Paths,
    ) -> DomainResult<()> {
        let mut w = self.begin().await?;
        let mut total = ChunkOutcome::default();
        let mut at = u64::try_from(t.cursor).unwrap_or(0);
        let mut done = 0i64;
        loop {
            let rows_path = paths.rows();
            let (rows, end) =
                tokio::task::spawn_blocking(move || stage::read_chunk(&rows_path, at, CHUNK))
                    .await
                    .map_err(|e| DomainError::Internal(e.into()))??;
            if rows.is_empty() {
                break;
            }
            done += rows.len() as i64;
            at = end;
            let o = self.import_chunk(t.kind, &mut w, actor, plan, rows).await?;
            total.created += o.created;
            total.updated += o.updated;
            total.skipped += o.skipped;
            total.failed += o.failed;
            total.report.extend(o.report);
        }
        if total.failed > 0 {
            drop(w);
            w = self.begin().await?;
            total.created = 0;
            total.updated = 0;
        }
        let mut current = self
            .transfers
            .lock_transfer(&mut w, t.tenant_id, t.id)
            .await?
            .ok_or(DomainError::not_found("transfer"))?;
        self.transfers
            .add_failures(&mut w, t.tenant_id, t.id, &total.report)
            .await?;
        current.done = done;
        current.created = total.created;
        current.updated = total.updated;
        current.skipped = total.skipped;
        current.failed = total.failed;
        current.cursor = i64::try_from(at).unwrap_or(i64::MAX);
        if total.failed > 0 {
            current.error = Some(format!(
                "nothing was stored: {} row(s) failed (all or nothing)",
                total.failed
            ));
        }
        self.transfers.save_transfer(&mut w, &current).await?;
        w.commit().await?;
        self.finish_import(t.tenant_id, t.id, &current, paths)
            .await?;
        *t = current;
        Ok(())
    }

    /// Writes the report (when rows were rejected or skipped) and marks the import done.
    async fn finish_import(
        &self,
        tenant: TenantId,
        id: Uuid,
        t: &Transfer,
        paths: &crate::transfer::Paths,
    ) -> DomainResult<()> {
        if t.failed + t.skipped > 0 {
            self.write_report(tenant, id, t, paths).await?;
        }
        let mut w = self.begin().await?;
        let Some(mut current) = self.transfers.lock_transfer(&mut w, tenant, id).await? else {
            return Ok(());
        };
        let now = crate::auth::now();
        current.state = State::Done;
        current.finished_at = Some(now);
        current.updated_at = now;
        self.transfers.save_transfer(&mut w, &current).await?;
        w.commit().await
    }

    /// The report: the original columns of every rejected or skipped row, and why, in the
    /// file's own format. Reads the staged rows and the failures in step (both in row order).
    async fn write_report(
        &self,
        tenant: TenantId,
        id: Uuid,
        t: &Transfer,
        paths: &crate::transfer::Paths,
    ) -> DomainResult<()> {
        let plan = t.plan()?;
        let mut header = vec!["Dòng".to_owned()];
        header.extend(plan.header.iter().cloned());
        header.push("Lỗi".to_owned());
        let out = paths.output(t.format);
        let tmp = out.with_extension("partial");
        let format = t.format;
        let mut writer = {
            let (tmp, header) = (tmp.clone(), header.clone());
            tokio::task::spawn_blocking(move || {
                crate::transfer::write::SheetWriter::create(&tmp, format, &header)
            })
            .await
            .map_err(|e| DomainError::Internal(e.into()))??
        };
        // The staged rows a chunk at a time, beside the failures a page at a time: both are in
        // row order, so neither is held whole.
        let mut at = stage::first_row(&paths.rows())?;
        let width = plan.header.len();
        let mut reasons: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
        let mut after = 0i64;
        let mut exhausted = false;
        loop {
            let rows_path = paths.rows();
            let (rows, end) =
                tokio::task::spawn_blocking(move || stage::read_chunk(&rows_path, at, CHUNK))
                    .await
                    .map_err(|e| DomainError::Internal(e.into()))??;
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            at = end;
            // The failures up to this chunk's last row.
            while !exhausted && after < last {
                let mut page = self.transfers.failures(tenant, id, after, 1000).await?;
                if page.len() < 1000 {
                    exhausted = true;
                } else {
                    // A row's failures are never split across pages.
                    let tail = page[page.len() - 1].row;
                    if page.iter().any(|f| f.row != tail) {
                        page.retain(|f| f.row != tail);
                    }
                }
                let Some(upto) = page.last().map(|f| f.row) else {
                    exhausted = true;
                    break;
                };
                for f in page {
                    let text = match f.column {
                        Some(c) => format!("{c}: {}", f.reason),
                        None => f.reason,
                    };
                    reasons.entry(f.row).or_default().push(text);
                }
                after = upto;
            }
            for (n, mut cells) in rows {
                if let Some(why) = reasons.remove(&n) {
                    cells.resize(width, String::new());
                    let mut line = vec![crate::transfer::write::Cell::Number(n as f64)];
                    line.extend(cells.into_iter().map(crate::transfer::write::Cell::Text));
                    line.push(crate::transfer::write::Cell::Text(why.join("; ")));
                    writer.row(&line)?;
                }
            }
            if exhausted && reasons.is_empty() {
                break;
            }
        }
        tokio::task::spawn_blocking(move || writer.finish())
            .await
            .map_err(|e| DomainError::Internal(e.into()))??;
        std::fs::rename(&tmp, &out)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("writing the report: {e}")))?;
        Ok(())
    }
}
