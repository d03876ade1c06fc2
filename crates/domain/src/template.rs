//! Message templates (e-mail, Zalo/ZNS, SMS) with `{{placeholder}}` fields.

use crate::common::{code_or, required, Audit, SHORT};
use crate::error::{DomainError, DomainResult};
use crate::ids::TemplateId;
use crate::search::{TermSet, TextField};

/// Template kinds (our codes; the doc names the kinds but not their numbers).
pub const KIND_EMAIL: i32 = 1;
pub const KIND_ZALO: i32 = 2;
pub const KIND_SMS: i32 = 3;

/// Longest template content, in characters (an HTML e-mail can be long).
pub const MAX_CONTENT: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateData {
    pub kind: i32,
    pub name: String,
    pub content: String,
}

impl TemplateData {
    pub fn validate(self) -> DomainResult<Self> {
        let data = Self {
            kind: code_or("kind", Some(self.kind), KIND_EMAIL..=KIND_SMS, KIND_EMAIL)?,
            name: required("name", Some(self.name), SHORT)?,
            content: required("content", Some(self.content), MAX_CONTENT)?,
        };
        if data.content.matches("{{").count() != data.content.matches("}}").count() {
            return Err(DomainError::validation(
                "content",
                "has an unclosed {{placeholder}}",
            ));
        }
        Ok(data)
    }

    /// The distinct `{{name}}` placeholders of the content, in order of first use.
    pub fn placeholders(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut rest = self.content.as_str();
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            let name = after[..end].trim().to_owned();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
            rest = &after[end + 2..];
        }
        out
    }

    pub fn terms(&self) -> Vec<(TextField, String)> {
        TermSet::new()
            .words(TextField::Name, Some(&self.name))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: TemplateId,
    pub seq: i64,
    pub data: TemplateData,
    pub audit: Audit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_listed_once_in_order() {
        let t = TemplateData {
            kind: KIND_SMS,
            name: "Chúc mừng".into(),
            content: "Chào {{ten}}, đơn {{ma_don}} của {{ten}} đã giao".into(),
        };
        assert_eq!(t.placeholders(), vec!["ten", "ma_don"]);
    }
}
