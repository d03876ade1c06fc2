//! Products (with units and multi-unit prices) and sales orders (lines, amounts, approval).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::common::{code_or, money, number_in, required, text, Audit, LONG, SHORT};
use crate::error::{DomainError, DomainResult};
use crate::ids::{CustomerId, OrderId, ProductId, UnitId};
use crate::money::Money;
use crate::search::{TermSet, TextField};
use crate::text::{Email, Phone};

/// Longest product image reference (a URL or a data URI) in characters.
pub const MAX_IMAGE: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductData {
    /// `None` only before the store assigns one (`SP000001`).
    pub code: Option<String>,
    pub name: String,
    /// Product groups have no endpoints: the id and name are stored as sent.
    pub group_id: Option<i64>,
    pub group_name: Option<String>,
    /// The base unit; must exist in the tenant's units.
    pub unit_id: Option<UnitId>,
    /// Filled from the unit. On input without `unit_id` it names the base unit instead: the
    /// tenant's unit of that name, created when missing.
    pub unit_name: Option<String>,
    pub import_price: Money,
    pub retail_price: Money,
    pub wholesale_price: Money,
    pub config: Option<String>,
    pub note: Option<String>,
    pub image: Option<String>,
    /// NextX's attributes; `None` keeps the stored ones (a dialect that does not know them).
    pub ext: Option<crate::inventory::ProductExt>,
}

impl ProductData {
    pub fn validate(self) -> DomainResult<Self> {
        Ok(Self {
            code: text("code", self.code, SHORT)?,
            name: required("name", Some(self.name), SHORT)?,
            group_id: self.group_id.filter(|g| *g != 0),
            group_name: text("group_name", self.group_name, SHORT)?,
            unit_id: self.unit_id.and_then(UnitId::nonzero),
            unit_name: match self.unit_id.and_then(UnitId::nonzero) {
                Some(_) => None,
                None => text("unit_name", self.unit_name, SHORT)?,
            },
            import_price: money("import_price", self.import_price)?,
            retail_price: money("retail_price", self.retail_price)?,
            wholesale_price: money("wholesale_price", self.wholesale_price)?,
            config: text("config", self.config, LONG)?,
            note: text("note", self.note, LONG)?,
            image: text("image", self.image, MAX_IMAGE)?,
            ext: self
                .ext
                .map(crate::inventory::ProductExt::validate)
                .transpose()?,
        })
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .words(TextField::Code, self.code.as_deref())
            .words(
                TextField::Code,
                self.ext.as_ref().and_then(|e| e.sku.as_deref()),
            )
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub seq: i64,
    pub data: ProductData,
    pub audit: Audit,
}

/// A unit of measure (cái, hộp, thùng…), with an integer id.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
    pub note: Option<String>,
}

/// A further unit a product is sold in: `rate` base units each, with its own prices.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductUnit {
    pub id: Uuid,
    pub product_id: ProductId,
    pub unit_id: UnitId,
    pub unit_name: Option<String>,
    pub rate: f64,
    pub import_price: Money,
    pub retail_price: Money,
    pub wholesale_price: Money,
    pub note: Option<String>,
}

impl ProductUnit {
    pub fn validate(self, at: usize) -> DomainResult<Self> {
        let f = |name: &str| format!("units[{at}].{name}");
        if self.unit_id.0 <= 0 {
            return Err(DomainError::validation(f("unit_id"), "is required"));
        }
        let rate = number_in(&f("unit_rate"), Some(self.rate), 0.0, 1e9)?;
        if rate <= 0.0 {
            return Err(DomainError::validation(
                f("unit_rate"),
                "must be more than 0",
            ));
        }
        Ok(Self {
            rate,
            import_price: money(&f("import_price"), self.import_price)?,
            retail_price: money(&f("retail_price"), self.retail_price)?,
            wholesale_price: money(&f("wholesale_price"), self.wholesale_price)?,
            note: text(&f("note"), self.note, LONG)?,
            ..self
        })
    }
}

/// Order status (our codes; the doc shows only the example 1).
pub const ORDER_NEW: i32 = 1;
pub const ORDER_CONFIRMED: i32 = 2;
pub const ORDER_SHIPPING: i32 = 3;
pub const ORDER_DONE: i32 = 4;
pub const ORDER_CANCELLED: i32 = 5;

/// One line of an order. Names, the price default and the amount are filled by the service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub product_code: Option<String>,
    pub product_name: Option<String>,
    /// The unit sold in: the product's base unit when `None`.
    pub unit_id: Option<UnitId>,
    pub unit_name: Option<String>,
    pub quantity: f64,
    /// Per unit; the product's (or unit's) retail price when not given.
    pub price: Option<Money>,
    /// An amount off the line.
    pub discount: Money,
    /// Percent of the line amount after discount.
    pub tax_rate: f64,
    /// `quantity × price − discount`.
    pub amount: Money,
    pub tax: Money,
}

/// The decision on an order, made once through `approve`.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub approved: bool,
    pub at: DateTime<Utc>,
    pub by: Option<Uuid>,
    pub by_name: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderData {
    /// `None` only before the store assigns one (`DH000001`).
    pub code: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub customer_name: Option<String>,
    pub order_date: Option<DateTime<Utc>>,
    pub due_date: Option<DateTime<Utc>>,
    pub total_amount: Money,
    pub tax_amount: Money,
    pub discount_amount: Money,
    pub status: i32,
    pub note: Option<String>,
    pub receiver_name: Option<String>,
    pub receiver_phone: Option<Phone>,
    pub receiver_email: Option<Email>,
    pub receiver_address: Option<String>,
    pub lines: Vec<OrderLine>,
    /// Set only by approval; kept across updates.
    pub approval: Option<Approval>,
}

