//! Pieces every record shares: who acts, audit fields, ownership, and field checks.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::ids::TenantId;

/// The caller of an operation: a tenant and the API client (or user) acting in it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub id: Uuid,
    pub name: String,
    /// The tenant's time zone, for vendors that send or expect local times.
    pub time_zone: Tz,
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
