//! The PDF file itself: catalog, pages, content streams, the embedded subset fonts.

use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};
use ttf_parser::GlyphId;

use super::{Draw, FontUse, Image, Page};

pub(super) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec does not fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

pub(super) fn write(fonts: &mut [FontUse; 2], pages: &[Page], logo: Option<&Image>) -> Vec<u8> {
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
