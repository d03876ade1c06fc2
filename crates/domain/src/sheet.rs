//! Recipient lists as people keep them: a CSV file (UTF-8, with or without a BOM, `,` or `;`
//! separated) or an Excel workbook's first sheet, whose first row names the columns.

use std::io::Cursor;

use crate::error::{DomainError, DomainResult};

/// Most rows read from one file, and most columns per row.
pub const MAX_ROWS: usize = 100_000;
pub const MAX_COLUMNS: usize = 100;

/// A sheet's header and rows, every cell as text. The rows are kept compact (all cells in one
/// string, with where each cell and row ends): a 100,000-row list costs about its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub header: Vec<String>,
    text: String,
    cell_ends: Vec<u32>,
    row_ends: Vec<u32>,
}

impl Sheet {
    /// Rows below the header.
    pub fn len(&self) -> usize {
        self.row_ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_ends.is_empty()
    }

    /// Row `i`'s cells (none past the end).
    pub fn row(&self, i: usize) -> impl Iterator<Item = &str> + '_ {
        let cells = match i.checked_sub(1) {
            _ if i >= self.row_ends.len() => 0..0,
            None => 0..self.row_ends[0] as usize,
            Some(before) => self.row_ends[before] as usize..self.row_ends[i] as usize,
        };
        cells.map(move |c| {
            let start = c.checked_sub(1).map_or(0, |p| self.cell_ends[p] as usize);
            &self.text[start..self.cell_ends[c] as usize]
        })
    }

    /// Every row's cells.
    pub fn rows(&self) -> impl Iterator<Item = Vec<&str>> + '_ {
        (0..self.len()).map(|i| self.row(i).collect())
    }

    fn push<'a>(&mut self, cells: impl Iterator<Item = &'a str>) -> DomainResult<()> {
        let too_big = || bad("is too large");
        for cell in cells {
            self.text.push_str(cell);
            self.cell_ends
                .push(u32::try_from(self.text.len()).map_err(|_| too_big())?);
        }
        self.row_ends
            .push(u32::try_from(self.cell_ends.len()).map_err(|_| too_big())?);
        Ok(())
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.cell_ends.shrink_to_fit();
        self.row_ends.shrink_to_fit();
    }

    fn push_row<'a>(&mut self, i: usize, cells: impl Iterator<Item = &'a str>) -> DomainResult<()> {
        if i == 0 {
            self.header = cells.map(str::to_owned).collect();
        } else if self.len() < MAX_ROWS {
            self.push(cells)?;
        } else {
            return Err(bad(format!("has more than {MAX_ROWS} rows")));
        }
        Ok(())
    }
}

fn bad(message: impl Into<String>) -> DomainError {
    DomainError::validation("file", message)
}

/// Reads a CSV or Excel file by its name's extension.
pub fn read(name: &str, bytes: &[u8]) -> DomainResult<Sheet> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mut sheet = match ext.as_str() {
        "csv" | "txt" => csv_rows(bytes)?,
        "xlsx" | "xlsm" | "xls" | "ods" => workbook_rows(bytes)?,
        _ => return Err(bad("must be a .csv, .xlsx or .xls file")),
    };
    sheet.header = sheet.header.iter().map(|h| h.trim().to_owned()).collect();
    Ok(sheet)
}

/// Whether `bytes` read as a sheet, on a blocking thread; the bytes come back.
pub async fn check_blocking(name: String, bytes: Vec<u8>) -> (DomainResult<()>, Vec<u8>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let reading = tokio::task::spawn_blocking(move || {
        let read = read(&name, &bytes).map(drop);
        let _ = tx.send(bytes);
        read
    });
    let read = reading
        .await
        .map_err(|e| DomainError::Internal(e.into()))
        .and_then(|r| r);
    (read, rx.await.unwrap_or_default())
}

/// [`read`] on a blocking thread: a large sheet takes a while to read.
pub async fn read_blocking(name: String, bytes: Vec<u8>) -> DomainResult<Sheet> {
    tokio::task::spawn_blocking(move || read(&name, &bytes))
        .await
        .map_err(|e| DomainError::Internal(e.into()))?
}

fn csv_rows(bytes: &[u8]) -> DomainResult<Sheet> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| bad("a CSV file must be UTF-8"))?;
    let first = text.lines().next().unwrap_or_default();
    // Excel in a Vietnamese locale writes `;`.
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // Cells hold no more text than the file: one allocation, no regrowth.
    let mut sheet = Sheet {
        text: String::with_capacity(text.len()),
        ..Sheet::default()
    };
    let mut record = csv::StringRecord::new();
    for i in 0.. {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| bad(format!("is not readable CSV: {e}")))?;
        if !more {
            break;
        }
        sheet.push_row(i, record.iter().take(MAX_COLUMNS))?;
    }
    sheet.shrink();
    Ok(sheet)
}

