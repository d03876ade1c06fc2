//! Purchase, sale and return documents (`docs`, `doc_lines`) and the stock ledger
//! (`stock_moves`) they move.

use crate::db::tx;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::ids::{CustomerId, DocId, DocLineId, PlaceId, ProductId, TenantId, UnitId};
use crm_domain::inventory::{Doc, DocFilter, DocKey, DocKind, DocLine, Move, Payment};
use crm_domain::repo::DocStore;
use crm_domain::search::{Field, Filter, PageRequest, Value as FilterValue};
use crm_domain::work::{At, Work};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Condition, Expr, Func, Order, Query};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::{fill_codes_counted, like_text};
use crate::db::Exec;
use crate::error::db_error;
use crate::table::{al, matching_ids, v, vm};
use crate::SqlStore;
use crm_domain::money::Money;

use super::SeqRow;

#[derive(Debug, sqlx::FromRow)]
struct SumRow {
    product_id: Uuid,
    total: Option<f64>,
}

#[derive(Debug, sqlx::FromRow)]
struct DocRow {
    seq: i64,
    id: Uuid,
    kind: i32,
    code: String,
    transaction_date: NaiveDate,
    customer_id: Option<Uuid>,
    branch_id: i64,
    store_id: i64,
    discount_type: Option<String>,
    discount_amount: f64,
    total_before_tax: f64,
    tax_amount: f64,
    charges: f64,
    final_total: f64,
    shipping_status: Option<String>,
    approved: bool,
    additional_notes: Option<String>,
    staff_note: Option<String>,
    return_of: Option<i64>,
    received_at: Option<DateTime<Utc>>,
    payments_json: String,
    created_at: DateTime<Utc>,
    created_by_name: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct LineRow {
    seq: i64,
    doc_id: i64,
    sort: i64,
    product_id: Uuid,
    product_seq: i64,
    unit_id: Option<i64>,
    rate: f64,
    unit_price: f64,
    quantity: f64,
    discount_type: Option<String>,
    discount_amount: f64,
    tax_id: Option<i64>,
    item_tax: f64,
    note: Option<String>,
    sell_line_id: Option<i64>,
    total: f64,
}

impl From<LineRow> for DocLine {
    fn from(r: LineRow) -> Self {
        DocLine {
            id: DocLineId(r.seq),
            sort: r.sort,
            product_id: ProductId(r.product_id),
            product_seq: r.product_seq,
            unit_id: r.unit_id.map(UnitId),
            rate: r.rate,
            unit_price: Money::from_f64(r.unit_price),
            quantity: r.quantity,
            discount_type: r.discount_type,
            discount_amount: Money::from_f64(r.discount_amount),
            tax_id: r.tax_id,
            item_tax: Money::from_f64(r.item_tax),
            note: r.note,
            sell_line_id: r.sell_line_id.map(DocLineId),
            total: Money::from_f64(r.total),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PaymentJson {
    note: Option<String>,
    payment_type: Option<String>,
    method: Option<String>,
    amount: Money,
    account_id: Option<i64>,
    paid_on: Option<NaiveDate>,
}

const DOC_COLUMNS: [&str; 23] = [
    "seq",
    "id",
    "kind",
    "code",
    "transaction_date",
    "customer_id",
    "branch_id",
    "store_id",
    "discount_type",
    "discount_amount",
    "total_before_tax",
    "tax_amount",
    "charges",
    "final_total",
    "shipping_status",
    "approved",
    "additional_notes",
    "staff_note",
    "return_of",
    "received_at",
    "payments_json",
    "created_at",
    "created_by_name",
];

const LINE_COLUMNS: [&str; 16] = [
    "seq",
    "doc_id",
    "sort",
    "product_id",
    "product_seq",
    "unit_id",
    "rate",
    "unit_price",
    "quantity",
    "discount_type",
    "discount_amount",
    "tax_id",
    "item_tax",
    "note",
    "sell_line_id",
    "total",
];

fn to_doc(r: DocRow, lines: Vec<DocLine>) -> DomainResult<Doc> {
    let payments: Vec<PaymentJson> = serde_json::from_str(&r.payments_json)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored payments: {e}")))?;
    Ok(Doc {
        id: DocId(r.seq),
        uuid: r.id,
        kind: DocKind::from_code(r.kind)
            .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("doc kind {}", r.kind)))?,
        invoice_no: Some(r.code),
        transaction_date: r.transaction_date,
        customer_id: r.customer_id.map(CustomerId),
        branch_id: PlaceId(r.branch_id),
        store_id: PlaceId(r.store_id),
        discount_type: r.discount_type,
        discount_amount: Money::from_f64(r.discount_amount),
        total_before_tax: Money::from_f64(r.total_before_tax),
        tax_amount: Money::from_f64(r.tax_amount),
        charges: Money::from_f64(r.charges),
        final_total: Money::from_f64(r.final_total),
        shipping_status: r.shipping_status,
        approved: r.approved,
        additional_notes: r.additional_notes,
        staff_note: r.staff_note,
        return_of: r.return_of.map(DocId),
        received_at: r.received_at,
        lines,
        payments: payments
            .into_iter()
            .map(|p| Payment {
                note: p.note,
                payment_type: p.payment_type,
                method: p.method,
                amount: p.amount,
                account_id: p.account_id,
                paid_on: p.paid_on,
            })
            .collect(),
        created_at: r.created_at,
        created_by_name: r.created_by_name,
    })
}

async fn lines_of(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    docs: &[i64],
) -> DomainResult<Vec<LineRow>> {
    if docs.is_empty() {
        return Ok(Vec::new());
    }
    let q = Query::select()
        .columns(LINE_COLUMNS.map(al))
        .from(al("doc_lines"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("doc_id")).is_in(docs.iter().copied()))
        .order_by(al("sort"), Order::Asc)
        .order_by(al("seq"), Order::Asc)
        .to_owned();
    exec.fetch_all::<LineRow, _>(&q).await.map_err(db_error)
}

async fn load_docs(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    rows: Vec<DocRow>,
) -> DomainResult<Vec<Doc>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let mut lines = lines_of(exec, tenant, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let mine: Vec<DocLine> = lines
                .extract_if(.., |l| l.doc_id == r.seq)
                .map(Into::into)
                .collect();
            to_doc(r, mine)
        })
        .collect()
}

