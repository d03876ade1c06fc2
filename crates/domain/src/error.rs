//! The one error type of the domain; every dialect maps it onto its vendor's envelope.

/// What went wrong, in terms a dialect can translate into its own envelope and status.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The addressed record does not exist in the caller's tenant (or was deleted).
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// The request conflicts with existing state (duplicate code, already converted, in use).
    #[error("{message}")]
    Conflict {
        field: Option<&'static str>,
        message: String,
    },
    /// A delete refused because other records still refer to the record.
    #[error("{message}")]
    InUse {
        field: Option<&'static str>,
        message: String,
    },
    /// Input that fails a rule. `field` uses the domain's snake_case field name.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// Credentials or token rejected; deliberately carries no detail.
    #[error("unauthorized")]
    Unauthorized,
    /// The caller is known but its scope does not allow this (HTTP 403): a read-only API
    /// client's write, a dialect outside its scope.
    #[error("{message}")]
    Forbidden { message: String },
    /// Refused for now, to protect the server: too many attempts from this caller (`busy` false,
    /// HTTP 429) or no capacity left (`busy` true, HTTP 503). Try again after `retry_after` s.
    #[error("{message}")]
    Throttled {
        retry_after: u64,
        busy: bool,
        message: String,
    },
    /// Anything unexpected; logged, never shown to clients.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: Option<&'static str>, message: impl Into<String>) -> Self {
        Self::Conflict {
            field,
            message: message.into(),
        }
    }

    pub fn in_use(field: Option<&'static str>, message: impl Into<String>) -> Self {
        Self::InUse {
            field,
            message: message.into(),
        }
    }

    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound { entity }
    }

    /// Renames a validation error's field (a dialect's wire name for the domain's); `rename`
    /// returns `None` to keep it.
    pub fn map_field(self, rename: impl FnOnce(&str) -> Option<String>) -> Self {
        match self {
            Self::Validation { field, message } => Self::Validation {
                field: rename(&field).unwrap_or(field),
                message,
            },
            other => other,
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
