//! Branches and their stores (warehouses), product categories, and the stock-moving
//! documents: purchase orders, sales and sales returns. Stock is one ledger of moves per
//! product and store, in base units; what is available is always the ledger's sum.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::common::{amount, money, number_in, text, LONG, SHORT};
use crate::error::{DomainError, DomainResult};
use crate::ids::{CategoryId, CustomerId, DocId, DocLineId, PlaceId, ProductId, StaffId, UnitId};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub id: PlaceId,
    /// The branch a store belongs to (stores only).
    pub branch_id: Option<PlaceId>,
    pub code: String,
    pub name: String,
    pub tel: Option<String>,
    pub fax: Option<String>,
    pub avatar: Option<String>,
    pub address: Option<String>,
    pub description: Option<String>,
}

impl Place {
    pub fn validate(self) -> DomainResult<Self> {
        Ok(Self {
            code: text("code", Some(self.code), SHORT)?.unwrap_or_default(),
            name: crate::common::required("name", Some(self.name), SHORT)?,
            tel: text("tel", self.tel, SHORT)?,
            fax: text("fax", self.fax, SHORT)?,
            avatar: text("avatar", self.avatar, LONG)?,
            address: text("address", self.address, LONG)?,
            description: text("description", self.description, LONG)?,
            ..self
        })
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    /// 0 for a top-level category.
    pub parent_id: CategoryId,
    pub picture: Option<String>,
    pub description: Option<String>,
}

impl Category {
    pub fn validate(self) -> DomainResult<Self> {
        Ok(Self {
            name: crate::common::required("name", Some(self.name), SHORT)?,
            parent_id: CategoryId(self.parent_id.0.max(0)),
            picture: text("picture", self.picture, LONG)?,
            description: text("description", self.description, LONG)?,
            ..self
        })
    }
}

/// How one document is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKey<'a> {
    /// Its number (`DocId`).
    Seq(DocId),
    /// Its id (what events name).
    Uuid(uuid::Uuid),
    /// Its invoice number.
    Invoice(&'a str),
}

/// Which document moved stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Opening = 0,
    Purchase = 1,
    Sell = 2,
    SellReturn = 3,
}

impl DocKind {
    pub fn code(self) -> i32 {
        self as i32
    }
    pub fn from_code(c: i32) -> Option<Self> {
        [
            DocKind::Opening,
            DocKind::Purchase,
            DocKind::Sell,
            DocKind::SellReturn,
        ]
        .into_iter()
        .find(|k| k.code() == c)
    }
    pub fn prefix(self) -> &'static str {
        match self {
            DocKind::Opening => "OP",
            DocKind::Purchase => "PN",
            DocKind::Sell => "HD",
            DocKind::SellReturn => "TH",
        }
    }
}

