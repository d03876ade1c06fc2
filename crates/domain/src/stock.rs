//! The rules of stock-moving documents: purchases add stock when received, sales take it
//! (never below zero), returns give back at most what was sold, across all returns.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::common::Actor;
use crate::error::{DomainError, DomainResult};
use crate::ids::{CustomerId, DocId, DocLineId, PlaceId, ProductId, UnitId};
use crate::inventory::{Doc, DocFilter, DocKind, DocLine, Move};
use crate::money::Money;
use crate::sales::Product;
use crate::search::PageRequest;
use crate::service::Crm;
use crate::work::{At, Lock, Work};

/// An extra unit of a new product, named; `rate` base units make one.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedUnit {
    pub name: String,
    pub rate: f64,
    pub retail_price: Money,
}

/// Where a new product's opening stock goes (`branch` is needed when `quantity` is not 0).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Opening {
    pub branch: Option<PlaceId>,
    pub store: Option<PlaceId>,
    pub quantity: f64,
}

/// The shipping status at which a purchase's goods are in stock.
pub const RECEIVED: &str = "received";

impl Crm {
    /// Fills the chosen lines' products and unit rates (the base unit counts 1, an extra unit
    /// its rate), reading every product and extra unit they need in one query each.
    async fn resolve_lines(
        &self,
        w: &mut Work,
        actor: &Actor,
        lines: &mut [DocLine],
        chosen: impl Fn(&DocLine) -> bool,
    ) -> DomainResult<()> {
        let seqs: Vec<i64> = lines
            .iter()
            .filter(|l| chosen(l))
            .map(|l| l.product_seq)
            .collect();
        let products = self.products_by_seq(w, actor, &seqs).await?;
        let unit_of = |l: &DocLine| l.unit_id.and_then(UnitId::nonzero);
        let other_unit: Vec<ProductId> = lines
            .iter()
            .filter(|l| chosen(l))
            .filter_map(|l| {
                let p = products.get(&l.product_seq)?;
                (unit_of(l).is_some() && unit_of(l) != p.data.unit_id).then_some(p.id)
            })
            .collect();
        let extra = self.extra_units(w, actor, &other_unit).await?;
        for (i, line) in lines.iter_mut().enumerate().filter(|(_, l)| chosen(l)) {
            let product = products.get(&line.product_seq).ok_or_else(|| {
                DomainError::validation(
                    format!("lines[{i}].product_id"),
                    format!("product {} does not exist", line.product_seq),
                )
            })?;
            line.product_id = product.id;
            line.rate = match unit_of(line) {
                None => 1.0,
                Some(u) if Some(u) == product.data.unit_id => 1.0,
                Some(u) => {
                    extra
                        .iter()
                        .find(|pu| pu.product_id == product.id && pu.unit_id == u)
                        .ok_or_else(|| {
                            DomainError::validation(
                                format!("lines[{i}].unit_id"),
                                format!("the product is not sold in unit {u}"),
                            )
                        })?
                        .rate
                }
            };
        }
        Ok(())
    }

    async fn customer_check(
        &self,
        w: &mut Work,
        actor: &Actor,
        seq: Option<i64>,
        required: bool,
    ) -> DomainResult<Option<CustomerId>> {
        match seq.filter(|s| *s != 0) {
            None if required => Err(DomainError::validation("customer_id", "is required")),
            None => Ok(None),
            Some(s) => {
                let c: crate::customer::Customer =
                    self.by_seq_at(w.at(), actor, s).await?.ok_or_else(|| {
                        DomainError::validation(
                            "customer_id",
                            format!("customer {s} does not exist"),
                        )
                    })?;
                Ok(Some(c.id))
            }
        }
    }

