//! Imports: a file staged once, then stored a chunk per unit of work, each moving the import's
//! cursor in the same transaction (so a run cut short resumes after the last chunk committed
//! and stores no row twice); duplicates by phone, e-mail or code created, updated or skipped;
//! every rejected row kept with its number, column and reason for the report. The kinds'
//! own rules are in [`super::import_kinds`].

use std::collections::HashMap;

use async_trait::async_trait;
use uuid::Uuid;

use super::{Crm, Managed};
use crate::common::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::repo::Entity;
use crate::search::TextField;
use crate::transfer::rows::Cells;
use crate::transfer::stage::StagedRows;
use crate::transfer::{OnDuplicate, RowFailure, TransferPlan};
use crate::work::Work;

/// One kind's import: how a row is read, matched and stored.
#[async_trait]
pub(crate) trait Importer: Send + Sync {
    type E: Managed + Clone;
    /// A row's fields, applied over a new record or a stored one.
    type Row: Send + Sync + Clone;
    /// Reads a row; unreadable cells go to `cells.failures`.
    fn read(&self, cells: &mut Cells) -> Self::Row;
    /// What a row is matched with stored records on (phone keys, e-mail keys, codes).
    fn keys(&self, row: &Self::Row) -> Vec<(TextField, String)>;
    /// The same keys of a stored record.
    fn record_keys(&self, record: &Self::E) -> Vec<(TextField, String)>;
    /// A stored record as people know it: its code, else its name.
    fn label(&self, record: &Self::E) -> String;
    /// Finds what the rows name (groups, customers, stores, categories) in the work; answers
    /// the rows that name what does not exist, by index, with why.
    async fn resolve(
        &self,
        _crm: &Crm,
        _w: &mut Work,
        _actor: &Actor,
        _rows: &mut [Self::Row],
    ) -> DomainResult<Vec<(usize, String, String)>> {
        Ok(Vec::new())
    }
    /// The input storing the row: a new record, or `stored` with the row's cells over it.
    fn input(&self, row: &Self::Row, stored: Option<&Self::E>) -> <Self::E as Managed>::Input;
    /// A later row of the file over an earlier one with the same key (its cells win).
    fn merge(&self, into: &mut Self::Row, later: Self::Row);
    /// What follows once the record is stored (a product's opening stock), in the work.
    async fn after(
        &self,
        _crm: &Crm,
        _w: &mut Work,
        _actor: &Actor,
        _id: <Self::E as Entity>::Id,
        _row: &Self::Row,
        _created: bool,
    ) -> DomainResult<()> {
        Ok(())
    }
    /// The import field a domain field's error is about.
    fn field_of(&self, domain_field: &str) -> Option<&'static str>;
}

/// What one chunk did.
#[derive(Debug, Default)]
pub(crate) struct ChunkOutcome {
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Rejected and skipped rows, for the report.
    pub report: Vec<RowFailure>,
}

/// Where a row goes.
enum Slot {
    New(usize),
    Stored(usize),
}

fn key_name(field: TextField) -> &'static str {
    match field {
        TextField::Phone => "phone",
        TextField::Email => "e-mail",
        _ => "code",
    }
}

