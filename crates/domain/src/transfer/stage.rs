//! Staging an import: the uploaded file read once, streaming, into plain rows.
//!
//! A CSV is UTF-8 (with or without a BOM) or, when it is not valid UTF-8, Windows-1258 (what
//! older Vietnamese Excel writes); its separator is the one of `,` `;` or a tab that the first
//! line uses most. A workbook's first sheet is read cell by cell (never whole). Text is
//! normalised to NFC (Windows-1258 writes tones as combining marks). Empty rows are dropped;
//! the header is the row among the first twenty that names the most fields of the kind, its
//! merged cells filled from where each merge starts. The staged file is a UTF-8 CSV: the header
//! as found, then each row preceded by its number in the original file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek};
use std::path::Path;

use unicode_normalization::UnicodeNormalization;

use super::columns::{fold_header, map_header, recognised};
use super::{Format, Kind, MAX_COLUMNS, MAX_ROWS};
use crate::error::{DomainError, DomainResult};

/// Rows looked at for the header.
const HEADER_SEARCH: usize = 20;
/// Most bytes a workbook's parts may unpack to (its sheet is streamed, not held).
pub const MAX_UNPACKED: u64 = 4 * 1024 * 1024 * 1024;

/// Staged rows: each its number in the original file and its cells.
pub type StagedRows = Vec<(i64, Vec<String>)>;

/// What staging found.
#[derive(Debug, Clone, PartialEq)]
pub struct Staged {
    pub header: Vec<String>,
    pub columns: Vec<Option<String>>,
    pub rows: i64,
}

fn bad(message: impl Into<String>) -> DomainError {
    DomainError::validation("file", message)
}

fn io(e: std::io::Error) -> DomainError {
    DomainError::Internal(anyhow::anyhow!("staging an import: {e}"))
}

/// How much a staged file may hold.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_rows: i64,
    /// Bytes a workbook's parts may unpack to, as its central directory declares them.
    pub max_unpacked: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            max_rows: MAX_ROWS,
            max_unpacked: MAX_UNPACKED,
        }
    }
}

/// Reads `source` and writes its rows to `out` (see the module's doc). Blocking.
pub fn stage(
    kind: Kind,
    format: Format,
    source: &Path,
    out: &Path,
    mapping: &BTreeMap<String, String>,
) -> DomainResult<Staged> {
    stage_within(kind, format, source, out, mapping, Bounds::default())
}

