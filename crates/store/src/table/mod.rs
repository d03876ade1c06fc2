//! One generic repository for every record kind: insert, replace, get, soft delete and
//! search, with the search terms kept in step inside the same transaction.
//!
//! A record kind describes itself through [`Table`]: its table, columns, joins and terms.

mod pages;
mod search;
use pages::count_query;
use search::{compile, insert_terms, write_terms, TermSearch};
pub(crate) use search::{matching_ids, reindex, term_matches};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::auth::now;
use crm_domain::ids::TenantId;
use crm_domain::repo::{Entity, Repository};
use crm_domain::search::{Field, Filter, Page, PageRequest, TextField};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Alias, Condition, Expr, LockType, Query, SelectStatement, SimpleExpr, Value};
use uuid::Uuid;

use crate::db::{tx, AnyRow, Exec, Tx};
use crate::error::db_error;
use crate::SqlStore;
use crm_domain::work::{At, Work};

/// The alias every record kind's main table gets in its select.
pub(crate) const T: &str = "t";

pub(crate) fn al(name: &str) -> Alias {
    Alias::new(name)
}

/// A column by name, as an expression.
pub(crate) fn col(name: &str) -> sea_query::Expr {
    sea_query::Expr::col(al(name))
}

/// `t.<column>`.
pub(crate) fn tcol(column: &str) -> Expr {
    Expr::col((al(T), al(column)))
}

/// A bound value.
pub(crate) fn v<V: Into<Value>>(value: V) -> SimpleExpr {
    SimpleExpr::Value(value.into())
}

/// A bound amount of money: stored as a floating number (see `crm_domain::money` for
/// which amounts round-trip exactly); read back with `Money::from_f64`.
pub(crate) fn vm(value: crm_domain::money::Money) -> SimpleExpr {
    v(value.to_f64())
}

/// The audit columns every row has.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
    pub updated_by_name: Option<String>,
}

impl From<AuditRow> for crm_domain::common::Audit {
    fn from(r: AuditRow) -> Self {
        Self {
            created_at: r.created_at,
            created_by: r.created_by,
            created_by_name: r.created_by_name,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
            updated_by_name: r.updated_by_name,
        }
    }
}

const AUDIT_COLUMNS: [&str; 6] = [
    "created_at",
    "created_by",
    "created_by_name",
    "updated_at",
    "updated_by",
    "updated_by_name",
];

/// How a record kind is stored.
#[async_trait]
pub(crate) trait Table: Entity {
    const TABLE: &'static str;
    /// The kind's code in `search_terms.entity`.
    const ENTITY_CODE: i16;
    /// The domain field a unique-index violation is reported on, and the message.
    const UNIQUE: Option<(&'static str, &'static str)> = None;
    /// Whether a typed search ranks its matches (exact phone, e-mail or code, then whole name):
    /// the directories of people and companies. Documents stay newest first.
    const RANKED: bool = false;
    /// Which field a unique-index violation is about, from the index's name or columns.
    fn unique(_index: &str) -> Option<(&'static str, &'static str)> {
        Self::UNIQUE
    }
    /// Attribute columns, in the order [`Table::values`] yields them.
    const COLUMNS: &'static [&'static str];
    type Row: AnyRow;

    /// Joins and extra selected expressions beyond `t.*` attribute columns.
    fn joins(_select: &mut SelectStatement) {}
    fn from_row(row: Self::Row) -> DomainResult<Self>;
    fn values(data: &Self::Data) -> Vec<SimpleExpr>;
    fn terms(data: &Self::Data) -> Vec<(TextField, String)>;
    /// The column behind a filterable attribute (owner and audit times are common to all).
    fn column(_field: Field) -> Option<&'static str> {
        None
    }
    /// The prefix of the codes the server gives records of this kind that come without one
    /// (`KH` for `KH000001`; [`crate::common::fill_codes`]), `None` for kinds without codes.
    const CODE: Option<&'static str> = None;
    /// Where a record keeps its code, for kinds with a [`Table::CODE`].
    fn code_slot(_data: &mut Self::Data) -> Option<&mut Option<String>> {
        None
    }
    /// Fills in a record's generated values other than its code before an insert.
    async fn prepare_insert(
        _tx: &mut Exec<'_>,
        _tenant: TenantId,
        _data: &mut Self::Data,
    ) -> DomainResult<()> {
        Ok(())
    }
    /// Fills in the generated values of the records about to be inserted: each one's, then the
    /// missing codes of them all in one step (one counter bump and one check for a batch).
    async fn prepare_batch(
        exec: &mut Exec<'_>,
        tenant: TenantId,
        data: &mut [Self::Data],
    ) -> DomainResult<()> {
        for d in data.iter_mut() {
            Self::prepare_insert(exec, tenant, d).await?;
        }
        if let Some(prefix) = Self::CODE {
            let slots = data.iter_mut().filter_map(Self::code_slot);
            crate::common::fill_codes(exec, tenant, Self::TABLE, prefix, slots).await?;
        }
        Ok(())
    }
    /// Keeps invariants that span records, after an insert or update of `id`.
    async fn after_write(
        _exec: &mut Exec<'_>,
        _tenant: TenantId,
        _id: Uuid,
        _data: &Self::Data,
    ) -> DomainResult<()> {
        Ok(())
    }
    /// Cleans up rows that point at a record being deleted (list memberships, files).
    async fn after_delete(_exec: &mut Exec<'_>, _tenant: TenantId, _id: Uuid) -> DomainResult<()> {
        Ok(())
    }
    /// Carries values the caller left out over from the stored record on update.
    fn keep_on_update(_old: &Self, _data: &mut Self::Data) {}
}

