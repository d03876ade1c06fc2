//! One staged row read as the fields of its kind: cells as people type them (dates
//! `dd/mm/yyyy`, phones in any notation, `Nam`/`Nữ`, `Cá nhân`/`Doanh nghiệp`, prices with
//! thousands separators). A cell that cannot be read fails its row, naming the column.

use chrono::NaiveDate;

use super::{RowFailure, MAX_CELL};
use crate::money::Money;
use crate::text::{Email, Phone};

/// A staged row with the columns it was mapped with.
pub struct Cells<'a> {
    pub number: i64,
    pub header: &'a [String],
    pub columns: &'a [Option<String>],
    pub cells: &'a [String],
    pub failures: Vec<RowFailure>,
}

impl<'a> Cells<'a> {
    pub fn new(
        number: i64,
        header: &'a [String],
        columns: &'a [Option<String>],
        cells: &'a [String],
    ) -> Self {
        let mut row = Self {
            number,
            header,
            columns,
            cells,
            failures: Vec::new(),
        };
        for (i, c) in cells.iter().enumerate() {
            if c.chars().count() > MAX_CELL {
                let column = header.get(i).cloned();
                row.failures.push(RowFailure {
                    row: number,
                    column,
                    reason: format!("longer than {MAX_CELL} characters"),
                });
            }
        }
        row
    }

    /// The column's header that holds `field`, or the field's name.
    pub fn column_of(&self, field: &str) -> String {
        self.columns
            .iter()
            .position(|c| c.as_deref() == Some(field))
            .and_then(|i| self.header.get(i).cloned())
            .unwrap_or_else(|| field.to_owned())
    }

    /// Records that the cell of `field` fails the row.
    pub fn fail(&mut self, field: &str, reason: impl Into<String>) {
        let column = Some(self.column_of(field));
        self.failures.push(RowFailure {
            row: self.number,
            column,
            reason: reason.into(),
        });
    }

    /// The non-empty text of `field`'s cell.
    pub fn text(&self, field: &str) -> Option<String> {
        let i = self
            .columns
            .iter()
            .position(|c| c.as_deref() == Some(field))?;
        self.cells
            .get(i)
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
    }

    /// Every `stock:<store>` column with a quantity: the store as the header names it.
    pub fn stock(&mut self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let fields: Vec<String> = self
            .columns
            .iter()
            .flatten()
            .filter(|f| f.starts_with("stock:"))
            .cloned()
            .collect();
        for f in fields {
            if let Some(q) = self.number_of(&f) {
                out.push((f["stock:".len()..].to_owned(), q));
            }
        }
        out
    }

    /// Every phone of the cell (several separated by `,` `;` `/` or a new line).
    pub fn phones(&mut self, field: &str) -> Vec<Phone> {
        let Some(text) = self.text(field) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for part in text.split([',', ';', '/', '\n']).map(str::trim) {
            if part.is_empty() {
                continue;
            }
            match Phone::parse(field, part) {
                Ok(p) => out.push(p),
                Err(_) => self.fail(field, format!("'{part}' is not a phone number")),
            }
        }
        out
    }

    pub fn email(&mut self, field: &str) -> Option<Email> {
        let text = self.text(field)?;
        match Email::parse(field, &text) {
            Ok(e) => Some(e),
            Err(_) => {
                self.fail(field, format!("'{text}' is not an e-mail address"));
                None
            }
        }
    }

    /// A day: `dd/mm/yyyy` (also `d/m/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy`) or `yyyy-mm-dd`.
    pub fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let text = self.text(field)?;
        let parsed = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d"]
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(&text, f).ok());
        if parsed.is_none() {
            self.fail(field, format!("'{text}' is not a date (dd/mm/yyyy)"));
        }
        parsed
    }

    /// A number as Vietnamese spreadsheets write it: `1.250.000`, `1,250,000`, `12,5`,
    /// `12.5`, `150.000 ₫`.
    pub fn number_of(&mut self, field: &str) -> Option<f64> {
        let text = self.text(field)?;
        let parsed = parse_number(&text);
        if parsed.is_none() {
            self.fail(field, format!("'{text}' is not a number"));
        }
        parsed
    }

    pub fn money(&mut self, field: &str) -> Option<Money> {
        let n = self.number_of(field)?;
        if n < 0.0 {
            self.fail(field, "must not be negative");
            return None;
        }
        Some(Money::from_f64(n))
    }

    /// `male`, `female` or `other` from `Nam`, `Nữ`, `Khác`, `M`, `F`, ….
    pub fn gender(&mut self, field: &str) -> Option<&'static str> {
        let text = self.text(field)?;
        let g = match crate::text::fold(&text).as_str() {
            "nam" | "male" | "m" | "anh" | "ong" => "male",
            "nu" | "female" | "f" | "chi" | "ba" => "female",
            "khac" | "other" | "o" => "other",
            _ => {
                self.fail(field, format!("'{text}' is not Nam, Nữ or Khác"));
                return None;
            }
        };
        Some(g)
    }
}