async fn insert_moves(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    moves: &[Move],
    doc: Option<DocId>,
) -> DomainResult<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let at = crm_domain::auth::now();
    let mut q = Query::insert();
    q.into_table(al("stock_moves")).columns(
        [
            "tenant_id",
            "product_id",
            "branch_id",
            "store_id",
            "quantity",
            "kind",
            "doc_id",
            "created_at",
        ]
        .map(al),
    );
    for m in moves {
        q.values_panic([
            v(tenant.0),
            v(m.product_id.0),
            v(m.branch_id.0),
            v(m.store_id.0),
            v(m.quantity),
            v(m.kind.code()),
            v(doc.or(m.doc_id).map(|d| d.0)),
            v(at),
        ]);
    }
    exec.execute(&q).await.map_err(db_error)?;
    Ok(())
}

async fn stock_in(
    exec: &mut Exec<'_>,
    tenant: TenantId,
    products: &[ProductId],
    branch: Option<PlaceId>,
    store: Option<PlaceId>,
) -> DomainResult<Vec<(ProductId, f64)>> {
    if products.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::select();
    q.column(al("product_id"))
        .expr_as(Func::sum(Expr::col(al("quantity"))), al("total"))
        .from(al("stock_moves"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("product_id")).is_in(products.iter().map(|p| p.0)))
        .group_by_col(al("product_id"));
    if let Some(b) = branch {
        q.and_where(Expr::col(al("branch_id")).eq(b.0));
    }
    if let Some(s) = store {
        q.and_where(Expr::col(al("store_id")).eq(s.0));
    }
    let rows = exec.fetch_all::<SumRow, _>(&q).await.map_err(db_error)?;
    Ok(products
        .iter()
        .map(|p| {
            (
                *p,
                rows.iter()
                    .find(|r| r.product_id == p.0)
                    .and_then(|r| r.total)
                    .unwrap_or(0.0),
            )
        })
        .collect())
}

#[async_trait]
impl DocStore for SqlStore {
    async fn stock(
        &self,
        at: At<'_>,
        tenant: TenantId,
        products: &[ProductId],
        branch: Option<PlaceId>,
        store: Option<PlaceId>,
    ) -> DomainResult<Vec<(ProductId, f64)>> {
        let mut conn = self.db.reader(at).await?;
        stock_in(&mut conn.exec(), tenant, products, branch, store).await
    }