/// Most bytes the parts of an Excel or OpenDocument file (a zip archive) may unpack to, and most
/// parts: a small file that unpacks to gigabytes (a zip bomb) is refused before it is read.
pub const MAX_UNPACKED: u64 = 128 * 1024 * 1024;
pub const MAX_PARTS: usize = 1_000;

/// Checks a zip-based workbook's declared sizes (its central directory) against the limits.
/// Reading keeps to them: the zip reader stops a part that unpacks past its declared size.
fn check_unpacked(bytes: &[u8]) -> DomainResult<()> {
    // Excel 97 (`.xls`) is not a zip archive; its size is the file's.
    if !bytes.starts_with(b"PK") {
        return Ok(());
    }
    check_archive(Cursor::new(bytes), MAX_UNPACKED)
}

/// Refuses a zip archive (a workbook) with more than [`MAX_PARTS`] parts, or whose parts
/// declare more than `max_unpacked` bytes in all, before any part is unpacked.
pub(crate) fn check_archive<R: std::io::Read + std::io::Seek>(
    reader: R,
    max_unpacked: u64,
) -> DomainResult<()> {
    let mut archive = zip::ZipArchive::new(reader)
        .map_err(|e| bad(format!("is not a readable workbook: {e}")))?;
    if archive.len() > MAX_PARTS {
        return Err(bad(format!("has more than {MAX_PARTS} parts")));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let part = archive
            .by_index_raw(i)
            .map_err(|e| bad(format!("is not a readable workbook: {e}")))?;
        total = total.saturating_add(part.size());
    }
    if total > max_unpacked {
        let mib = max_unpacked / (1024 * 1024);
        return Err(bad(if max_unpacked.is_multiple_of(1024 * 1024) {
            format!("unpacks to more than {mib} MiB")
        } else {
            format!("unpacks to more than {max_unpacked} bytes")
        }));
    }
    Ok(())
}

fn workbook_rows(bytes: &[u8]) -> DomainResult<Sheet> {
    use calamine::Reader;
    check_unpacked(bytes)?;
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| bad(format!("is not a readable workbook: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad("has no sheet"))?
        .map_err(|e| bad(format!("its first sheet is not readable: {e}")))?;
    let mut sheet = Sheet::default();
    for (i, cells) in range.rows().enumerate() {
        let row: Vec<String> = cells.iter().take(MAX_COLUMNS).map(cell_text).collect();
        sheet.push_row(i, row.iter().map(String::as_str))?;
    }
    sheet.shrink();
    Ok(sheet)
}

/// A cell as a person reads it: whole numbers without `.0` (a phone typed as a number loses
/// its leading 0 in Excel, which the phone parser puts back), dates as `dd/mm/yyyy`.
fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("{e:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_semicolons() {
        let s = read(
            "ds.csv",
            "\u{feff}Họ và tên;Số điện thoại\nNguyễn Văn Đức;0912345678\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(s.header, ["Họ và tên", "Số điện thoại"]);
        assert_eq!(
            s.rows().collect::<Vec<_>>(),
            [["Nguyễn Văn Đức", "0912345678"]]
        );
        let s = read("a.csv", b"name,phone\n\"Le, An\",0987654321\n,\nx\n").unwrap();
        assert_eq!(
            s.rows().collect::<Vec<_>>(),
            [vec!["Le, An", "0987654321"], vec!["", ""], vec!["x"]]
        );
        assert_eq!(s.row(3).count(), 0);
        assert!(read("a.pdf", b"x").is_err());
        assert!(read("a.xlsx", b"not a zip").is_err());
        assert!(read("a.csv", b"\xff\xfe").is_err());
    }

    /// A zip of `parts` stored parts of a few bytes each.
    fn archive(parts: usize) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for i in 0..parts {
            zip.start_file(format!("xl/part{i}.xml"), stored).unwrap();
            zip.write_all(b"<x/>").unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_bombs_are_refused_unread() {
        let e = read("many.xlsx", &archive(MAX_PARTS + 1)).unwrap_err();
        assert!(e.to_string().contains("parts"), "{e}");
        // One part declaring 2 GiB in the central directory (a bomb's deflated zeros would).
        let mut bomb = archive(1);
        let at = bomb.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bomb[at + 24..at + 28].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        let e = read("bomb.xlsx", &bomb).unwrap_err();
        assert!(
            e.to_string().contains("unpacks to more than 128 MiB"),
            "{e}"
        );
        // Within the limits, the archive is read (and is not a workbook).
        let e = read("small.xlsx", &archive(3)).unwrap_err();
        assert!(!e.to_string().contains("unpacks"), "{e}");
    }

    #[test]
    fn rows_and_columns_are_bounded() {
        let mut big = String::from("phone\n");
        big.push_str(&"0912345678\n".repeat(MAX_ROWS + 1));
        let e = read("big.csv", big.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("rows"), "{e}");
        let wide = (0..MAX_COLUMNS + 5)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let s = read("wide.csv", wide.as_bytes()).unwrap();
        assert_eq!(s.header.len(), MAX_COLUMNS);
    }
}
