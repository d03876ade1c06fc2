//! Which column holds what: a header cell is folded (accents, case and punctuation dropped:
//! `Số điện thoại (*)` reads `so dien thoai`) and looked up among the names Vietnamese and
//! English spreadsheets and the four vendors' exports give each field. `docs/import-export.md`
//! lists them.

use std::collections::BTreeMap;

use super::Kind;
use crate::error::{DomainError, DomainResult};

/// A field and the folded headers that name it.
type Names = (&'static str, &'static [&'static str]);

const NAME: &[&str] = &[
    "ho va ten",
    "ho ten",
    "ten",
    "name",
    "full name",
    "fullname",
    "ten day du",
    "ten khach hang",
    "ten kh",
    "khach hang",
    "customer name",
    "customer_name",
    "ten lien he",
    "nguoi lien he",
    "contact name",
    "ten dau moi",
];
const PHONE: &[&str] = &[
    "so dien thoai",
    "dien thoai",
    "sdt",
    "so dt",
    "dt",
    "di dong",
    "so di dong",
    "dtdd",
    "phone",
    "phones",
    "mobile",
    "phone number",
    "tel",
    "customer_phones",
    "customer phones",
];
const EMAIL: &[&str] = &[
    "email",
    "e mail",
    "emails",
    "mail",
    "thu dien tu",
    "dia chi email",
    "customer_email",
    "customer email",
];
const ADDRESS: &[&str] = &["dia chi", "address", "customer_address", "customer address"];
const BIRTHDAY: &[&str] = &["ngay sinh", "sinh nhat", "birthday", "date of birth", "dob"];
const GENDER: &[&str] = &["gioi tinh", "gender", "sex"];
const NOTE: &[&str] = &[
    "ghi chu",
    "note",
    "notes",
    "mo ta",
    "description",
    "noi dung",
];
const WEBSITE: &[&str] = &["website", "web", "trang web"];
const POSITION: &[&str] = &[
    "chuc vu",
    "chuc danh",
    "nghe nghiep",
    "position",
    "job title",
    "jobtitle",
    "title",
];

const CUSTOMERS: &[Names] = &[
    (
        "code",
        &[
            "ma kh",
            "ma khach hang",
            "ma khach",
            "ma",
            "code",
            "customer code",
            "customer_no",
            "customer no",
        ],
    ),
    ("name", NAME),
    ("phone", PHONE),
    ("email", EMAIL),
    ("address", ADDRESS),
    (
        "group",
        &[
            "nhom khach hang",
            "nhom kh",
            "nhom",
            "group",
            "customer group",
            "group name",
            "groupname",
            "customer_group_name",
            "customer group name",
        ],
    ),
    ("birthday", BIRTHDAY),
    ("gender", GENDER),
    (
        "tax_code",
        &[
            "ma so thue",
            "mst",
            "tax code",
            "taxcode",
            "tax_number",
            "tax number",
        ],
    ),
    ("website", WEBSITE),
    ("note", NOTE),
    (
        "kind",
        &[
            "loai khach hang",
            "loai kh",
            "loai",
            "type",
            "kieu khach hang",
        ],
    ),
    ("job_title", POSITION),
];

const CONTACTS: &[Names] = &[
    ("code", &["ma lien he", "ma", "code", "contact code"]),
    ("name", NAME),
    (
        "customer",
        &[
            "cong ty",
            "ten cong ty",
            "khach hang cong ty",
            "ma kh",
            "ma khach hang",
            "customer",
            "company",
            "account",
        ],
    ),
    ("position", POSITION),
    ("department", &["phong ban", "bo phan", "department"]),
    ("phone", PHONE),
    ("email", EMAIL),
    ("gender", GENDER),
    ("birthday", BIRTHDAY),
    ("address", ADDRESS),
    ("note", NOTE),
];

const LEADS: &[Names] = &[
    ("name", NAME),
    ("phone", PHONE),
    ("email", EMAIL),
    (
        "company",
        &[
            "cong ty",
            "ten cong ty",
            "doanh nghiep",
            "company",
            "company name",
            "to chuc",
        ],
    ),
    ("position", POSITION),
    ("address", ADDRESS),
    ("website", WEBSITE),
    ("birthday", BIRTHDAY),
    ("gender", GENDER),
    (
        "source",
        &["nguon", "nguon khach hang", "source", "lead source"],
    ),
    ("note", NOTE),
];

const PRODUCTS: &[Names] = &[
    (
        "code",
        &[
            "ma hang",
            "ma hang hoa",
            "ma san pham",
            "ma sp",
            "ma",
            "sku",
            "code",
            "product code",
        ],
    ),
    (
        "name",
        &[
            "ten hang",
            "ten hang hoa",
            "ten san pham",
            "ten sp",
            "ten",
            "name",
            "product name",
        ],
    ),
    ("unit", &["don vi tinh", "dvt", "don vi", "unit"]),
    (
        "price",
        &[
            "gia ban",
            "gia ban le",
            "gia",
            "don gia",
            "price",
            "sell price",
            "retail price",
        ],
    ),
    (
        "purchase_price",
        &["gia nhap", "gia von", "purchase price", "cost"],
    ),
    (
        "units",
        &["don vi quy doi", "quy doi", "other units", "sub units"],
    ),
    (
        "category",
        &[
            "nhom hang",
            "danh muc",
            "loai hang",
            "category",
            "nhom san pham",
        ],
    ),
    ("description", &["mo ta", "ghi chu", "description", "note"]),
];

/// Header prefixes that name a store's opening stock: `Tồn kho: Kho Quận 1` (the rest names
/// the store). A plain `Tồn kho` is the first store's.
const STOCK: &[&str] = &["ton kho", "ton dau ky", "ton dau", "so luong ton", "stock"];

/// The fields of a kind and their names.
fn names(kind: Kind) -> &'static [Names] {
    match kind {
        Kind::Customers => CUSTOMERS,
        Kind::Contacts => CONTACTS,
        Kind::Leads => LEADS,
        Kind::Products => PRODUCTS,
        Kind::Orders | Kind::Messages => &[],
    }
}

/// The fields a kind's file may have (for the docs and for a mapping file's check).
pub fn fields(kind: Kind) -> Vec<&'static str> {
    names(kind).iter().map(|(f, _)| *f).collect()
}