    async fn add_moves(&self, w: &mut Work, actor: &Actor, moves: Vec<Move>) -> DomainResult<()> {
        let tx = tx(w)?;
        insert_moves(&mut tx.exec(), actor.tenant_id, &moves, None).await?;
        Ok(())
    }

    async fn save_doc(
        &self,
        w: &mut Work,
        actor: &Actor,
        mut doc: Doc,
        moves: Vec<Move>,
    ) -> DomainResult<Doc> {
        let tenant = actor.tenant_id;
        let tx = tx(w)?;
        if doc.id.is_zero() {
            let mut code = doc.invoice_no.clone().filter(|c| !c.trim().is_empty());
            let counter = format!("docs-{}", doc.kind.code());
            fill_codes_counted(
                &mut tx.exec(),
                tenant,
                "docs",
                &counter,
                doc.kind.prefix(),
                std::iter::once(&mut code),
            )
            .await?;
            doc.invoice_no = code;
        } else {
            // Replacing: the old lines and moves go.
            for table in ["doc_lines", "stock_moves"] {
                let q = Query::delete()
                    .from_table(al(table))
                    .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                    .and_where(Expr::col(al("doc_id")).eq(doc.id.0))
                    .to_owned();
                tx.exec().execute(&q).await.map_err(db_error)?;
            }
        }
        let payments: Vec<PaymentJson> = doc
            .payments
            .iter()
            .map(|p| PaymentJson {
                note: p.note.clone(),
                payment_type: p.payment_type.clone(),
                method: p.method.clone(),
                amount: p.amount,
                account_id: p.account_id,
                paid_on: p.paid_on,
            })
            .collect();
        let payments = serde_json::to_string(&payments).unwrap_or_else(|_| "[]".to_owned());
        let values = [
            ("transaction_date", v(doc.transaction_date)),
            ("customer_id", v(doc.customer_id.map(|c| c.0))),
            ("branch_id", v(doc.branch_id.0)),
            ("store_id", v(doc.store_id.0)),
            ("discount_type", v(doc.discount_type.clone())),
            ("discount_amount", vm(doc.discount_amount)),
            ("total_before_tax", vm(doc.total_before_tax)),
            ("tax_amount", vm(doc.tax_amount)),
            ("charges", vm(doc.charges)),
            ("final_total", vm(doc.final_total)),
            ("paid", vm(doc.paid())),
            ("shipping_status", v(doc.shipping_status.clone())),
            ("approved", v(doc.approved)),
            ("additional_notes", v(doc.additional_notes.clone())),
            ("staff_note", v(doc.staff_note.clone())),
            ("return_of", v(doc.return_of.map(|d| d.0))),
            ("received_at", v(doc.received_at)),
            ("payments_json", v(payments)),
        ];
        if doc.id.is_zero() {
            let mut cols = vec![
                "id",
                "tenant_id",
                "kind",
                "code",
                "created_at",
                "created_by",
                "created_by_name",
            ];
            let mut vals = vec![
                v(doc.uuid),
                v(tenant.0),
                v(doc.kind.code()),
                v(doc.invoice_no.clone()),
                v(doc.created_at),
                v(actor.id),
                v(actor.name.clone()),
            ];
            for (c, val) in values {
                cols.push(c);
                vals.push(val);
            }
            let q = Query::insert()
                .into_table(al("docs"))
                .columns(cols.into_iter().map(al))
                .values_panic(vals)
                .returning_col(al("seq"))
                .to_owned();
            doc.id = tx
                .exec()
                .fetch_optional::<SeqRow, _>(&q)
                .await
                .map_err(|e| {
                    crate::error::unique(
                        e,
                        "invoice_no",
                        "another document already has this invoice number",
                    )
                })?
                .map(|r| DocId(r.seq))
                .unwrap_or_default();
            doc.created_by_name = Some(actor.name.clone());
        } else {
            let mut q = Query::update();
            q.table(al("docs"));
            for (c, val) in values {
                q.value(al(c), val);
            }
            q.and_where(Expr::col(al("tenant_id")).eq(tenant.0))
                .and_where(Expr::col(al("seq")).eq(doc.id.0));
            tx.exec().execute(&q).await.map_err(db_error)?;
        }
        for line in doc.lines.iter_mut() {
            let q = Query::insert()
                .into_table(al("doc_lines"))
                .columns(
                    LINE_COLUMNS[1..]
                        .iter()
                        .map(|c| al(c))
                        .chain([al("tenant_id")]),
                )
                .values_panic([
                    v(doc.id.0),
                    v(line.sort),
                    v(line.product_id.0),
                    v(line.product_seq),
                    v(line.unit_id.map(|u| u.0)),
                    v(line.rate),
                    vm(line.unit_price),
                    v(line.quantity),
                    v(line.discount_type.clone()),
                    vm(line.discount_amount),
                    v(line.tax_id),
                    vm(line.item_tax),
                    v(line.note.clone()),
                    v(line.sell_line_id.map(|l| l.0)),
                    vm(line.total),
                    v(tenant.0),
                ])
                .returning_col(al("seq"))
                .to_owned();
            line.id = tx
                .exec()
                .fetch_optional::<SeqRow, _>(&q)
                .await
                .map_err(db_error)?
                .map(|r| DocLineId(r.seq))
                .unwrap_or_default();
        }
        insert_moves(&mut tx.exec(), tenant, &moves, Some(doc.id)).await?;
        Ok(doc)
    }

