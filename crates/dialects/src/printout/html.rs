//! The printouts as ready-to-print HTML in Vietnamese, one page per document: the seller
//! block (with the logo), the lines, the totals, the total in words and the VietQR code as
//! inline SVG. Everything in the page itself: nothing is fetched when it is printed.

use crm_domain::printout::{Printout, Seller};

use super::{qty, rate, seller_lines, totals, transfer_lines, vnd, Paper, TITLE};

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

/// The whole document: every printout on its own page.
pub fn render(seller: &Seller, printouts: &[Printout], paper: Paper) -> String {
    let page_css = match paper {
        Paper::Receipt80mm => {
            "@page{size:80mm auto;margin:3mm}body{width:74mm;font:12px/1.35 'DejaVu Sans',Arial,sans-serif}\
             table{width:100%;border-collapse:collapse}td,th{padding:1px 0;vertical-align:top}\
             hr{border:0;border-top:1px dashed #000}.logo{max-height:18mm;max-width:60mm}\
             .qr svg{width:38mm;height:38mm}"
        }
        Paper::A4 => {
            "@page{size:A4;margin:15mm}body{font:13px/1.45 'DejaVu Sans',Arial,Helvetica,sans-serif}\
             table{width:100%;border-collapse:collapse}.lines td,.lines th{border:1px solid #444;padding:4px 6px}\
             .lines th{background:#eee}h1{font-size:20px;text-align:center;margin:8px 0}\
             .logo{max-height:25mm;max-width:50mm;float:left;margin-right:12px}.seller{overflow:hidden}\
             .qr svg{width:40mm;height:40mm}.sign td{height:30mm;vertical-align:top}"
        }
    };
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{TITLE}</title>\
         <style>{page_css}.r{{text-align:right}}.c{{text-align:center}}\
         .page{{page-break-after:always;break-after:page}}\
         .page:last-child{{page-break-after:auto;break-after:auto}}</style></head><body>"
    );
    for p in printouts {
        html.push_str(&page(seller, p, paper));
    }
    html.push_str("</body></html>");
    html
}

fn seller_block(s: &Seller, paper: Paper) -> String {
    let mut out = String::new();
    if let Some(logo) = &s.logo {
        out.push_str(&format!(
            "<img class=\"logo\" alt=\"logo\" src=\"{}\">",
            logo.data_uri()
        ));
        if paper == Paper::Receipt80mm {
            out.push_str("<br>");
        }
    }
    if let Some(n) = &s.name {
        out.push_str(&format!("<b>{}</b><br>", esc(n)));
    }
    for l in seller_lines(s) {
        out.push_str(&format!("{}<br>", esc(&l)));
    }
    out
}

fn qr_block(seller: &Seller, p: &Printout) -> String {
    let Some(payload) = p.transfer(seller) else {
        return String::new();
    };
    let Ok(code) = qrcode::QrCode::with_error_correction_level(&payload, qrcode::EcLevel::M) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .min_dimensions(160, 160)
        .build();
    let svg = svg
        .split_once("<svg")
        .map(|(_, rest)| format!("<svg{rest}"))
        .unwrap_or(svg);
    let mut out = format!(
        "<div class=\"qr c\" data-vietqr=\"{}\">{svg}<br>",
        esc(&payload)
    );
    for l in transfer_lines(p, seller) {
        out.push_str(&format!("{}<br>", esc(&l)));
    }
    out.push_str("</div>");
    out
}

fn totals_rows(p: &Printout) -> String {
    totals(p)
        .into_iter()
        .map(|(label, value, bold)| {
            if bold {
                format!(
                    "<tr><td><b>{}</b></td><td class=\"r\"><b>{value}</b></td></tr>",
                    esc(&label)
                )
            } else {
                format!(
                    "<tr><td>{}</td><td class=\"r\">{value}</td></tr>",
                    esc(&label)
                )
            }
        })
        .collect()
}

