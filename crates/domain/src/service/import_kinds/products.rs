//! Products, matched by code, with their units, prices and opening stock per store (by name).

use async_trait::async_trait;

use crate::common::Actor;
use crate::error::DomainResult;
use crate::ids::{PlaceId, ProductId};
use crate::money::Money;
use crate::sales::{Product, ProductData};
use crate::search::TextField;
use crate::service::imports::Importer;
use crate::service::Crm;
use crate::stock::NamedUnit;
use crate::text::fold;
use crate::transfer::rows::{parse_number, Cells};
use crate::work::{At, Work};

use super::{code_key, labelled, over, set};

// ----------------------------------------------------------------------------------- products

#[derive(Debug, Clone, Default)]
pub(crate) struct ProductRow {
    code: Option<String>,
    name: Option<String>,
    unit: Option<String>,
    price: Option<Money>,
    purchase_price: Option<Money>,
    units: Vec<NamedUnit>,
    category: Option<String>,
    description: Option<String>,
    /// Opening stock: the store as the header names it (empty: the first store), quantity.
    stock: Vec<(String, f64)>,
    /// The stores resolved: (branch, store, quantity).
    places: Vec<(PlaceId, PlaceId, f64)>,
}

pub(crate) struct Products;

/// `Thùng=24:200000; Lốc=6` → (Thùng, 24 base units, 200,000 ₫), (Lốc, 6, 0).
fn named_units(c: &mut Cells, text: &str) -> Vec<NamedUnit> {
    let mut out = Vec::new();
    for part in text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let parsed = part.split_once('=').and_then(|(name, rest)| {
            let (rate, price) = match rest.split_once(':') {
                Some((r, p)) => (parse_number(r)?, parse_number(p)?),
                None => (parse_number(rest)?, 0.0),
            };
            (rate > 0.0 && price >= 0.0 && !name.trim().is_empty()).then(|| NamedUnit {
                name: name.trim().to_owned(),
                rate,
                retail_price: Money::from_f64(price),
            })
        });
        match parsed {
            Some(u) => out.push(u),
            None => c.fail(
                "units",
                format!("'{part}' is not 'unit=base units' or 'unit=base units:price'"),
            ),
        }
    }
    out
}

#[async_trait]
impl Importer for Products {
    type E = Product;
    type Row = ProductRow;

    fn read(&self, c: &mut Cells) -> ProductRow {
        let units = match c.text("units") {
            Some(t) => named_units(c, &t),
            None => Vec::new(),
        };
        let mut stock = c.stock();
        for (store, q) in &stock {
            if *q < 0.0 {
                c.fail(&format!("stock:{store}"), "must not be negative");
            }
        }
        stock.retain(|(_, q)| *q > 0.0);
        ProductRow {
            code: c.text("code"),
            name: c.text("name"),
            unit: c.text("unit"),
            price: c.money("price"),
            purchase_price: c.money("purchase_price"),
            units,
            category: c.text("category"),
            description: c.text("description"),
            stock,
            places: Vec::new(),
        }
    }

    fn keys(&self, r: &ProductRow) -> Vec<(TextField, String)> {
        code_key(&r.code).into_iter().collect()
    }

    fn record_keys(&self, p: &Product) -> Vec<(TextField, String)> {
        code_key(&p.data.code).into_iter().collect()
    }

    fn label(&self, p: &Product) -> String {
        labelled(p.data.code.as_deref(), &p.data.name)
    }

    async fn resolve(
        &self,
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        rows: &mut [ProductRow],
    ) -> DomainResult<Vec<(usize, String, String)>> {
        if rows.iter().all(|r| r.stock.is_empty()) {
            return Ok(Vec::new());
        }
        let stores = crm
            .inventory
            .places(At::Work(w), actor.tenant_id, true, None)
            .await?;
        let mut missing = Vec::new();
        for (i, r) in rows.iter_mut().enumerate() {
            for (name, q) in &r.stock {
                let found = if name.is_empty() {
                    stores.first()
                } else {
                    stores
                        .iter()
                        .find(|s| fold(&s.name) == fold(name) || fold(&s.code) == fold(name))
                };
                match found.and_then(|s| s.branch_id.map(|b| (b, s.id))) {
                    Some((branch, store)) => r.places.push((branch, store, *q)),
                    None => {
                        missing.push((
                            i,
                            format!("stock:{name}"),
                            if name.is_empty() {
                                "there is no store to put opening stock in".to_owned()
                            } else {
                                format!("no store is named '{name}'")
                            },
                        ));
                        break;
                    }
                }
            }
        }
        Ok(missing)
    }

    fn input(&self, r: &ProductRow, stored: Option<&Product>) -> ProductData {
        let mut d = match stored {
            Some(p) => p.data.clone(),
            None => ProductData {
                code: None,
                name: String::new(),
                group_id: None,
                group_name: None,
                unit_id: None,
                unit_name: None,
                import_price: Money::ZERO,
                retail_price: Money::ZERO,
                wholesale_price: Money::ZERO,
                config: None,
                note: None,
                image: None,
                ext: None,
            },
        };
        set(&mut d.code, &r.code);
        if let Some(n) = &r.name {
            d.name.clone_from(n);
        }
        if stored.is_none() {
            d.unit_name.clone_from(&r.unit);
        }
        if let Some(p) = r.price {
            d.retail_price = p;
        }
        if let Some(p) = r.purchase_price {
            d.import_price = p;
        }
        set(&mut d.group_name, &r.category);
        set(&mut d.note, &r.description);
        d
    }

    fn merge(&self, into: &mut ProductRow, later: ProductRow) {
        over(&mut into.code, later.code);
        over(&mut into.name, later.name);
        over(&mut into.unit, later.unit);
        over(&mut into.price, later.price);
        over(&mut into.purchase_price, later.purchase_price);
        if !later.units.is_empty() {
            into.units = later.units;
        }
        over(&mut into.category, later.category);
        over(&mut into.description, later.description);
        into.stock.extend(later.stock);
        into.places.extend(later.places);
    }

    /// A new product's extra units and opening stock per store; an updated one keeps its
    /// units and stock (stock moves only through documents).
    async fn after(
        &self,
        crm: &Crm,
        w: &mut Work,
        actor: &Actor,
        id: ProductId,
        row: &ProductRow,
        created: bool,
    ) -> DomainResult<()> {
        if !created {
            return Ok(());
        }
        crm.add_named_units_in(w, actor, id, row.units.clone())
            .await?;
        for (branch, store, q) in &row.places {
            crm.opening_stock_in(w, actor, id, *branch, Some(*store), *q)
                .await?;
        }
        Ok(())
    }

    fn field_of(&self, f: &str) -> Option<&'static str> {
        Some(match f {
            "code" => "code",
            "name" => "name",
            "unit_name" | "unit" => "unit",
            "retail_price" => "price",
            "import_price" => "purchase_price",
            "group_name" => "category",
            "note" => "description",
            _ if f.starts_with("units") => "units",
            _ => return None,
        })
    }
}
