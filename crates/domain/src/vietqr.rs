//! VietQR: the NAPAS 24/7 transfer QR that every Vietnamese banking app scans. The payload is
//! EMVCo's merchant-presented format: fields of two-digit id, two-digit length and value, in
//! this order: `00` format `01`, `01` initiation (`11` static, `12` with an amount), `38` the
//! receiving account (`00` NAPAS's id `A000000727`, `01` {`00` the bank's BIN, `01` the account
//! number}, `02` the service `QRIBFTTA`, transfer to an account), `53` currency `704` (VND),
//! `54` the amount in whole đồng, `58` country `VN`, `62` {`08` the purpose, which banks put in
//! the transfer note}, and `63` the CRC-16/CCITT-FALSE of everything before it, `6304`
//! included, as four upper-case hex digits.

use crate::error::{DomainError, DomainResult};

/// NAPAS's application id in field 38.
pub const NAPAS: &str = "A000000727";
/// Inter-bank fund transfer 24/7 to an account.
pub const TO_ACCOUNT: &str = "QRIBFTTA";
/// Longest purpose banks carry into the transfer note.
pub const MAX_PURPOSE: usize = 25;

/// A transfer to request: to whom, how much, what for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The receiving bank's six-digit NAPAS BIN (`970436` is Vietcombank).
    pub bin: String,
    /// The receiving account number (letters and digits, at most 19).
    pub account: String,
    /// Whole đồng; `None` lets the payer type the amount (a static code).
    pub amount: Option<u64>,
    /// The transfer note: ASCII letters, digits and spaces, at most [`MAX_PURPOSE`].
    pub purpose: Option<String>,
}

/// Checks a BIN: six digits.
pub fn check_bin(field: &str, bin: &str) -> DomainResult<()> {
    if bin.len() == 6 && bin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(DomainError::validation(
            field,
            "must be the bank's six-digit NAPAS BIN (e.g. 970436)",
        ))
    }
}

/// Checks an account number: 1 to 19 letters or digits.
pub fn check_account(field: &str, account: &str) -> DomainResult<()> {
    if (1..=19).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(DomainError::validation(
            field,
            "must be 1 to 19 letters or digits",
        ))
    }
}

/// A transfer note banks accept: diacritics dropped, only ASCII letters, digits and single
/// spaces kept, at most [`MAX_PURPOSE`] characters.
pub fn purpose(text: &str) -> String {
    let plain = crate::text::strip_diacritics(text);
    let mut out = String::new();
    for c in plain.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        if out.len() >= MAX_PURPOSE {
            break;
        }
    }
    out.truncate(MAX_PURPOSE);
    out.trim_end().to_owned()
}