    async fn doc_by(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: DocKind,
        key: DocKey<'_>,
    ) -> DomainResult<Option<Doc>> {
        let by = match key {
            DocKey::Seq(id) => Expr::col(al("seq")).eq(id.0),
            DocKey::Uuid(id) => Expr::col(al("id")).eq(id),
            DocKey::Invoice(code) => Expr::col(al("code")).eq(code.trim()),
        };
        let q = Query::select()
            .columns(DOC_COLUMNS.map(al))
            .from(al("docs"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("kind")).eq(kind.code()))
            .and_where(by)
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let mut exec = conn.exec();
        let rows: Vec<DocRow> = exec.fetch_all(&q).await.map_err(db_error)?;
        Ok(load_docs(&mut exec, tenant, rows).await?.pop())
    }

    async fn docs(
        &self,
        at: At<'_>,
        tenant: TenantId,
        kind: DocKind,
        f: &DocFilter,
        page: PageRequest,
    ) -> DomainResult<Vec<Doc>> {
        let mut cond = Condition::all()
            .add(Expr::col(al("tenant_id")).eq(tenant.0))
            .add(Expr::col(al("kind")).eq(kind.code()));
        if let Some(b) = f.branch_id {
            cond = cond.add(Expr::col(al("branch_id")).eq(b.0));
        }
        if let Some(s) = f.store_id {
            cond = cond.add(Expr::col(al("store_id")).eq(s.0));
        }
        if let Some(c) = f.customer_id {
            cond = cond.add(Expr::col(al("customer_id")).eq(c.0));
        }
        if let Some(d) = f.from {
            cond = cond.add(Expr::col(al("transaction_date")).gte(d));
        }
        if let Some(d) = f.to {
            cond = cond.add(Expr::col(al("transaction_date")).lte(d));
        }
        if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let mut any = Condition::any().add(like_text("code", s, true));
            if let Some(products) = Filter::text(None, s) {
                any = any.add(Expr::col(al("seq")).in_subquery(lines_with(tenant, &products)?));
            }
            cond = cond.add(any);
        }
        let kinds = f
            .product_kinds
            .iter()
            .cloned()
            .map(FilterValue::Text)
            .collect();
        if let Some(products) = Filter::any_of(Field::Kind, kinds) {
            cond = cond.add(Expr::col(al("seq")).in_subquery(lines_with(tenant, &products)?));
        }
        let q = Query::select()
            .columns(DOC_COLUMNS.map(al))
            .from(al("docs"))
            .cond_where(cond)
            .order_by(al("seq"), Order::Desc)
            .limit(u64::from(page.size))
            .offset(page.offset())
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let mut exec = conn.exec();
        let rows: Vec<DocRow> = exec.fetch_all(&q).await.map_err(db_error)?;
        load_docs(&mut exec, tenant, rows).await
    }

    async fn sell_lines(
        &self,
        at: At<'_>,
        tenant: TenantId,
        lines: &[DocLineId],
    ) -> DomainResult<Vec<(DocId, DocLine)>> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let q = Query::select()
            .columns(LINE_COLUMNS.iter().map(|c| (al("l"), al(c))))
            .from_as(al("doc_lines"), al("l"))
            .inner_join(
                al("docs"),
                Expr::col((al("docs"), al("tenant_id")))
                    .equals((al("l"), al("tenant_id")))
                    .and(Expr::col((al("docs"), al("seq"))).equals((al("l"), al("doc_id")))),
            )
            .and_where(Expr::col((al("l"), al("tenant_id"))).eq(tenant.0))
            .and_where(Expr::col((al("l"), al("seq"))).is_in(lines.iter().map(|l| l.0)))
            .and_where(Expr::col((al("docs"), al("kind"))).eq(DocKind::Sell.code()))
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let rows = conn
            .exec()
            .fetch_all::<LineRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| (DocId(r.doc_id), r.into()))
            .collect())
    }

    async fn returned(
        &self,
        at: At<'_>,
        tenant: TenantId,
        lines: &[DocLineId],
        except: Option<DocId>,
    ) -> DomainResult<Vec<(DocLineId, f64)>> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::select();
        q.columns(LINE_COLUMNS.map(al))
            .from(al("doc_lines"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("sell_line_id")).is_in(lines.iter().map(|l| l.0)));
        if let Some(e) = except {
            q.and_where(Expr::col(al("doc_id")).ne(e.0));
        }
        let mut conn = self.db.reader(at).await?;
        let rows = conn
            .exec()
            .fetch_all::<LineRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(lines
            .iter()
            .map(|id| {
                let total: f64 = rows
                    .iter()
                    .filter(|r| r.sell_line_id == Some(id.0))
                    .map(|r| r.quantity * r.rate)
                    .sum();
                (*id, total)
            })
            .collect())
    }

    async fn set_shipping(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: DocId,
        status: &str,
        receive: Option<Vec<Move>>,
    ) -> DomainResult<bool> {
        let tx = tx(w)?;
        let mut q = Query::update();
        q.table(al("docs"))
            .value(al("shipping_status"), status)
            .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
            .and_where(Expr::col(al("kind")).eq(DocKind::Purchase.code()))
            .and_where(Expr::col(al("seq")).eq(id.0));
        if receive.is_some() {
            q.value(al("received_at"), crm_domain::auth::now());
        }
        let changed = tx.exec().execute(&q).await.map_err(db_error)?;
        if changed == 1 {
            if let Some(moves) = receive {
                insert_moves(&mut tx.exec(), actor.tenant_id, &moves, Some(id)).await?;
            }
        }
        Ok(changed == 1)
    }

    async fn customer_dues(
        &self,
        tenant: TenantId,
        customers: &[CustomerId],
    ) -> DomainResult<Vec<(CustomerId, Money)>> {
        if customers.is_empty() {
            return Ok(Vec::new());
        }
        #[derive(sqlx::FromRow)]
        struct Due {
            customer_id: Uuid,
            kind: i32,
            final_total: f64,
            paid: f64,
        }
        let q = Query::select()
            .columns(["customer_id", "kind", "final_total", "paid"].map(al))
            .from(al("docs"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("customer_id")).is_in(customers.iter().map(|c| c.0)))
            .and_where(
                Expr::col(al("kind")).is_in([DocKind::Sell.code(), DocKind::SellReturn.code()]),
            )
            .to_owned();
        let mut conn = self.db.read().await.map_err(db_error)?;
        let rows: Vec<Due> = conn.exec().fetch_all(&q).await.map_err(db_error)?;
        let mut due: std::collections::HashMap<Uuid, Money> = Default::default();
        for r in &rows {
            let open = Money::from_f64(r.final_total) - Money::from_f64(r.paid);
            let signed = if r.kind == DocKind::Sell.code() {
                open
            } else {
                -open
            };
            *due.entry(r.customer_id).or_default() += signed;
        }
        Ok(customers
            .iter()
            .map(|c| (*c, due.get(&c.0).copied().unwrap_or_default()))
            .collect())
    }
}

/// `SELECT doc_id` of the lines whose product matches `products`.
fn lines_with(tenant: TenantId, products: &Filter) -> DomainResult<sea_query::SelectStatement> {
    Ok(Query::select()
        .column(al("doc_id"))
        .from(al("doc_lines"))
        .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
        .and_where(Expr::col(al("product_id")).in_subquery(matching_ids::<
            crm_domain::sales::Product,
        >(tenant, products)?))
        .to_owned())
}