/// [`stage`] within other bounds.
pub fn stage_within(
    kind: Kind,
    format: Format,
    source: &Path,
    out: &Path,
    mapping: &BTreeMap<String, String>,
    bounds: Bounds,
) -> DomainResult<Staged> {
    // A file of its own per run: a run cut off may still be writing while its retry stages.
    let tmp = out.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
    let staged = (|| {
        let mut sink = Sink::new(kind, mapping, &tmp, bounds.max_rows)?;
        match format {
            Format::Csv => read_csv(source, &mut sink)?,
            Format::Xlsx => read_xlsx(source, &mut sink, bounds.max_unpacked)?,
        }
        sink.finish()
    })();
    match staged {
        Ok(staged) => {
            std::fs::rename(&tmp, out).map_err(io)?;
            Ok(staged)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Where rows go: held until the header is found, then written.
struct Sink<'a> {
    kind: Kind,
    mapping: &'a BTreeMap<String, String>,
    /// The first rows, before the header is known: (row number, cells).
    early: Vec<(i64, Vec<String>)>,
    header: Option<(Vec<String>, Vec<Option<String>>)>,
    out: csv::Writer<BufWriter<File>>,
    rows: i64,
    max_rows: i64,
}

impl<'a> Sink<'a> {
    fn new(
        kind: Kind,
        mapping: &'a BTreeMap<String, String>,
        path: &Path,
        max_rows: i64,
    ) -> DomainResult<Self> {
        let file = File::create(path).map_err(io)?;
        Ok(Self {
            kind,
            mapping,
            early: Vec::new(),
            header: None,
            out: csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(BufWriter::new(file)),
            rows: 0,
            max_rows,
        })
    }

    /// One row of the original (`number` is 1-based, as a spreadsheet shows it).
    fn row(&mut self, number: i64, cells: Vec<String>) -> DomainResult<()> {
        let mut cells: Vec<String> = cells
            .into_iter()
            .take(MAX_COLUMNS + 1)
            .map(|c| c.trim().nfc().collect())
            .collect();
        if cells.len() > MAX_COLUMNS {
            return Err(bad(format!(
                "row {number} has more than {MAX_COLUMNS} columns"
            )));
        }
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.is_empty() {
            return Ok(());
        }
        if self.header.is_some() {
            return self.write(number, cells);
        }
        self.early.push((number, cells));
        if self.early.len() >= HEADER_SEARCH {
            self.choose_header()?;
        }
        Ok(())
    }

    fn write(&mut self, number: i64, cells: Vec<String>) -> DomainResult<()> {
        self.rows += 1;
        if self.rows > self.max_rows {
            return Err(bad(format!("has more than {} rows", self.max_rows)));
        }
        let mut record = Vec::with_capacity(cells.len() + 1);
        record.push(number.to_string());
        record.extend(cells);
        self.out
            .write_record(&record)
            .map_err(|e| io(std::io::Error::other(e)))
    }

    /// The header is the early row naming the most fields (the first of equals); the rows
    /// after it are data.
    fn choose_header(&mut self) -> DomainResult<()> {
        let mapped: std::collections::HashSet<String> =
            self.mapping.keys().map(|h| fold_header(h)).collect();
        let best = self
            .early
            .iter()
            .enumerate()
            .map(|(i, (_, cells))| {
                let named = cells
                    .iter()
                    .filter(|c| mapped.contains(&fold_header(c)))
                    .count();
                (recognised(self.kind, cells) + named, i)
            })
            .filter(|(n, _)| *n > 0)
            .max_by_key(|(n, i)| (*n, std::cmp::Reverse(*i)));
        let Some((_, at)) = best else {
            return Err(bad(
                "has no header row naming its columns (such as 'Họ và tên', 'Số điện thoại', \
                 'Email') among its first 20 rows",
            ));
        };
        let early = std::mem::take(&mut self.early);
        let header = early[at].1.clone();
        let columns = map_header(self.kind, &header, self.mapping)?;
        self.out
            .write_record(&header)
            .map_err(|e| io(std::io::Error::other(e)))?;
        self.header = Some((header, columns));
        for (number, cells) in early.into_iter().skip(at + 1) {
            self.write(number, cells)?;
        }
        Ok(())
    }

    fn finish(mut self) -> DomainResult<Staged> {
        if self.header.is_none() {
            self.choose_header()?;
        }
        self.out.flush().map_err(|e| io(std::io::Error::other(e)))?;
        let (header, columns) = self.header.take().unwrap_or_default();
        Ok(Staged {
            header,
            columns,
            rows: self.rows,
        })
    }
}

/// Whether the whole file is valid UTF-8 (read in pieces).
fn is_utf8(path: &Path) -> DomainResult<bool> {
    let mut file = BufReader::new(File::open(path).map_err(io)?);
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Ok(carry.is_empty());
        }
        carry.extend_from_slice(&buf[..n]);
        match std::str::from_utf8(&carry) {
            Ok(_) => carry.clear(),
            Err(e) if e.error_len().is_none() => {
                // A sequence cut by the buffer's end: kept for the next piece.
                carry.drain(..e.valid_up_to());
            }
            Err(_) => return Ok(false),
        }
    }
}

/// A reader decoding Windows-1258 to UTF-8 as it goes.
struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    text: String,
    at: usize,
    done: bool,
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.text.len() && !self.done {
            self.text.clear();
            self.at = 0;
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            self.text.reserve(n * 3 + 16);
            let _ = self
                .decoder
                .decode_to_string(&self.raw[..n], &mut self.text, last);
            self.done = last;
        }
        let rest = &self.text.as_bytes()[self.at..];
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

/// The separator the first line uses most, outside quotes.
fn separator(path: &Path) -> DomainResult<u8> {
    let mut head = Vec::with_capacity(8192);
    File::open(path)
        .map_err(io)?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(io)?;
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in &head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                for (sep, n) in counts.iter_mut() {
                    if *sep == b {
                        *n += 1;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(s, _)| *s))
}

fn read_csv(path: &Path, sink: &mut Sink) -> DomainResult<()> {
    let sep = separator(path)?;
    let file = BufReader::new(File::open(path).map_err(io)?);
    let reader: Box<dyn Read> = if is_utf8(path)? {
        Box::new(file)
    } else {
        Box::new(Decoding {
            inner: file,
            decoder: encoding_rs::WINDOWS_1258.new_decoder_without_bom_handling(),
            raw: vec![0u8; 64 * 1024],
            text: String::new(),
            at: 0,
            done: false,
        })
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sep)
        .from_reader(reader);
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let number = record.position().map_or(0, |p| p.line() as i64);
                let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
                if first {
                    if let Some(c) = cells.first_mut() {
                        *c = c.trim_start_matches('\u{feff}').to_owned();
                    }
                    first = false;
                }
                sink.row(number, cells)?;
            }
            Err(e) => return Err(bad(format!("is not a readable CSV file: {e}"))),
        }
    }
}

