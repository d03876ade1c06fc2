//! Pieces every record shares: who acts, audit fields, ownership, and field checks.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;
use crate::money::Money;

/// The caller of an operation: a tenant and the API client (or user) acting in it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub id: Uuid,
    pub name: String,
    /// The tenant's account name (its slug): what VBot calls `vbot_id`.
    pub account: String,
    /// The tenant's time zone, for vendors that send or expect local times.
    pub time_zone: Tz,
}

/// The instant a local date-time of `tz` names: the earlier one when clocks fall back, `None`
/// inside a gap when they spring forward.
pub fn local_instant(tz: Tz, local: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The first instant of a day in `tz`.
pub fn day_start(tz: Tz, date: chrono::NaiveDate) -> Option<DateTime<Utc>> {
    local_instant(tz, date.and_time(chrono::NaiveTime::MIN))
}

impl Actor {
    /// Today's date in the tenant's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::auth::now()
            .with_timezone(&self.time_zone)
            .date_naive()
    }
}

/// Who created and last changed a record, and when (UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
    pub created_by_name: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
    pub updated_by_name: Option<String>,
}

/// The owner (a user) and organisational unit of a record. Names are display strings
/// the caller supplies with the ids; there is no user directory yet to check them against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ownership {
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub org_unit_id: Option<Uuid>,
    pub org_unit_name: Option<String>,
}

impl Ownership {
    pub fn validate(self) -> DomainResult<Self> {
        Ok(Self {
            owner_id: self.owner_id,
            owner_name: text("owner_name", self.owner_name, SHORT)?,
            org_unit_id: self.org_unit_id,
            org_unit_name: text("org_unit_name", self.org_unit_name, SHORT)?,
        })
    }
}

/// Length limit of names, codes, phones and similar fields (characters).
pub const SHORT: usize = 255;
/// Length limit of notes and addresses (characters).
pub const LONG: usize = 4000;

/// Trims an optional text; blank becomes `None`; longer than `max` characters is an error.
pub fn text(field: &str, value: Option<String>, max: usize) -> DomainResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max {
        return Err(DomainError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(Some(if trimmed.len() == value.len() {
        value
    } else {
        trimmed.to_owned()
    }))
}

/// Like [`text`], but the value must be present and not blank.
pub fn required(field: &str, value: Option<String>, max: usize) -> DomainResult<String> {
    text(field, value, max)?.ok_or_else(|| DomainError::validation(field, "is required"))
}

/// An optional integer code that must fall in `range` when present.
pub fn int_in(
    field: &str,
    value: Option<i32>,
    range: std::ops::RangeInclusive<i32>,
) -> DomainResult<Option<i32>> {
    match value {
        Some(v) if !range.contains(&v) => Err(DomainError::validation(
            field,
            format!("must be between {} and {}", range.start(), range.end()),
        )),
        v => Ok(v),
    }
}

/// Like [`int_in`], but absent (or 0, what .NET clients send for "unset") takes `default`.
pub fn code_or(
    field: &str,
    value: Option<i32>,
    range: std::ops::RangeInclusive<i32>,
    default: i32,
) -> DomainResult<i32> {
    Ok(int_in(field, value.filter(|v| *v != 0), range)?.unwrap_or(default))
}

/// A number that must be finite and not negative; absent reads as 0.
pub fn amount(field: &str, value: Option<f64>) -> DomainResult<f64> {
    number_in(field, value, 0.0, 1e15)
}

/// A finite number within `[min, max]`; absent reads as 0.
pub fn number_in(field: &str, value: Option<f64>, min: f64, max: f64) -> DomainResult<f64> {
    let v = value.unwrap_or(0.0);
    if !v.is_finite() || v < min || v > max {
        return Err(DomainError::validation(
            field,
            format!("must be a number between {min} and {max}"),
        ));
    }
    Ok(v)
}

/// An amount of money that must not be negative nor above [`crate::money::MAX_AMOUNT`].
pub fn money(field: &str, value: Money) -> DomainResult<Money> {
    if value.is_negative() || value > Money::from_i64(crate::money::MAX_AMOUNT) {
        return Err(DomainError::validation(
            field,
            format!(
                "must be a number between 0 and {}",
                crate::money::MAX_AMOUNT
            ),
        ));
    }
    Ok(value)
}

/// The kinds of record another record can point at (activity links, list members).
/// Codes are this server's choice; the vendors do not document theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Customer = 1,
    Contact = 2,
    Lead = 3,
    Opportunity = 4,
    Order = 5,
    Ticket = 6,
    Campaign = 7,
}

impl RecordKind {
    pub const ALL: [RecordKind; 7] = [
        RecordKind::Customer,
        RecordKind::Contact,
        RecordKind::Lead,
        RecordKind::Opportunity,
        RecordKind::Order,
        RecordKind::Ticket,
        RecordKind::Campaign,
    ];

    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(field: &str, code: i32) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == code)
            .ok_or_else(|| {
                DomainError::validation(
                    field,
                    format!(
                        "{code} is not a record type (1 customer, 2 contact, 3 lead, \
                         4 opportunity, 5 order, 6 ticket, 7 campaign)"
                    ),
                )
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Customer => "customer",
            RecordKind::Contact => "contact",
            RecordKind::Lead => "lead",
            RecordKind::Opportunity => "opportunity",
            RecordKind::Order => "order",
            RecordKind::Ticket => "ticket",
            RecordKind::Campaign => "campaign",
        }
    }
}

/// A pointer to another record of the tenant, with that record's display name.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub kind: RecordKind,
    pub id: Uuid,
    /// Filled from the linked record when the link is checked.
    pub name: Option<String>,
}

impl Link {
    /// A link from its wire parts: both type and id, or neither.
    pub fn parse(
        prefix: &str,
        kind: Option<i32>,
        id: Option<Uuid>,
        name: Option<String>,
    ) -> DomainResult<Option<Self>> {
        match (kind.filter(|k| *k != 0), id) {
            (_, None) => Ok(None),
            (None, Some(_)) => Err(DomainError::validation(
                format!("{prefix}_type"),
                "is required with an id",
            )),
            (Some(kind), Some(id)) => Ok(Some(Link {
                kind: RecordKind::from_code(&format!("{prefix}_type"), kind)?,
                id,
                name: text(&format!("{prefix}_name"), name, SHORT)?,
            })),
        }
    }
}
