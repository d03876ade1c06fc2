//! Database errors into domain errors: details are logged by the dialect, never sent.

use crm_domain::DomainError;

pub(crate) fn db_error(e: sqlx::Error) -> DomainError {
    DomainError::Internal(anyhow::Error::new(e).context("database"))
}
