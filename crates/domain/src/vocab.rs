//! Tenant-defined vocabularies, scoped to a project (VBot's `project_code`): customer statuses,
//! customer types and custom field definitions (VBot `field/*`, OMI's dynamic attributes).
//! Codes are unique in their project and can be renamed; records refer to entries by id.
//! Also the funnels (OMI "bộ trạng thái") customers are placed in.

use uuid::Uuid;

use crate::common::{required, text, Audit, LONG, SHORT};
use crate::customer::FieldValue;
use crate::error::{DomainError, DomainResult};
use crate::ids::VocabId;
use crate::search::{TermSet, TextField};
use crate::text::{Email, Phone};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VocabKind {
    Status = 1,
    Type = 2,
    Field = 4,
}

impl VocabKind {
    pub fn code(self) -> i32 {
        self as i32
    }
    pub fn from_code(code: i32) -> Option<Self> {
        [VocabKind::Status, VocabKind::Type, VocabKind::Field]
            .into_iter()
            .find(|k| k.code() == code)
    }
    pub fn name(self) -> &'static str {
        match self {
            VocabKind::Status => "customer status",
            VocabKind::Type => "customer type",
            VocabKind::Field => "customer information field",
        }
    }
}

/// Field types with a checked value; any other type name is kept and holds free text.
pub const FIELD_TYPES: [&str; 9] = [
    "single_text",
    "multi_text",
    "number",
    "date",
    "email",
    "phone",
    "radio",
    "checkbox",
    "customize",
];

#[derive(Debug, Clone, PartialEq)]
pub struct VocabData {
    pub project_id: Uuid,
    pub kind: VocabKind,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    /// Custom fields only; `single_text` when not given.
    pub field_type: Option<String>,
}

impl VocabData {
    pub fn validate(self) -> DomainResult<Self> {
        let field_type = match self.kind {
            VocabKind::Field => Some(
                text("field_type", self.field_type, SHORT)?
                    .map(|t| t.to_lowercase())
                    .unwrap_or_else(|| "single_text".to_owned()),
            ),
            _ => None,
        };
        Ok(Self {
            code: required("code", Some(self.code), SHORT)?,
            name: required("name", Some(self.name), SHORT)?,
            description: text("description", self.description, LONG)?,
            field_type,
            ..self
        })
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .finish()
    }

    /// Checks one value against the field's type.
    pub fn check_value(&self, field: &str, v: &FieldValue) -> DomainResult<()> {
        let data = v.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let bad = |what: &str| {
            Err(DomainError::validation(
                field,
                format!(
                    "'{data}' is not {what} (field {} is of type {})",
                    self.code,
                    self.field_type.as_deref().unwrap_or("")
                ),
            ))
        };
        match self.field_type.as_deref() {
            Some("number") if data.replace(',', ".").parse::<f64>().is_err() => bad("a number"),
            Some("date")
                if chrono::NaiveDate::parse_from_str(data, "%Y-%m-%d").is_err()
                    && chrono::DateTime::parse_from_rfc3339(data).is_err() =>
            {
                bad("a date (YYYY-MM-DD)")
            }
            Some("email") if Email::parse(field, data).is_err() => bad("an e-mail address"),
            Some("phone") if Phone::parse(field, data).is_err() => bad("a phone number"),
            Some("single_text") if data.contains('\n') => bad("a single line"),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    pub id: VocabId,
    pub seq: i64,
    pub data: VocabData,
    pub audit: Audit,
}

/// A funnel: level-1 stages, each with optional level-2 stages (by position).
#[derive(Debug, Clone, PartialEq)]
pub struct Funnel {
    pub id: Uuid,
    pub name: String,
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    pub children: Vec<String>,
}

impl Funnel {
    /// Checks a placement: the level-1 index exists, and the level-2 one under it.
    pub fn check(&self, index: i32, second: Option<i32>) -> DomainResult<()> {
        let stage = usize::try_from(index)
            .ok()
            .and_then(|i| self.stages.get(i))
            .ok_or_else(|| {
                DomainError::validation(
                    "funnels",
                    format!(
                        "funnel {} has no stage {index} (0-{})",
                        self.id,
                        self.stages.len().saturating_sub(1)
                    ),
                )
            })?;
        if let Some(s) = second {
            if usize::try_from(s)
                .ok()
                .and_then(|i| stage.children.get(i))
                .is_none()
            {
                return Err(DomainError::validation(
                    "funnels",
                    format!("stage {index} of funnel {} has no sub-stage {s}", self.id),
                ));
            }
        }
        Ok(())
    }
}

/// Validates a funnel definition given on the command line or an admin call.
pub fn funnel(name: &str, stages: Vec<Stage>) -> DomainResult<(String, Vec<Stage>)> {
    let name = required("name", Some(name.to_owned()), SHORT)?;
    if stages.is_empty() {
        return Err(DomainError::validation(
            "stages",
            "a funnel needs at least one stage",
        ));
    }
    for s in &stages {
        required("stages", Some(s.name.clone()), SHORT)?;
        for c in &s.children {
            required("stages", Some(c.clone()), SHORT)?;
        }
    }
    Ok((name, stages))
}

/// A web form: leads sent with its key (`X-Client-Key`) land in its tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Webform {
    pub id: crate::ids::WebformId,
    pub tenant_id: crate::ids::TenantId,
    pub name: String,
    pub key: String,
    /// The fields the form collects, in order.
    pub fields: Vec<String>,
}

/// What a web form may collect (seed 003, `send-webform-v2`).
pub const WEBFORM_FIELDS: [&str; 9] = [
    "name",
    "sex",
    "mobile",
    "email",
    "website",
    "address",
    "description",
    "body",
    "url",
];

/// A stored definition kept as the vendor sent it (NextX automations, SMS and e-mail
/// campaigns): a kind, a name for search, and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub id: crate::ids::DefinitionId,
    pub kind: String,
    pub name: String,
    /// The body as JSON text.
    pub body: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub created_by_name: Option<String>,
}