    /// A new purchase order (or sale) in `doc`; ids are integers from the request.
    /// `customer` and `branch` come from the body; moves follow the kind's rule.
    pub async fn save_purchase(
        &self,
        actor: &Actor,
        mut doc: Doc,
        customer: Option<i64>,
    ) -> DomainResult<Doc> {
        let mut w = self.begin().await?;
        self.place_doc(&mut w, actor, &mut doc, customer, true)
            .await?;
        let received = doc.shipping_status.as_deref() == Some(RECEIVED);
        if received {
            doc.received_at = Some(crate::auth::now());
        }
        let moves = if received {
            moves_of(&doc, 1.0)
        } else {
            Vec::new()
        };
        let doc = self.inventory.save_doc(&mut w, actor, doc, moves).await?;
        self.emit(&mut w, actor, "purchase", "created", doc.uuid)
            .await?;
        w.commit().await?;
        Ok(doc)
    }

    /// Checks a new document's customer, branch, store and lines, and computes its totals.
    async fn place_doc(
        &self,
        w: &mut Work,
        actor: &Actor,
        doc: &mut Doc,
        customer: Option<i64>,
        customer_required: bool,
    ) -> DomainResult<()> {
        if doc.branch_id.is_zero() {
            return Err(DomainError::validation("branch_id", "is required"));
        }
        if doc.lines.is_empty() {
            return Err(DomainError::validation(
                "lines",
                "must hold at least one line",
            ));
        }
        doc.customer_id = self
            .customer_check(w, actor, customer, customer_required)
            .await?;
        self.branch_at(w.at(), actor, doc.branch_id).await?;
        doc.store_id = self
            .store_at(w.at(), actor, doc.branch_id, Some(doc.store_id))
            .await?;
        self.resolve_lines(w, actor, &mut doc.lines, |_| true)
            .await?;
        doc.compute()
    }

    /// A sale: takes stock from the store, never below zero.
    pub async fn save_sell(
        &self,
        actor: &Actor,
        mut doc: Doc,
        customer: Option<i64>,
    ) -> DomainResult<Doc> {
        let mut w = self.begin().await?;
        // Every check of what is on hand in the tenant takes turns from here to the commit.
        w.lock(actor.tenant_id, Lock::Stock).await?;
        self.place_doc(&mut w, actor, &mut doc, customer, false)
            .await?;
        let moves = moves_of(&doc, -1.0);
        let doc = self.inventory.save_doc(&mut w, actor, doc, moves).await?;
        let products: Vec<ProductId> = doc.lines.iter().map(|l| l.product_id).collect();
        let left = self
            .inventory
            .stock(
                w.at(),
                actor.tenant_id,
                &products,
                Some(doc.branch_id),
                Some(doc.store_id),
            )
            .await?;
        for (i, line) in doc.lines.iter().enumerate() {
            let have = left
                .iter()
                .find(|(p, _)| *p == line.product_id)
                .map_or(0.0, |(_, q)| *q);
            if have < -1e-9 {
                // Dropping the work undoes the whole document.
                return Err(DomainError::validation(
                    format!("lines[{i}].quantity"),
                    format!(
                        "only {} base unit(s) in stock at store {}",
                        have + line.base_quantity(),
                        doc.store_id
                    ),
                ));
            }
        }
        self.emit(&mut w, actor, "sale", "created", doc.uuid)
            .await?;
        // Sales are paid when they are made (they are not edited afterwards).
        if doc.payment_status() == "paid" {
            self.emit(&mut w, actor, "sale", "paid", doc.uuid).await?;
        }
        self.warn_low_stock(&mut w, actor, &doc, &left).await?;
        w.commit().await?;
        Ok(doc)
    }

    /// `stock.low` for each product of a sale whose stock at the sale's store fell to or
    /// below its warning level with this sale (crossing it, so once per fall). Reads the
    /// products only when an endpoint wants the event.
    async fn warn_low_stock(
        &self,
        w: &mut Work,
        actor: &Actor,
        doc: &Doc,
        left: &[(ProductId, f64)],
    ) -> DomainResult<()> {
        if !self.wants_event(w, actor, "stock.low").await? {
            return Ok(());
        }
        let ids: Vec<ProductId> = left.iter().map(|(p, _)| *p).collect();
        let products = self.products_by_id(w, actor, &ids).await?;
        for (pid, have) in left {
            let level = products
                .get(pid)
                .and_then(|p| p.data.ext.as_ref())
                .map_or(0.0, |e| e.low_stock_at);
            let sold: f64 = doc
                .lines
                .iter()
                .filter(|l| l.product_id == *pid)
                .map(crate::inventory::DocLine::base_quantity)
                .sum();
            if level > 0.0 && *have <= level && have + sold > level {
                self.emit(w, actor, "stock", "low", pid.0).await?;
            }
        }
        Ok(())
    }

