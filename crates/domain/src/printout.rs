//! Sales documents as a shop hands them out: who sells (the tenant's document settings), to
//! whom, the lines with their VAT rate, the totals (discount, VAT per rate, paid, due), the
//! total in words and the VietQR transfer of what is due. One model, built from a CRMTOP order
//! or a NextX sale, that the HTML and PDF renderings of the dialects draw.

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::customer::Customer;
use crate::error::{DomainError, DomainResult};
use crate::inventory::Doc;
use crate::money::Money;
use crate::sales::{Order, ORDER_CANCELLED, ORDER_CONFIRMED, ORDER_DONE, ORDER_SHIPPING};
use crate::settings::{Scope, Settings};
use crate::vietqr::Transfer;

/// The tenant's settings for its sales documents (`crm tenant set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Documents;

/// Largest logo accepted, in bytes of the image.
pub const MAX_LOGO: usize = 128 * 1024;
/// Longest text setting (a name, an address).
const MAX_TEXT: usize = 300;

impl Scope for Documents {
    fn name(self) -> &'static str {
        "documents"
    }
    fn keys(self) -> &'static [(&'static str, bool)] {
        &[
            ("seller_name", false),
            ("seller_address", false),
            ("tax_code", false),
            ("phone", false),
            ("email", false),
            ("website", false),
            ("bank_bin", false),
            ("bank_account", false),
            ("bank_account_name", false),
            ("bank_name", false),
            ("logo", false),
            ("footer", false),
        ]
    }
    fn max_len(self, key: &str) -> usize {
        match key {
            "logo" => MAX_LOGO * 4 / 3 + 64,
            _ => MAX_TEXT,
        }
    }
    fn check(self, key: &str, value: &str) -> DomainResult<()> {
        match key {
            "tax_code" => check_tax_code(value),
            "bank_bin" => crate::vietqr::check_bin(key, value),
            "bank_account" => crate::vietqr::check_account(key, value),
            "email" => crate::text::Email::parse(key, value).map(|_| ()),
            "logo" => Logo::from_data_uri(value).map(|_| ()),
            _ => Ok(()),
        }
    }
}

/// A Vietnamese tax code: ten digits, or ten and a three-digit branch (`0101234567-001`).
fn check_tax_code(value: &str) -> DomainResult<()> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let ok = match value.split_once('-') {
        Some((head, branch)) => digits(head, 10) && digits(branch, 3),
        None => digits(value, 10),
    };
    if ok {
        Ok(())
    } else {
        Err(DomainError::validation(
            "tax_code",
            "must be 10 digits, or 10 digits, '-' and 3 (a branch)",
        ))
    }
}

/// The kinds of logo image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
}

/// The seller's logo: a PNG or JPEG image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub kind: ImageKind,
    pub bytes: Vec<u8>,
}

impl Logo {
    /// From image bytes, by their content.
    pub fn from_bytes(bytes: Vec<u8>) -> DomainResult<Self> {
        let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            ImageKind::Png
        } else if bytes.starts_with(b"\xff\xd8\xff") {
            ImageKind::Jpeg
        } else {
            return Err(DomainError::validation(
                "logo",
                "must be a PNG or JPEG image",
            ));
        };
        if bytes.len() > MAX_LOGO {
            return Err(DomainError::validation(
                "logo",
                format!("must be at most {} KB", MAX_LOGO / 1024),
            ));
        }
        Ok(Logo { kind, bytes })
    }

    /// From `data:image/png;base64,…` (how it is stored and sent).
    pub fn from_data_uri(uri: &str) -> DomainResult<Self> {
        let bad = || {
            DomainError::validation(
                "logo",
                "must be data:image/png;base64,… or data:image/jpeg;base64,…",
            )
        };
        let rest = uri.strip_prefix("data:").ok_or_else(bad)?;
        let (meta, data) = rest.split_once(',').ok_or_else(bad)?;
        if !meta.ends_with(";base64") {
            return Err(bad());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| bad())?;
        Self::from_bytes(bytes)
    }

    pub fn mime(&self) -> &'static str {
        match self.kind {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
        }
    }

    pub fn data_uri(&self) -> String {
        format!(
            "data:{};base64,{}",
            self.mime(),
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }
}

