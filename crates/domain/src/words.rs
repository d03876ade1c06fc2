//! Amounts in Vietnamese words, as invoices write them ("Bằng chữ: Một triệu hai trăm ba mươi
//! tư nghìn đồng"): `linh` for a zero tens digit after hundreds, `mốt` for a one after twenty
//! and above, `tư` for a four after twenty and above, `lăm` for a five after any tens, `mười`
//! for ten to nineteen; groups of three digits named `nghìn`, `triệu`, `tỷ`, and beyond a
//! thousand billion `nghìn tỷ`, `triệu tỷ`…; a group inside the number reads its zero hundreds
//! (`một triệu không trăm linh năm nghìn`).

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

/// The words of one group of three digits (`n` < 1000). `full` reads zero hundreds (a group
/// that is not the number's first).
fn group(n: u64, full: bool) -> Vec<&'static str> {
    let (h, t, u) = (n / 100, (n / 10) % 10, n % 10);
    let mut w = Vec::new();
    if h > 0 || full {
        w.push(DIGITS[h as usize]);
        w.push("trăm");
    }
    match t {
        0 if u > 0 && (h > 0 || full) => w.push("linh"),
        0 => {}
        1 => w.push("mười"),
        _ => {
            w.push(DIGITS[t as usize]);
            w.push("mươi");
        }
    }
    match u {
        0 => {}
        1 if t >= 2 => w.push("mốt"),
        4 if t >= 2 => w.push("tư"),
        5 if t >= 1 => w.push("lăm"),
        _ => w.push(DIGITS[u as usize]),
    }
    w
}

/// `n` (below a billion) into `out`; `leading` when nothing is read before it.
fn below_billion(n: u64, leading: bool, out: &mut Vec<&'static str>) {
    let mut first = leading;
    for (value, name) in [
        (n / 1_000_000, Some("triệu")),
        ((n / 1_000) % 1_000, Some("nghìn")),
        (n % 1_000, None),
    ] {
        if value > 0 {
            out.extend(group(value, !first));
            out.extend(name);
            first = false;
        }
    }
}

/// `n` into `out`: the billions read as a number of their own, then `tỷ`, then the rest.
fn read(n: u64, leading: bool, out: &mut Vec<&'static str>) {
    const BILLION: u64 = 1_000_000_000;
    if n >= BILLION {
        read(n / BILLION, leading, out);
        out.push("tỷ");
        if !n.is_multiple_of(BILLION) {
            below_billion(n % BILLION, false, out);
        }
    } else {
        below_billion(n, leading, out);
    }
}

/// `n` in words, lower case (`một triệu hai trăm ba mươi tư nghìn`); `không` for zero.
pub fn number_in_words(n: u64) -> String {
    if n == 0 {
        return DIGITS[0].to_owned();
    }
    let mut words = Vec::new();
    read(n, true, &mut words);
    words.join(" ")
}

/// An amount of đồng in words as an invoice's "Bằng chữ" writes it: capitalised, with `đồng`
/// (`Một triệu hai trăm ba mươi tư nghìn đồng`).
pub fn dong_in_words(n: u64) -> String {
    let words = number_in_words(n);
    let mut chars = words.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{} đồng", chars.as_str())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn known_phrases() {
        for (n, words) in [
            (0, "không"),
            (1, "một"),
            (5, "năm"),
            (10, "mười"),
            (11, "mười một"),
            (14, "mười bốn"),
            (15, "mười lăm"),
            (20, "hai mươi"),
            (21, "hai mươi mốt"),
            (24, "hai mươi tư"),
            (25, "hai mươi lăm"),
            (55, "năm mươi lăm"),
            (100, "một trăm"),
            (101, "một trăm linh một"),
            (104, "một trăm linh bốn"),
            (105, "một trăm linh năm"),
            (110, "một trăm mười"),
            (115, "một trăm mười lăm"),
            (1_000, "một nghìn"),
            (1_005, "một nghìn không trăm linh năm"),
            (1_050, "một nghìn không trăm năm mươi"),
            (10_000, "mười nghìn"),
            (15_000, "mười lăm nghìn"),
            (21_000, "hai mươi mốt nghìn"),
            (100_000, "một trăm nghìn"),
            (1_000_000, "một triệu"),
            (1_005_000, "một triệu không trăm linh năm nghìn"),
            (1_234_000, "một triệu hai trăm ba mươi tư nghìn"),
            (1_234_567, "một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy"),
            (2_000_001, "hai triệu không trăm linh một"),
            (1_000_000_000, "một tỷ"),
            (1_000_000_001, "một tỷ không trăm linh một"),
            (
                12_345_678_901,
                "mười hai tỷ ba trăm bốn mươi lăm triệu sáu trăm bảy mươi tám nghìn chín trăm linh một",
            ),
            (1_000_000_000_000, "một nghìn tỷ"),
            (5_000_000_000_000, "năm nghìn tỷ"),
            (1_000_000_000_000_000, "một triệu tỷ"),
            (
                1_001_000_000_000,
                "một nghìn không trăm linh một tỷ",
            ),
            (
                999_999_999_999_999,
                "chín trăm chín mươi chín nghìn chín trăm chín mươi chín tỷ chín trăm chín mươi \
                 chín triệu chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
            ),
        ] {
            assert_eq!(number_in_words(n), words, "{n}");
        }
        assert_eq!(
            dong_in_words(1_234_000),
            "Một triệu hai trăm ba mươi tư nghìn đồng"
        );
        assert_eq!(dong_in_words(0), "Không đồng");
    }
}