    /// A sales return (new, or replacing `doc.id`): every line names the sale line it gives
    /// back; all from one sale; never more than was sold, across all returns of that line.
    pub async fn save_return(&self, actor: &Actor, mut doc: Doc) -> DomainResult<Doc> {
        if doc.lines.is_empty() {
            return Err(DomainError::validation(
                "lines",
                "must hold at least one line",
            ));
        }
        let mut w = self.begin().await?;
        // Returns check what was returned before: they take turns with other stock moves.
        w.lock(actor.tenant_id, Lock::Stock).await?;
        if !doc.id.is_zero() {
            // Replacing a return keeps what identifies it.
            let old = self
                .inventory
                .doc(w.at(), actor.tenant_id, DocKind::SellReturn, doc.id)
                .await?
                .ok_or(DomainError::not_found("sales return"))?;
            doc.uuid = old.uuid;
            doc.invoice_no = old.invoice_no;
            doc.created_at = old.created_at;
        }
        let mut asked_lines = Vec::with_capacity(doc.lines.len());
        for (i, line) in doc.lines.iter().enumerate() {
            let id = line
                .sell_line_id
                .and_then(DocLineId::nonzero)
                .ok_or_else(|| {
                    DomainError::validation(
                        format!("lines[{i}].sell_line_id"),
                        "is required: the sale line returned",
                    )
                })?;
            asked_lines.push(id);
        }
        let found: HashMap<DocLineId, (DocId, DocLine)> = self
            .inventory
            .sell_lines(w.at(), actor.tenant_id, &asked_lines)
            .await?
            .into_iter()
            .map(|(sale, line)| (line.id, (sale, line)))
            .collect();
        let mut sale_id = None;
        let mut sold: HashMap<DocLineId, DocLine> = HashMap::new();
        for (i, (line, id)) in doc.lines.iter_mut().zip(asked_lines).enumerate() {
            let field = format!("lines[{i}].sell_line_id");
            let (sale, original) = found.get(&id).cloned().ok_or_else(|| {
                DomainError::validation(&field, format!("sale line {id} does not exist"))
            })?;
            if *sale_id.get_or_insert(sale) != sale {
                return Err(DomainError::validation(
                    &field,
                    "every line must come from the same sale",
                ));
            }
            line.product_id = original.product_id;
            line.product_seq = original.product_seq;
            if line.unit_id.and_then(UnitId::nonzero).is_none() {
                line.unit_id = original.unit_id;
            }
            line.rate = if line.unit_id == original.unit_id {
                original.rate
            } else {
                0.0
            };
            sold.insert(id, original);
        }
        let sale_id = sale_id.unwrap_or_default();
        let sale = self
            .inventory
            .doc(w.at(), actor.tenant_id, DocKind::Sell, sale_id)
            .await?
            .ok_or(DomainError::not_found("sale"))?;
        // A line returned in another unit than it was sold in gets that unit's rate.
        self.resolve_lines(&mut w, actor, &mut doc.lines, |l| l.rate == 0.0)
            .await?;
        let ids: Vec<DocLineId> = sold.keys().copied().collect();
        let already: HashMap<DocLineId, f64> = self
            .inventory
            .returned(w.at(), actor.tenant_id, &ids, doc.id.nonzero())
            .await?
            .into_iter()
            .collect();
        let mut asked: HashMap<DocLineId, f64> = HashMap::new();
        for (i, line) in doc.lines.iter().enumerate() {
            let id = line.sell_line_id.unwrap_or_default();
            let total = asked.entry(id).or_default();
            *total += line.base_quantity();
            let limit = sold[&id].base_quantity() - already.get(&id).copied().unwrap_or(0.0);
            if *total > limit + 1e-9 {
                return Err(DomainError::validation(
                    format!("lines[{i}].quantity"),
                    format!("returns at most {limit} more base unit(s) of sale line {id}"),
                ));
            }
        }
        doc.customer_id = sale.customer_id;
        doc.branch_id = sale.branch_id;
        doc.store_id = sale.store_id;
        doc.return_of = Some(sale.id);
        doc.compute()?;
        let moves = moves_of(&doc, 1.0);
        let doc = self.inventory.save_doc(&mut w, actor, doc, moves).await?;
        self.emit(&mut w, actor, "return", "created", doc.uuid)
            .await?;
        w.commit().await?;
        Ok(doc)
    }

