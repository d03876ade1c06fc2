//! How a page of records and its total are read: the page's keys first (an index range,
//! however deep the page), then only those rows joined back; the total from the count the
//! writes keep, a (capped) count of the matches, or beside the page for an index-only search.

use crm_domain::ids::TenantId;
use crm_domain::search::{Filter, Page, PageRequest};
use crm_domain::work::At;
use crm_domain::DomainResult;
use sea_query::{Condition, Expr, Func, JoinType, Order, Query, SelectStatement};

use super::search::{rank, selects_by_key, TermSearch};
use super::{al, columns_and_joins, tcol, Table, T};
use crate::db::{Counted, Db, Scalar};
use crate::error::db_error;
use crate::SqlStore;

/// `SELECT COUNT(*) AS value` of a subquery's rows.
fn count_rows(rows: SelectStatement) -> SelectStatement {
    Query::select()
        .expr_as(Func::count(Expr::col(sea_query::Asterisk)), al("value"))
        .from_subquery(rows, al("counted"))
        .to_owned()
}

/// The statement that reads the total of the live records of kind `E` meeting `cond`: the
/// count the writes keep when `everything` is asked for (no filter, what is committed), else
/// the rows counted, at most one past the page's cap.
pub(super) fn count_query<E: Table>(
    tenant: TenantId,
    cond: &Condition,
    page: PageRequest,
    everything: bool,
) -> SelectStatement {
    match page.count_up_to {
        _ if everything => crate::counts::total(tenant, E::ENTITY_CODE),
        None => Query::select()
            .expr_as(Func::count(Expr::col(sea_query::Asterisk)), al("value"))
            .from_as(al(E::TABLE), al(T))
            .cond_where(cond.clone())
            .to_owned(),
        Some(cap) => count_rows(
            Query::select()
                .expr(Expr::val(1))
                .from_as(al(E::TABLE), al(T))
                .cond_where(cond.clone())
                .limit(cap.saturating_add(1))
                .to_owned(),
        ),
    }
}

/// A total as a capped count reads it: one past the cap means "more than".
fn capped(total: u64, page: PageRequest) -> u64 {
    page.count_up_to
        .map_or(total, |cap| total.min(cap.saturating_add(1)))
}

impl SqlStore {
    /// A [`TermSearch`]: counted and paged in the index; the page's records read by id.
    pub(super) async fn search_terms<E: Table>(
        &self,
        at: At<'_>,
        tenant: TenantId,
        terms: TermSearch,
        page: PageRequest,
    ) -> DomainResult<Page<E>> {
        let TermSearch {
            mut matches,
            mut ranked,
            point,
        } = terms;
        // The matches are read once: the page and, beside each of its rows, their count.
        ranked
            .expr_as(Expr::cust("COUNT(*) OVER ()"), al("total_matches"))
            .limit(u64::from(page.size))
            .offset(page.offset());
        let mut items = self.records_of_page::<E>(tenant, ranked, "id");
        items
            .column((al("p"), al("total_matches")))
            .order_by((al("p"), al("rank")), Order::Asc)
            .order_by((al(T), al("id")), Order::Desc);
        let mut reader = if point {
            self.db.point_reader(at).await?
        } else {
            self.db.reader(at).await?
        };
        let mut exec = reader.exec();
        let rows = exec
            .fetch_all::<Counted<E::Row>, _>(&items)
            .await
            .map_err(db_error)?;
        let total = match rows.first() {
            Some(first) => first.total.max(0) as u64,
            // A page past the last: the matches counted on their own.
            None if page.offset() > 0 => {
                if let Some(cap) = page.count_up_to {
                    matches.limit(cap.saturating_add(1));
                }
                exec.fetch_optional::<Scalar, _>(&count_rows(matches))
                    .await
                    .map_err(db_error)?
                    .map_or(0, |s| s.value.max(0) as u64)
            }
            None => 0,
        };
        Ok(Page {
            items: rows
                .into_iter()
                .map(|r| E::from_row(r.row))
                .collect::<Result<_, _>>()?,
            total: capped(total, page),
            request: page,
        })
    }

    /// Runs a page's count, then (unless the count says it is empty) its items, on one
    /// reader.
    pub(super) async fn read_page<E: Table>(
        &self,
        at: At<'_>,
        count: &SelectStatement,
        items: &SelectStatement,
        page: PageRequest,
    ) -> DomainResult<Page<E>> {
        let mut reader = self.db.reader(at).await?;
        let mut exec = reader.exec();
        let total = exec
            .fetch_optional::<Scalar, _>(count)
            .await
            .map_err(db_error)?
            .map_or(0, |s| s.value);
        // A capped count may stop short of the page asked for: its rows are read anyway.
        let rows = if total as u64 > page.offset() || page.count_up_to.is_some() {
            exec.fetch_all::<E::Row, _>(items).await.map_err(db_error)?
        } else {
            Vec::new()
        };
        Ok(Page {
            items: rows
                .into_iter()
                .map(E::from_row)
                .collect::<Result<_, _>>()?,
            total: capped(total.max(0) as u64, page),
            request: page,
        })
    }

    /// The live records of kind `E` whose `key` (`seq` or `id`) the page `p` (a derived table,
    /// evaluated once) names, with their columns and joins; the caller orders them.
    pub(super) fn records_of_page<E: Table>(
        &self,
        tenant: TenantId,
        page: SelectStatement,
        key: &str,
    ) -> SelectStatement {
        let mut items = Query::select();
        // SQLite may otherwise walk every row of the tenant in `seq` order as the outer loop
        // (to skip the final sort) and look each up in the page; CROSS JOIN pins the page as
        // the outer loop there. PostgreSQL rejects CROSS JOIN … ON and plans this well anyway.
        let join = match self.db {
            Db::Sqlite { .. } => JoinType::CrossJoin,
            Db::Postgres(..) => JoinType::InnerJoin,
        };
        items.from_subquery(page, al("p")).join_as(
            join,
            al(E::TABLE),
            al(T),
            Condition::all()
                .add(tcol("tenant_id").eq(tenant.0))
                .add(tcol(key).equals((al("p"), al(key))))
                .add(tcol("deleted_at").is_null()),
        );
        columns_and_joins::<E>(&mut items);
        items
    }

    /// The records of one page: the page's `seq`s first (an index scan, however deep the page),
    /// then only those rows fetched and joined.
    pub(super) fn page_query<E: Table>(
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
        let ranked = rank::<E>(tenant, filter, page.term_matches_up_to);
        if let Some(rank) = &ranked {
            // Exact matches first, then whole names, then the rest, newest first in each.
            page_seqs
                .expr_as(rank.clone(), al("rank"))
                .order_by(al("rank"), Order::Asc);
        }
        if selects_by_key(filter) {
            // `+t.seq` keeps the planner from walking the (tenant_id, seq) index in order and
            // probing every row against the matches: it starts from the matched ids instead.
            page_seqs.order_by_expr(Expr::cust("+t.seq"), Order::Desc);
        } else {
            page_seqs.order_by((al(T), al("seq")), Order::Desc);
        }
        page_seqs.limit(u64::from(page.size)).offset(page.offset());
        let mut items = self.records_of_page::<E>(tenant, page_seqs, "seq");
        if ranked.is_some() {
            items.order_by((al("p"), al("rank")), Order::Asc);
        }
        items.order_by((al(T), al("seq")), Order::Desc);
        items
    }
}
