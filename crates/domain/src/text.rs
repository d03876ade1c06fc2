//! Vietnamese-first text handling: accent folding, phone numbers and e-mail addresses.
//!
//! Search never relies on database collations: every record keeps folded terms built
//! here, and every query is folded the same way.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::error::{DomainError, DomainResult};

/// Lower-cases and strips diacritics: `Nguyễn Văn Đức` becomes `nguyen van duc`.
/// `đ`/`Đ` are letters of their own in Unicode (no decomposition), so they are mapped by hand;
/// precomposed and combining-mark input fold to the same string.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Strips diacritics and keeps case: `Nguyễn Văn Đức` becomes `Nguyen Van Duc` (SMS without
/// diacritics, the local default: a GSM-7 segment holds 160 characters, a Unicode one 70).
pub fn strip_diacritics(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        out.push(match c {
            'đ' => 'd',
            'Đ' => 'D',
            _ => c,
        });
    }
    out
}

/// SMS segments of a text: GSM-7 (160 characters, 153 per part when split) unless a character
/// is outside GSM-7's basic set, then UCS-2 (70, 67 per part).
pub fn sms_segments(text: &str) -> (u32, bool) {
    const GSM: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXT: &str = "^{}\\[~]|€\u{c}";
    let mut units = 0u32;
    let mut unicode = false;
    for c in text.chars() {
        if GSM.contains(c) {
            units += 1;
        } else if EXT.contains(c) {
            units += 2;
        } else {
            unicode = true;
            break;
        }
    }
    let (single, part, n) = if unicode {
        (70, 67, text.encode_utf16().count() as u32)
    } else {
        (160, 153, units)
    };
    let segments = if n <= single { 1 } else { n.div_ceil(part) };
    (segments, unicode)
}

/// Splits text into folded words of letters and digits.
pub fn words(input: &str) -> Vec<String> {
    fold(input)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Mobile prefixes retired in 2018, mapped to the 10-digit prefixes that replaced them.
const OLD_MOBILE_PREFIXES: &[(&str, &str)] = &[
    ("0120", "070"),
    ("0121", "079"),
    ("0122", "077"),
    ("0123", "083"),
    ("0124", "084"),
    ("0125", "085"),
    ("0126", "076"),
    ("0127", "081"),
    ("0128", "078"),
    ("0129", "082"),
    ("0162", "032"),
    ("0163", "033"),
    ("0164", "034"),
    ("0165", "035"),
    ("0166", "036"),
    ("0167", "037"),
    ("0168", "038"),
    ("0169", "039"),
    ("0186", "056"),
    ("0188", "058"),
    ("0199", "059"),
];

/// A phone number as entered, with its canonical key (Vietnamese national form, e.g. `0912345678`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    raw: String,
    key: String,
}

impl Phone {
    /// Accepts any common way of writing a number: spaces, dots, dashes, brackets,
    /// `+84`/`84`/`0084` country prefixes and the old 11-digit mobile prefixes.
    pub fn parse(field: &str, input: &str) -> DomainResult<Self> {
        let raw = input.trim();
        let key = canonical_phone(raw).ok_or_else(|| {
            DomainError::validation(
                field,
                format!("'{raw}' is not a phone number (expected 8 to 15 digits, e.g. 0912345678 or +84912345678)"),
            )
        })?;
        Ok(Self {
            raw: raw.to_owned(),
            key,
        })
    }

    /// Rebuilds a stored phone without validating again.
    pub fn from_stored(raw: String) -> Self {
        let key = canonical_phone(&raw).unwrap_or_else(|| raw.clone());
        Self { raw, key }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The canonical search key of a phone number, or `None` when `input` is not one.
pub fn canonical_phone(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let mut digits = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '.' | '-' | '(' | ')' | '\u{a0}' => {}
            _ => return None,
        }
    }
    if !(8..=15).contains(&digits.len()) {
        return None;
    }
    let national = if let Some(rest) = digits.strip_prefix("0084") {
        format!("0{rest}")
    } else if digits.starts_with("84") && (digits.len() == 11 || digits.len() == 12) {
        format!("0{}", &digits[2..])
    } else if !digits.starts_with('0') && digits.len() == 9 {
        format!("0{digits}")
    } else {
        digits
    };
    if national.len() == 11 {
        for (old, new) in OLD_MOBILE_PREFIXES {
            if let Some(rest) = national.strip_prefix(old) {
                return Some(format!("{new}{rest}"));
            }
        }
    }
    Some(national)
}