    /// Sets a purchase's shipping status; `received` puts its goods in stock, once.
    pub async fn set_shipping(&self, actor: &Actor, id: DocId, status: &str) -> DomainResult<()> {
        let status = crate::common::required(
            "shipping_status",
            Some(status.to_owned()),
            crate::common::SHORT,
        )?;
        let mut w = self.begin().await?;
        // Receiving twice at once must move the goods once.
        w.lock(actor.tenant_id, Lock::Stock).await?;
        let doc = self
            .inventory
            .doc(w.at(), actor.tenant_id, DocKind::Purchase, id)
            .await?
            .ok_or(DomainError::not_found("purchase order"))?;
        let receive =
            (status == RECEIVED && doc.received_at.is_none()).then(|| moves_of(&doc, 1.0));
        if self
            .inventory
            .set_shipping(&mut w, actor, id, &status, receive)
            .await?
        {
            w.commit().await
        } else {
            Err(DomainError::not_found("purchase order"))
        }
    }

    /// A new product with its extra units (by name: the tenant's unit of that name, created
    /// when missing) and its opening stock, in one unit of work.
    pub async fn create_stocked_product(
        &self,
        actor: &Actor,
        data: crate::sales::ProductData,
        units: Vec<NamedUnit>,
        opening: Opening,
    ) -> DomainResult<ProductId> {
        if opening.quantity != 0.0 && opening.branch.is_none() {
            return Err(DomainError::validation(
                "opening.branch_id",
                "is required with an opening stock",
            ));
        }
        let mut w = self.begin().await?;
        if let Some(branch) = opening.branch {
            self.branch_at(w.at(), actor, branch).await?;
            self.store_at(w.at(), actor, branch, opening.store).await?;
        }
        let id = self.create_in::<Product>(&mut w, actor, data).await?;
        self.add_named_units_in(&mut w, actor, id, units).await?;
        if let Some(branch) = opening.branch {
            self.opening_stock_in(&mut w, actor, id, branch, opening.store, opening.quantity)
                .await?;
        }
        w.commit().await?;
        Ok(id)
    }

    /// A new product's extra units, by name (the tenant's unit of that name, created when
    /// missing).
    pub(crate) async fn add_named_units_in(
        &self,
        w: &mut Work,
        actor: &Actor,
        id: ProductId,
        units: Vec<NamedUnit>,
    ) -> DomainResult<()> {
        let mut extra = Vec::with_capacity(units.len());
        for (i, u) in units.into_iter().enumerate() {
            let name = crate::common::required(
                &format!("units[{i}].name"),
                Some(u.name),
                crate::common::SHORT,
            )?;
            let unit_id = self.unit_for_name_in(w, actor, &name).await?;
            extra.push((
                crate::sales::ProductUnit {
                    id: Uuid::nil(),
                    product_id: id,
                    unit_id,
                    unit_name: None,
                    rate: u.rate,
                    import_price: Money::ZERO,
                    retail_price: u.retail_price,
                    wholesale_price: Money::ZERO,
                    note: None,
                },
                true,
            ));
        }
        if !extra.is_empty() {
            self.save_product_units_in(w, actor, extra).await?;
        }
        Ok(())
    }