/// Most lines an order may have.
pub const MAX_LINES: usize = 500;

/// The raw receiver contact details, checked by [`OrderData::validate`].
#[derive(Debug, Clone, Default)]
pub struct OrderInput {
    pub data: OrderData,
    pub receiver_phone: Option<String>,
    pub receiver_email: Option<String>,
}

impl OrderInput {
    pub fn validate(self) -> DomainResult<OrderData> {
        let d = self.data;
        if d.customer_id.is_none() {
            return Err(DomainError::validation("customer_id", "is required"));
        }
        if d.lines.len() > MAX_LINES {
            return Err(DomainError::validation(
                "lines",
                format!("at most {MAX_LINES} lines"),
            ));
        }
        let mut lines = Vec::with_capacity(d.lines.len());
        for (i, line) in d.lines.into_iter().enumerate() {
            let f = |name: &str| format!("lines[{i}].{name}");
            let quantity = number_in(&f("quantity"), Some(line.quantity), 0.0, 1e9)?;
            if quantity <= 0.0 {
                return Err(DomainError::validation(
                    f("quantity"),
                    "must be more than 0",
                ));
            }
            lines.push(OrderLine {
                quantity,
                price: line.price.map(|p| money(&f("price"), p)).transpose()?,
                discount: money(&f("discount"), line.discount)?,
                tax_rate: number_in(&f("tax_rate"), Some(line.tax_rate), 0.0, 100.0)?,
                unit_id: line.unit_id.and_then(UnitId::nonzero),
                ..line
            });
        }
        if let (Some(order), Some(due)) = (d.order_date, d.due_date) {
            if due < order {
                return Err(DomainError::validation(
                    "due_date",
                    "must not be before order_date",
                ));
            }
        }
        Ok(OrderData {
            code: text("code", d.code, SHORT)?,
            customer_id: d.customer_id,
            customer_name: None,
            order_date: d.order_date,
            due_date: d.due_date,
            total_amount: money("total_amount", d.total_amount)?,
            tax_amount: money("tax_amount", d.tax_amount)?,
            discount_amount: money("discount_amount", d.discount_amount)?,
            status: code_or(
                "status",
                Some(d.status),
                ORDER_NEW..=ORDER_CANCELLED,
                ORDER_NEW,
            )?,
            note: text("note", d.note, LONG)?,
            receiver_name: text("receiver_name", d.receiver_name, SHORT)?,
            receiver_phone: text("receiver_phone", self.receiver_phone, SHORT)?
                .map(|p| Phone::parse("receiver_phone", &p))
                .transpose()?,
            receiver_email: text("receiver_email", self.receiver_email, SHORT)?
                .map(|e| Email::parse("receiver_email", &e))
                .transpose()?,
            receiver_address: text("receiver_address", d.receiver_address, LONG)?,
            lines,
            approval: None,
        })
    }
}

impl OrderData {
    /// Fills each line's amount and tax and the order's totals from the lines. An order
    /// without lines keeps the amounts it was given.
    pub fn compute_amounts(&mut self) -> DomainResult<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let (mut subtotal, mut discount, mut tax) = (Money::ZERO, Money::ZERO, Money::ZERO);
        for (i, line) in self.lines.iter_mut().enumerate() {
            let gross = line.price.unwrap_or_default().times(line.quantity);
            if line.discount > gross {
                return Err(DomainError::validation(
                    format!("lines[{i}].discount"),
                    "must not exceed quantity × price",
                ));
            }
            line.amount = gross - line.discount;
            line.tax = line.amount.percent(line.tax_rate);
            subtotal += line.amount;
            discount += line.discount;
            tax += line.tax;
        }
        self.discount_amount = discount;
        self.tax_amount = tax;
        self.total_amount = subtotal + tax;
        Ok(())
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Code, self.code.as_deref())
            .words(TextField::CustomerName, self.customer_name.as_deref())
            .words(TextField::Name, self.receiver_name.as_deref())
            .phone(self.receiver_phone.as_ref())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub seq: i64,
    pub data: OrderData,
    pub audit: Audit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_lines() {
        let mut o = OrderData {
            lines: vec![
                OrderLine {
                    quantity: 3.0,
                    price: Some(Money::from_i64(150_000)),
                    discount: Money::from_i64(50_000),
                    tax_rate: 10.0,
                    ..Default::default()
                },
                OrderLine {
                    quantity: 2.0,
                    price: Some(Money::from_i64(25_000)),
                    ..Default::default()
                },
            ],
            total_amount: Money::from_i64(1),
            ..Default::default()
        };
        o.compute_amounts().expect("valid");
        assert_eq!(o.lines[0].amount, Money::from_i64(400_000));
        assert_eq!(o.lines[0].tax, Money::from_i64(40_000));
        assert_eq!(o.discount_amount, Money::from_i64(50_000));
        assert_eq!(o.tax_amount, Money::from_i64(40_000));
        assert_eq!(o.total_amount, Money::from_i64(490_000));
    }
}