/// A header cell folded for lookup: accents and case dropped, every run of punctuation a
/// space (`Số ĐT (*)` → `so dt`).
pub fn fold_header(header: &str) -> String {
    let folded = crate::text::fold(header);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_owned()
}

/// The field a header names, if any: an exact name, or a store's stock column
/// (`stock:<store>`, products only).
pub fn field_of(kind: Kind, header: &str) -> Option<String> {
    let h = fold_header(header);
    if h.is_empty() {
        return None;
    }
    if let Some((field, _)) = names(kind).iter().find(|(_, ns)| ns.contains(&h.as_str())) {
        return Some((*field).to_owned());
    }
    if kind == Kind::Products {
        for prefix in STOCK {
            if let Some(rest) = h.strip_prefix(prefix) {
                let store = rest.trim();
                // The store as the header writes it, accents kept: `Tồn kho: Kho Quận 1`.
                let original = header
                    .split_once([':', '-', '('])
                    .map(|(_, s)| s.trim_end_matches(')').trim())
                    .filter(|_| !store.is_empty())
                    .unwrap_or(store);
                return Some(format!("stock:{original}"));
            }
        }
    }
    None
}

/// Maps a header row: each column's field (`None`: not imported), with the user's explicit
/// `mapping` (header → field) first. Refuses a header that names no field of the kind, or one
/// field twice, or a mapping to a field the kind does not have.
pub fn map_header(
    kind: Kind,
    header: &[String],
    mapping: &BTreeMap<String, String>,
) -> DomainResult<Vec<Option<String>>> {
    let known = fields(kind);
    let explicit: BTreeMap<String, &String> =
        mapping.iter().map(|(h, f)| (fold_header(h), f)).collect();
    for f in mapping.values() {
        if !known.contains(&f.as_str()) && !f.starts_with("stock:") && !f.is_empty() {
            return Err(DomainError::validation(
                "mapping",
                format!(
                    "'{f}' is not a field of {} ({})",
                    kind.as_str(),
                    known.join(", ")
                ),
            ));
        }
    }
    let mut out = Vec::with_capacity(header.len());
    let mut seen = std::collections::HashSet::new();
    for h in header {
        let field = match explicit.get(&fold_header(h)) {
            Some(f) if f.is_empty() => None,
            Some(f) => Some((*f).clone()),
            None => field_of(kind, h),
        };
        // A second column naming a field already taken is not imported (the first wins).
        let field = field.filter(|f| seen.insert(f.clone()));
        out.push(field);
    }
    let required = match kind {
        Kind::Products => "name",
        _ => "name",
    };
    if !out.iter().flatten().any(|f| f == required) {
        return Err(DomainError::validation(
            "file",
            format!(
                "no column holds the {} name (a header such as 'Họ và tên', 'Tên khách hàng', \
                 'Tên hàng' or 'Name'; or give a mapping)",
                match kind {
                    Kind::Products => "product's",
                    _ => "person's",
                }
            ),
        ));
    }
    Ok(out)
}

