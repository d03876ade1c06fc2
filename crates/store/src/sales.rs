//! Storage of products, units, products' extra units and orders (lines as JSON).

use crate::db::tx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_domain::ids::{CategoryId, OrderId, ProductId, TenantId, UnitId};
use crm_domain::inventory::ProductExt;
use crm_domain::money::Money;
use crm_domain::repo::SalesStore;
use crm_domain::sales::{
    Approval, Order, OrderData, OrderLine, Product, ProductData, ProductUnit, Unit,
};
use crm_domain::search::{Field, TextField};
use crm_domain::text::{Email, Phone};
use crm_domain::work::{At, Work};
use crm_domain::{Actor, DomainError, DomainResult};
use sea_query::{Expr, Func, JoinType, Order as SqlOrder, Query, SelectStatement, SimpleExpr};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::Exec;
use crate::error::db_error;
use crate::table::{al, v, vm, AuditRow, Table, T};
use crate::SqlStore;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProductRow {
    seq: i64,
    id: Uuid,
    code: String,
    name: String,
    group_id: Option<i64>,
    group_name: Option<String>,
    unit_id: Option<i64>,
    unit_name: Option<String>,
    import_price: f64,
    retail_price: f64,
    wholesale_price: f64,
    config: Option<String>,
    note: Option<String>,
    image: Option<String>,
    ext_json: Option<String>,
    #[sqlx(flatten)]
    audit: AuditRow,
}

/// NextX's product attributes as stored in `products.ext_json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ProductExtJson {
    sku: Option<String>,
    category_id: Option<CategoryId>,
    brand_id: Option<i64>,
    kind: String,
    weight: f64,
    height: f64,
    width: f64,
    length: f64,
    specification: Option<String>,
    description: Option<String>,
    #[serde(alias = "custom_field1")]
    extra1: Option<String>,
    #[serde(alias = "custom_field2")]
    extra2: Option<String>,
    #[serde(alias = "qty_warning_stock")]
    low_stock_at: f64,
    media: Vec<String>,
    components: Vec<(i64, f64, Option<UnitId>, Money)>,
}

fn ext_from(raw: Option<String>) -> DomainResult<ProductExt> {
    let Some(raw) = raw else {
        return Ok(ProductExt {
            kind: "single".to_owned(),
            ..ProductExt::default()
        });
    };
    let j: ProductExtJson = serde_json::from_str(&raw)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored product: {e}")))?;
    Ok(ProductExt {
        sku: j.sku,
        category_id: j.category_id,
        brand_id: j.brand_id,
        kind: j.kind,
        weight: j.weight,
        height: j.height,
        width: j.width,
        length: j.length,
        specification: j.specification,
        description: j.description,
        extra1: j.extra1,
        extra2: j.extra2,
        low_stock_at: j.low_stock_at,
        media: j.media,
        components: j.components,
    })
}

fn ext_json(e: &ProductExt) -> String {
    serde_json::to_string(&ProductExtJson {
        sku: e.sku.clone(),
        category_id: e.category_id,
        brand_id: e.brand_id,
        kind: e.kind.clone(),
        weight: e.weight,
        height: e.height,
        width: e.width,
        length: e.length,
        specification: e.specification.clone(),
        description: e.description.clone(),
        extra1: e.extra1.clone(),
        extra2: e.extra2.clone(),
        low_stock_at: e.low_stock_at,
        media: e.media.clone(),
        components: e.components.clone(),
    })
    .unwrap_or_else(|_| "{}".to_owned())
}