impl Crm {
    /// Stores one chunk of rows in the work (see the module's doc).
    pub(crate) async fn import_rows<I: Importer>(
        &self,
        imp: &I,
        w: &mut Work,
        actor: &Actor,
        plan: &TransferPlan,
        rows: StagedRows,
    ) -> DomainResult<ChunkOutcome> {
        let (on_duplicate, header, columns) =
            (plan.import.on_duplicate, &plan.header, &plan.columns);
        let mut out = ChunkOutcome::default();
        let column = |field: &str| {
            columns
                .iter()
                .position(|c| c.as_deref() == Some(field))
                .and_then(|i| header.get(i).cloned())
        };
        let fail = |out: &mut ChunkOutcome, row: i64, col: Option<String>, why: String| {
            out.failed += 1;
            out.report.push(RowFailure {
                row,
                column: col,
                reason: why,
            });
        };
        // Read every row.
        let mut numbers = Vec::with_capacity(rows.len());
        let mut read = Vec::with_capacity(rows.len());
        for (n, cells) in &rows {
            let mut c = Cells::new(*n, header, columns, cells);
            let row = imp.read(&mut c);
            if c.failures.is_empty() {
                numbers.push(*n);
                read.push(row);
            } else {
                out.failed += 1;
                out.report.extend(c.failures);
            }
        }
        // What they name.
        let missing = imp.resolve(self, w, actor, &mut read).await?;
        let mut bad = vec![false; read.len()];
        for (i, field, why) in missing {
            if !bad[i] {
                bad[i] = true;
                fail(&mut out, numbers[i], column(&field), why);
            }
        }
        // The stored records they match.
        let stored = if on_duplicate == OnDuplicate::Create {
            Vec::new()
        } else {
            let keys: Vec<(TextField, String)> = read
                .iter()
                .zip(&bad)
                .filter(|(_, b)| !**b)
                .flat_map(|(r, _)| imp.keys(r))
                .collect();
            self.matching::<I>(w, actor.tenant_id, keys).await?
        };
        let mut by_key: HashMap<(TextField, String), usize> = HashMap::new();
        for (i, r) in stored.iter().enumerate() {
            for k in imp.record_keys(r) {
                by_key.entry(k).or_insert(i);
            }
        }
        // Each row: new, an update, or skipped.
        let mut local: HashMap<(TextField, String), Slot> = HashMap::new();
        let mut fresh: Vec<(i64, I::Row)> = Vec::new();
        let mut updates: Vec<(i64, usize, I::Row)> = Vec::new();
        let mut updating: HashMap<usize, usize> = HashMap::new();
        for ((row, n), is_bad) in read.into_iter().zip(numbers).zip(bad) {
            if is_bad {
                continue;
            }
            let keys = if on_duplicate == OnDuplicate::Create {
                Vec::new()
            } else {
                imp.keys(&row)
            };
            let hit = keys.iter().find_map(|k| match local.get(k) {
                Some(Slot::New(i)) => Some((k.0, Slot::New(*i))),
                Some(Slot::Stored(i)) => Some((k.0, Slot::Stored(*i))),
                None => by_key.get(k).map(|i| (k.0, Slot::Stored(*i))),
            });
            match (hit, on_duplicate) {
                (None, _) | (_, OnDuplicate::Create) => {
                    for k in keys {
                        local.entry(k).or_insert(Slot::New(fresh.len()));
                    }
                    fresh.push((n, row));
                }
                (Some((field, Slot::New(i))), OnDuplicate::Skip) => {
                    out.skipped += 1;
                    out.report.push(RowFailure {
                        row: n,
                        column: column(key_name(field)),
                        reason: format!(
                            "skipped: the same {} as row {}",
                            key_name(field),
                            fresh[i].0
                        ),
                    });
                }
                (Some((field, Slot::Stored(i))), OnDuplicate::Skip) => {
                    out.skipped += 1;
                    out.report.push(RowFailure {
                        row: n,
                        column: column(key_name(field)),
                        reason: format!(
                            "skipped: the same {} as {}",
                            key_name(field),
                            imp.label(&stored[i])
                        ),
                    });
                }
                (Some((_, Slot::New(i))), OnDuplicate::Update) => {
                    imp.merge(&mut fresh[i].1, row);
                }
                (Some((_, Slot::Stored(i))), OnDuplicate::Update) => match updating.get(&i) {
                    Some(u) => imp.merge(&mut updates[*u].2, row),
                    None => {
                        for k in keys {
                            local.entry(k).or_insert(Slot::Stored(i));
                        }
                        updating.insert(i, updates.len());
                        updates.push((n, i, row));
                    }
                },
            }
        }
        // The new records: each checked, the valid ones stored together.
        let mut valid = Vec::with_capacity(fresh.len());
        let mut kept = Vec::with_capacity(fresh.len());
        for (n, row) in &fresh {
            let checked = match I::E::validate(imp.input(row, None)) {
                Ok(mut data) => I::E::check_refs(self, w, actor, &mut data)
                    .await
                    .map(|()| data),
                Err(e) => Err(e),
            };
            match checked {
                Ok(data) => {
                    valid.push(data);
                    kept.push((*n, row));
                }
                Err(e) => {
                    let (col, why) = self.row_error(imp, e, &column)?;
                    fail(&mut out, *n, col, why);
                }
            }
        }
        if !valid.is_empty() {
            let ids = I::E::repo(self).insert_many(w, actor, valid).await?;
            for (id, (_, row)) in ids.into_iter().zip(kept) {
                self.emit_kind::<I::E>(w, actor, "created", id.into())
                    .await?;
                imp.after(self, w, actor, id, row, true).await?;
                out.created += 1;
            }
        }
        // The updates: each stored record locked, the row's cells over it.
        for (n, i, row) in updates {
            let id = stored[i].record_id();
            let Some(current) = I::E::repo(self).lock(w, actor.tenant_id, id).await? else {
                fail(
                    &mut out,
                    n,
                    None,
                    "the record it matched was deleted".into(),
                );
                continue;
            };
            let checked = match I::E::validate(imp.input(&row, Some(&current))) {
                Ok(data) => self.update_checked::<I::E>(w, actor, id, data).await,
                Err(e) => Err(e),
            };
            match checked {
                Ok(()) => {
                    imp.after(self, w, actor, id, &row, false).await?;
                    out.updated += 1;
                }
                Err(e) => {
                    let (col, why) = self.row_error(imp, e, &column)?;
                    fail(&mut out, n, col, why);
                }
            }
        }
        out.report.sort_by_key(|f| f.row);
        Ok(out)
    }

    /// A rule a row breaks, as its column and reason; anything else ends the chunk.
    fn row_error<I: Importer>(
        &self,
        imp: &I,
        e: DomainError,
        column: &dyn Fn(&str) -> Option<String>,
    ) -> DomainResult<(Option<String>, String)> {
        match e {
            DomainError::Validation { field, message } => {
                let col = imp
                    .field_of(field.trim_start_matches(|c: char| {
                        c == '[' || c.is_ascii_digit() || c == ']' || c == '.'
                    }))
                    .and_then(column);
                Ok((col, message))
            }
            DomainError::Conflict { message, .. } | DomainError::InUse { message, .. } => {
                Ok((None, message))
            }
            DomainError::NotFound { entity } => Ok((None, format!("{entity} not found"))),
            other => Err(other),
        }
    }

    /// The stored records that have any of `keys`, read in the work.
    async fn matching<I: Importer>(
        &self,
        w: &mut Work,
        tenant: TenantId,
        keys: Vec<(TextField, String)>,
    ) -> DomainResult<Vec<I::E>> {
        let mut by_field: HashMap<TextField, Vec<String>> = HashMap::new();
        for (f, k) in keys {
            by_field.entry(f).or_default().push(k);
        }
        let mut out: Vec<I::E> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (field, mut terms) in by_field {
            terms.sort_unstable();
            terms.dedup();
            let found = I::E::repo(self)
                .with_terms(w.at(), tenant, field, &terms)
                .await?;
            for r in found {
                let id: Uuid = r.record_id().into();
                if seen.insert(id) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }
}