/// A number with `.` or `,` as thousands separators or as the decimal point (whichever the
/// text makes plain), a currency sign or `đ` allowed after it.
pub fn parse_number(text: &str) -> Option<f64> {
    let t: String = text
        .trim()
        .trim_end_matches(['₫', 'đ', 'd', 'Đ', 'D'])
        .trim_end_matches("VND")
        .trim_end_matches("vnd")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if t.is_empty() {
        return None;
    }
    let dots = t.matches('.').count();
    let commas = t.matches(',').count();
    let plain = match (dots, commas) {
        (0, 0) => t,
        // `1.250.000` or `1,250,000`: thousands.
        (d, 0) if d > 1 => t.replace('.', ""),
        (0, c) if c > 1 => t.replace(',', ""),
        // `1.250.000,5` / `1,250,000.5`: the last one is the point.
        (_, _) if dots > 0 && commas > 0 => {
            if t.rfind('.') > t.rfind(',') {
                t.replace(',', "")
            } else {
                t.replace('.', "").replace(',', ".")
            }
        }
        // One separator: thousands when three digits follow it (`150.000`), else the point.
        _ => {
            let sep = if dots == 1 { '.' } else { ',' };
            let after = t.rsplit(sep).next().unwrap_or_default();
            if after.len() == 3 {
                t.replace(sep, "")
            } else {
                t.replace(sep, ".")
            }
        }
    };
    plain.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Customer kind from `Cá nhân` / `Doanh nghiệp` (or 1 / 2, English).
pub fn customer_kind(text: &str) -> Option<i32> {
    match crate::text::fold(text).trim() {
        "1" | "ca nhan" | "individual" | "person" | "khach le" => Some(1),
        "2" | "doanh nghiep" | "cong ty" | "to chuc" | "organisation" | "organization"
        | "company" | "business" => Some(2),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_people_write_them() {
        for (t, n) in [
            ("1.250.000", 1_250_000.0),
            ("1,250,000", 1_250_000.0),
            ("150.000", 150_000.0),
            ("150.000 ₫", 150_000.0),
            ("12,5", 12.5),
            ("12.5", 12.5),
            ("1.250.000,50", 1_250_000.5),
            ("1,250,000.50", 1_250_000.5),
            ("24", 24.0),
        ] {
            assert_eq!(parse_number(t), Some(n), "{t}");
        }
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number(""), None);
    }

    #[test]
    fn cells_read_phones_dates_and_genders() {
        let header: Vec<String> = ["Tên", "SĐT", "Ngày sinh", "Giới tính"]
            .map(str::to_owned)
            .to_vec();
        let columns = ["name", "phone", "birthday", "gender"].map(|c| Some(c.to_owned()));
        let cells: Vec<String> = ["An", "0912 345 678; +84987654321", "05/03/1990", "Nữ"]
            .map(str::to_owned)
            .to_vec();
        let mut row = Cells::new(7, &header, &columns, &cells);
        assert_eq!(row.phones("phone").len(), 2);
        assert_eq!(row.date("birthday"), NaiveDate::from_ymd_opt(1990, 3, 5));
        assert_eq!(row.gender("gender"), Some("female"));
        assert!(row.failures.is_empty());
        let bad: Vec<String> = ["An", "12ab", "31/02/1990", "?"]
            .map(str::to_owned)
            .to_vec();
        let mut row = Cells::new(8, &header, &columns, &bad);
        row.phones("phone");
        row.date("birthday");
        row.gender("gender");
        let cols: Vec<_> = row
            .failures
            .iter()
            .map(|f| f.column.clone().unwrap())
            .collect();
        assert_eq!(cols, ["SĐT", "Ngày sinh", "Giới tính"]);
        assert!(row.failures.iter().all(|f| f.row == 8));
    }
}