fn pairs(list: &[(&'static str, String)], sep: &str) -> String {
    list.iter()
        .map(|(k, v)| format!("<b>{k}:</b> {}", esc(v)))
        .collect::<Vec<_>>()
        .join(sep)
}

fn page(seller: &Seller, p: &Printout, paper: Paper) -> String {
    let words = esc(&p.total_in_words());
    let note = p
        .note
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| format!("<p>Ghi chú: {}</p>", esc(n)))
        .unwrap_or_default();
    match paper {
        Paper::Receipt80mm => {
            let mut lines = String::new();
            for l in &p.lines {
                lines.push_str(&format!(
                    "<tr><td colspan=\"2\">{}</td></tr><tr><td>{} {} × {} · VAT {}</td><td class=\"r\">{}</td></tr>",
                    esc(&l.name),
                    qty(l.quantity),
                    esc(l.unit.as_deref().unwrap_or("")),
                    vnd(l.price),
                    rate(l.tax_rate),
                    vnd(l.price.times(l.quantity))
                ));
                if !l.discount.is_zero() {
                    lines.push_str(&format!(
                        "<tr><td>&nbsp;&nbsp;Giảm giá</td><td class=\"r\">{}</td></tr>",
                        vnd(-l.discount)
                    ));
                }
            }
            format!(
                "<section class=\"page receipt\"><div class=\"c\">{seller}<hr><b>{TITLE}</b><br>Số: {code}<br>{date}<br>{facts}</div><hr>\
                 <div>{buyer}</div><hr><table>{lines}</table><hr><table>{totals}</table>\
                 <p>Bằng chữ: <i>{words}</i></p>{note}{qr}<hr><div class=\"c\">{footer}</div></section>",
                seller = seller_block(seller, paper),
                code = esc(&p.code),
                date = esc(&p.date),
                facts = pairs(&p.facts, "<br>"),
                buyer = pairs(&p.buyer, "<br>"),
                totals = totals_rows(p),
                qr = qr_block(seller, p),
                footer = esc(&super::footer(seller)),
            )
        }
        Paper::A4 => {
            let mut lines = String::new();
            for (i, l) in p.lines.iter().enumerate() {
                lines.push_str(&format!(
                    "<tr><td class=\"c\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"r\">{}</td>\
                     <td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
                    i + 1,
                    esc(l.code.as_deref().unwrap_or("")),
                    esc(&l.name),
                    esc(l.unit.as_deref().unwrap_or("")),
                    qty(l.quantity),
                    vnd(l.price),
                    vnd(l.discount),
                    rate(l.tax_rate),
                    vnd(l.amount)
                ));
            }
            format!(
                "<section class=\"page a4\"><div class=\"seller\">{seller}</div><h1>{TITLE}</h1>\
                 <p class=\"c\">Số: <b>{code}</b> · Ngày: {date}<br>{facts}</p><p>{buyer}</p>\
                 <table class=\"lines\"><thead><tr><th>STT</th><th>Mã hàng</th><th>Tên hàng</th><th>ĐVT</th>\
                 <th>Số lượng</th><th>Đơn giá</th><th>Chiết khấu</th><th>Thuế GTGT</th><th>Thành tiền</th></tr></thead>\
                 <tbody>{lines}</tbody></table><table><tr><td style=\"width:45%\">{qr}</td>\
                 <td><table>{totals}</table></td></tr></table><p>Số tiền bằng chữ: <i>{words}</i></p>{note}\
                 <table class=\"sign\"><tr><td class=\"c\"><b>Người mua hàng</b><br>(Ký, ghi rõ họ tên)</td>\
                 <td class=\"c\"><b>Người bán hàng</b><br>(Ký, ghi rõ họ tên)</td></tr></table>\
                 <p class=\"c\">{footer}</p></section>",
                seller = seller_block(seller, paper),
                code = esc(&p.code),
                date = esc(&p.date),
                facts = pairs(&p.facts, " · "),
                buyer = pairs(&p.buyer, "<br>"),
                totals = totals_rows(p),
                qr = qr_block(seller, p),
                footer = esc(&super::footer(seller)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(esc("<b>&"), "&lt;b&gt;&amp;");
    }
}
