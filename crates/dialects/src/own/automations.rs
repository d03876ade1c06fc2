//! What automations ran: `GET /crm/v1/automations/{id}/runs` lists the steps their runs
//! reached, newest first (NextX documents no history for automations). See
//! `docs/automations.md`.

use axum::extract::{Path, State};
use axum::routing::MethodFilter as M;
use axum::Json;
use chrono::{DateTime, Utc};
use crm_domain::automation::StepRun;
use crm_domain::ids::DefinitionId;
use crm_domain::search::PageRequest;
use crm_domain::DomainError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Caller, Listed, OwnError, OwnQuery};
use crate::openapi::{int, Api, Op};
use crate::AppState;

pub(super) fn routes(api: Api<'_>) -> Api<'_> {
    api.route::<(), Listed<StepOut>, _, _>(
        M::GET,
        "/crm/v1/automations/{id}/runs",
        Op::bearer(
            "Automations",
            "The steps an automation's runs reached, newest first",
        )
        .int_id()
        .query(&[int("page"), int("size")]),
        runs,
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    page: Option<u32>,
    size: Option<u32>,
}

/// A step a run reached.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct StepOut {
    id: Uuid,
    automation_id: i64,
    /// The run: its record and the period it entered in (`lead:12/once`).
    run: String,
    record: String,
    step: i64,
    state: &'static str,
    detail: Option<String>,
    message_id: Option<Uuid>,
    due_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&StepRun> for StepOut {
    fn from(s: &StepRun) -> Self {
        Self {
            id: s.id,
            automation_id: s.automation_id,
            run: s.run_key.clone(),
            record: s.record.clone(),
            step: s.step,
            state: s.state.as_str(),
            detail: s.detail.clone(),
            message_id: s.message_id,
            due_at: s.due_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

async fn runs(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    OwnQuery(q): OwnQuery<RunsQuery>,
) -> Result<Json<Listed<StepOut>>, OwnError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or(DomainError::not_found("automation"))?;
    let page = PageRequest::new(q.page.unwrap_or(1), q.size.unwrap_or(50))?;
    let found = s
        .crm
        .automation_runs(&actor, DefinitionId(id), page.number, page.size)
        .await?;
    Ok(Json(Listed {
        data: found.iter().map(StepOut::from).collect(),
    }))
}
