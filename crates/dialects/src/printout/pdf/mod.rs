//! The printouts as PDF, written with `pdf-writer`: DejaVu Sans (regular and bold, full
//! Vietnamese coverage) embedded as CID fonts subset by `subsetter` to the glyphs a document
//! uses, with a ToUnicode map so that the text can be searched and copied; the VietQR code
//! drawn as vector squares; the logo as an image. An 80 mm receipt is one page per document as
//! long as its content; an A4 invoice runs over as many pages as its lines need.

mod file;
mod image;
mod layouts;

use std::collections::BTreeMap;

use crm_domain::printout::{Printout, Seller};
use pdf_writer::Filter;
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::{qr_modules, Paper};

use file::write;
use image::image;
use layouts::{a4, receipt};

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Points per millimetre.
const MM: f32 = 72.0 / 25.4;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;

/// One font as the document uses it: the glyphs met so far, renumbered for the subset.
struct FontUse {
    data: &'static [u8],
    face: Face<'static>,
    base: &'static str,
    remap: GlyphRemapper,
    /// New glyph id → the character it shows.
    chars: BTreeMap<u16, char>,
}

impl FontUse {
    fn new(data: &'static [u8], base: &'static str) -> Self {
        let face = Face::parse(data, 0).expect("the embedded font parses");
        FontUse {
            data,
            face,
            base,
            remap: GlyphRemapper::new(),
            chars: BTreeMap::new(),
        }
    }

    fn glyph(&self, c: char) -> GlyphId {
        self.face
            .glyph_index(c)
            .or_else(|| self.face.glyph_index('?'))
            .unwrap_or(GlyphId(0))
    }

    fn em(&self) -> f32 {
        f32::from(self.face.units_per_em())
    }

    /// The width of `text` at `size`, in points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| u32::from(self.face.glyph_hor_advance(self.glyph(c)).unwrap_or(0)))
            .sum();
        units as f32 * size / self.em()
    }

    /// `text` as two-byte glyph ids of the subset.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let gid = self.remap.remap(self.glyph(c).0);
            self.chars.entry(gid).or_insert(c);
            out.extend_from_slice(&gid.to_be_bytes());
        }
        out
    }
}

/// How a line of text sits in its box.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
    Right,
}

/// What is drawn, in points from the page's top-left corner.
enum Draw {
    Text {
        bold: bool,
        size: f32,
        x: f32,
        y: f32,
        text: String,
    },
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: f32,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        dashed: bool,
    },
    Image {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    Qr {
        x: f32,
        y: f32,
        module: f32,
        width: usize,
        dark: Vec<bool>,
    },
}

struct Page {
    w: f32,
    h: f32,
    draws: Vec<Draw>,
}

/// A logo ready to embed: its samples, how they are encoded, its size in pixels.
struct Image {
    samples: Vec<u8>,
    filter: Filter,
    width: i32,
    height: i32,
    /// 1 (gray), 3 (RGB) or 4 (CMYK).
    components: u8,
    alpha: Option<Vec<u8>>,
}

