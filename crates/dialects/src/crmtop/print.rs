//! The two order printouts: an 80 mm thermal receipt and an A4 invoice-style page, as
//! ready-to-print HTML in Vietnamese, one page per order.

use chrono_tz::Tz;
use crm_domain::money::Money;
use crm_domain::sales::{Order, ORDER_CANCELLED, ORDER_CONFIRMED, ORDER_DONE, ORDER_SHIPPING};
use rust_decimal::prelude::ToPrimitive;

/// The paper an order is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Receipt80mm,
    A4,
}

/// `1234567.5` → `1.234.567,5 ₫` (Vietnamese grouping, the đồng sign).
pub fn vnd(amount: Money) -> String {
    let negative = amount.is_negative();
    let cents = (amount.decimal().abs() * rust_decimal::Decimal::ONE_HUNDRED)
        .to_u64()
        .unwrap_or(u64::MAX);
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let frac = match frac {
        0 => String::new(),
        f if f % 10 == 0 => format!(",{}", f / 10),
        f => format!(",{f:02}"),
    };
    format!("{}{grouped}{frac} ₫", if negative { "-" } else { "" })
}

/// A quantity without trailing zeros, with a decimal comma.
fn qty(q: f64) -> String {
    let s = format!("{:.3}", q);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.replace('.', ",")
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(esc).unwrap_or_default()
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

/// The whole document: every order on its own page.
pub fn render(orders: &[Order], paper: Paper, tz: Tz) -> String {
    let (page_css, title) = match paper {
        Paper::Receipt80mm => (
            "@page{size:80mm auto;margin:3mm}body{width:74mm;font:12px/1.35 'Courier New',monospace}\
             table{width:100%;border-collapse:collapse}td,th{padding:1px 0;vertical-align:top}\
             .r{text-align:right}.c{text-align:center}hr{border:0;border-top:1px dashed #000}",
            "Hoá đơn bán hàng",
        ),
        Paper::A4 => (
            "@page{size:A4;margin:15mm}body{font:13px/1.45 Arial,Helvetica,sans-serif}\
             table{width:100%;border-collapse:collapse}.lines td,.lines th{border:1px solid #444;padding:4px 6px}\
             .r{text-align:right}.c{text-align:center}h1{font-size:20px;text-align:center;margin:0 0 8px}",
            "Hoá đơn bán hàng",
        ),
    };
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>{page_css}.page{{page-break-after:always;break-after:page}}\
         .page:last-child{{page-break-after:auto;break-after:auto}}</style></head><body>"
    );
    for order in orders {
        html.push_str(&match paper {
            Paper::Receipt80mm => receipt(order, tz),
            Paper::A4 => a4(order, tz),
        });
    }
    html.push_str("</body></html>");
    html
}

fn date(order: &Order, tz: Tz) -> String {
    order
        .data
        .order_date
        .unwrap_or(order.audit.created_at)
        .with_timezone(&tz)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn totals(order: &Order) -> String {
    let d = &order.data;
    let subtotal = d.total_amount - d.tax_amount;
    format!(
        "<tr><td>Tạm tính</td><td class=\"r\">{}</td></tr>\
         <tr><td>Chiết khấu</td><td class=\"r\">{}</td></tr>\
         <tr><td>Thuế</td><td class=\"r\">{}</td></tr>\
         <tr><td><b>Tổng cộng</b></td><td class=\"r\"><b>{}</b></td></tr>",
        vnd(subtotal + d.discount_amount),
        vnd(d.discount_amount),
        vnd(d.tax_amount),
        vnd(d.total_amount)
    )
}

fn receipt(order: &Order, tz: Tz) -> String {
    let d = &order.data;
    let mut lines = String::new();
    for l in &d.lines {
        lines.push_str(&format!(
            "<tr><td colspan=\"2\">{}</td></tr><tr><td>{} {} × {}</td><td class=\"r\">{}</td></tr>",
            opt(&l.product_name),
            qty(l.quantity),
            opt(&l.unit_name),
            vnd(l.price.unwrap_or_default()),
            vnd(l.amount)
        ));
    }
    format!(
        "<section class=\"page receipt\"><div class=\"c\"><b>HOÁ ĐƠN BÁN HÀNG</b><br>Số: {code}<br>{date}</div><hr>\
         <div>Khách hàng: {customer}</div><div>Người nhận: {receiver}</div><div>SĐT: {phone}</div>\
         <div>Địa chỉ: {address}</div><hr><table>{lines}</table><hr><table>{totals}</table><hr>\
         <div class=\"c\">Cảm ơn quý khách!</div></section>",
        code = opt(&d.code),
        date = date(order, tz),
        customer = opt(&d.customer_name),
        receiver = opt(&d.receiver_name),
        phone = d.receiver_phone.as_ref().map(|p| esc(p.as_str())).unwrap_or_default(),
        address = opt(&d.receiver_address),
        totals = totals(order),
    )
}

fn a4(order: &Order, tz: Tz) -> String {
    let d = &order.data;
    let mut lines = String::new();
    for (i, l) in d.lines.iter().enumerate() {
        lines.push_str(&format!(
            "<tr><td class=\"c\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"r\">{}</td>\
             <td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
            i + 1,
            opt(&l.product_code),
            opt(&l.product_name),
            opt(&l.unit_name),
            qty(l.quantity),
            vnd(l.price.unwrap_or_default()),
            vnd(l.discount),
            vnd(l.tax),
            vnd(l.amount + l.tax)
        ));
    }
    let approval = match &d.approval {
        Some(a) if a.approved => "Đã duyệt",
        Some(_) => "Từ chối duyệt",
        None => "Chưa duyệt",
    };
    format!(
        "<section class=\"page a4\"><h1>HOÁ ĐƠN BÁN HÀNG</h1>\
         <table><tr><td>Số đơn: <b>{code}</b></td><td class=\"r\">Ngày đặt: {date}</td></tr>\
         <tr><td>Trạng thái: {status}</td><td class=\"r\">Duyệt: {approval}</td></tr></table>\
         <p><b>Khách hàng:</b> {customer}<br><b>Người nhận:</b> {receiver} - <b>SĐT:</b> {phone} - \
         <b>Email:</b> {email}<br><b>Địa chỉ giao hàng:</b> {address}</p>\
         <table class=\"lines\"><thead><tr><th>STT</th><th>Mã hàng</th><th>Tên hàng</th><th>ĐVT</th>\
         <th>Số lượng</th><th>Đơn giá</th><th>Chiết khấu</th><th>Thuế</th><th>Thành tiền</th></tr></thead>\
         <tbody>{lines}</tbody></table><table style=\"width:50%;margin-left:50%\">{totals}</table>\
         <p>Ghi chú: {note}</p><table><tr><td class=\"c\"><b>Người mua hàng</b><br>(Ký, ghi rõ họ tên)</td>\
         <td class=\"c\"><b>Người bán hàng</b><br>(Ký, ghi rõ họ tên)</td></tr></table></section>",
        code = opt(&d.code),
        date = date(order, tz),
        status = status_name(d.status),
        customer = opt(&d.customer_name),
        receiver = opt(&d.receiver_name),
        phone = d.receiver_phone.as_ref().map(|p| esc(p.as_str())).unwrap_or_default(),
        email = d.receiver_email.as_ref().map(|e| esc(e.as_str())).unwrap_or_default(),
        address = opt(&d.receiver_address),
        totals = totals(order),
        note = opt(&d.note),
    )
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
        assert_eq!(qty(2.5), "2,5");
        assert_eq!(qty(3.0), "3");
        assert_eq!(esc("<b>&"), "&lt;b&gt;&amp;");
    }
}