/// `fixed` (an amount) or `percentage` (of the price or subtotal).
pub fn discount(field: &str, kind: Option<&str>, value: Money, of: Money) -> DomainResult<Money> {
    let value = money(field, value)?;
    match kind
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .unwrap_or("fixed")
    {
        "fixed" => Ok(value),
        "percentage" => Ok(of.percent(number_in(field, Some(value.to_f64()), 0.0, 100.0)?)),
        other => Err(DomainError::validation(
            field,
            format!("discount type '{other}' is not fixed or percentage"),
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocLine {
    /// The line's integer id (assigned when stored).
    pub id: DocLineId,
    pub sort: i64,
    pub product_id: ProductId,
    pub product_seq: i64,
    pub unit_id: Option<UnitId>,
    /// Base units per unit of this line.
    pub rate: f64,
    pub unit_price: Money,
    pub quantity: f64,
    pub discount_type: Option<String>,
    /// The discount as entered: an amount, or a percentage when `discount_type` says so.
    pub discount_amount: Money,
    pub tax_id: Option<i64>,
    pub item_tax: Money,
    pub note: Option<String>,
    /// The sale line a return line gives back.
    pub sell_line_id: Option<DocLineId>,
    /// `quantity × (unit_price − discount per unit + item_tax)`.
    pub total: Money,
}

impl DocLine {
    pub fn base_quantity(&self) -> f64 {
        self.quantity * self.rate
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payment {
    pub note: Option<String>,
    pub payment_type: Option<String>,
    pub method: Option<String>,
    pub amount: Money,
    pub account_id: Option<i64>,
    pub paid_on: Option<NaiveDate>,
}

/// A purchase order, a sale or a sales return.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub id: DocId,
    pub uuid: Uuid,
    pub kind: DocKind,
    pub invoice_no: Option<String>,
    pub transaction_date: NaiveDate,
    pub customer_id: Option<CustomerId>,
    pub branch_id: PlaceId,
    pub store_id: PlaceId,
    pub discount_type: Option<String>,
    /// The discount as entered: an amount, or a percentage when `discount_type` says so.
    pub discount_amount: Money,
    pub total_before_tax: Money,
    pub tax_amount: Money,
    /// Surcharges of a sale; return charges of a return.
    pub charges: Money,
    pub final_total: Money,
    pub shipping_status: Option<String>,
    pub approved: bool,
    pub additional_notes: Option<String>,
    pub staff_note: Option<String>,
    /// The sale a return gives back.
    pub return_of: Option<DocId>,
    /// When a purchase's goods were received (stock moved).
    pub received_at: Option<DateTime<Utc>>,
    pub lines: Vec<DocLine>,
    pub payments: Vec<Payment>,
    pub created_at: DateTime<Utc>,
    pub created_by_name: Option<String>,
}

impl Doc {
    /// Fills line totals and the document's totals from the lines; client totals are ignored.
    pub fn compute(&mut self) -> DomainResult<()> {
        let (mut before, mut tax) = (Money::ZERO, Money::ZERO);
        for (i, l) in self.lines.iter_mut().enumerate() {
            let f = |n: &str| format!("lines[{i}].{n}");
            l.quantity = number_in(&f("quantity"), Some(l.quantity), 0.0, 1e9)?;
            if l.quantity <= 0.0 {
                return Err(DomainError::validation(
                    f("quantity"),
                    "must be more than 0",
                ));
            }
            l.unit_price = money(&f("unit_price"), l.unit_price)?;
            l.item_tax = money(&f("item_tax"), l.item_tax)?;
            let per_unit = discount(
                &f("line_discount_amount"),
                l.discount_type.as_deref(),
                l.discount_amount,
                l.unit_price,
            )?;
            if per_unit > l.unit_price {
                return Err(DomainError::validation(
                    f("line_discount_amount"),
                    "must not exceed the unit price",
                ));
            }
            let net = (l.unit_price - per_unit).times(l.quantity);
            let line_tax = l.item_tax.times(l.quantity);
            l.total = net + line_tax;
            before += net;
            tax += line_tax;
        }
        let off = discount(
            "discount_amount",
            self.discount_type.as_deref(),
            self.discount_amount,
            before,
        )?;
        if off > before {
            return Err(DomainError::validation(
                "discount_amount",
                "must not exceed the total",
            ));
        }
        self.charges = money("charges", self.charges)?;
        self.total_before_tax = before;
        self.tax_amount = tax;
        self.final_total = match self.kind {
            DocKind::SellReturn => (before - off + tax - self.charges).max(Money::ZERO),
            _ => before - off + tax + self.charges,
        };
        for (i, p) in self.payments.iter().enumerate() {
            money(&format!("payment[{i}].amount"), p.amount)?;
        }
        Ok(())
    }

    pub fn paid(&self) -> Money {
        self.payments.iter().map(|p| p.amount).sum()
    }

    /// `paid`, `partial` or `due`, from the payments.
    pub fn payment_status(&self) -> &'static str {
        let paid = self.paid();
        if paid >= self.final_total || self.final_total.is_zero() {
            "paid"
        } else if paid > Money::ZERO {
            "partial"
        } else {
            "due"
        }
    }
}

/// A stock move: `quantity` base units of a product into (+) or out of (−) a store.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub product_id: ProductId,
    pub branch_id: PlaceId,
    pub store_id: PlaceId,
    pub quantity: f64,
    pub kind: DocKind,
    pub doc_id: Option<DocId>,
}

/// Which documents a list shows.
#[derive(Debug, Clone, Default)]
pub struct DocFilter {
    pub branch_id: Option<PlaceId>,
    pub store_id: Option<PlaceId>,
    pub customer_id: Option<CustomerId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// What a user typed: an invoice number prefix, or the name, code or SKU of a product on
    /// one of the document's lines.
    pub search: Option<String>,
    /// Only documents with a line of a product of one of these types (`single`, `combo`, …).
    pub product_kinds: Vec<String>,
}

/// What NextX adds to a product: SKU, category, type, sizes, texts, stock warning, images.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductExt {
    pub sku: Option<String>,
    pub category_id: Option<CategoryId>,
    pub brand_id: Option<i64>,
    /// `single`, `variable`, `modifier` or `combo`.
    pub kind: String,
    pub weight: f64,
    pub height: f64,
    pub width: f64,
    pub length: f64,
    pub specification: Option<String>,
    pub description: Option<String>,
    /// Two free-text fields a shop uses as it likes.
    pub extra1: Option<String>,
    pub extra2: Option<String>,
    /// Stock at or below this many base units is low (0: no warning).
    pub low_stock_at: f64,
    pub media: Vec<String>,
    /// Combo components: (product seq, quantity, unit id, price).
    pub components: Vec<(i64, f64, Option<UnitId>, Money)>,
}

pub const PRODUCT_KINDS: [&str; 4] = ["single", "variable", "modifier", "combo"];

impl ProductExt {
    pub fn validate(self) -> DomainResult<Self> {
        let kind = if self.kind.trim().is_empty() {
            "single".to_owned()
        } else {
            self.kind.trim().to_lowercase()
        };
        if !PRODUCT_KINDS.contains(&kind.as_str()) {
            return Err(DomainError::validation(
                "type",
                "must be single, variable, modifier or combo",
            ));
        }
        Ok(Self {
            sku: text("sku", self.sku, SHORT)?,
            kind,
            weight: amount("weight", Some(self.weight))?,
            height: amount("height", Some(self.height))?,
            width: amount("width", Some(self.width))?,
            length: amount("length", Some(self.length))?,
            specification: text("specification", self.specification, LONG)?,
            description: text("description", self.description, LONG)?,
            extra1: text("extra1", self.extra1, LONG)?,
            extra2: text("extra2", self.extra2, LONG)?,
            low_stock_at: amount("low_stock_at", Some(self.low_stock_at))?,
            ..self
        })
    }
}

/// A staff member: a NextX user account with its employee record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StaffUser {
    pub id: StaffId,
    pub username: String,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub joined: Option<NaiveDate>,
    pub designation: Option<String>,
    pub picture: Option<String>,
    pub tel: Option<String>,
    pub crm_extension_id: Option<i64>,
    /// The employee code (`NV…`), assigned when blank.
    pub employee_code: Option<String>,
    pub branch_id: Option<PlaceId>,
    pub is_sale: bool,
    pub is_lock: bool,
    /// May sign in to the CRM.
    pub can_use_crm: bool,
    pub is_validated: bool,
}

impl StaffUser {
    pub fn validate(self) -> DomainResult<Self> {
        let username = crate::common::required("username", Some(self.username), SHORT)?;
        if username.chars().any(char::is_whitespace) {
            return Err(DomainError::validation(
                "username",
                "must not contain spaces",
            ));
        }
        let email = text("email", self.email, SHORT)?;
        if let Some(e) = &email {
            crate::text::Email::parse("email", e)?;
        }
        Ok(Self {
            username,
            email,
            firstname: text("firstname", self.firstname, SHORT)?,
            lastname: text("lastname", self.lastname, SHORT)?,
            designation: text("designation", self.designation, SHORT)?,
            picture: text("picture", self.picture, LONG)?,
            tel: text("tel", self.tel, SHORT)?,
            employee_code: text("employee_code", self.employee_code, SHORT)?,
            ..self
        })
    }
}