/// The account a buyer pays into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    pub bin: String,
    pub account: String,
    pub account_name: Option<String>,
    pub bank_name: Option<String>,
}

/// Who sells: the tenant's document settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seller {
    pub name: Option<String>,
    pub address: Option<String>,
    pub tax_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub bank: Option<Bank>,
    pub logo: Option<Logo>,
    pub footer: Option<String>,
}

impl Seller {
    pub fn from_settings(s: &Settings) -> Self {
        let get = |k: &str| s.get(k).map(str::to_owned);
        let bank = match (s.get("bank_bin"), s.get("bank_account")) {
            (Some(bin), Some(account)) => Some(Bank {
                bin: bin.to_owned(),
                account: account.to_owned(),
                account_name: get("bank_account_name"),
                bank_name: get("bank_name"),
            }),
            _ => None,
        };
        Seller {
            name: get("seller_name"),
            address: get("seller_address"),
            tax_code: get("tax_code"),
            phone: get("phone"),
            email: get("email"),
            website: get("website"),
            bank,
            logo: s.get("logo").and_then(|l| Logo::from_data_uri(l).ok()),
            footer: get("footer"),
        }
    }
}

/// One line as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub code: Option<String>,
    pub name: String,
    pub unit: Option<String>,
    pub quantity: f64,
    /// Per unit, before discount.
    pub price: Money,
    /// Taken off the line.
    pub discount: Money,
    /// VAT in percent.
    pub tax_rate: f64,
    /// After discount, before VAT.
    pub amount: Money,
    pub tax: Money,
}

/// VAT at one rate: the amounts it is charged on, and the tax.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxAt {
    /// In percent; `None` when the document gives only the tax, not its rate.
    pub rate: Option<f64>,
    pub base: Money,
    pub tax: Money,
}