/// Places text and shapes top-down, page by page.
struct Layout<'f> {
    fonts: &'f [FontUse; 2],
    pages: Vec<Page>,
    /// The page being filled.
    draws: Vec<Draw>,
    w: f32,
    /// `None`: the page grows with its content (a receipt).
    h: Option<f32>,
    margin: f32,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f [FontUse; 2], paper: Paper) -> Self {
        let (w, h, margin) = match paper {
            Paper::Receipt80mm => (80.0 * MM, None, 4.0 * MM),
            Paper::A4 => (210.0 * MM, Some(297.0 * MM), 15.0 * MM),
        };
        Layout {
            fonts,
            pages: Vec::new(),
            draws: Vec::new(),
            w,
            h,
            margin,
            y: margin,
        }
    }

    fn inner(&self) -> f32 {
        self.w - 2.0 * self.margin
    }

    fn font(&self, bold: bool) -> &FontUse {
        &self.fonts[usize::from(bold)]
    }

    /// Ends the page being filled.
    fn finish_page(&mut self) {
        let h = self.h.unwrap_or(self.y + self.margin);
        self.pages.push(Page {
            w: self.w,
            h,
            draws: std::mem::take(&mut self.draws),
        });
        self.y = self.margin;
    }

    /// Starts a new page when `height` more does not fit on this one.
    fn room(&mut self, height: f32) {
        if let Some(h) = self.h {
            if self.y + height > h - self.margin && !self.draws.is_empty() {
                self.finish_page();
            }
        }
    }

    /// `text` broken into lines no wider than `width`.
    fn wrap(&self, bold: bool, size: f32, width: f32, text: &str) -> Vec<String> {
        let font = self.font(bold);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if font.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line is cut where it must be.
                for c in word.chars() {
                    line.push(c);
                    if font.width(&line, size) > width && line.chars().count() > 1 {
                        let last = line.pop().unwrap_or(' ');
                        lines.push(std::mem::replace(&mut line, last.to_string()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Text in the box from `x` of `width`, wrapped; answers the height used. Does not move
    /// the cursor.
    #[allow(clippy::too_many_arguments)]
    fn text_at(
        &mut self,
        x: f32,
        y: f32,
        width: f32,
        bold: bool,
        size: f32,
        align: Align,
        text: &str,
    ) -> f32 {
        let lines = self.wrap(bold, size, width, text);
        let step = size * LEADING;
        for (i, line) in lines.iter().enumerate() {
            let w = self.font(bold).width(line, size);
            let left = match align {
                Align::Left => x,
                Align::Center => x + (width - w) / 2.0,
                Align::Right => x + width - w,
            };
            self.draws.push(Draw::Text {
                bold,
                size,
                x: left,
                y: y + size + i as f32 * step,
                text: line.clone(),
            });
        }
        lines.len() as f32 * step
    }

    /// A paragraph across the page, moving the cursor.
    fn para(&mut self, bold: bool, size: f32, align: Align, text: &str) {
        let h = self.wrap(bold, size, self.inner(), text).len() as f32 * size * LEADING;
        self.room(h);
        let (x, y, w) = (self.margin, self.y, self.inner());
        self.y += self.text_at(x, y, w, bold, size, align, text);
    }

    /// A label on the left and a value on the right, on one line (the label wraps).
    fn row(&mut self, bold: bool, size: f32, label: &str, value: &str, x: f32, width: f32) {
        let vw = self.font(bold).width(value, size);
        let lw = (width - vw - 2.0 * MM).max(width / 3.0);
        let h = self.wrap(bold, size, lw, label).len() as f32 * size * LEADING;
        self.room(h);
        let y = self.y;
        self.text_at(x, y, lw, bold, size, Align::Left, label);
        self.text_at(x, y, width, bold, size, Align::Right, value);
        self.y += h;
    }

    fn rule(&mut self, dashed: bool) {
        self.room(2.0 * MM);
        self.y += 1.0 * MM;
        self.draws.push(Draw::Line {
            x1: self.margin,
            y1: self.y,
            x2: self.w - self.margin,
            y2: self.y,
            dashed,
        });
        self.y += 1.0 * MM;
    }

    fn gap(&mut self, mm: f32) {
        self.y += mm * MM;
    }

    /// The QR code of `payload`, `size` wide, its left edge at `x` (centred when `None`).
    fn qr(&mut self, payload: &str, size: f32, x: Option<f32>) {
        let Some((width, dark)) = qr_modules(payload) else {
            return;
        };
        self.room(size);
        let module = size / (width + 8) as f32;
        let x = x.unwrap_or((self.w - size) / 2.0) + 4.0 * module;
        self.draws.push(Draw::Qr {
            x,
            y: self.y + 4.0 * module,
            module,
            width,
            dark,
        });
        self.y += size;
    }
}

/// The documents as one PDF: each on its own page(s).
pub fn render(seller: &Seller, printouts: &[Printout], paper: Paper) -> Vec<u8> {
    let mut fonts = [
        FontUse::new(REGULAR, "DejaVuSans"),
        FontUse::new(BOLD, "DejaVuSans-Bold"),
    ];
    let logo = seller.logo.as_ref().and_then(image);
    let logo_size = logo.as_ref().map(|i| (i.width as f32, i.height as f32));
    let pages = {
        let mut l = Layout::new(&fonts, paper);
        for p in printouts {
            match paper {
                Paper::Receipt80mm => receipt(&mut l, seller, p, logo_size),
                Paper::A4 => a4(&mut l, seller, p, logo_size),
            }
            l.finish_page();
        }
        l.pages
    };
    write(&mut fonts, &pages, logo.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_domain::money::Money;
    use crm_domain::printout::{Bank, Line, TaxAt};

    pub(crate) fn sample() -> (Seller, Printout) {
        let seller = Seller {
            name: Some("Cửa hàng Hoa Sen".into()),
            address: Some("12 Lê Lợi, Quận 1, TP. Hồ Chí Minh".into()),
            tax_code: Some("0312345678".into()),
            phone: Some("028 3823 4567".into()),
            bank: Some(Bank {
                bin: "970436".into(),
                account: "0071000123456".into(),
                account_name: Some("CONG TY HOA SEN".into()),
                bank_name: Some("Vietcombank".into()),
            }),
            ..Seller::default()
        };
        let line = |name: &str, q: f64, price: i64, rate: f64| {
            let amount = Money::from_i64(price).times(q);
            Line {
                code: Some("SP01".into()),
                name: name.into(),
                unit: Some("Hộp".into()),
                quantity: q,
                price: Money::from_i64(price),
                discount: Money::ZERO,
                tax_rate: rate,
                amount,
                tax: amount.percent(rate),
            }
        };
        let lines = vec![
            line("Trà xanh Thái Nguyên đặc biệt", 2.0, 150_000, 8.0),
            line("Bánh đậu xanh Hải Dương", 3.0, 45_000, 10.0),
        ];
        let p = Printout {
            code: "HD0001".into(),
            date: "06/12/2026".into(),
            facts: vec![("Thanh toán", "Thanh toán một phần".into())],
            buyer: vec![("Khách hàng", "Nguyễn Văn Đức".into())],
            gross: Money::from_i64(435_000),
            discount: Money::ZERO,
            taxes: vec![
                TaxAt {
                    rate: Some(8.0),
                    base: Money::from_i64(300_000),
                    tax: Money::from_i64(24_000),
                },
                TaxAt {
                    rate: Some(10.0),
                    base: Money::from_i64(135_000),
                    tax: Money::from_i64(13_500),
                },
            ],
            lines,
            charges: Money::ZERO,
            total: Money::from_i64(472_500),
            paid: Money::from_i64(200_000),
            note: None,
        };
        (seller, p)
    }

    #[test]
    fn renders_both_papers() {
        let (seller, p) = sample();
        for paper in [Paper::Receipt80mm, Paper::A4] {
            let pdf = render(&seller, &[p.clone(), p.clone()], paper);
            assert!(pdf.starts_with(b"%PDF-"));
            assert!(pdf.len() < 120_000, "{} bytes", pdf.len());
            if let Ok(dir) = std::env::var("CRM_PRINTOUT_DIR") {
                let name = format!("{dir}/sample-{paper:?}.pdf");
                std::fs::write(name, &pdf).expect("CRM_PRINTOUT_DIR is writable");
            }
        }
    }

    #[test]
    fn long_invoices_run_over_pages() {
        let (seller, mut p) = sample();
        let line = p.lines[0].clone();
        p.lines = vec![line; 120];
        let pdf = render(&seller, &[p], Paper::A4);
        let pages = pdf.windows(10).filter(|w| w == b"/Type /Pag").count();
        assert!(pages >= 4, "{pages}");
    }

    #[test]
    fn reads_jpeg_sizes() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8, 0, 20, 0, 30, 3, 0, 0, 0, 0]);
        assert_eq!(image::jpeg_size(&jpeg), Some((30, 20, 3)));
        assert_eq!(image::jpeg_size(b"\xff\xd8\xff"), None);
    }
}
