//! Writing a sheet row by row, to `.csv` (UTF-8 with a BOM, so that Excel opens it with its
//! accents) or `.xlsx` (rust_xlsxwriter's constant-memory mode: each row goes to disk as it is
//! written). Money cells get the VND number format (`#,##0 ₫`), dates `dd/mm/yyyy`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};

use super::Format;
use crate::error::{DomainError, DomainResult};

/// One cell to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// An amount of dong.
    Money(f64),
    Date(NaiveDate),
    /// A local date and time.
    DateTime(NaiveDateTime),
    Empty,
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_owned())
    }
}

fn failed(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(anyhow::anyhow!("writing a sheet: {e}"))
}

/// A sheet being written.
pub enum SheetWriter {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Xlsx(Box<Xlsx>),
}

pub struct Xlsx {
    book: rust_xlsxwriter::Workbook,
    path: std::path::PathBuf,
    row: u32,
    money: rust_xlsxwriter::Format,
    date: rust_xlsxwriter::Format,
    datetime: rust_xlsxwriter::Format,
}

impl SheetWriter {
    /// A new sheet at `path` with its header row.
    pub fn create(path: &Path, format: Format, header: &[String]) -> DomainResult<Self> {
        match format {
            Format::Csv => {
                let mut file = BufWriter::new(File::create(path).map_err(failed)?);
                file.write_all("\u{feff}".as_bytes()).map_err(failed)?;
                let mut w = csv::WriterBuilder::new().flexible(true).from_writer(file);
                w.write_record(header).map_err(failed)?;
                Ok(SheetWriter::Csv(Box::new(w)))
            }
            Format::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                let bold = rust_xlsxwriter::Format::new().set_bold();
                let sheet = book.add_worksheet_with_constant_memory().map_err(failed)?;
                for (i, h) in header.iter().enumerate() {
                    let col = u16::try_from(i).map_err(failed)?;
                    sheet
                        .write_string_with_format(0, col, h, &bold)
                        .map_err(failed)?;
                    let width = (h.chars().count() as f64 + 4.0).clamp(12.0, 40.0);
                    sheet.set_column_width(col, width).map_err(failed)?;
                }
                sheet.set_freeze_panes(1, 0).map_err(failed)?;
                Ok(SheetWriter::Xlsx(Box::new(Xlsx {
                    book,
                    path: path.to_owned(),
                    row: 1,
                    money: rust_xlsxwriter::Format::new().set_num_format("#,##0 \"₫\""),
                    date: rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy"),
                    datetime: rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy hh:mm"),
                })))
            }
        }
    }

    pub fn row(&mut self, cells: &[Cell]) -> DomainResult<()> {
        match self {
            SheetWriter::Csv(w) => {
                let text: Vec<String> = cells
                    .iter()
                    .map(|c| match c {
                        Cell::Text(t) => t.clone(),
                        Cell::Number(n) | Cell::Money(n) => number_text(*n),
                        Cell::Date(d) => d.format("%d/%m/%Y").to_string(),
                        Cell::DateTime(t) => t.format("%d/%m/%Y %H:%M").to_string(),
                        Cell::Empty => String::new(),
                    })
                    .collect();
                w.write_record(&text).map_err(failed)
            }
            SheetWriter::Xlsx(x) => {
                let row = x.row;
                let sheet = x.book.worksheet_from_index(0).map_err(failed)?;
                for (i, c) in cells.iter().enumerate() {
                    let col = u16::try_from(i).map_err(failed)?;
                    match c {
                        Cell::Text(t) => sheet.write_string(row, col, t).map(|_| ()),
                        Cell::Number(n) => sheet.write_number(row, col, *n).map(|_| ()),
                        Cell::Money(n) => sheet
                            .write_number_with_format(row, col, *n, &x.money)
                            .map(|_| ()),
                        Cell::Date(d) => sheet
                            .write_datetime_with_format(row, col, d, &x.date)
                            .map(|_| ()),
                        Cell::DateTime(t) => sheet
                            .write_datetime_with_format(row, col, t, &x.datetime)
                            .map(|_| ()),
                        Cell::Empty => Ok(()),
                    }
                    .map_err(failed)?;
                }
                x.row += 1;
                Ok(())
            }
        }
    }

    pub fn finish(self) -> DomainResult<()> {
        match self {
            SheetWriter::Csv(mut w) => w.flush().map_err(failed),
            SheetWriter::Xlsx(mut x) => x.book.save(&x.path).map_err(failed),
        }
    }
}

/// A number as text: whole numbers without a fraction.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_xlsx_round_trip_through_staging() {
        let dir = std::env::temp_dir().join(format!("crm-write-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        for format in [Format::Csv, Format::Xlsx] {
            let path = dir.join(format!("out.{}", format.as_str()));
            let header: Vec<String> = ["Họ và tên", "Số điện thoại", "Công nợ", "Ngày sinh"]
                .map(str::to_owned)
                .to_vec();
            let mut w = SheetWriter::create(&path, format, &header).unwrap();
            w.row(&[
                "Nguyễn Văn Đức".into(),
                "0912345678".into(),
                Cell::Money(1_250_000.0),
                Cell::Date(NaiveDate::from_ymd_opt(1990, 3, 5).unwrap()),
            ])
            .unwrap();
            w.finish().unwrap();
            let rows = dir.join("rows.csv");
            let staged = super::super::stage::stage(
                super::super::Kind::Customers,
                format,
                &path,
                &rows,
                &Default::default(),
            )
            .unwrap();
            assert_eq!(staged.header, header, "{format:?}");
            let start = super::super::stage::first_row(&rows).unwrap();
            let (got, _) = super::super::stage::read_chunk(&rows, start, 10).unwrap();
            assert_eq!(
                got[0].1,
                ["Nguyễn Văn Đức", "0912345678", "1250000", "05/03/1990"],
                "{format:?}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
