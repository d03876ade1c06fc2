//! What each paper size holds and where: the seller block, the 80 mm receipt and the A4
//! invoice with its lines table.

use crm_domain::printout::{Printout, Seller};

use crate::printout::{qty, rate, seller_lines, totals, transfer_lines, vnd, Paper, TITLE};

use super::{Align, Draw, Layout, LEADING, MM};

/// The seller block: logo, name, address, tax code, contacts.
fn seller_block(l: &mut Layout, seller: &Seller, logo: Option<(f32, f32)>, paper: Paper) {
    let size = if paper == Paper::A4 { 9.0 } else { 7.5 };
    match paper {
        Paper::Receipt80mm => {
            if let Some((w, h)) = logo {
                let (dw, dh) = fit(w, h, 50.0 * MM, 16.0 * MM);
                l.draws.push(Draw::Image {
                    x: (l.w - dw) / 2.0,
                    y: l.y,
                    w: dw,
                    h: dh,
                });
                l.y += dh + 1.5 * MM;
            }
            if let Some(n) = &seller.name {
                l.para(true, 10.0, Align::Center, n);
            }
            for line in seller_lines(seller) {
                l.para(false, size, Align::Center, &line);
            }
        }
        Paper::A4 => {
            let top = l.y;
            let mut x = l.margin;
            let mut logo_h = 0.0;
            if let Some((w, h)) = logo {
                let (dw, dh) = fit(w, h, 40.0 * MM, 22.0 * MM);
                l.draws.push(Draw::Image {
                    x,
                    y: top,
                    w: dw,
                    h: dh,
                });
                x += dw + 5.0 * MM;
                logo_h = dh;
            }
            let width = l.w - l.margin - x;
            let mut y = top;
            if let Some(n) = &seller.name {
                y += l.text_at(x, y, width, true, 12.0, Align::Left, n);
            }
            for line in seller_lines(seller) {
                y += l.text_at(x, y, width, false, size, Align::Left, &line);
            }
            l.y = y.max(top + logo_h);
        }
    }
}

/// `w × h` scaled to fit in `max_w × max_h`, keeping its proportions.
fn fit(w: f32, h: f32, max_w: f32, max_h: f32) -> (f32, f32) {
    let scale = (max_w / w).min(max_h / h);
    (w * scale, h * scale)
}

pub(super) fn receipt(l: &mut Layout, seller: &Seller, p: &Printout, logo: Option<(f32, f32)>) {
    let size = 7.5;
    seller_block(l, seller, logo, Paper::Receipt80mm);
    l.rule(true);
    l.para(true, 11.0, Align::Center, TITLE);
    l.para(false, size, Align::Center, &format!("Số: {}", p.code));
    l.para(false, size, Align::Center, &format!("Ngày: {}", p.date));
    for (k, v) in &p.facts {
        l.para(false, size, Align::Center, &format!("{k}: {v}"));
    }
    l.rule(true);
    for (k, v) in &p.buyer {
        l.para(false, size, Align::Left, &format!("{k}: {v}"));
    }
    l.rule(true);
    let (x, w) = (l.margin, l.inner());
    for line in &p.lines {
        l.para(true, size, Align::Left, &line.name);
        let detail = format!(
            "{} {} × {} · VAT {}",
            qty(line.quantity),
            line.unit.as_deref().unwrap_or(""),
            vnd(line.price),
            rate(line.tax_rate)
        );
        l.row(
            false,
            size,
            &detail,
            &vnd(line.price.times(line.quantity)),
            x,
            w,
        );
        if !line.discount.is_zero() {
            l.row(false, size, "   Giảm giá", &vnd(-line.discount), x, w);
        }
    }
    l.rule(true);
    for (label, value, bold) in totals(p) {
        l.row(bold, size, &label, &value, x, w);
    }
    l.gap(1.0);
    l.para(
        false,
        size,
        Align::Left,
        &format!("Bằng chữ: {}", p.total_in_words()),
    );
    if let Some(note) = p.note.as_deref().filter(|n| !n.trim().is_empty()) {
        l.para(false, size, Align::Left, &format!("Ghi chú: {note}"));
    }
    if let Some(payload) = p.transfer(seller) {
        l.gap(2.0);
        l.qr(&payload, 38.0 * MM, None);
        for line in transfer_lines(p, seller) {
            l.para(false, 7.0, Align::Center, &line);
        }
    }
    l.rule(true);
    l.para(false, size, Align::Center, &crate::printout::footer(seller));
}

/// A4 table columns: (title, width in mm, alignment).
const COLUMNS: [(&str, f32, Align); 8] = [
    ("STT", 9.0, Align::Center),
    ("Tên hàng hoá, dịch vụ", 55.0, Align::Left),
    ("ĐVT", 13.0, Align::Center),
    ("SL", 12.0, Align::Right),
    ("Đơn giá", 23.0, Align::Right),
    ("Chiết khấu", 21.0, Align::Right),
    ("Thuế suất", 15.0, Align::Center),
    ("Thành tiền", 32.0, Align::Right),
];

const CELL: f32 = 8.0;