/// The text of an HTML body, for the plain part of an e-mail: tags dropped (line breaks where
/// blocks end), the common entities decoded, blank runs collapsed. Linear in the input.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after[..gt].trim_start_matches('/').to_ascii_lowercase();
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "table"
        ) {
            out.push('\n');
        }
        rest = &after[gt + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut lines: Vec<String> = Vec::new();
    for line in decoded.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            if lines.last().is_some_and(|l| !l.is_empty()) {
                lines.push(String::new());
            }
        } else {
            lines.push(words.join(" "));
        }
    }
    lines.join("\n").trim().to_owned()
}

/// An e-mail address as entered, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    raw: String,
    key: String,
}

impl Email {
    pub fn parse(field: &str, input: &str) -> DomainResult<Self> {
        let raw = input.trim();
        let valid = raw.len() <= 254
            && !raw.chars().any(char::is_whitespace)
            && match raw.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.is_empty()
                        && !domain.contains('@')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if !valid {
            return Err(DomainError::validation(
                field,
                format!("'{raw}' is not an e-mail address"),
            ));
        }
        Ok(Self {
            raw: raw.to_owned(),
            key: raw.to_lowercase(),
        })
    }

    pub fn from_stored(raw: String) -> Self {
        let key = raw.to_lowercase();
        Self { raw, key }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_text() {
        assert_eq!(
            strip_diacritics("Chào anh Nguyễn Văn Đức"),
            "Chao anh Nguyen Van Duc"
        );
        assert_eq!(sms_segments("Chao anh Duc"), (1, false));
        assert_eq!(sms_segments(&"a".repeat(160)), (1, false));
        assert_eq!(sms_segments(&"a".repeat(161)), (2, false));
        assert_eq!(sms_segments(&"a".repeat(306)), (2, false));
        assert_eq!(sms_segments(&"a".repeat(307)), (3, false));
        assert_eq!(sms_segments("Chào"), (1, false), "à is in GSM-7");
        assert_eq!(sms_segments("Đức"), (1, true));
        assert_eq!(sms_segments(&"ư".repeat(70)), (1, true));
        assert_eq!(sms_segments(&"ư".repeat(71)), (2, true));
        assert_eq!(sms_segments("[x]"), (1, false));
    }

    #[test]
    fn html_bodies_as_text() {
        assert_eq!(
            html_to_text("<p>Chào <b>Đức</b>,</p><p>Đơn&nbsp;hàng &amp; quà</p>"),
            "Chào Đức,\n\nĐơn hàng & quà"
        );
        assert_eq!(html_to_text("no tags"), "no tags");
        assert_eq!(html_to_text("a <unclosed"), "a");
    }

    #[test]
    fn folds_vietnamese_accents_and_d_stroke() {
        assert_eq!(fold("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold("ĐẶNG thị Hồng"), "dang thi hong");
    }

    #[test]
    fn precomposed_and_combining_input_fold_equal() {
        let precomposed = "Nguy\u{1EC5}n";
        let combining = "Nguye\u{302}\u{303}n";
        assert_eq!(fold(precomposed), fold(combining));
    }

    #[test]
    fn words_split_on_punctuation() {
        let w = words("Công ty TNHH Hoà-Bình, Q.1");
        assert_eq!(w, ["cong", "ty", "tnhh", "hoa", "binh", "q", "1"]);
    }

    #[test]
    fn phone_forms_share_one_key() {
        for form in [
            "0912345678",
            "0912 345 678",
            "+84912345678",
            "+84 912 345 678",
            "84912345678",
            "0084912345678",
            "(091) 234-5678",
            "912345678",
        ] {
            assert_eq!(
                canonical_phone(form).as_deref(),
                Some("0912345678"),
                "{form}"
            );
        }
    }

    #[test]
    fn old_mobile_prefixes_map_to_new() {
        assert_eq!(
            canonical_phone("01683456789").as_deref(),
            Some("0383456789")
        );
        assert_eq!(
            canonical_phone("+84 168 345 6789").as_deref(),
            Some("0383456789")
        );
        assert_eq!(
            canonical_phone("01203456789").as_deref(),
            Some("0703456789")
        );
    }

    #[test]
    fn rejects_non_phones() {
        assert!(canonical_phone("string").is_none());
        assert!(canonical_phone("123").is_none());
        assert!(canonical_phone("09x2345678").is_none());
    }

    #[test]
    fn email_is_case_insensitive_and_checked() {
        let e = Email::parse("email", " An.Nguyen@Gmail.COM ").expect("valid address");
        assert_eq!(e.as_str(), "An.Nguyen@Gmail.COM");
        assert_eq!(e.key(), "an.nguyen@gmail.com");
        assert!(Email::parse("email", "string").is_err());
        assert!(Email::parse("email", "a@b@c").is_err());
    }
}