pub(crate) fn select_all<E: Table>() -> SelectStatement {
    let mut q = Query::select();
    q.from_as(al(E::TABLE), al(T));
    columns_and_joins::<E>(&mut q);
    q
}

/// The record's columns on alias `t`, and the kind's joins.
fn columns_and_joins<E: Table>(q: &mut SelectStatement) {
    q.columns(
        ["seq", "id"]
            .iter()
            .chain(E::COLUMNS)
            .chain(AUDIT_COLUMNS.iter())
            .map(|c| (al(T), al(c))),
    );
    E::joins(q);
}

/// The row of record `id` of the tenant, unaliased (for updates and deletes).
fn this_row(tenant: TenantId, id: Uuid) -> Condition {
    Condition::all()
        .add(Expr::col(al("tenant_id")).eq(tenant.0))
        .add(Expr::col(al("id")).eq(id))
}

/// Marks the row deleted (`Some`) or live again (`None`), by `actor`.
fn set_deleted<E: Table>(
    actor: &Actor,
    id: Uuid,
    deleted_at: Option<DateTime<Utc>>,
) -> sea_query::UpdateStatement {
    Query::update()
        .table(al(E::TABLE))
        .value(al("deleted_at"), deleted_at)
        .value(al("updated_at"), now())
        .value(al("updated_by"), actor.id)
        .value(al("updated_by_name"), actor.name.clone())
        .cond_where(this_row(actor.tenant_id, id))
        .to_owned()
}

fn live(tenant: TenantId) -> Condition {
    Condition::all()
        .add(tcol("tenant_id").eq(tenant.0))
        .add(tcol("deleted_at").is_null())
}

fn by_id(tenant: TenantId, id: Uuid) -> Condition {
    live(tenant).add(tcol("id").eq(id))
}

pub(crate) async fn fetch<E: Table>(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    id: Uuid,
) -> DomainResult<Option<E>> {
    fetch_locking::<E>(exec, tenant, id, false).await
}

/// Like [`fetch`], inside a write transaction, with the row locked on PostgreSQL until the
/// transaction ends (`FOR UPDATE OF t`), so that concurrent writers of one record take turns and
/// each diffs its search terms against the row as the previous writer left it. SQLite has a
/// single writer, which serialises them already.
pub(crate) async fn fetch_for_update<E: Table>(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    id: Uuid,
) -> DomainResult<Option<E>> {
    fetch_locking::<E>(exec, tenant, id, true).await
}

/// Which rows a read by id finds.
#[derive(Clone, Copy)]
enum Which {
    Live,
    Deleted,
    Any,
}

async fn fetch_locking<E: Table>(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    id: Uuid,
    lock: bool,
) -> DomainResult<Option<E>> {
    fetch_which::<E>(exec, tenant, id, Which::Live, lock).await
}

async fn fetch_which<E: Table>(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    id: Uuid,
    which: Which,
    lock: bool,
) -> DomainResult<Option<E>> {
    let mut q = select_all::<E>();
    let this = Condition::all()
        .add(tcol("tenant_id").eq(tenant.0))
        .add(tcol("id").eq(id));
    q.cond_where(match which {
        Which::Live => by_id(tenant, id),
        Which::Deleted => this.add(tcol("deleted_at").is_not_null()),
        Which::Any => this,
    });
    if lock && matches!(exec, Exec::Postgres(..)) {
        q.lock_with_tables(LockType::Update, [al(T)]);
    }
    exec.fetch_optional::<E::Row, _>(&q)
        .await
        .map_err(db_error)?
        .map(E::from_row)
        .transpose()
}