#[async_trait]
impl Table for Product {
    const TABLE: &'static str = "products";
    const ENTITY_CODE: i16 = 10;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another product already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "group_id",
        "group_name",
        "unit_id",
        "import_price",
        "retail_price",
        "wholesale_price",
        "config",
        "note",
        "image",
        "category_id",
        "ext_json",
        "nx_kind",
    ];
    type Row = ProductRow;

    fn joins(q: &mut SelectStatement) {
        q.join_as(
            JoinType::LeftJoin,
            al("units"),
            al("u"),
            Expr::col((al("u"), al("tenant_id")))
                .equals((al(T), al("tenant_id")))
                .and(Expr::col((al("u"), al("seq"))).equals((al(T), al("unit_id")))),
        )
        .expr_as(Expr::col((al("u"), al("name"))), al("unit_name"));
    }
    fn from_row(r: ProductRow) -> DomainResult<Self> {
        Ok(Product {
            id: ProductId(r.id),
            seq: r.seq,
            data: ProductData {
                code: Some(r.code),
                name: r.name,
                group_id: r.group_id,
                group_name: r.group_name,
                unit_id: r.unit_id.map(UnitId),
                unit_name: r.unit_name,
                import_price: Money::from_f64(r.import_price),
                retail_price: Money::from_f64(r.retail_price),
                wholesale_price: Money::from_f64(r.wholesale_price),
                config: r.config,
                note: r.note,
                image: r.image,
                ext: Some(ext_from(r.ext_json)?),
            },
            audit: r.audit.into(),
        })
    }
    fn values(d: &ProductData) -> Vec<SimpleExpr> {
        vec![
            v(d.code.clone()),
            v(d.name.clone()),
            v(d.group_id),
            v(d.group_name.clone()),
            v(d.unit_id.map(|u| u.0)),
            vm(d.import_price),
            vm(d.retail_price),
            vm(d.wholesale_price),
            v(d.config.clone()),
            v(d.note.clone()),
            v(d.image.clone()),
            v(d.ext.as_ref().and_then(|e| e.category_id.map(|c| c.0))),
            v(d.ext.as_ref().map(ext_json)),
            // Products made elsewhere are single products.
            v(d.ext
                .as_ref()
                .map_or_else(|| "single".to_owned(), |e| e.kind.clone())),
        ]
    }

    fn column(field: Field) -> Option<&'static str> {
        match field {
            Field::Seq => Some("seq"),
            Field::Category => Some("category_id"),
            Field::Kind => Some("nx_kind"),
            _ => None,
        }
    }
    fn terms(d: &ProductData) -> Vec<(TextField, String)> {
        d.terms()
    }
    const CODE: Option<&'static str> = Some("SP");
    fn code_slot(data: &mut ProductData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }
    fn keep_on_update(old: &Self, data: &mut ProductData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.ext.is_none() {
            data.ext.clone_from(&old.data.ext);
        }
    }
}

/// An order line as stored in `orders.lines`.
#[derive(Debug, Serialize, Deserialize)]
struct LineJson {
    product_id: Uuid,
    product_code: Option<String>,
    product_name: Option<String>,
    unit_id: Option<UnitId>,
    unit_name: Option<String>,
    quantity: f64,
    price: Option<Money>,
    discount: Money,
    tax_rate: f64,
    amount: Money,
    tax: Money,
}

impl From<&OrderLine> for LineJson {
    fn from(l: &OrderLine) -> Self {
        Self {
            product_id: l.product_id,
            product_code: l.product_code.clone(),
            product_name: l.product_name.clone(),
            unit_id: l.unit_id,
            unit_name: l.unit_name.clone(),
            quantity: l.quantity,
            price: l.price,
            discount: l.discount,
            tax_rate: l.tax_rate,
            amount: l.amount,
            tax: l.tax,
        }
    }
}