fn row_height(l: &Layout, cells: &[String; 8], bold: bool) -> f32 {
    let pad = 1.2 * MM;
    COLUMNS
        .iter()
        .zip(cells)
        .map(|((_, w, _), text)| l.wrap(bold, CELL, w * MM - 2.0 * pad, text).len())
        .max()
        .unwrap_or(1) as f32
        * CELL
        * LEADING
        + 2.0 * pad
}

/// One row of the lines table at the cursor (the caller makes room for it).
fn table_row(l: &mut Layout, cells: &[String; 8], bold: bool, shade: bool) {
    let pad = 1.2 * MM;
    let height = row_height(l, cells, bold);
    let top = l.y;
    if shade {
        l.draws.push(Draw::Fill {
            x: l.margin,
            y: top,
            w: l.inner(),
            h: height,
            gray: 0.9,
        });
    }
    let mut x = l.margin;
    for ((_, w, align), text) in COLUMNS.iter().zip(cells) {
        let w = w * MM;
        l.text_at(x + pad, top + pad, w - 2.0 * pad, bold, CELL, *align, text);
        l.draws.push(Draw::Line {
            x1: x,
            y1: top,
            x2: x,
            y2: top + height,
            dashed: false,
        });
        x += w;
    }
    for (x1, y1, x2, y2) in [
        (l.margin, top, x, top),
        (l.margin, top + height, x, top + height),
        (x, top, x, top + height),
    ] {
        l.draws.push(Draw::Line {
            x1,
            y1,
            x2,
            y2,
            dashed: false,
        });
    }
    l.y += height;
}

/// Whether `height` more fits on the page being filled.
fn fits(l: &Layout, height: f32) -> bool {
    l.h.is_none_or(|h| l.y + height <= h - l.margin)
}

pub(super) fn a4(l: &mut Layout, seller: &Seller, p: &Printout, logo: Option<(f32, f32)>) {
    seller_block(l, seller, logo, Paper::A4);
    l.gap(4.0);
    l.para(true, 16.0, Align::Center, TITLE);
    l.para(
        false,
        9.0,
        Align::Center,
        &format!("Số: {}   ·   Ngày: {}", p.code, p.date),
    );
    let facts: Vec<String> = p.facts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    if !facts.is_empty() {
        l.para(false, 9.0, Align::Center, &facts.join("   ·   "));
    }
    l.gap(3.0);
    for (k, v) in &p.buyer {
        l.para(false, 9.5, Align::Left, &format!("{k}: {v}"));
    }
    l.gap(3.0);
    let header: [String; 8] = COLUMNS.map(|(t, _, _)| t.to_owned());
    let rows: Vec<[String; 8]> = p
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            [
                (i + 1).to_string(),
                match &line.code {
                    Some(c) if !c.is_empty() => format!("{} ({c})", line.name),
                    _ => line.name.clone(),
                },
                line.unit.clone().unwrap_or_default(),
                qty(line.quantity),
                vnd(line.price),
                vnd(line.discount),
                rate(line.tax_rate),
                vnd(line.amount),
            ]
        })
        .collect();
    let first = rows.first().map_or(0.0, |r| row_height(l, r, false));
    l.room(row_height(l, &header, true) + first);
    table_row(l, &header, true, true);
    for cells in &rows {
        // A row that does not fit starts the next page, under the header again.
        if !fits(l, row_height(l, cells, false)) {
            l.finish_page();
            table_row(l, &header, true, true);
        }
        table_row(l, cells, false, false);
    }
    l.gap(4.0);
    // The QR code and its account on the left half, the totals on the right.
    let totals = totals(p);
    let qr_size = 34.0 * MM;
    let transfer = p.transfer(seller);
    let left = transfer.as_ref().map_or(0.0, |_| {
        qr_size + transfer_lines(p, seller).len() as f32 * 8.0 * LEADING
    });
    let right = totals.len() as f32 * 9.0 * LEADING;
    l.room(left.max(right));
    let top = l.y;
    let half = l.inner() / 2.0;
    let mut bottom = top;
    if let Some(payload) = &transfer {
        l.qr(payload, qr_size, Some(l.margin));
        let mut y = l.y;
        for line in transfer_lines(p, seller) {
            y += l.text_at(l.margin, y, half - 4.0 * MM, false, 8.0, Align::Left, &line);
        }
        bottom = y;
        l.y = top;
    }
    for (label, value, bold) in totals {
        let x = l.margin + half;
        l.row(bold, 9.0, &label, &value, x, half);
    }
    l.y = l.y.max(bottom);
    l.gap(2.0);
    l.para(
        false,
        9.5,
        Align::Left,
        &format!("Số tiền bằng chữ: {}", p.total_in_words()),
    );
    if let Some(note) = p.note.as_deref().filter(|n| !n.trim().is_empty()) {
        l.para(false, 9.0, Align::Left, &format!("Ghi chú: {note}"));
    }
    l.gap(6.0);
    l.room(30.0 * MM);
    let top = l.y;
    for (i, who) in ["Người mua hàng", "Người bán hàng"].iter().enumerate() {
        let x = l.margin + i as f32 * half;
        let y = top + l.text_at(x, top, half, true, 9.5, Align::Center, who);
        l.text_at(x, y, half, false, 8.0, Align::Center, "(Ký, ghi rõ họ tên)");
    }
    l.y = top + 30.0 * MM;
    l.para(false, 8.5, Align::Center, &crate::printout::footer(seller));
}