/// How many cells of a row name a field of the kind: the header row is the first that names
/// at least two.
pub fn recognised(kind: Kind, row: &[String]) -> usize {
    row.iter().filter(|c| field_of(kind, c).is_some()).count()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_english_and_vendor_headers() {
        let h: Vec<String> = [
            "Mã KH",
            "Họ và tên (*)",
            "Số điện thoại",
            "E-mail",
            "Địa chỉ",
            "Nhóm khách hàng",
            "Ngày sinh",
            "customer_phones",
            "Cột lạ",
        ]
        .map(str::to_owned)
        .to_vec();
        let m = map_header(Kind::Customers, &h, &BTreeMap::new()).unwrap();
        assert_eq!(
            m,
            [
                Some("code"),
                Some("name"),
                Some("phone"),
                Some("email"),
                Some("address"),
                Some("group"),
                Some("birthday"),
                None, // a second phone column: the first wins
                None,
            ]
            .map(|f| f.map(str::to_owned))
            .to_vec()
        );
        assert_eq!(
            field_of(Kind::Products, "Tồn kho: Kho Quận 1").as_deref(),
            Some("stock:Kho Quận 1")
        );
        assert_eq!(
            field_of(Kind::Products, "Tồn kho").as_deref(),
            Some("stock:")
        );
        assert_eq!(
            field_of(Kind::Customers, "Di động").as_deref(),
            Some("phone")
        );
        assert_eq!(
            field_of(Kind::Customers, "Tên khách hàng").as_deref(),
            Some("name")
        );
    }

    #[test]
    fn a_mapping_wins_and_is_checked() {
        let h: Vec<String> = ["Cột A", "Cột B"].map(str::to_owned).to_vec();
        let mapping = BTreeMap::from([
            ("Cột A".to_owned(), "name".to_owned()),
            ("cot b".to_owned(), "phone".to_owned()),
        ]);
        let m = map_header(Kind::Customers, &h, &mapping).unwrap();
        assert_eq!(m, vec![Some("name".to_owned()), Some("phone".to_owned())]);
        let bad = BTreeMap::from([("Cột A".to_owned(), "salary".to_owned())]);
        assert!(map_header(Kind::Customers, &h, &bad).is_err());
        assert!(map_header(Kind::Customers, &h, &BTreeMap::new()).is_err());
    }
}
