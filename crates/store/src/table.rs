//! One generic repository for every record kind: insert, replace, get, soft delete and
//! search, with the search terms kept in step inside the same transaction.
//!
//! A record kind describes itself through [`Table`]: its table, columns, joins and terms.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::auth::now;
use crm_domain::ids::TenantId;
use crm_domain::repo::{Entity, Repository};
use crm_domain::search::{Field, Filter, Page, PageRequest, TextField, Value as FilterValue};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{
    Alias, Condition, Expr, Func, InsertStatement, JoinType, LockType, Order, Query,
    SelectStatement, SimpleExpr, Value,
};
use uuid::Uuid;

use crate::db::{tx, AnyRow, Db, Exec, Scalar, Tx};
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
    /// Fills in generated values (codes) before an insert.
    async fn prepare_insert(
        _tx: &mut Exec<'_>,
        _tenant: TenantId,
        _data: &mut Self::Data,
    ) -> DomainResult<()> {
        Ok(())
    }
    /// Fills in generated values for a batch; by default one row at a time.
    async fn prepare_batch(
        exec: &mut Exec<'_>,
        tenant: TenantId,
        data: &mut [Self::Data],
    ) -> DomainResult<()> {
        for d in data.iter_mut() {
            Self::prepare_insert(exec, tenant, d).await?;
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

async fn fetch_locking<E: Table>(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    id: Uuid,
    lock: bool,
) -> DomainResult<Option<E>> {
    let mut q = select_all::<E>();
    q.cond_where(by_id(tenant, id));
    if lock && matches!(exec, Exec::Postgres(_)) {
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
    E::prepare_insert(&mut tx.exec(), actor.tenant_id, &mut data).await?;
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

/// Inserts index terms in batches.
async fn insert_terms(
    tx: &mut Tx,
    tenant: TenantId,
    entity: i16,
    mut terms: Vec<(String, TextField, Uuid)>,
) -> DomainResult<()> {
    // In key order, the index inserts walk the b-tree instead of jumping around it.
    terms.sort_unstable();
    for chunk in terms.chunks(BATCH_PARAMS / 5) {
        let mut q: InsertStatement = Query::insert();
        q.into_table(al("search_terms"))
            .columns(["tenant_id", "entity", "term", "field", "record_id"].map(al));
        for (term, field, id) in chunk {
            q.values([
                v(tenant.0),
                v(entity),
                v(term.as_str()),
                v(field.code()),
                v(*id),
            ])
            .map_err(internal)?;
        }
        tx.exec().execute(&q).await.map_err(db_error)?;
    }
    Ok(())
}

/// Rebuilds one record kind's search terms in a tenant from the records themselves, in one
/// transaction; returns how many records were indexed.
pub(crate) async fn reindex<E: Table>(db: &Db, tenant: TenantId) -> DomainResult<u64> {
    const PAGE: u64 = 1000;
    let mut tx = db.begin().await.map_err(db_error)?;
    let q = Query::delete()
        .from_table(al("search_terms"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("entity")).eq(E::ENTITY_CODE))
        .to_owned();
    tx.exec().execute(&q).await.map_err(db_error)?;
    let mut after = i64::MIN;
    let mut count = 0u64;
    loop {
        #[derive(sqlx::FromRow)]
        struct Key {
            seq: i64,
            id: Uuid,
        }
        let q = Query::select()
            .columns([(al(T), al("seq")), (al(T), al("id"))])
            .from_as(al(E::TABLE), al(T))
            .cond_where(live(tenant).add(tcol("seq").gt(after)))
            .order_by((al(T), al("seq")), Order::Asc)
            .limit(PAGE)
            .to_owned();
        let keys: Vec<Key> = tx.exec().fetch_all(&q).await.map_err(db_error)?;
        let n = keys.len() as u64;
        let Some(last) = keys.last() else { break };
        after = last.seq;
        let mut q = select_all::<E>();
        q.cond_where(live(tenant).add(tcol("id").is_in(keys.iter().map(|k| k.id))));
        let rows: Vec<E::Row> = tx.exec().fetch_all(&q).await.map_err(db_error)?;
        let mut terms = Vec::new();
        for row in rows {
            let record = E::from_row(row)?;
            let id: Uuid = record.record_id().into();
            terms.extend(E::terms(record.data()).into_iter().map(|(f, t)| (t, f, id)));
        }
        insert_terms(&mut tx, tenant, E::ENTITY_CODE, terms).await?;
        count += n;
        if n < PAGE {
            break;
        }
    }
    tx.commit().await.map_err(db_error)?;
    Ok(count)
}

/// Replaces the index terms of one record: deletes what went, inserts what came.
async fn write_terms<E: Table>(
    tx: &mut Tx,
    tenant: TenantId,
    id: Uuid,
    old: &[(TextField, String)],
    new: &[(TextField, String)],
) -> DomainResult<()> {
    let gone: Vec<_> = old.iter().filter(|t| !new.contains(t)).collect();
    let came: Vec<_> = new.iter().filter(|t| !old.contains(t)).collect();
    if !gone.is_empty() {
        // One `field = f AND term IN (…)` per field: a flat condition however many terms go.
        let mut fields: Vec<TextField> = gone.iter().map(|(f, _)| *f).collect();
        fields.sort_unstable();
        fields.dedup();
        let mut any = Condition::any();
        for field in fields {
            let terms = gone
                .iter()
                .filter(|(f, _)| *f == field)
                .map(|(_, t)| t.as_str());
            any = any.add(
                Condition::all()
                    .add(Expr::col(al("field")).eq(field.code()))
                    .add(Expr::col(al("term")).is_in(terms)),
            );
        }
        let q = Query::delete()
            .from_table(al("search_terms"))
            .cond_where(
                Condition::all()
                    .add(Expr::col(al("tenant_id")).eq(tenant.0))
                    .add(Expr::col(al("entity")).eq(E::ENTITY_CODE))
                    .add(Expr::col(al("record_id")).eq(id))
                    .add(any),
            )
            .to_owned();
        tx.exec().execute(&q).await.map_err(db_error)?;
    }
    if !came.is_empty() {
        let mut q: InsertStatement = Query::insert();
        q.into_table(al("search_terms"))
            .columns(["tenant_id", "entity", "term", "field", "record_id"].map(al));
        for (field, term) in came {
            q.values([
                v(tenant.0),
                v(E::ENTITY_CODE),
                v(term.as_str()),
                v(field.code()),
                v(id),
            ])
            .map_err(internal)?;
        }
        tx.exec().execute(&q).await.map_err(db_error)?;
    }
    Ok(())
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

/// Compiles the filter tree into a condition on the alias `t`.
fn compile<E: Table>(tenant: TenantId, filter: &Filter) -> DomainResult<Condition> {
    Ok(match filter {
        Filter::All(children) => {
            let mut c = Condition::all();
            for child in children {
                c = c.add(compile::<E>(tenant, child)?);
            }
            c
        }
        Filter::Eq { field, value } => {
            let column = column_of::<E>(*field)?;
            Condition::all().add(tcol(column).eq(sql_value(value)))
        }
        Filter::In { field, values } => {
            let column = column_of::<E>(*field)?;
            Condition::all().add(tcol(column).is_in(values.iter().map(sql_value)))
        }
        Filter::Terms { field, terms } => {
            let q = Query::select()
                .column(al("record_id"))
                .from(al("search_terms"))
                .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                .and_where(Expr::col(al("entity")).eq(E::ENTITY_CODE))
                .and_where(Expr::col(al("term")).is_in(terms.iter().map(String::as_str)))
                .and_where(Expr::col(al("field")).eq(field.code()))
                .to_owned();
            Condition::all().add(tcol("id").in_subquery(q))
        }
        Filter::Range { field, from, to } => {
            let column = column_of::<E>(*field)?;
            let mut c = Condition::all();
            if let Some(from) = from {
                c = c.add(tcol(column).gte(*from));
            }
            if let Some(to) = to {
                c = c.add(tcol(column).lte(*to));
            }
            c
        }
        Filter::Nothing => Condition::all().add(Expr::value(1).eq(0)),
        Filter::SeqBelow(seq) => Condition::all().add(tcol("seq").lt(*seq)),
        Filter::Any(children) => {
            let mut c = Condition::any();
            for child in children {
                c = c.add(compile::<E>(tenant, child)?);
            }
            c
        }
        Filter::Ids { ids, negate } => {
            let within = tcol("id").is_in(ids.iter().copied());
            if *negate {
                Condition::all().add(within.not())
            } else {
                Condition::all().add(within)
            }
        }
        Filter::Term { field, term } => {
            let q = Query::select()
                .column(al("record_id"))
                .from(al("search_terms"))
                .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                .and_where(Expr::col(al("entity")).eq(E::ENTITY_CODE))
                .and_where(Expr::col(al("term")).eq(term.as_str()))
                .and_where(Expr::col(al("field")).eq(field.code()))
                .to_owned();
            Condition::all().add(tcol("id").in_subquery(q))
        }
        Filter::Text { field, terms } => {
            let mut c = Condition::all();
            for term in terms {
                c = c.add(tcol("id").in_subquery(term_matches(
                    tenant,
                    E::ENTITY_CODE,
                    *field,
                    term,
                )));
            }
            c
        }
    })
}

fn sql_value(value: &FilterValue) -> Value {
    match value {
        FilterValue::Id(id) => (*id).into(),
        FilterValue::Int(n) => (*n).into(),
        FilterValue::Bool(b) => (*b).into(),
        FilterValue::Text(t) => t.clone().into(),
    }
}

fn column_of<E: Table>(field: Field) -> DomainResult<&'static str> {
    match field {
        Field::Owner => Some("owner_id"),
        Field::CreatedAt => Some("created_at"),
        Field::UpdatedAt => Some("updated_at"),
        // Every record table has its integer id.
        Field::Seq => Some("seq"),
        other => E::column(other),
    }
    .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("{} has no {field:?}", E::NAME)))
}

/// `SELECT t.id` of the live records of kind `E` in `tenant` that match `filter`, to use as a
/// subquery (documents whose lines hold a matching product).
pub(crate) fn matching_ids<E: Table>(
    tenant: TenantId,
    filter: &Filter,
) -> DomainResult<SelectStatement> {
    filter.check()?;
    Ok(Query::select()
        .column((al(T), al("id")))
        .from_as(al(E::TABLE), al(T))
        .cond_where(live(tenant).add(compile::<E>(tenant, filter)?))
        .to_owned())
}

/// Whether the filter narrows by search terms (then the matches, not the order, drive the plan).
fn has_terms(filter: &Filter) -> bool {
    match filter {
        Filter::All(children) | Filter::Any(children) => children.iter().any(has_terms),
        Filter::Text { .. } | Filter::Term { .. } | Filter::Terms { .. } => true,
        Filter::Eq { .. }
        | Filter::In { .. }
        | Filter::Range { .. }
        | Filter::Ids { .. }
        | Filter::SeqBelow(_)
        | Filter::Nothing => false,
    }
}

/// Ids of records with a term starting with `prefix`: an index range scan.
pub(crate) fn term_matches(
    tenant: TenantId,
    entity: i16,
    field: Option<TextField>,
    prefix: &str,
) -> SelectStatement {
    let upper = format!("{prefix}\u{10FFFF}");
    let mut q = Query::select();
    q.column(al("record_id"))
        .from(al("search_terms"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("entity")).eq(entity))
        .and_where(Expr::col(al("term")).gte(prefix))
        .and_where(Expr::col(al("term")).lt(upper));
    if let Some(field) = field {
        q.and_where(Expr::col(al("field")).eq(field.code()));
    }
    q
}

impl SqlStore {
    /// The records of one page: the page's `seq`s first (an index scan, however deep the page),
    /// then only those rows fetched and joined.
    fn page_query<E: Table>(
        &self,
        tenant: TenantId,
        filter: &Filter,
        cond: Condition,
        page: PageRequest,
    ) -> SelectStatement {
        let mut page_seqs = Query::select();
        page_seqs
            .column((al(T), al("seq")))
            .from_as(al(E::TABLE), al(T))
            .cond_where(cond);
        if has_terms(filter) {
            // `+t.seq` keeps the planner from walking the (tenant_id, seq) index in order and
            // probing every row against the matches: it starts from the matched ids instead.
            page_seqs.order_by_expr(Expr::cust("+t.seq"), Order::Desc);
        } else {
            page_seqs.order_by((al(T), al("seq")), Order::Desc);
        }
        page_seqs.limit(u64::from(page.size)).offset(page.offset());
        // The page as a derived table: evaluated once, then joined back by key.
        let mut items = Query::select();
        // SQLite may otherwise walk every row of the tenant in `seq` order as the outer loop
        // (to skip the final sort) and look each up in the page; CROSS JOIN pins the page as
        // the outer loop there. PostgreSQL rejects CROSS JOIN … ON and plans this well anyway.
        let join = match self.db {
            Db::Sqlite { .. } => JoinType::CrossJoin,
            Db::Postgres(_) => JoinType::InnerJoin,
        };
        items.from_subquery(page_seqs, al("p")).join_as(
            join,
            al(E::TABLE),
            al(T),
            Condition::all()
                .add(tcol("tenant_id").eq(tenant.0))
                .add(tcol("seq").equals((al("p"), al("seq"))))
                .add(tcol("deleted_at").is_null()),
        );
        columns_and_joins::<E>(&mut items);
        items.order_by((al(T), al("seq")), Order::Desc);
        items
    }
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
        let mut q = Query::update();
        q.table(al(E::TABLE));
        for (column, value) in E::COLUMNS.iter().zip(E::values(&data)) {
            q.value(al(column), value);
        }
        for (column, value) in AUDIT_COLUMNS[3..]
            .iter()
            .zip(audit_values(actor, now(), false))
        {
            q.value(al(column), value);
        }
        q.cond_where(
            Condition::all()
                .add(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
                .add(Expr::col(al("id")).eq(id)),
        );
        tx.exec()
            .execute(&q)
            .await
            .map_err(|e| unique_error::<E>(e))?;
        E::after_write(&mut tx.exec(), actor.tenant_id, id, &data).await?;
        let old_terms = E::terms(old.data());
        write_terms::<E>(tx, actor.tenant_id, id, &old_terms, &E::terms(&data)).await
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
        let at = now();
        let q = Query::update()
            .table(al(E::TABLE))
            .value(al("deleted_at"), at)
            .value(al("updated_at"), at)
            .value(al("updated_by"), actor.id)
            .value(al("updated_by_name"), actor.name.clone())
            .cond_where(
                Condition::all()
                    .add(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
                    .add(Expr::col(al("id")).eq(id)),
            )
            .to_owned();
        tx.exec().execute(&q).await.map_err(db_error)?;
        E::after_delete(&mut tx.exec(), actor.tenant_id, id).await?;
        write_terms::<E>(tx, actor.tenant_id, id, &E::terms(old.data()), &[]).await?;
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
        let cond = live(tenant).add(compile::<E>(tenant, filter)?);
        let count = Query::select()
            .expr_as(Func::count(Expr::col(sea_query::Asterisk)), al("value"))
            .from_as(al(E::TABLE), al(T))
            .cond_where(cond.clone())
            .to_owned();
        let items = self.page_query::<E>(tenant, filter, cond, page);
        let mut reader = self.db.reader(at).await?;
        let mut exec = reader.exec();
        let total = exec
            .fetch_optional::<Scalar, _>(&count)
            .await
            .map_err(db_error)?
            .map_or(0, |s| s.value);
        let rows = if total as u64 > page.offset() {
            exec.fetch_all::<E::Row, _>(&items)
                .await
                .map_err(db_error)?
        } else {
            Vec::new()
        };
        Ok(Page {
            items: rows
                .into_iter()
                .map(E::from_row)
                .collect::<Result<_, _>>()?,
            total: total.max(0) as u64,
            request: page,
        })
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
        let cond = live(tenant).add(compile::<E>(tenant, filter)?);
        let items = self.page_query::<E>(tenant, filter, cond, PageRequest { number: 1, size });
        let mut reader = self.db.reader(at).await?;
        let rows = reader
            .exec()
            .fetch_all::<E::Row, _>(&items)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(E::from_row).collect()
    }
}