/// Inserts a record with a known id inside a transaction.
pub(crate) async fn insert_in<E: Table>(
    tx: &mut Tx,
    actor: &Actor,
    id: Uuid,
    mut data: E::Data,
) -> DomainResult<()> {
    E::prepare_batch(
        &mut tx.exec(),
        actor.tenant_id,
        std::slice::from_mut(&mut data),
    )
    .await?;
    let at = now();
    let mut q = Query::insert();
    q.into_table(al(E::TABLE)).columns(
        ["id", "tenant_id"]
            .iter()
            .chain(E::COLUMNS)
            .chain(AUDIT_COLUMNS.iter())
            .map(|c| al(c)),
    );
    let mut row = vec![v(id), v(actor.tenant_id.0)];
    row.extend(E::values(&data));
    row.extend(audit_values(actor, at, true));
    q.values(row).map_err(internal)?;
    tx.exec()
        .execute(&q)
        .await
        .map_err(|e| unique_error::<E>(e))?;
    tx.count(actor.tenant_id.0, E::ENTITY_CODE, 1);
    E::after_write(&mut tx.exec(), actor.tenant_id, id, &data).await?;
    write_terms::<E>(tx, actor.tenant_id, id, &[], &E::terms(&data)).await
}

fn audit_values(actor: &Actor, at: DateTime<Utc>, created: bool) -> Vec<SimpleExpr> {
    let mut out = Vec::with_capacity(6);
    if created {
        out.extend([v(at), v(actor.id), v(actor.name.clone())]);
    }
    out.extend([v(at), v(actor.id), v(actor.name.clone())]);
    out
}

/// Rows per multi-row statement, within SQLite's and PostgreSQL's bind-parameter limits.
const BATCH_PARAMS: usize = 30_000;

/// Inserts many records with their terms in multi-row statements inside a transaction.
pub(crate) async fn insert_many_in<E: Table>(
    tx: &mut Tx,
    actor: &Actor,
    ids: &[Uuid],
    mut data: Vec<E::Data>,
) -> DomainResult<()> {
    E::prepare_batch(&mut tx.exec(), actor.tenant_id, &mut data).await?;
    let at = now();
    let width = 2 + E::COLUMNS.len() + AUDIT_COLUMNS.len();
    let rows_per = (BATCH_PARAMS / width).max(1);
    for (chunk_ids, chunk) in ids.chunks(rows_per).zip(data.chunks(rows_per)) {
        let mut q = Query::insert();
        q.into_table(al(E::TABLE)).columns(
            ["id", "tenant_id"]
                .iter()
                .chain(E::COLUMNS)
                .chain(AUDIT_COLUMNS.iter())
                .map(|c| al(c)),
        );
        for (id, d) in chunk_ids.iter().zip(chunk) {
            let mut row = vec![v(*id), v(actor.tenant_id.0)];
            row.extend(E::values(d));
            row.extend(audit_values(actor, at, true));
            q.values(row).map_err(internal)?;
        }
        tx.exec()
            .execute(&q)
            .await
            .map_err(|e| unique_error::<E>(e))?;
        tx.count(actor.tenant_id.0, E::ENTITY_CODE, chunk_ids.len() as i64);
    }
    for (id, d) in ids.iter().zip(&data) {
        E::after_write(&mut tx.exec(), actor.tenant_id, *id, d).await?;
    }
    let terms: Vec<(String, TextField, Uuid)> = ids
        .iter()
        .zip(&data)
        .flat_map(|(id, d)| E::terms(d).into_iter().map(move |(f, t)| (t, f, *id)))
        .collect();
    insert_terms(tx, actor.tenant_id, E::ENTITY_CODE, terms).await
}

fn internal(e: sea_query::error::Error) -> DomainError {
    DomainError::Internal(anyhow::anyhow!("building a statement: {e}"))
}

fn unique_error<E: Table>(e: sqlx::Error) -> DomainError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            // The index is named in the message on both backends.
            let index = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
            if let Some((field, message)) = E::unique(&index) {
                return DomainError::conflict(Some(field), message);
            }
        }
    }
    db_error(e)
}

