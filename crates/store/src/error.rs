//! Database errors into domain errors: details are logged by the dialect, never sent.

use crm_domain::DomainError;

pub(crate) fn db_error(e: sqlx::Error) -> DomainError {
    DomainError::Internal(anyhow::Error::new(e).context("database"))
}

/// A unique-index violation as a conflict on `field`; anything else as [`db_error`].
pub(crate) fn unique(e: sqlx::Error, field: &'static str, message: &str) -> DomainError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return DomainError::conflict(Some(field), message);
        }
    }
    db_error(e)
}
