//! The printouts as PDF, written with `pdf-writer`: DejaVu Sans (regular and bold, full
//! Vietnamese coverage) embedded as CID fonts subset by `subsetter` to the glyphs a document
//! uses, with a ToUnicode map so that the text can be searched and copied; the VietQR code
//! drawn as vector squares; the logo as an image. An 80 mm receipt is one page per document as
//! long as its content; an A4 invoice runs over as many pages as its lines need.

use std::collections::BTreeMap;
use std::io::Write;

use crm_domain::printout::{ImageKind, Logo, Printout, Seller};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::{qr_modules, qty, rate, seller_lines, totals, transfer_lines, vnd, Paper, TITLE};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

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

fn receipt(l: &mut Layout, seller: &Seller, p: &Printout, logo: Option<(f32, f32)>) {
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
    l.para(false, size, Align::Center, &super::footer(seller));
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

fn a4(l: &mut Layout, seller: &Seller, p: &Printout, logo: Option<(f32, f32)>) {
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
    l.para(false, 8.5, Align::Center, &super::footer(seller));
}

/// The logo's samples for the PDF, or `None` when it cannot be read (then it is left out).
fn image(logo: &Logo) -> Option<Image> {
    match logo.kind {
        ImageKind::Jpeg => {
            let (width, height, components) = jpeg_size(&logo.bytes)?;
            Some(Image {
                samples: logo.bytes.clone(),
                filter: Filter::DctDecode,
                width,
                height,
                components,
                alpha: None,
            })
        }
        ImageKind::Png => {
            let limits = png::Limits {
                bytes: 16 * 1024 * 1024,
            };
            let mut decoder =
                png::Decoder::new_with_limits(std::io::Cursor::new(&logo.bytes), limits);
            decoder.set_transformations(png::Transformations::normalize_to_color8());
            let mut reader = decoder.read_info().ok()?;
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader.next_frame(&mut buf).ok()?;
            let buf = &buf[..info.buffer_size()];
            let (components, has_alpha) = match info.color_type {
                png::ColorType::Grayscale => (1, false),
                png::ColorType::GrayscaleAlpha => (1, true),
                png::ColorType::Rgb => (3, false),
                png::ColorType::Rgba => (3, true),
                png::ColorType::Indexed => return None,
            };
            let (samples, alpha) = if has_alpha {
                let step = components + 1;
                let mut color = Vec::with_capacity(buf.len());
                let mut alpha = Vec::with_capacity(buf.len() / step);
                for px in buf.chunks_exact(step) {
                    color.extend_from_slice(&px[..components]);
                    alpha.push(px[components]);
                }
                (color, Some(deflate(&alpha)))
            } else {
                (buf.to_vec(), None)
            };
            Some(Image {
                samples: deflate(&samples),
                filter: Filter::FlateDecode,
                width: i32::try_from(info.width).ok()?,
                height: i32::try_from(info.height).ok()?,
                components: components as u8,
                alpha,
            })
        }
    }
}

/// Width, height and components of a JPEG, from its frame header.
fn jpeg_size(b: &[u8]) -> Option<(i32, i32, u8)> {
    let mut i = 2;
    while i + 9 < b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if frame {
            let h = i32::from(u16::from_be_bytes([b[i + 5], b[i + 6]]));
            let w = i32::from(u16::from_be_bytes([b[i + 7], b[i + 8]]));
            let c = b[i + 9];
            return (w > 0 && h > 0 && matches!(c, 1 | 3 | 4)).then_some((w, h, c));
        }
        i += 2 + len;
    }
    None
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec does not fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
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

fn write(fonts: &mut [FontUse; 2], pages: &[Page], logo: Option<&Image>) -> Vec<u8> {
    let mut next = 1;
    let mut id = || {
        next += 1;
        Ref::new(next - 1)
    };
    let catalog = id();
    let tree = id();
    let font_ids: Vec<[Ref; 6]> = (0..2)
        .map(|_| [id(), id(), id(), id(), id(), id()])
        .collect();
    let (logo_id, mask_id) = (id(), id());
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (id(), id())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);

    for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut c = Content::new();
        for d in &page.draws {
            match d {
                Draw::Text {
                    bold,
                    size,
                    x,
                    y,
                    text,
                } => {
                    let glyphs = fonts[usize::from(*bold)].encode(text);
                    c.begin_text();
                    c.set_font(Name(if *bold { b"F2" } else { b"F1" }), *size);
                    c.next_line(*x, page.h - y);
                    c.show(Str(&glyphs));
                    c.end_text();
                }
                Draw::Fill { x, y, w, h, gray } => {
                    c.set_fill_gray(*gray);
                    c.rect(*x, page.h - y - h, *w, *h);
                    c.fill_nonzero();
                    c.set_fill_gray(0.0);
                }
                Draw::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    dashed,
                } => {
                    c.set_line_width(0.5);
                    if *dashed {
                        c.set_dash_pattern([2.0, 1.5], 0.0);
                    }
                    c.move_to(*x1, page.h - y1);
                    c.line_to(*x2, page.h - y2);
                    c.stroke();
                    if *dashed {
                        c.set_dash_pattern([], 0.0);
                    }
                }
                Draw::Image { x, y, w, h } => {
                    if logo.is_some() {
                        c.save_state();
                        c.transform([*w, 0.0, 0.0, *h, *x, page.h - y - h]);
                        c.x_object(Name(b"Im1"));
                        c.restore_state();
                    }
                }
                Draw::Qr {
                    x,
                    y,
                    module,
                    width,
                    dark,
                } => {
                    for (i, on) in dark.iter().enumerate() {
                        if *on {
                            let (col, row) = ((i % width) as f32, (i / width) as f32);
                            c.rect(
                                x + col * module,
                                page.h - y - (row + 1.0) * module,
                                *module,
                                *module,
                            );
                        }
                    }
                    c.fill_nonzero();
                }
            }
        }
        let stream = deflate(&c.finish());
        pdf.stream(*content_id, &stream).filter(Filter::FlateDecode);
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, page.w, page.h))
            .parent(tree)
            .contents(*content_id);
        let mut res = p.resources();
        res.fonts()
            .pair(Name(b"F1"), font_ids[0][0])
            .pair(Name(b"F2"), font_ids[1][0]);
        if logo.is_some() {
            res.x_objects().pair(Name(b"Im1"), logo_id);
        }
    }

    for (i, (font, ids)) in fonts.iter().zip(&font_ids).enumerate() {
        embed(&mut pdf, font, *ids, i);
    }

    if let Some(img) = logo {
        let mut x = pdf.image_xobject(logo_id, &img.samples);
        x.filter(img.filter);
        x.width(img.width);
        x.height(img.height);
        match img.components {
            1 => x.color_space().device_gray(),
            4 => x.color_space().device_cmyk(),
            _ => x.color_space().device_rgb(),
        };
        x.bits_per_component(8);
        if img.alpha.is_some() {
            x.s_mask(mask_id);
        }
        x.finish();
        if let Some(alpha) = &img.alpha {
            let mut m = pdf.image_xobject(mask_id, alpha);
            m.filter(Filter::FlateDecode);
            m.width(img.width);
            m.height(img.height);
            m.color_space().device_gray();
            m.bits_per_component(8);
        }
    }
    pdf.finish()
}

