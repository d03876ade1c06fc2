//! A record kind's search side: its index terms kept in step with the record (and rebuilt on
//! demand), and the filter tree compiled to SQL.

use crm_domain::ids::TenantId;
use crm_domain::search::{
    Field, Filter, TextField, Value as FilterValue, EXACT_FIELDS, WHOLE_NAME_FIELDS,
};
use crm_domain::{DomainError, DomainResult};
use sea_query::{
    Condition, Expr, InsertStatement, Order, Query, SelectStatement, SimpleExpr, UnionType, Value,
};
use uuid::Uuid;

use crate::db::Tx;
use crate::error::db_error;

use super::{al, internal, live, select_all, tcol, v, Table, BATCH_PARAMS, T};

/// Inserts index terms in batches.
pub(super) async fn insert_terms(
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

/// Rebuilds one record kind's search terms in a tenant from the records themselves, in `tx`;
/// returns how many records were indexed.
pub(crate) async fn reindex<E: Table>(tx: &mut Tx, tenant: TenantId) -> DomainResult<u64> {
    const PAGE: u64 = 1000;
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
        insert_terms(tx, tenant, E::ENTITY_CODE, terms).await?;
        count += n;
        if n < PAGE {
            break;
        }
    }
    Ok(count)
}

/// Replaces the index terms of one record: deletes what went, inserts what came.
pub(super) async fn write_terms<E: Table>(
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

/// Compiles the filter tree into a condition on the alias `t`; each typed term reads at most
/// `cap` index entries when one is given ([`PageRequest::term_matches_up_to`]).
pub(super) fn compile<E: Table>(
    tenant: TenantId,
    filter: &Filter,
    cap: Option<u64>,
) -> DomainResult<Condition> {
    Ok(match filter {
        Filter::All(children) => {
            let mut c = Condition::all();
            for child in children {
                c = c.add(compile::<E>(tenant, child, cap)?);
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
        // Alternatives of text (a phone's whole number or its last digits): one subquery, a
        // union of index range scans, which the planner can start from. As an OR of two `IN`
        // subqueries both backends would test every row of the tenant against both.
        Filter::Any(children) if !children.is_empty() && children.iter().all(one_term) => {
            match term_union(tenant, E::ENTITY_CODE, filter, cap) {
                Some(q) => Condition::all().add(tcol("id").in_subquery(q)),
                None => Condition::all().add(Expr::value(1).eq(0)),
            }
        }
        Filter::Any(children) => {
            let mut c = Condition::any();
            for child in children {
                c = c.add(compile::<E>(tenant, child, cap)?);
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
                    cap,
                )));
            }
            c
        }
    })
}

pub(super) fn sql_value(value: &FilterValue) -> Value {
    match value {
        FilterValue::Id(id) => (*id).into(),
        FilterValue::Int(n) => (*n).into(),
        FilterValue::Bool(b) => (*b).into(),
        FilterValue::Text(t) => t.clone().into(),
    }
}

pub(super) fn column_of<E: Table>(field: Field) -> DomainResult<&'static str> {
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
        .cond_where(live(tenant).add(compile::<E>(tenant, filter, None)?))
        .to_owned())
}

/// A text filter of one term (one index range scan).
fn one_term(f: &Filter) -> bool {
    matches!(f, Filter::Text { terms, .. } if terms.len() == 1)
}

/// Whether the filter narrows by search terms or to listed ids (then the matches, not the
/// order, drive the plan: walking the tenant's rows in order and testing each against a few
/// ids cost 1.8 s at 1,000,000 customers, against 7 ms from the ids).
pub(super) fn selects_by_key(filter: &Filter) -> bool {
    match filter {
        Filter::All(children) | Filter::Any(children) => children.iter().any(selects_by_key),
        Filter::Text { .. } | Filter::Term { .. } | Filter::Terms { .. } => true,
        Filter::Ids { negate, .. } => !negate,
        Filter::Eq { .. }
        | Filter::In { .. }
        | Filter::Range { .. }
        | Filter::SeqBelow(_)
        | Filter::Nothing => false,
    }
}

/// How a typed search orders the matches of a ranked kind ([`Table::RANKED`]): `0` for a
/// record holding one of the query's terms
/// exactly in a phone, e-mail or code, `1` for one whose name is the query whole (in any
/// rotation), `2` for the other matches. `None` when the filter has no typed text, or walks
/// newest first by `seq` (a cursor that ranking would break).
pub(super) fn rank<E: Table>(
    tenant: TenantId,
    filter: &Filter,
    cap: Option<u64>,
) -> Option<SimpleExpr> {
    rank_of::<E>(tenant, filter, cap, &|| tcol("id"))
}

/// [`rank`] of the record whose id is `id` (a column of the query it goes in).
fn rank_of<E: Table>(
    tenant: TenantId,
    filter: &Filter,
    cap: Option<u64>,
    id: &dyn Fn() -> Expr,
) -> Option<SimpleExpr> {
    fn walk<'a>(f: &'a Filter, terms: &mut Vec<&'a str>, cursor: &mut bool) {
        match f {
            Filter::All(children) | Filter::Any(children) => {
                for c in children {
                    walk(c, terms, cursor);
                }
            }
            Filter::Text { field, terms: t } if *field != Some(TextField::PhoneTail) => {
                terms.extend(t.iter().map(String::as_str));
            }
            Filter::SeqBelow(_) => *cursor = true,
            _ => {}
        }
    }
    if !E::RANKED {
        return None;
    }
    let mut terms = Vec::new();
    let mut cursor = false;
    walk(filter, &mut terms, &mut cursor);
    if terms.is_empty() || cursor {
        return None;
    }
    let holding = |fields: &[TextField]| {
        let mut q = Query::select()
            .column(al("record_id"))
            .from(al("search_terms"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("entity")).eq(E::ENTITY_CODE))
            .and_where(Expr::col(al("term")).is_in(terms.iter().copied()))
            .and_where(Expr::col(al("field")).is_in(fields.iter().map(|f| f.code())))
            .to_owned();
        if let Some(cap) = cap {
            q.limit(cap);
        }
        id().in_subquery(q)
    };
    Some(
        Expr::case(holding(&EXACT_FIELDS), 0)
            .case(holding(&WHOLE_NAME_FIELDS), 1)
            .finally(2)
            .into(),
    )
}