impl From<LineJson> for OrderLine {
    fn from(l: LineJson) -> Self {
        Self {
            product_id: l.product_id,
            product_code: l.product_code,
            product_name: l.product_name,
            unit_id: l.unit_id,
            unit_name: l.unit_name,
            quantity: l.quantity,
            price: l.price,
            discount: l.discount,
            tax_rate: l.tax_rate,
            amount: l.amount,
            tax: l.tax,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OrderRow {
    seq: i64,
    id: Uuid,
    code: String,
    customer_id: Option<Uuid>,
    customer_name: Option<String>,
    order_date: Option<DateTime<Utc>>,
    due_date: Option<DateTime<Utc>>,
    total_amount: f64,
    tax_amount: f64,
    discount_amount: f64,
    status: i32,
    note: Option<String>,
    receiver_name: Option<String>,
    receiver_phone: Option<String>,
    receiver_email: Option<String>,
    receiver_address: Option<String>,
    lines: String,
    approved: bool,
    approved_at: Option<DateTime<Utc>>,
    approved_by: Option<Uuid>,
    approved_by_name: Option<String>,
    approval_note: Option<String>,
    #[sqlx(flatten)]
    audit: AuditRow,
}

#[async_trait]
impl Table for Order {
    const TABLE: &'static str = "orders";
    const ENTITY_CODE: i16 = 11;
    const UNIQUE: Option<(&'static str, &'static str)> =
        Some(("code", "another order already has this code"));
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "customer_id",
        "customer_name",
        "order_date",
        "due_date",
        "total_amount",
        "tax_amount",
        "discount_amount",
        "status",
        "note",
        "receiver_name",
        "receiver_phone",
        "receiver_email",
        "receiver_address",
        "lines",
        "approved",
        "approved_at",
        "approved_by",
        "approved_by_name",
        "approval_note",
    ];
    type Row = OrderRow;

    fn from_row(r: OrderRow) -> DomainResult<Self> {
        let lines: Vec<LineJson> = serde_json::from_str(&r.lines)
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("stored order lines: {e}")))?;
        let approval = r.approved_at.map(|at| Approval {
            approved: r.approved,
            at,
            by: r.approved_by,
            by_name: r.approved_by_name,
            note: r.approval_note,
        });
        Ok(Order {
            id: OrderId(r.id),
            seq: r.seq,
            data: OrderData {
                code: Some(r.code),
                customer_id: r.customer_id.map(Into::into),
                customer_name: r.customer_name,
                order_date: r.order_date,
                due_date: r.due_date,
                total_amount: Money::from_f64(r.total_amount),
                tax_amount: Money::from_f64(r.tax_amount),
                discount_amount: Money::from_f64(r.discount_amount),
                status: r.status,
                note: r.note,
                receiver_name: r.receiver_name,
                receiver_phone: r.receiver_phone.map(Phone::from_stored),
                receiver_email: r.receiver_email.map(Email::from_stored),
                receiver_address: r.receiver_address,
                lines: lines.into_iter().map(Into::into).collect(),
                approval,
            },
            audit: r.audit.into(),
        })
    }
    fn values(d: &OrderData) -> Vec<SimpleExpr> {
        let lines: Vec<LineJson> = d.lines.iter().map(Into::into).collect();
        let a = d.approval.as_ref();
        vec![
            v(d.code.clone()),
            v(d.customer_id.map(|c| c.0)),
            v(d.customer_name.clone()),
            v(d.order_date),
            v(d.due_date),
            vm(d.total_amount),
            vm(d.tax_amount),
            vm(d.discount_amount),
            v(d.status),
            v(d.note.clone()),
            v(d.receiver_name.clone()),
            v(d.receiver_phone.as_ref().map(|p| p.as_str().to_owned())),
            v(d.receiver_email.as_ref().map(|e| e.as_str().to_owned())),
            v(d.receiver_address.clone()),
            v(serde_json::to_string(&lines).unwrap_or_else(|_| "[]".to_owned())),
            v(a.is_some_and(|a| a.approved)),
            v(a.map(|a| a.at)),
            v(a.and_then(|a| a.by)),
            v(a.and_then(|a| a.by_name.clone())),
            v(a.and_then(|a| a.note.clone())),
        ]
    }
    fn terms(d: &OrderData) -> Vec<(TextField, String)> {
        d.terms()
    }
    fn column(field: Field) -> Option<&'static str> {
        Some(match field {
            Field::Customer => "customer_id",
            Field::Status => "status",
            Field::Approved => "approved",
            Field::OrderDate => "order_date",
            Field::DueDate => "due_date",
            _ => return None,
        })
    }
    const CODE: Option<&'static str> = Some("DH");
    fn code_slot(data: &mut OrderData) -> Option<&mut Option<String>> {
        Some(&mut data.code)
    }
    async fn prepare_insert(
        _exec: &mut Exec<'_>,
        _tenant: TenantId,
        data: &mut OrderData,
    ) -> DomainResult<()> {
        if data.order_date.is_none() {
            data.order_date = Some(crm_domain::auth::now());
        }
        Ok(())
    }
    fn keep_on_update(old: &Self, data: &mut OrderData) {
        if data.code.is_none() {
            data.code.clone_from(&old.data.code);
        }
        if data.order_date.is_none() {
            data.order_date = old.data.order_date;
        }
        data.approval.clone_from(&old.data.approval);
    }
}