/// Writes one font: the Type 0 font, its CID font, descriptor, widths, Unicode map and the
/// subset program.
fn embed(
    pdf: &mut Pdf,
    font: &FontUse,
    [type0, cid, descriptor, cmap, file, _]: [Ref; 6],
    i: usize,
) {
    let tag = if i == 0 { "CRMAAA" } else { "CRMAAB" };
    let base = format!("{tag}+{}", font.base);
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(Name(base.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);

    let scale = 1000.0 / font.em();
    let widths: Vec<f32> = font
        .remap
        .remapped_gids()
        .map(|old| f32::from(font.face.glyph_hor_advance(GlyphId(old)).unwrap_or(0)) * scale)
        .collect();
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(Name(base.as_bytes()))
        .system_info(system)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    c.widths().consecutive(0, widths);
    c.finish();

    let bbox = font.face.global_bounding_box();
    let s = |v: i16| f32::from(v) * scale;
    pdf.font_descriptor(descriptor)
        .name(Name(base.as_bytes()))
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            s(bbox.x_min),
            s(bbox.y_min),
            s(bbox.x_max),
            s(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(s(font.face.ascender()))
        .descent(s(font.face.descender()))
        .cap_height(s(font
            .face
            .capital_height()
            .unwrap_or(font.face.ascender())))
        .stem_v(if i == 0 { 80.0 } else { 140.0 })
        .font_file2(file);

    let mut map = UnicodeCmap::new(Name(b"Custom"), system);
    for (gid, ch) in &font.chars {
        map.pair(*gid, *ch);
    }
    pdf.cmap(cmap, &map.finish());

    let subset = subsetter::subset(font.data, 0, &font.remap).unwrap_or_default();
    pdf.stream(file, &deflate(&subset))
        .filter(Filter::FlateDecode);
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
        assert_eq!(jpeg_size(&jpeg), Some((30, 20, 3)));
        assert_eq!(jpeg_size(b"\xff\xd8\xff"), None);
    }
}
