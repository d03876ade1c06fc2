//! Money: an exact decimal amount, never a binary float.
//!
//! **The rounding rule, stated once.** An amount holds at most two decimal places. Every
//! amount that is made (read from the wire or from storage) or computed (a quantity times a
//! price, a percentage of an amount) is rounded to two places at once, half away from zero,
//! as Vietnamese invoices round. VND has no minor unit, so in practice amounts are whole
//! đồng; the two places are kept for prices a vendor's API sends with a fraction.
//!
//! Sums of rounded amounts are exact, so a document's total is the sum of its printed lines.
//! On the wire and in storage an amount is a JSON/SQL number; every amount up to 10^13 with
//! two places, and every whole amount up to 9 × 10^15, survives that round trip unchanged.

use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

/// An amount of money in the tenant's currency (VND).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

/// The largest amount any input may carry.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// What a number too large or not finite turns into before validation rejects it.
const OUT_OF_RANGE: Decimal = Decimal::from_parts(0, 0, 1 << 24, false, 0);

fn round(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A quantity or rate as a decimal; what cannot be represented reads as out of range.
fn decimal(v: f64) -> Decimal {
    if v.is_finite() {
        Decimal::from_f64(v).unwrap_or(if v < 0.0 { -OUT_OF_RANGE } else { OUT_OF_RANGE })
    } else {
        OUT_OF_RANGE
    }
}

/// `1234567` → `1.234.567`: thousands grouped with dots, as Vietnamese writes numbers.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    // The first group holds what is left over from the threes.
    let first = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    out.push_str(&digits[..first]);
    for group in digits.as_bytes()[first..].chunks(3) {
        out.push('.');
        out.extend(group.iter().map(|&b| char::from(b)));
    }
    out
}

impl Money {
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// An amount from a wire or stored number, rounded to two places. A number beyond any
    /// decimal's range (or not finite) becomes one far above [`MAX_AMOUNT`], which
    /// validation then refuses.
    pub fn from_f64(v: f64) -> Self {
        Self(round(decimal(v)))
    }

    /// A whole number of đồng.
    pub fn from_i64(v: i64) -> Self {
        Self(Decimal::from(v))
    }

    /// The amount as a wire or stored number.
    pub fn to_f64(self) -> f64 {
        self.0.to_f64().unwrap_or(0.0)
    }

    /// The exact decimal.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// `quantity` times this amount, rounded.
    pub fn times(self, quantity: f64) -> Self {
        Self(round(self.0.saturating_mul(decimal(quantity))))
    }

    /// `rate` percent of this amount, rounded.
    pub fn percent(self, rate: f64) -> Self {
        Self(round(
            self.0.saturating_mul(decimal(rate)) / Decimal::ONE_HUNDRED,
        ))
    }

    /// This amount divided by `quantity` (0 for a zero quantity), rounded.
    pub fn per(self, quantity: f64) -> Self {
        let q = decimal(quantity);
        if q.is_zero() {
            return Self::ZERO;
        }
        Self(round(self.0.checked_div(q).unwrap_or(OUT_OF_RANGE)))
    }

    /// `1234567.5` → `1.234.567,5 ₫`: Vietnamese grouping, a decimal comma, the đồng sign.
    pub fn vnd(self) -> String {
        let negative = self.is_negative();
        let cents = (self.0.abs() * Decimal::ONE_HUNDRED)
            .round()
            .to_u64()
            .unwrap_or(u64::MAX);
        let (whole, frac) = (cents / 100, cents % 100);
        let grouped = grouped(whole);
        let frac = match frac {
            0 => String::new(),
            f if f % 10 == 0 => format!(",{}", f / 10),
            f => format!(",{f:02}"),
        };
        format!("{}{grouped}{frac} ₫", if negative { "-" } else { "" })
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn min(self, other: Self) -> Self {
        std::cmp::min(self, other)
    }

    pub fn max(self, other: Self) -> Self {
        std::cmp::max(self, other)
    }
}

impl Add for Money {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Money {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl Neg for Money {
    type Output = Self;
    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.normalize().fmt(f)
    }
}

/// On the wire an amount is a JSON number, as every vendor writes it.
/// On the wire a sum is a JSON number (`12500.5`).
impl schemars::JsonSchema for Money {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "number"})
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Self::from_f64)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_grouped_by_thousands() {
        for (n, want) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1_000, "1.000"),
            (12_345, "12.345"),
            (1_234_567, "1.234.567"),
        ] {
            assert_eq!(grouped(n), want);
        }
    }

    use super::*;

    #[test]
    fn rounds_half_away_from_zero_to_two_places() {
        assert_eq!(Money::from_f64(0.125).to_string(), "0.13");
        assert_eq!(Money::from_f64(-0.125).to_string(), "-0.13");
        assert_eq!(Money::from_f64(12_500.0).to_string(), "12500");
        assert_eq!(Money::from_i64(10_000).percent(10.0).to_string(), "1000");
        assert_eq!(Money::from_i64(10).per(3.0).to_string(), "3.33");
    }

    #[test]
    fn sums_are_exact_where_floats_are_not() {
        let tenth = Money::from_f64(0.1);
        let sum: Money = std::iter::repeat_n(tenth, 10).sum();
        assert_eq!(sum, Money::from_i64(1));
        assert_eq!(
            Money::from_f64(0.1) + Money::from_f64(0.2),
            Money::from_f64(0.3)
        );
    }

    #[test]
    fn large_amounts_survive_the_round_trip() {
        for v in [
            9_999_999_999_999.99,
            1e15,
            9_007_199_254_740_000.0,
            1_234_567.5,
        ] {
            assert_eq!(Money::from_f64(v).to_f64(), v);
        }
    }

    #[test]
    fn out_of_range_numbers_stay_out_of_range() {
        let big = Money::from_f64(1e300);
        assert!(big > Money::from_i64(MAX_AMOUNT));
        assert!(Money::from_f64(f64::NAN) > Money::from_i64(MAX_AMOUNT));
        assert!(Money::from_f64(-1e300).is_negative());
        assert_eq!(big.times(1e300), Money::from_f64(1e300).times(1e300));
    }

    #[test]
    fn quantity_times_price() {
        assert_eq!(Money::from_i64(19_990).times(3.0), Money::from_i64(59_970));
        assert_eq!(Money::from_f64(0.05).times(0.5).to_string(), "0.03");
    }
}