#[derive(Debug, sqlx::FromRow)]
struct UnitRow {
    seq: i64,
    name: String,
    note: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct ProductUnitRow {
    id: Uuid,
    product_id: Uuid,
    unit_id: i64,
    unit_name: Option<String>,
    rate: f64,
    import_price: f64,
    retail_price: f64,
    wholesale_price: f64,
    note: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct SeqRow {
    seq: i64,
}

#[async_trait]
impl SalesStore for SqlStore {
    async fn save_unit(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: Option<UnitId>,
        name: String,
        note: Option<String>,
    ) -> DomainResult<UnitId> {
        let at = crm_domain::auth::now();
        let tx = tx(w)?;
        let id = match id {
            Some(id) => {
                let q = Query::update()
                    .table(al("units"))
                    .value(al("name"), name)
                    .value(al("note"), note)
                    .value(al("updated_at"), at)
                    .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
                    .and_where(Expr::col(al("seq")).eq(id.0))
                    .to_owned();
                if tx.exec().execute(&q).await.map_err(db_error)? == 0 {
                    return Err(DomainError::not_found("unit"));
                }
                id
            }
            None => {
                let q = Query::insert()
                    .into_table(al("units"))
                    .columns(["tenant_id", "name", "note", "created_at", "updated_at"].map(al))
                    .values_panic([v(actor.tenant_id.0), v(name), v(note), v(at), v(at)])
                    .returning_col(al("seq"))
                    .to_owned();
                tx.exec()
                    .fetch_optional::<SeqRow, _>(&q)
                    .await
                    .map_err(db_error)?
                    .ok_or_else(|| {
                        DomainError::Internal(anyhow::anyhow!("unit insert returned no id"))
                    })?
                    .seq
                    .into()
            }
        };
        Ok(id)
    }

    async fn unit_named(
        &self,
        at: At<'_>,
        tenant: TenantId,
        name: &str,
    ) -> DomainResult<Option<Unit>> {
        let q = Query::select()
            .columns(["seq", "name", "note"].map(al))
            .from(al("units"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(
                Expr::expr(Func::lower(Expr::col(al("name")))).eq(name.trim().to_lowercase()),
            )
            .order_by(al("seq"), SqlOrder::Asc)
            .limit(1)
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let row = conn
            .exec()
            .fetch_optional::<UnitRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| Unit {
            id: UnitId(r.seq),
            name: r.name,
            note: r.note,
        }))
    }

    async fn units(&self, at: At<'_>, tenant: TenantId, ids: &[UnitId]) -> DomainResult<Vec<Unit>> {
        let q = Query::select()
            .columns(["seq", "name", "note"].map(al))
            .from(al("units"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("seq")).is_in(ids.iter().map(|u| u.0)))
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let rows = conn
            .exec()
            .fetch_all::<UnitRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| Unit {
                id: UnitId(r.seq),
                name: r.name,
                note: r.note,
            })
            .collect())
    }