#[async_trait]
impl<E: Table> Repository<E> for SqlStore
where
    E::Data: Clone,
{
    async fn insert(&self, w: &mut Work, actor: &Actor, data: E::Data) -> DomainResult<E::Id> {
        let id = Uuid::now_v7();
        insert_in::<E>(tx(w)?, actor, id, data).await?;
        Ok(E::Id::from(id))
    }

    async fn insert_many(
        &self,
        w: &mut Work,
        actor: &Actor,
        data: Vec<E::Data>,
    ) -> DomainResult<Vec<E::Id>> {
        let ids: Vec<Uuid> = data.iter().map(|_| Uuid::now_v7()).collect();
        insert_many_in::<E>(tx(w)?, actor, &ids, data).await?;
        Ok(ids.into_iter().map(E::Id::from).collect())
    }

    async fn update(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: E::Id,
        mut data: E::Data,
    ) -> DomainResult<()> {
        let id: Uuid = id.into();
        let tx = tx(w)?;
        let old = fetch_for_update::<E>(&mut tx.exec(), actor.tenant_id, id)
            .await?
            .ok_or(DomainError::not_found(E::NAME))?;
        E::keep_on_update(&old, &mut data);
        let before = E::values(old.data());
        let after = E::values(&data);
        let changes = crm_domain::audit::changes(
            E::COLUMNS
                .iter()
                .zip(&before)
                .map(|(c, v)| (*c, crate::audit::json_of(v)))
                .collect(),
            E::COLUMNS
                .iter()
                .zip(&after)
                .map(|(c, v)| (*c, crate::audit::json_of(v)))
                .collect(),
        );
        let mut q = Query::update();
        q.table(al(E::TABLE));
        for (column, value) in E::COLUMNS.iter().zip(after) {
            q.value(al(column), value);
        }
        for (column, value) in AUDIT_COLUMNS[3..]
            .iter()
            .zip(audit_values(actor, now(), false))
        {
            q.value(al(column), value);
        }
        q.cond_where(this_row(actor.tenant_id, id));
        tx.exec()
            .execute(&q)
            .await
            .map_err(|e| unique_error::<E>(e))?;
        E::after_write(&mut tx.exec(), actor.tenant_id, id, &data).await?;
        let old_terms = E::terms(old.data());
        write_terms::<E>(tx, actor.tenant_id, id, &old_terms, &E::terms(&data)).await?;
        w.note_changes(id, changes);
        Ok(())
    }

    async fn get(&self, at: At<'_>, tenant: TenantId, id: E::Id) -> DomainResult<Option<E>> {
        let mut reader = self.db.reader(at).await?;
        fetch::<E>(&mut reader.exec(), tenant, id.into()).await
    }

    async fn lock(&self, w: &mut Work, tenant: TenantId, id: E::Id) -> DomainResult<Option<E>> {
        fetch_for_update::<E>(&mut tx(w)?.exec(), tenant, id.into()).await
    }

    async fn delete(&self, w: &mut Work, actor: &Actor, id: E::Id) -> DomainResult<bool> {
        let id: Uuid = id.into();
        let tx = tx(w)?;
        let Some(old) = fetch_for_update::<E>(&mut tx.exec(), actor.tenant_id, id).await? else {
            return Ok(false);
        };
        let q = set_deleted::<E>(actor, id, Some(now()));
        tx.exec().execute(&q).await.map_err(db_error)?;
        tx.count(actor.tenant_id.0, E::ENTITY_CODE, -1);
        E::after_delete(&mut tx.exec(), actor.tenant_id, id).await?;
        write_terms::<E>(tx, actor.tenant_id, id, &E::terms(old.data()), &[]).await?;
        Ok(true)
    }

    async fn restore(&self, w: &mut Work, actor: &Actor, id: E::Id) -> DomainResult<bool> {
        let id: Uuid = id.into();
        let tx = tx(w)?;
        let found =
            fetch_which::<E>(&mut tx.exec(), actor.tenant_id, id, Which::Deleted, true).await?;
        let Some(old) = found else {
            return Ok(false);
        };
        let q = set_deleted::<E>(actor, id, None);
        tx.exec()
            .execute(&q)
            .await
            .map_err(|e| unique_error::<E>(e))?;
        tx.count(actor.tenant_id.0, E::ENTITY_CODE, 1);
        E::after_write(&mut tx.exec(), actor.tenant_id, id, old.data()).await?;
        write_terms::<E>(tx, actor.tenant_id, id, &[], &E::terms(old.data())).await?;
        Ok(true)
    }

    async fn erase(&self, w: &mut Work, actor: &Actor, id: E::Id) -> DomainResult<bool> {
        let id: Uuid = id.into();
        let tx = tx(w)?;
        let found = fetch_which::<E>(&mut tx.exec(), actor.tenant_id, id, Which::Any, true).await?;
        let Some(old) = found else {
            return Ok(false);
        };
        E::after_delete(&mut tx.exec(), actor.tenant_id, id).await?;
        // Terms of a live record; a deleted one's are gone already (removing none is harmless).
        write_terms::<E>(tx, actor.tenant_id, id, &E::terms(old.data()), &[]).await?;
        // The live row if it is one (it leaves the count), else the deleted one.
        for live in [true, false] {
            let mut this = this_row(actor.tenant_id, id);
            if live {
                this = this.add(Expr::col(al("deleted_at")).is_null());
            }
            let q = Query::delete()
                .from_table(al(E::TABLE))
                .cond_where(this)
                .to_owned();
            let gone = tx.exec().execute(&q).await.map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => DomainError::InUse {
                    field: None,
                    message: format!(
                        "other records still point at this {}: erase or unlink them first",
                        E::NAME
                    ),
                },
                _ => db_error(e),
            })?;
            if gone > 0 {
                if live {
                    tx.count(actor.tenant_id.0, E::ENTITY_CODE, -1);
                }
                break;
            }
        }
        Ok(true)
    }

    async fn search(
        &self,
        at: At<'_>,
        tenant: TenantId,
        filter: &Filter,
        page: PageRequest,
    ) -> DomainResult<Page<E>> {
        filter.check()?;
        let cap = page.term_matches_up_to;
        if let Some(terms) = TermSearch::of::<E>(tenant, filter, cap) {
            return self.search_terms::<E>(at, tenant, terms, page).await;
        }
        let cond = live(tenant).add(compile::<E>(tenant, filter, cap)?);
        // Every live record: counted by the writes (`crate::counts`) for what is committed;
        // a unit of work's own reads count its rows, which hold its uncommitted writes.
        let everything = filter.is_everything() && matches!(at, At::Committed);
        let count = count_query::<E>(tenant, &cond, page, everything);
        let items = self.page_query::<E>(tenant, filter, cond, page);
        self.read_page::<E>(at, &count, &items, page).await
    }

    async fn with_terms(
        &self,
        at: At<'_>,
        tenant: TenantId,
        field: TextField,
        terms: &[String],
    ) -> DomainResult<Vec<E>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        #[derive(sqlx::FromRow)]
        struct RecordId {
            record_id: Uuid,
        }
        let mut reader = self.db.reader(at).await?;
        let mut out = Vec::new();
        for part in terms.chunks(BATCH_PARAMS / 2) {
            // The key's prefix (tenant, entity, term…) finds each term; then the rows by id.
            let ids = Query::select()
                .distinct()
                .column(al("record_id"))
                .from(al("search_terms"))
                .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                .and_where(Expr::col(al("entity")).eq(E::ENTITY_CODE))
                .and_where(Expr::col(al("term")).is_in(part.iter().map(String::as_str)))
                .and_where(Expr::col(al("field")).eq(field.code()))
                .to_owned();
            let ids: Vec<RecordId> = reader.exec().fetch_all(&ids).await.map_err(db_error)?;
            if ids.is_empty() {
                continue;
            }
            let mut q = Query::select();
            q.from_as(al(E::TABLE), al(T))
                .cond_where(live(tenant).add(tcol("id").is_in(ids.iter().map(|r| r.record_id))));
            columns_and_joins::<E>(&mut q);
            let rows = reader
                .exec()
                .fetch_all::<E::Row, _>(&q)
                .await
                .map_err(db_error)?;
            for r in rows {
                out.push(E::from_row(r)?);
            }
        }
        Ok(out)
    }

    async fn scan(
        &self,
        at: At<'_>,
        tenant: TenantId,
        filter: &Filter,
        size: u32,
    ) -> DomainResult<Vec<E>> {
        filter.check()?;
        let cond = live(tenant).add(compile::<E>(tenant, filter, None)?);
        let items = self.page_query::<E>(tenant, filter, cond, PageRequest::of(1, size));
        let mut reader = self.db.reader(at).await?;
        let rows = reader
            .exec()
            .fetch_all::<E::Row, _>(&items)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(E::from_row).collect()
    }
}