/// A sales document ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Printout {
    /// The order's or sale's code (also the transfer's purpose).
    pub code: String,
    /// When, in the tenant's zone, as `dd/mm/yyyy` (with the time when known).
    pub date: String,
    /// Further facts under the title: (label, value).
    pub facts: Vec<(&'static str, String)>,
    /// The buyer: (label, value), empty values left out.
    pub buyer: Vec<(&'static str, String)>,
    pub lines: Vec<Line>,
    /// Σ quantity × price.
    pub gross: Money,
    /// Off the lines and off the whole document.
    pub discount: Money,
    /// VAT per rate, lowest rate first.
    pub taxes: Vec<TaxAt>,
    /// Surcharges (shipping and the like).
    pub charges: Money,
    pub total: Money,
    pub paid: Money,
    pub note: Option<String>,
}

fn vat_rates(lines: &[Line]) -> Vec<TaxAt> {
    let mut out: Vec<TaxAt> = Vec::new();
    for l in lines {
        let key = (l.tax_rate * 100.0).round() / 100.0;
        match out.iter_mut().find(|t| t.rate == Some(key)) {
            Some(t) => {
                t.base += l.amount;
                t.tax += l.tax;
            }
            None => out.push(TaxAt {
                rate: Some(key),
                base: l.amount,
                tax: l.tax,
            }),
        }
    }
    out.sort_by(|a, b| a.rate.unwrap_or(0.0).total_cmp(&b.rate.unwrap_or(0.0)));
    out
}

fn status_name(status: i32) -> &'static str {
    match status {
        ORDER_CONFIRMED => "Đã xác nhận",
        ORDER_SHIPPING => "Đang giao",
        ORDER_DONE => "Hoàn thành",
        ORDER_CANCELLED => "Đã huỷ",
        _ => "Mới",
    }
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string()
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn push(list: &mut Vec<(&'static str, String)>, label: &'static str, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        list.push((label, v.to_owned()));
    }
}

impl Printout {
    /// A CRMTOP order. CRMTOP records no payments on an order: nothing is paid.
    pub fn of_order(order: &Order, tz: Tz) -> Self {
        let d = &order.data;
        let lines: Vec<Line> = d
            .lines
            .iter()
            .map(|l| Line {
                code: l.product_code.clone(),
                name: l.product_name.clone().unwrap_or_default(),
                unit: l.unit_name.clone(),
                quantity: l.quantity,
                price: l.price.unwrap_or_default(),
                discount: l.discount,
                tax_rate: l.tax_rate,
                amount: l.amount,
                tax: l.tax,
            })
            .collect();
        let approval = match &d.approval {
            Some(a) if a.approved => "Đã duyệt",
            Some(_) => "Từ chối duyệt",
            None => "Chưa duyệt",
        };
        let mut buyer = Vec::new();
        push(&mut buyer, "Khách hàng", d.customer_name.as_deref());
        push(&mut buyer, "Người nhận", d.receiver_name.as_deref());
        push(
            &mut buyer,
            "Điện thoại",
            d.receiver_phone.as_ref().map(|p| p.as_str()),
        );
        push(
            &mut buyer,
            "Email",
            d.receiver_email.as_ref().map(|e| e.as_str()),
        );
        push(&mut buyer, "Địa chỉ", d.receiver_address.as_deref());
        let gross = if lines.is_empty() {
            d.total_amount - d.tax_amount + d.discount_amount
        } else {
            lines.iter().map(|l| l.price.times(l.quantity)).sum()
        };
        let mut taxes = vat_rates(&lines);
        if lines.is_empty() && !d.tax_amount.is_zero() {
            taxes.push(TaxAt {
                rate: None,
                base: d.total_amount - d.tax_amount,
                tax: d.tax_amount,
            });
        }
        Printout {
            code: d.code.clone().unwrap_or_default(),
            date: local(d.order_date.unwrap_or(order.audit.created_at), tz),
            facts: vec![
                ("Trạng thái", status_name(d.status).to_owned()),
                ("Duyệt", approval.to_owned()),
            ],
            buyer,
            lines,
            gross,
            discount: d.discount_amount,
            taxes,
            charges: Money::ZERO,
            total: d.total_amount,
            paid: Money::ZERO,
            note: d.note.clone(),
        }
    }

    /// A NextX sale, its lines named by `names` (code, name, unit), one per line in order.
    pub fn of_sale(
        doc: &Doc,
        names: Vec<(Option<String>, String, Option<String>)>,
        customer: Option<&Customer>,
    ) -> Self {
        let mut lines = Vec::with_capacity(doc.lines.len());
        for (l, (code, name, unit)) in doc.lines.iter().zip(names) {
            let per_unit = crate::inventory::discount(
                "discount",
                l.discount_type.as_deref(),
                l.discount_amount,
                l.unit_price,
            )
            .unwrap_or(Money::ZERO);
            let net_unit = l.unit_price - per_unit;
            let tax_rate = if net_unit.is_zero() {
                0.0
            } else {
                (l.item_tax.to_f64() / net_unit.to_f64() * 10_000.0).round() / 100.0
            };
            lines.push(Line {
                code,
                name,
                unit,
                quantity: l.quantity,
                price: l.unit_price,
                discount: per_unit.times(l.quantity),
                tax_rate,
                amount: net_unit.times(l.quantity),
                tax: l.item_tax.times(l.quantity),
            });
        }
        let line_off: Money = lines.iter().map(|l| l.discount).sum();
        let off = crate::inventory::discount(
            "discount_amount",
            doc.discount_type.as_deref(),
            doc.discount_amount,
            doc.total_before_tax,
        )
        .unwrap_or(Money::ZERO);
        let mut buyer = Vec::new();
        if let Some(c) = customer {
            push(&mut buyer, "Khách hàng", Some(&c.data.name));
            push(&mut buyer, "Mã số thuế", c.data.tax_code.as_deref());
            push(
                &mut buyer,
                "Điện thoại",
                c.data.phone.as_ref().map(|p| p.as_str()),
            );
            push(
                &mut buyer,
                "Email",
                c.data.email.as_ref().map(|e| e.as_str()),
            );
            push(&mut buyer, "Địa chỉ", c.data.address.as_deref());
        } else {
            buyer.push(("Khách hàng", "Khách lẻ".to_owned()));
        }
        let mut facts = Vec::new();
        push(&mut facts, "Thu ngân", doc.created_by_name.as_deref());
        facts.push((
            "Thanh toán",
            match doc.payment_status() {
                "paid" => "Đã thanh toán",
                "partial" => "Thanh toán một phần",
                _ => "Chưa thanh toán",
            }
            .to_owned(),
        ));
        Printout {
            code: doc.invoice_no.clone().unwrap_or_default(),
            date: day(doc.transaction_date),
            facts,
            buyer,
            gross: lines.iter().map(|l| l.price.times(l.quantity)).sum(),
            discount: line_off + off,
            taxes: vat_rates(&lines),
            lines,
            charges: doc.charges,
            total: doc.final_total,
            paid: doc.paid(),
            note: doc.additional_notes.clone(),
        }
    }

    /// What is left to pay (never below zero).
    pub fn due(&self) -> Money {
        (self.total - self.paid).max(Money::ZERO)
    }

    /// The total in words, as invoices write it ("Một triệu … đồng").
    pub fn total_in_words(&self) -> String {
        crate::words::dong_in_words(whole_dong(self.total))
    }

    /// The VietQR payload for what is due, when the seller has a bank account and something is
    /// due.
    pub fn transfer(&self, seller: &Seller) -> Option<String> {
        let bank = seller.bank.as_ref()?;
        let due = whole_dong(self.due());
        if due == 0 {
            return None;
        }
        Transfer {
            bin: bank.bin.clone(),
            account: bank.account.clone(),
            amount: Some(due),
            purpose: Some(self.code.clone()),
        }
        .payload()
        .ok()
    }
}

/// Whole đồng, rounded half up (a transfer moves no fractions).
pub fn whole_dong(m: Money) -> u64 {
    use rust_decimal::prelude::ToPrimitive;
    m.decimal()
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_u64()
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn document_settings_are_checked() {
        let mut s = Settings::default();
        s.apply(
            Documents,
            &[
                ("seller_name".into(), "Cửa hàng Hoa Sen".into()),
                ("tax_code".into(), "0101234567-001".into()),
                ("bank_bin".into(), "970436".into()),
                ("bank_account".into(), "0011001932418".into()),
            ],
        )
        .unwrap();
        let seller = Seller::from_settings(&s);
        assert_eq!(seller.name.as_deref(), Some("Cửa hàng Hoa Sen"));
        assert_eq!(seller.bank.as_ref().unwrap().bin, "970436");
        for (k, v) in [
            ("tax_code", "12345"),
            ("bank_bin", "97043"),
            ("bank_account", "12 34"),
            ("email", "nope"),
            ("logo", "data:image/gif;base64,R0lGOD=="),
            ("colour", "red"),
        ] {
            assert!(
                s.clone().apply(Documents, &[(k.into(), v.into())]).is_err(),
                "{k}={v}"
            );
        }
        let png = Logo::from_bytes(b"\x89PNG\r\n\x1a\nrest".to_vec()).unwrap();
        assert_eq!(Logo::from_data_uri(&png.data_uri()).unwrap(), png);
        assert!(Logo::from_bytes(vec![0xff, 0xd8, 0xff, 0]).is_ok());
        assert!(Logo::from_bytes(vec![0xff; MAX_LOGO + 1]).is_err());
    }

    #[test]
    fn whole_dong_rounds_half_up() {
        assert_eq!(whole_dong(Money::from_f64(1_234.5)), 1_235);
        assert_eq!(whole_dong(Money::from_f64(1_234.4)), 1_234);
        assert_eq!(whole_dong(Money::from_f64(-5.0)), 0);
    }
}