fn read_xlsx(path: &Path, sink: &mut Sink, max_unpacked: u64) -> DomainResult<()> {
    use calamine::{DataRef, Reader, Xlsx};
    crate::sheet::check_archive(BufReader::new(File::open(path).map_err(io)?), max_unpacked)?;
    let unreadable = |e: calamine::XlsxError| bad(format!("is not a readable workbook: {e}"));
    let mut book: Xlsx<_> =
        Xlsx::new(BufReader::new(File::open(path).map_err(io)?)).map_err(unreadable)?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad("has no sheet"))?;
    let merges = book.merge_cells_by_sheet_name(&name).map_err(unreadable)?;
    let mut cells = book.worksheet_cells_reader(&name).map_err(unreadable)?;
    let mut row: Vec<String> = Vec::new();
    let mut at: Option<u32> = None;
    // The first rows as read, to fill merged header cells from where their merge starts.
    let mut first_rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut flush = |index: u32, row: Vec<String>, first_rows: &mut BTreeMap<u32, Vec<String>>| {
        let mut row = row;
        if (index as usize) < HEADER_SEARCH * 4 {
            fill_merged(index, &mut row, &merges, first_rows);
            first_rows.insert(index, row.clone());
        }
        sink.row(i64::from(index) + 1, row)
    };
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (r, c) = cell.get_position();
        if at != Some(r) {
            if let Some(prev) = at {
                flush(prev, std::mem::take(&mut row), &mut first_rows)?;
            }
            at = Some(r);
        }
        let c = c as usize;
        if c > MAX_COLUMNS {
            continue;
        }
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = match cell.get_value() {
            DataRef::Empty => String::new(),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
            DataRef::SharedString(s) => (*s).to_owned(),
            DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            DataRef::Float(f) => f.to_string(),
            DataRef::Int(i) => i.to_string(),
            DataRef::Bool(b) => b.to_string(),
            DataRef::DateTime(d) => d
                .as_datetime()
                .map(|t| t.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            DataRef::Error(_) => String::new(),
        };
    }
    if let Some(prev) = at {
        flush(prev, row, &mut first_rows)?;
    }
    Ok(())
}

/// Gives each empty cell of a row that lies in a merged region the value where the region
/// starts (a header whose cell is merged down or across).
fn fill_merged(
    index: u32,
    row: &mut Vec<String>,
    merges: &[calamine::Dimensions],
    earlier: &BTreeMap<u32, Vec<String>>,
) {
    for m in merges
        .iter()
        .filter(|m| m.start.0 <= index && index <= m.end.0)
    {
        let (r0, c0) = m.start;
        let value = if r0 == index {
            row.get(c0 as usize).cloned()
        } else {
            earlier.get(&r0).and_then(|r| r.get(c0 as usize)).cloned()
        };
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        for c in m.start.1..=m.end.1.min(MAX_COLUMNS as u32) {
            let c = c as usize;
            if row.len() <= c {
                row.resize(c + 1, String::new());
            }
            if row[c].is_empty() {
                row[c] = value.clone();
            }
        }
    }
}

/// Reads the staged rows from byte `at`: up to `limit` of them, each its original row number
/// and cells; answers them and the offset after the last. Blocking.
pub fn read_chunk(rows: &Path, at: u64, limit: usize) -> DomainResult<(StagedRows, u64)> {
    let mut file = File::open(rows).map_err(io)?;
    file.seek(std::io::SeekFrom::Start(at)).map_err(io)?;
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut out = Vec::with_capacity(limit);
    let mut record = csv::StringRecord::new();
    let mut end = at;
    while out.len() < limit {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                end = at + csv.position().byte();
                let mut cells = record.iter();
                let number = cells.next().and_then(|n| n.parse().ok()).unwrap_or(0);
                out.push((number, cells.map(str::to_owned).collect()));
            }
            Err(e) => return Err(io(std::io::Error::other(e))),
        }
    }
    Ok((out, end))
}