fn field(out: &mut String, id: &str, value: &str) {
    out.push_str(id);
    out.push_str(&format!("{:02}", value.len()));
    out.push_str(value);
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final xor.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

impl Transfer {
    /// The payload to put in the QR code.
    pub fn payload(&self) -> DomainResult<String> {
        check_bin("bank_bin", &self.bin)?;
        check_account("bank_account", &self.account)?;
        let mut bank = String::new();
        field(&mut bank, "00", &self.bin);
        field(&mut bank, "01", &self.account);
        let mut merchant = String::new();
        field(&mut merchant, "00", NAPAS);
        field(&mut merchant, "01", &bank);
        field(&mut merchant, "02", TO_ACCOUNT);
        let mut out = String::new();
        field(&mut out, "00", "01");
        field(
            &mut out,
            "01",
            if self.amount.is_some() { "12" } else { "11" },
        );
        field(&mut out, "38", &merchant);
        field(&mut out, "53", "704");
        if let Some(amount) = self.amount {
            field(&mut out, "54", &amount.to_string());
        }
        field(&mut out, "58", "VN");
        if let Some(p) = self.purpose.as_deref().map(purpose) {
            if !p.is_empty() {
                let mut extra = String::new();
                field(&mut extra, "08", &p);
                field(&mut out, "62", &extra);
            }
        }
        out.push_str("6304");
        let crc = crc16(out.as_bytes());
        out.push_str(&format!("{crc:04X}"));
        Ok(out)
    }

    /// Reads a payload back, after checking its structure and CRC.
    pub fn parse(payload: &str) -> DomainResult<Self> {
        let bad = |why: &str| DomainError::validation("payload", why.to_owned());
        let body = payload
            .len()
            .checked_sub(4)
            .and_then(|n| payload.get(..n))
            .ok_or_else(|| bad("too short"))?;
        if !body.ends_with("6304") {
            return Err(bad("does not end with a CRC field"));
        }
        let crc = u16::from_str_radix(&payload[body.len()..], 16).map_err(|_| bad("bad CRC"))?;
        if crc != crc16(body.as_bytes()) {
            return Err(bad("the CRC does not match"));
        }
        let top = fields(body)?;
        let get = |id: &str| top.iter().find(|(k, _)| *k == id).map(|(_, v)| *v);
        if get("00") != Some("01") || get("53") != Some("704") || get("58") != Some("VN") {
            return Err(bad("not a VND payload of format 01 in VN"));
        }
        let merchant = fields(get("38").ok_or_else(|| bad("no account field 38"))?)?;
        let mget = |id: &str| merchant.iter().find(|(k, _)| *k == id).map(|(_, v)| *v);
        if mget("00") != Some(NAPAS) {
            return Err(bad("field 38 is not NAPAS's"));
        }
        let bank = fields(mget("01").ok_or_else(|| bad("no bank in field 38"))?)?;
        let bget = |id: &str| bank.iter().find(|(k, _)| *k == id).map(|(_, v)| *v);
        let amount = get("54")
            .map(|a| {
                a.parse::<u64>()
                    .map_err(|_| bad("the amount is not whole đồng"))
            })
            .transpose()?;
        let purpose = match get("62") {
            Some(extra) => fields(extra)?
                .iter()
                .find(|(k, _)| *k == "08")
                .map(|(_, v)| (*v).to_owned()),
            None => None,
        };
        Ok(Transfer {
            bin: bget("00").ok_or_else(|| bad("no BIN"))?.to_owned(),
            account: bget("01").ok_or_else(|| bad("no account"))?.to_owned(),
            amount,
            purpose,
        })
    }
}

/// Splits a run of `id len value` fields (the CRC field included, the CRC value excluded).
fn fields(s: &str) -> DomainResult<Vec<(&str, &str)>> {
    let bad = || DomainError::validation("payload", "a field is cut short");
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let id = rest.get(..2).ok_or_else(bad)?;
        if id == "63" && rest.len() == 4 {
            break;
        }
        let len: usize = rest
            .get(2..4)
            .and_then(|l| l.parse().ok())
            .ok_or_else(bad)?;
        let value = rest.get(4..4 + len).ok_or_else(bad)?;
        out.push((id, value));
        rest = &rest[4 + len..];
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_ccitt_false() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    /// The example published with subiz/vietqr: 120,000 đồng to VietinBank (970415) account
    /// 0011001932418, note "ủng hộ lũ lụt".
    const PUBLISHED: &str = "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN62170813ung ho lu lut6304C15C";

    #[test]
    fn builds_the_published_example() {
        let t = Transfer {
            bin: "970415".into(),
            account: "0011001932418".into(),
            amount: Some(120_000),
            purpose: Some("ủng hộ lũ lụt".into()),
        };
        assert_eq!(t.payload().unwrap(), PUBLISHED);
    }

    #[test]
    fn reads_the_published_example() {
        let t = Transfer::parse(PUBLISHED).unwrap();
        assert_eq!(t.bin, "970415");
        assert_eq!(t.account, "0011001932418");
        assert_eq!(t.amount, Some(120_000));
        assert_eq!(t.purpose.as_deref(), Some("ung ho lu lut"));
        let mut broken = PUBLISHED.to_owned();
        broken.replace_range(60..61, "9");
        assert!(Transfer::parse(&broken).is_err());
        assert!(Transfer::parse("6304").is_err());
        assert!(Transfer::parse("").is_err());
    }

    #[test]
    fn static_codes_and_round_trips() {
        let t = Transfer {
            bin: "970436".into(),
            account: "1234567890".into(),
            amount: None,
            purpose: None,
        };
        let p = t.payload().unwrap();
        assert!(p.starts_with("000201010211"));
        assert!(!p.contains("5406"));
        assert_eq!(Transfer::parse(&p).unwrap(), t);
        let t = Transfer {
            amount: Some(1_234_000),
            purpose: Some("DH-000123".into()),
            ..t
        };
        let back = Transfer::parse(&t.payload().unwrap()).unwrap();
        assert_eq!(back.amount, Some(1_234_000));
        assert_eq!(back.purpose.as_deref(), Some("DH 000123"));
    }

    #[test]
    fn purposes_are_plain_and_short() {
        assert_eq!(purpose("Thanh toán đơn HĐ-0001"), "Thanh toan don HD 0001");
        assert_eq!(purpose("  --  "), "");
        assert_eq!(purpose(&"x".repeat(40)).len(), MAX_PURPOSE);
        assert!(check_bin("b", "97043").is_err());
        assert!(check_bin("b", "970436").is_ok());
        assert!(check_account("a", "12 34").is_err());
        assert!(check_account("a", &"1".repeat(20)).is_err());
    }
}
