//! Sales documents as shops print them: an 80 mm thermal receipt and an A4 invoice, as HTML
//! ([`html`]) or PDF ([`pdf`]), from [`Printout`]s of the domain and the tenant's [`Seller`]:
//! the seller block, the lines with their VAT rate, the totals (discount, VAT per rate, paid,
//! due), the total in words and a VietQR code for what is due. Used by CRMTOP's print
//! endpoints and by our sale printout (docs/printouts.md).

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use crm_domain::money::Money;
use crm_domain::printout::{Printout, Seller, TaxAt};
use crm_domain::DomainError;

pub mod html;
pub mod pdf;

/// The paper a document is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Receipt80mm,
    A4,
}

impl Paper {
    /// `80mm` (also `8cm`, `receipt`) or `a4`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "80mm" | "8cm" | "receipt" => Some(Paper::Receipt80mm),
            "a4" => Some(Paper::A4),
            _ => None,
        }
    }
}

/// What a printout is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Pdf,
}

impl Format {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "html" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

/// Most lines (over all its documents) one PDF may hold: rendering stays well under a second.
pub const MAX_PDF_LINES: usize = 2_000;

/// The documents as one PDF, rendered off the async workers; refused when larger than
/// [`MAX_PDF_LINES`].
pub async fn render_pdf(
    seller: Seller,
    printouts: Vec<Printout>,
    paper: Paper,
) -> Result<Vec<u8>, DomainError> {
    let lines: usize = printouts.iter().map(|p| p.lines.len().max(1)).sum();
    if lines > MAX_PDF_LINES {
        return Err(DomainError::validation(
            "ids",
            format!("a PDF holds at most {MAX_PDF_LINES} order lines; print fewer orders at once"),
        ));
    }
    tokio::task::spawn_blocking(move || pdf::render(&seller, &printouts, paper))
        .await
        .map_err(|e| {
            DomainError::Internal(
                std::io::Error::other(format!("rendering a PDF failed: {e}")).into(),
            )
        })
}

/// A PDF as an answer: `application/pdf`, to be shown inline under `name`.
pub fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (CONTENT_TYPE, "application/pdf".to_owned()),
            (CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// The title every document carries.
pub const TITLE: &str = "HOÁ ĐƠN BÁN HÀNG";

/// `1234567.5` → `1.234.567,5 ₫` ([`Money::vnd`]).
pub fn vnd(amount: Money) -> String {
    amount.vnd()
}

/// A quantity without trailing zeros, with a decimal comma.
pub fn qty(q: f64) -> String {
    let s = format!("{:.3}", q);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.replace('.', ",")
}

/// A VAT rate: `8%`, `5,5%`.
pub fn rate(r: f64) -> String {
    format!("{}%", qty(r))
}

/// The rows of the totals block: (label, amount, bold).
pub fn totals(p: &Printout) -> Vec<(String, String, bool)> {
    let mut rows = vec![("Tiền hàng".to_owned(), vnd(p.gross), false)];
    if !p.discount.is_zero() {
        rows.push(("Chiết khấu".to_owned(), vnd(-p.discount), false));
    }
    for TaxAt { rate: r, base, tax } in &p.taxes {
        let label = match r {
            Some(r) => format!("Thuế GTGT {} (trên {})", rate(*r), vnd(*base)),
            None => "Thuế GTGT".to_owned(),
        };
        rows.push((label, vnd(*tax), false));
    }
    if !p.charges.is_zero() {
        rows.push(("Phụ phí".to_owned(), vnd(p.charges), false));
    }
    rows.push(("Tổng cộng".to_owned(), vnd(p.total), true));
    rows.push(("Đã thanh toán".to_owned(), vnd(p.paid), false));
    rows.push(("Còn phải trả".to_owned(), vnd(p.due()), true));
    rows
}

/// The seller's lines under its name: address, tax code, phone, e-mail, website.
pub fn seller_lines(s: &Seller) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(a) = &s.address {
        out.push(format!("Địa chỉ: {a}"));
    }
    if let Some(t) = &s.tax_code {
        out.push(format!("MST: {t}"));
    }
    let contact: Vec<String> = [
        s.phone.as_ref().map(|p| format!("ĐT: {p}")),
        s.email.as_ref().map(|e| format!("Email: {e}")),
        s.website.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !contact.is_empty() {
        out.push(contact.join(" · "));
    }
    out
}

/// The lines beside a VietQR code: what it pays, into which account.
pub fn transfer_lines(p: &Printout, s: &Seller) -> Vec<String> {
    let Some(bank) = &s.bank else {
        return Vec::new();
    };
    let mut out = vec![format!("Quét mã để thanh toán {}", vnd(p.due()))];
    let mut account = format!("STK {}", bank.account);
    if let Some(b) = &bank.bank_name {
        account.push_str(&format!(" - {b}"));
    }
    out.push(account);
    if let Some(n) = &bank.account_name {
        out.push(format!("Chủ TK: {n}"));
    }
    out.push(format!(
        "Nội dung: {}",
        crm_domain::vietqr::purpose(&p.code)
    ));
    out
}

/// The QR code of `payload` (error correction M), as dark/light modules, row by row.
pub fn qr_modules(payload: &str) -> Option<(usize, Vec<bool>)> {
    let code = qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((width, dark))
}

/// The page footer: the seller's own words, or the usual thanks.
pub fn footer(s: &Seller) -> String {
    s.footer
        .clone()
        .unwrap_or_else(|| "Cảm ơn quý khách và hẹn gặp lại!".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_vnd() {
        assert_eq!(vnd(Money::from_f64(0.0)), "0 ₫");
        assert_eq!(vnd(Money::from_f64(1_234_567.0)), "1.234.567 ₫");
        assert_eq!(vnd(Money::from_f64(150_000.5)), "150.000,5 ₫");
        assert_eq!(vnd(Money::from_f64(999.25)), "999,25 ₫");
        assert_eq!(vnd(Money::from_f64(-10_000.0)), "-10.000 ₫");
        assert_eq!(qty(2.5), "2,5");
        assert_eq!(qty(3.0), "3");
        assert_eq!(rate(8.0), "8%");
        assert_eq!(Paper::parse("A4"), Some(Paper::A4));
        assert_eq!(Paper::parse("8cm"), Some(Paper::Receipt80mm));
        assert_eq!(Format::parse("PDF"), Some(Format::Pdf));
        assert_eq!(Format::parse("docx"), None);
    }

    fn printout(lines: usize) -> Printout {
        let line = crm_domain::printout::Line {
            code: None,
            name: "Trà".into(),
            unit: None,
            quantity: 1.0,
            price: Money::from_i64(1_000),
            discount: Money::ZERO,
            tax_rate: 0.0,
            amount: Money::from_i64(1_000),
            tax: Money::ZERO,
        };
        Printout {
            code: "HD1".into(),
            date: "06/12/2026".into(),
            facts: Vec::new(),
            buyer: Vec::new(),
            lines: vec![line; lines],
            gross: Money::ZERO,
            discount: Money::ZERO,
            taxes: Vec::new(),
            charges: Money::ZERO,
            total: Money::ZERO,
            paid: Money::ZERO,
            note: None,
        }
    }

    #[tokio::test]
    async fn a_pdf_holds_at_most_max_pdf_lines() {
        let fits = vec![printout(500); MAX_PDF_LINES / 500];
        let pdf = render_pdf(Seller::default(), fits, Paper::A4)
            .await
            .expect("2,000 lines fit");
        assert!(pdf.starts_with(b"%PDF-"));
        let mut over = vec![printout(500); MAX_PDF_LINES / 500];
        over.push(printout(1));
        let err = render_pdf(Seller::default(), over, Paper::Receipt80mm)
            .await
            .expect_err("2,001 lines do not fit");
        assert!(
            matches!(&err, DomainError::Validation { field, .. } if field == "ids"),
            "{err}"
        );
    }
}
