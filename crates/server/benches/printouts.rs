//! `cargo bench -p crm-server --bench printouts`
//!
//! Renders sales documents of 2, 50, 500 and 2,000 lines (the most one PDF may hold,
//! `MAX_PDF_LINES`) as HTML and as PDF, on an A4 invoice and an 80 mm receipt, with a seller
//! that has a bank account (so every document carries its VietQR code). Prints the median time
//! of a render and the size of the result; the HTML render is the baseline the PDF's time is
//! compared with. In process, no database; nothing is asserted.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use crm_dialects::printout::{html, pdf, Paper};
use crm_domain::money::Money;
use crm_domain::printout::{Bank, Line, Printout, Seller, TaxAt};

fn seller() -> Seller {
    Seller {
        name: Some("Công ty TNHH Hoa Sen Việt".into()),
        address: Some("12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh".into()),
        tax_code: Some("0312345678".into()),
        phone: Some("028 3823 4567".into()),
        bank: Some(Bank {
            bin: "970436".into(),
            account: "0071000123456".into(),
            account_name: Some("CONG TY TNHH HOA SEN VIET".into()),
            bank_name: Some("Vietcombank".into()),
        }),
        ..Seller::default()
    }
}

/// Documents of `lines` lines in all, at most 500 to a document (an order's limit).
fn documents(lines: usize) -> Vec<Printout> {
    let mut out = Vec::new();
    let mut left = lines;
    while left > 0 {
        let n = left.min(500);
        left -= n;
        let lines: Vec<Line> = (0..n)
            .map(|i| {
                let price = Money::from_i64(10_000 + (i as i64 % 50) * 1_000);
                let rate = if i % 2 == 0 { 8.0 } else { 10.0 };
                let amount = price.times(2.0);
                Line {
                    code: Some(format!("SP{i:05}")),
                    name: format!("Trà xanh Thái Nguyên đặc biệt loại {i}"),
                    unit: Some("Hộp".into()),
                    quantity: 2.0,
                    price,
                    discount: Money::ZERO,
                    tax_rate: rate,
                    amount,
                    tax: amount.percent(rate),
                }
            })
            .collect();
        let gross: Money = lines.iter().map(|l| l.amount).sum();
        let tax: Money = lines.iter().map(|l| l.tax).sum();
        out.push(Printout {
            code: format!("HD{:06}", out.len() + 1),
            date: "06/12/2026".into(),
            facts: vec![("Thanh toán", "Thanh toán một phần".into())],
            buyer: vec![("Khách hàng", "Nguyễn Văn Đức".into())],
            gross,
            discount: Money::ZERO,
            taxes: vec![TaxAt {
                rate: Some(8.0),
                base: gross,
                tax,
            }],
            lines,
            charges: Money::ZERO,
            total: gross + tax,
            paid: Money::from_i64(100_000),
            note: None,
        });
    }
    out
}

/// The median of `runs` timings of `f`, and the size of what it made.
fn time(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        size = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[runs / 2], size)
}

fn main() {
    let seller = seller();
    println!("paper   lines   html ms   html KB    pdf ms    pdf KB   pdf/html");
    for paper in [Paper::A4, Paper::Receipt80mm] {
        for lines in [2, 50, 500, 2_000] {
            let docs = documents(lines);
            let runs = if lines >= 500 { 5 } else { 21 };
            let (h, hs) = time(runs, || html::render(&seller, &docs, paper).len());
            let (p, ps) = time(runs, || pdf::render(&seller, &docs, paper).len());
            println!(
                "{:<6} {lines:>6} {:>9.2} {:>9.1} {:>9.2} {:>9.1} {:>9.1}",
                if paper == Paper::A4 { "A4" } else { "80mm" },
                h.as_secs_f64() * 1e3,
                hs as f64 / 1024.0,
                p.as_secs_f64() * 1e3,
                ps as f64 / 1024.0,
                p.as_secs_f64() / h.as_secs_f64()
            );
        }
    }
}