    /// Opening stock of a new product in a branch's store.
    pub(crate) async fn opening_stock_in(
        &self,
        w: &mut Work,
        actor: &Actor,
        product: ProductId,
        branch: PlaceId,
        store: Option<PlaceId>,
        qty: f64,
    ) -> DomainResult<()> {
        if qty == 0.0 {
            return Ok(());
        }
        let qty = crate::common::amount("opening.quantity", Some(qty))?;
        self.branch_at(w.at(), actor, branch).await?;
        let store = self.store_at(w.at(), actor, branch, store).await?;
        self.inventory
            .add_moves(
                w,
                actor,
                vec![Move {
                    product_id: product,
                    branch_id: branch,
                    store_id: store,
                    quantity: qty,
                    kind: DocKind::Opening,
                    doc_id: None,
                }],
            )
            .await
    }

    pub async fn docs(
        &self,
        actor: &Actor,
        kind: DocKind,
        filter: &DocFilter,
        page: PageRequest,
    ) -> DomainResult<Vec<Doc>> {
        self.inventory
            .docs(At::Committed, actor.tenant_id, kind, filter, page)
            .await
    }

    pub async fn doc(&self, actor: &Actor, kind: DocKind, id: DocId) -> DomainResult<Doc> {
        self.inventory
            .doc(At::Committed, actor.tenant_id, kind, id)
            .await?
            .ok_or(DomainError::not_found(match kind {
                DocKind::Purchase => "purchase order",
                DocKind::Sell => "sale",
                _ => "sales return",
            }))
    }
}

/// The document's lines as moves, `sign` +1 into the store, −1 out of it.
fn moves_of(doc: &Doc, sign: f64) -> Vec<Move> {
    doc.lines
        .iter()
        .map(|l| Move {
            product_id: l.product_id,
            branch_id: doc.branch_id,
            store_id: doc.store_id,
            quantity: sign * l.base_quantity(),
            kind: doc.kind,
            doc_id: None,
        })
        .collect()
}

/// An empty document of a kind, dated today in the tenant's zone, to fill from a request.
pub fn new_doc(actor: &Actor, kind: DocKind, date: Option<NaiveDate>) -> Doc {
    Doc {
        id: DocId(0),
        uuid: Uuid::now_v7(),
        kind,
        invoice_no: None,
        transaction_date: date.unwrap_or_else(|| actor.today()),
        customer_id: None,
        branch_id: PlaceId(0),
        store_id: PlaceId(0),
        discount_type: None,
        discount_amount: Money::ZERO,
        total_before_tax: Money::ZERO,
        tax_amount: Money::ZERO,
        charges: Money::ZERO,
        final_total: Money::ZERO,
        shipping_status: None,
        approved: false,
        additional_notes: None,
        staff_note: None,
        return_of: None,
        received_at: None,
        lines: Vec::new(),
        payments: Vec::new(),
        created_at: crate::auth::now(),
        created_by_name: None,
    }
}

impl Crm {
    /// The tenant's unit called `name`, created when missing.
    pub async fn unit_for_name(&self, actor: &Actor, name: &str) -> DomainResult<UnitId> {
        let mut w = self.begin().await?;
        let id = self.unit_for_name_in(&mut w, actor, name).await?;
        w.commit().await?;
        Ok(id)
    }

    pub(crate) async fn unit_for_name_in(
        &self,
        w: &mut Work,
        actor: &Actor,
        name: &str,
    ) -> DomainResult<UnitId> {
        let name = crate::common::required("unit", Some(name.to_owned()), crate::common::SHORT)?;
        match self
            .sales
            .unit_named(w.at(), actor.tenant_id, &name)
            .await?
        {
            Some(u) => Ok(u.id),
            None => self.sales.save_unit(w, actor, None, name, None).await,
        }
    }

    /// Base units on hand per product in a branch (and store).
    pub async fn stock(
        &self,
        actor: &Actor,
        products: &[ProductId],
        branch: Option<PlaceId>,
        store: Option<PlaceId>,
    ) -> DomainResult<Vec<(ProductId, f64)>> {
        self.inventory
            .stock(At::Committed, actor.tenant_id, products, branch, store)
            .await
    }
}
