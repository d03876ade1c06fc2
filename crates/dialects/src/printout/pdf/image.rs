//! The seller's logo as a PDF image: PNG decoded to samples, JPEG passed through.

use crm_domain::printout::{ImageKind, Logo};
use pdf_writer::Filter;

use super::file::deflate;
use super::Image;

/// The logo's samples for the PDF, or `None` when it cannot be read (then it is left out).
pub(super) fn image(logo: &Logo) -> Option<Image> {
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
pub(super) fn jpeg_size(b: &[u8]) -> Option<(i32, i32, u8)> {
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