/// The byte offset after the staged file's header row.
pub fn first_row(rows: &Path) -> DomainResult<u64> {
    let (_, end) = read_chunk(rows, 0, 1)?;
    Ok(end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn staged(name: &str, bytes: &[u8]) -> (Staged, Vec<(i64, Vec<String>)>) {
        let dir = tempdir();
        let src = dir.join(name);
        std::fs::write(&src, bytes).unwrap();
        let out = dir.join("rows.csv");
        let format = Format::of_name(name).unwrap();
        let s = stage(Kind::Customers, format, &src, &out, &BTreeMap::new()).unwrap();
        let start = first_row(&out).unwrap();
        let (rows, _) = read_chunk(&out, start, 100).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        (s, rows)
    }

    fn tempdir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("crm-stage-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn utf8_bom_semicolons_and_empty_rows() {
        let text = "\u{feff}Họ và tên;Số điện thoại\n\n;\nNguyễn Văn Đức;0912345678\n";
        let (s, rows) = staged("a.csv", text.as_bytes());
        assert_eq!(s.header, ["Họ và tên", "Số điện thoại"]);
        assert_eq!(s.rows, 1);
        assert_eq!(
            rows,
            vec![(4, vec!["Nguyễn Văn Đức".into(), "0912345678".into()])]
        );
    }

    /// Text as Windows-1258 writes Vietnamese: letters with their shape precomposed (â, ư,
    /// ơ…), tones as combining marks after them.
    pub(crate) fn windows_1258(text: &str) -> Vec<u8> {
        let tones = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];
        let mut form = String::new();
        for c in text.chars() {
            let d: String = c.nfd().collect();
            let base: String = d.chars().filter(|c| !tones.contains(c)).nfc().collect();
            form.push_str(&base);
            form.extend(d.chars().filter(|c| tones.contains(c)));
        }
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&form);
        assert!(!unmappable, "{form}");
        bytes.into_owned()
    }

    #[test]
    fn windows_1258_is_detected_and_normalised() {
        let bytes = windows_1258("Họ và tên,Địa chỉ\nNguyễn Văn Đức,Hà Nội\n");
        assert!(std::str::from_utf8(&bytes).is_err());
        let (_, rows) = staged("b.csv", &bytes);
        assert_eq!(rows[0].1, ["Nguyễn Văn Đức", "Hà Nội"]);
        // NFC: the same characters as typed in UTF-8.
        assert_eq!(rows[0].1[0], "Nguyễn Văn Đức".nfc().collect::<String>());
    }

    #[test]
    fn the_header_is_found_below_a_title() {
        let text = "DANH SÁCH KHÁCH HÀNG,,\nNgày xuất: 01/12/2026,,\nMã KH,Họ và tên,Email\nKH1,An,an@x.vn\n";
        let (s, rows) = staged("c.csv", text.as_bytes());
        assert_eq!(s.header[1], "Họ và tên");
        assert_eq!(s.columns[2].as_deref(), Some("email"));
        assert_eq!(rows[0].0, 4);
    }

    #[test]
    fn rows_parts_and_unpacked_sizes_are_bounded() {
        use std::io::Write;
        let dir = tempdir();
        let small = Bounds {
            max_rows: 3,
            max_unpacked: 1_000,
        };
        let src = dir.join("a.csv");
        std::fs::write(&src, "Họ và tên\nA\nB\nC\nD\n").unwrap();
        let e = stage_within(
            Kind::Customers,
            Format::Csv,
            &src,
            &dir.join("r.csv"),
            &BTreeMap::new(),
            small,
        );
        assert!(e.unwrap_err().to_string().contains("more than 3 rows"));
        // A workbook whose parts declare more than the bound: refused before it is read.
        let zip = |parts: usize, size: usize| {
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            let o = zip::write::SimpleFileOptions::default();
            for i in 0..parts {
                z.start_file(format!("xl/p{i}.xml"), o).unwrap();
                z.write_all(&vec![b'x'; size]).unwrap();
            }
            z.finish().unwrap().into_inner()
        };
        let src = dir.join("b.xlsx");
        std::fs::write(&src, zip(2, 800)).unwrap();
        let e = stage_within(
            Kind::Customers,
            Format::Xlsx,
            &src,
            &dir.join("r.csv"),
            &BTreeMap::new(),
            small,
        );
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("unpacks to more than 1000 bytes"));
        std::fs::write(&src, zip(crate::sheet::MAX_PARTS + 1, 1)).unwrap();
        let e = stage(
            Kind::Customers,
            Format::Xlsx,
            &src,
            &dir.join("r.csv"),
            &BTreeMap::new(),
        );
        assert!(e.unwrap_err().to_string().contains("parts"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_without_a_header_is_refused() {
        let dir = tempdir();
        let src = dir.join("d.csv");
        std::fs::write(&src, "x,y\n1,2\n").unwrap();
        let e = stage(
            Kind::Customers,
            Format::Csv,
            &src,
            &dir.join("r.csv"),
            &BTreeMap::new(),
        );
        assert!(e.unwrap_err().to_string().contains("header"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