/// A ranked typed search and nothing else (a phrase, or a phone's alternatives), answered from
/// the term index alone: the terms of live records only are indexed (a deletion removes them),
/// so the matches are counted, ranked and ordered without reading a record; only the page's
/// records are read. Newest first within a rank by the time-ordered id (the order `seq` gives,
/// but for creates made in the same instant on two nodes). `None` for any other filter.
pub(super) struct TermSearch {
    /// `record_id` of every match (within the bound on the entries a term reads), once each.
    pub matches: SelectStatement,
    /// `id` and `rank` of the matches, ranked, newest first in each rank.
    pub ranked: SelectStatement,
    /// Whether every term is a point (a phone, an e-mail, a code, a phone's last digits):
    /// few matches whatever the term, so one plan serves every such search
    /// ([`crate::db::Db::point_reader`]).
    pub point: bool,
}

impl TermSearch {
    pub(super) fn of<E: Table>(
        tenant: TenantId,
        filter: &Filter,
        cap: Option<u64>,
    ) -> Option<Self> {
        let union = term_union(tenant, E::ENTITY_CODE, filter, cap)?;
        let matches = Query::select()
            .distinct()
            .column(al("record_id"))
            .from_subquery(union, al("s"))
            .to_owned();
        let rank = rank_of::<E>(tenant, filter, cap, &|| {
            Expr::col((al("m"), al("record_id")))
        })?;
        let ranked = Query::select()
            .expr_as(Expr::col((al("m"), al("record_id"))), al("id"))
            .expr_as(rank, al("rank"))
            .from_subquery(matches.clone(), al("m"))
            .order_by(al("rank"), Order::Asc)
            .order_by((al("m"), al("record_id")), Order::Desc)
            .to_owned();
        Some(Self {
            matches,
            ranked,
            point: points(filter),
        })
    }
}

/// Whether every term of a [`TermSearch`]'s filter holds a digit or an `@` and is at least
/// [`POINT_TERM_CHARS`] long: a phone, its last digits, an e-mail or a code, which few records
/// share, unlike a word of a name or one typed letter.
fn points(f: &Filter) -> bool {
    match f {
        Filter::Text { terms, .. } => terms.iter().all(|t| {
            t.chars().count() >= POINT_TERM_CHARS
                && t.chars().any(|c| c.is_ascii_digit() || c == '@')
        }),
        Filter::Any(children) | Filter::All(children) => children
            .iter()
            .filter(|c| !matches!(c, Filter::All(v) if v.is_empty()))
            .all(points),
        _ => false,
    }
}

/// The shortest term [`points`] takes for a point.
const POINT_TERM_CHARS: usize = 4;

/// `record_id` of the records matching a filter made of one-term text alternatives only (a
/// phrase, a phone's whole number or its last digits; one criterion among empty ones): a union
/// of index range scans, possibly naming a record twice. `None` for any other filter.
fn term_union(
    tenant: TenantId,
    entity: i16,
    filter: &Filter,
    cap: Option<u64>,
) -> Option<SelectStatement> {
    let scans = &mut Vec::new();
    if !union_arms(tenant, entity, filter, cap, scans) {
        return None;
    }
    let mut all = std::mem::take(scans).into_iter();
    let mut union = all.next()?;
    for scan in all {
        union.union(UnionType::All, scan);
    }
    Some(union)
}

/// Pushes the scans of [`term_union`] to `out`; `false` when the filter is not made of them.
fn union_arms(
    tenant: TenantId,
    entity: i16,
    f: &Filter,
    cap: Option<u64>,
    out: &mut Vec<SelectStatement>,
) -> bool {
    match f {
        Filter::Text { field, terms } if terms.len() == 1 => {
            out.push(term_matches(tenant, entity, *field, &terms[0], cap));
            true
        }
        Filter::Any(children) if !children.is_empty() => children
            .iter()
            .all(|c| union_arms(tenant, entity, c, cap, out)),
        // One criterion among empty ones (`Filter::all().and(…)`).
        Filter::All(children) => {
            let mut real = children
                .iter()
                .filter(|c| !matches!(c, Filter::All(v) if v.is_empty()));
            match (real.next(), real.next()) {
                (Some(only), None) => union_arms(tenant, entity, only, cap, out),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Ids of records with a term starting with `prefix`: an index range scan, of at most `cap`
/// entries (the first in the terms' order, so a term typed whole comes before the longer ones
/// it starts) when one is given.
pub(crate) fn term_matches(
    tenant: TenantId,
    entity: i16,
    field: Option<TextField>,
    prefix: &str,
    cap: Option<u64>,
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
    match cap {
        // SQLite takes no LIMIT on an arm of a UNION: the capped scan is a derived table.
        Some(cap) => Query::select()
            .column(al("record_id"))
            .from_subquery(
                q.order_by(al("term"), Order::Asc).limit(cap).to_owned(),
                al("capped"),
            )
            .to_owned(),
        None => q,
    }
}
