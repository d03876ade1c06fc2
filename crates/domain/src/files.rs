//! Files uploaded with a record (ticket attachments, recipient lists): type checks by
//! content, and the store they are kept in.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::ids::FileId;

/// What a file belongs to; deleting the owner removes its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileOwner {
    Ticket = 1,
    Comment = 2,
    EmailCampaign = 3,
    ZaloCampaign = 4,
}

impl FileOwner {
    pub fn code(self) -> i16 {
        self as i16
    }
}

/// A stored file's description.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    pub id: FileId,
    pub owner_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

/// A file as received, checked by [`Upload::check`].
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
    /// Set by the check, from the content.
    pub content_type: String,
}

/// The kinds of file accepted: extensions, the MIME type, and how the content must start.
const KINDS: &[(&[&str], &str, Sniff)] = &[
    (&["png"], "image/png", Sniff::Prefix(b"\x89PNG\r\n\x1a\n")),
    (
        &["jpg", "jpeg"],
        "image/jpeg",
        Sniff::Prefix(b"\xff\xd8\xff"),
    ),
    (&["gif"], "image/gif", Sniff::Prefix(b"GIF8")),
    (&["webp"], "image/webp", Sniff::Webp),
    (&["pdf"], "application/pdf", Sniff::Prefix(b"%PDF-")),
    (
        &["xlsx"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Sniff::Prefix(b"PK\x03\x04"),
    ),
    (
        &["docx"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Sniff::Prefix(b"PK\x03\x04"),
    ),
    (
        &["xls"],
        "application/vnd.ms-excel",
        Sniff::Prefix(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    ),
    (
        &["doc"],
        "application/msword",
        Sniff::Prefix(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    ),
    (&["zip"], "application/zip", Sniff::Prefix(b"PK\x03\x04")),
    (&["csv"], "text/csv; charset=utf-8", Sniff::Text),
    (&["txt"], "text/plain; charset=utf-8", Sniff::Text),
];

#[derive(Debug, Clone, Copy)]
enum Sniff {
    Prefix(&'static [u8]),
    Webp,
    Text,
}

impl Sniff {
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Sniff::Prefix(p) => bytes.starts_with(p),
            Sniff::Webp => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
            Sniff::Text => !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok(),
        }
    }
}

/// The extensions accepted, for messages.
pub fn accepted() -> String {
    KINDS
        .iter()
        .flat_map(|(exts, _, _)| exts.iter().copied())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Upload {
    /// Checks the name, the size and that the content is what the extension says; fills in
    /// the content type. `field` names the form field in errors.
    pub fn check(name: &str, bytes: Vec<u8>, max: usize, field: &str) -> DomainResult<Self> {
        let name = name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if name.is_empty() || name.chars().count() > 255 {
            return Err(DomainError::validation(
                field,
                "needs a file name of 1-255 characters",
            ));
        }
        if bytes.is_empty() {
            return Err(DomainError::validation(field, format!("'{name}' is empty")));
        }
        if bytes.len() > max {
            return Err(DomainError::validation(
                field,
                format!("'{name}' is larger than {max} bytes"),
            ));
        }
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let Some((_, mime, sniff)) = KINDS
            .iter()
            .find(|(exts, _, _)| exts.contains(&ext.as_str()))
        else {
            return Err(DomainError::validation(
                field,
                format!(
                    "'{name}': only these file types are accepted: {}",
                    accepted()
                ),
            ));
        };
        if !sniff.matches(&bytes) {
            return Err(DomainError::validation(
                field,
                format!("'{name}' is not a valid .{ext} file"),
            ));
        }
        Ok(Self {
            name,
            bytes,
            content_type: (*mime).to_owned(),
        })
    }
}

/// The `Content-Disposition` value that downloads a file as `name` (accents kept for clients that read
/// `filename*`, replaced for those that do not).
pub fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_must_match_the_extension() {
        assert!(Upload::check("a.png", b"\x89PNG\r\n\x1a\nrest".to_vec(), 100, "f").is_ok());
        assert!(Upload::check("a.png", b"MZ\x90\x00".to_vec(), 100, "f").is_err());
        assert!(Upload::check("a.exe", b"MZ".to_vec(), 100, "f").is_err());
        assert!(Upload::check("ds.csv", "tên,sđt\nAn,0912".as_bytes().to_vec(), 100, "f").is_ok());
        assert!(Upload::check("big.txt", vec![b'a'; 101], 100, "f").is_err());
        let u = Upload::check("C:\\x\\Báo giá.pdf", b"%PDF-1.7".to_vec(), 100, "f").expect("ok");
        assert_eq!(u.name, "Báo giá.pdf");
        assert_eq!(u.content_type, "application/pdf");
    }
}