    async fn product_units(
        &self,
        at: At<'_>,
        tenant: TenantId,
        products: &[ProductId],
    ) -> DomainResult<Vec<ProductUnit>> {
        let mut q = Query::select();
        q.columns(
            [
                "id",
                "product_id",
                "unit_id",
                "rate",
                "import_price",
                "retail_price",
                "wholesale_price",
                "note",
            ]
            .map(|c| (al("pu"), al(c))),
        )
        .expr_as(Expr::col((al("u"), al("name"))), al("unit_name"))
        .from_as(al("product_units"), al("pu"))
        .join_as(
            JoinType::LeftJoin,
            al("units"),
            al("u"),
            Expr::col((al("u"), al("tenant_id")))
                .equals((al("pu"), al("tenant_id")))
                .and(Expr::col((al("u"), al("seq"))).equals((al("pu"), al("unit_id")))),
        )
        .and_where(Expr::col((al("pu"), al("tenant_id"))).eq(tenant.0))
        .and_where(Expr::col((al("pu"), al("product_id"))).is_in(products.iter().map(|p| p.0)))
        .order_by((al("pu"), al("position")), SqlOrder::Asc);
        let mut conn = self.db.reader(at).await?;
        let rows = conn
            .exec()
            .fetch_all::<ProductUnitRow, _>(&q)
            .await
            .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| ProductUnit {
                id: r.id,
                product_id: ProductId(r.product_id),
                unit_id: UnitId(r.unit_id),
                unit_name: r.unit_name,
                rate: r.rate,
                import_price: Money::from_f64(r.import_price),
                retail_price: Money::from_f64(r.retail_price),
                wholesale_price: Money::from_f64(r.wholesale_price),
                note: r.note,
            })
            .collect())
    }

    async fn replace_product_units(
        &self,
        w: &mut Work,
        actor: &Actor,
        product: ProductId,
        units: &[ProductUnit],
    ) -> DomainResult<()> {
        let tx = tx(w)?;
        let q = Query::delete()
            .from_table(al("product_units"))
            .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
            .and_where(Expr::col(al("product_id")).eq(product.0))
            .to_owned();
        tx.exec().execute(&q).await.map_err(db_error)?;
        if !units.is_empty() {
            let mut q = Query::insert();
            q.into_table(al("product_units")).columns(
                [
                    "id",
                    "tenant_id",
                    "product_id",
                    "position",
                    "unit_id",
                    "rate",
                    "import_price",
                    "retail_price",
                    "wholesale_price",
                    "note",
                ]
                .map(al),
            );
            for (i, u) in units.iter().enumerate() {
                let id = if u.id.is_nil() { Uuid::now_v7() } else { u.id };
                q.values_panic([
                    v(id),
                    v(actor.tenant_id.0),
                    v(product.0),
                    v(i as i64),
                    v(u.unit_id.0),
                    v(u.rate),
                    vm(u.import_price),
                    vm(u.retail_price),
                    vm(u.wholesale_price),
                    v(u.note.clone()),
                ]);
            }
            tx.exec().execute(&q).await.map_err(db_error)?;
        }
        Ok(())
    }

    async fn order_totals(
        &self,
        at: At<'_>,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> DomainResult<(u64, Money)> {
        #[derive(sqlx::FromRow)]
        struct Totals {
            orders: i64,
            amount: Option<f64>,
        }
        let q = Query::select()
            // COUNT(*), not of a column: the date index covers the whole query.
            .expr_as(Func::count(Expr::col(sea_query::Asterisk)), al("orders"))
            .expr_as(Expr::col(al("total_amount")).sum(), al("amount"))
            .from(al("orders"))
            .and_where(Expr::col(al("tenant_id")).eq(tenant.0))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .and_where(Expr::col(al("order_date")).gte(from))
            .and_where(Expr::col(al("order_date")).lt(to))
            // A rejected order is no sale.
            .cond_where(
                sea_query::Cond::any()
                    .add(Expr::col(al("approved_at")).is_null())
                    .add(Expr::col(al("approved")).eq(true)),
            )
            .to_owned();
        let mut conn = self.db.reader(at).await?;
        let t: Option<Totals> = conn.exec().fetch_optional(&q).await.map_err(db_error)?;
        Ok(t.map_or((0, Money::ZERO), |t| {
            (
                u64::try_from(t.orders).unwrap_or(0),
                Money::from_f64(t.amount.unwrap_or(0.0)),
            )
        }))
    }

    async fn decide_order(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: OrderId,
        a: &Approval,
    ) -> DomainResult<bool> {
        let q = Query::update()
            .table(al("orders"))
            .value(al("approved"), a.approved)
            .value(al("approved_at"), a.at)
            .value(al("approved_by"), a.by)
            .value(al("approved_by_name"), a.by_name.clone())
            .value(al("approval_note"), a.note.clone())
            .value(al("updated_at"), a.at)
            .value(al("updated_by"), actor.id)
            .value(al("updated_by_name"), actor.name.clone())
            .and_where(Expr::col(al("tenant_id")).eq(actor.tenant_id.0))
            .and_where(Expr::col(al("id")).eq(id.0))
            .and_where(Expr::col(al("deleted_at")).is_null())
            .and_where(Expr::col(al("approved_at")).is_null())
            .to_owned();
        let tx = tx(w)?;
        let changed = tx.exec().execute(&q).await.map_err(db_error)?;
        Ok(changed == 1)
    }
}
