//! Marketing: the campaign sends with what each delivered, and the automations with what
//! their steps did lately.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use crm_domain::automation::StepState;
use crm_domain::console::Session;
use crm_domain::search::PageRequest;
use crm_domain::service::AUTOMATION_KIND;
use crm_domain::DomainError;

use crate::dashboard::{send_view, SendView};
use crate::i18n::{Lang, Texts};
use crate::pages::{session, when, Shell};
use crate::web::{page, problem};
use crate::Console;

/// Campaign sends and automations the page lists (the newest).
const SHOWN: u32 = 50;
/// Step runs of each automation its figures count (the newest).
const RECENT_RUNS: u32 = 200;

struct AutomationView {
    name: String,
    updated: String,
    done: usize,
    failed: usize,
    waiting: usize,
    /// The newest run's detail, if any.
    last: Option<String>,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    t: &'static Texts,
    shell: Shell,
    sends: Vec<SendView>,
    automations: Vec<AutomationView>,
    recent_runs: u32,
}

async fn campaigns_page(
    c: &Console,
    s: &Session,
    t: &'static Texts,
) -> Result<CampaignsPage, DomainError> {
    let actor = s.actor();
    let sends = c.crm.latest_blasts(&actor, SHOWN).await?;
    let definitions = c
        .crm
        .definitions(&actor, AUTOMATION_KIND, None, PageRequest::new(1, SHOWN)?)
        .await?;
    let mut automations = Vec::with_capacity(definitions.len());
    for d in definitions {
        let runs = c.crm.automation_runs(&actor, d.id, 1, RECENT_RUNS).await?;
        let count = |state| runs.iter().filter(|r| r.state == state).count();
        automations.push(AutomationView {
            done: count(StepState::Done),
            failed: count(StepState::Failed),
            waiting: count(StepState::Queued),
            last: runs.first().and_then(|r| r.detail.clone()),
            updated: when(d.updated_at, s),
            name: d.name,
        });
    }
    Ok(CampaignsPage {
        t,
        sends: sends.into_iter().map(|v| send_view(t, v)).collect(),
        automations,
        recent_runs: RECENT_RUNS,
        shell: Shell::of(s, "campaigns"),
    })
}

/// `/app/campaigns`.
pub(crate) async fn campaigns(State(c): State<Console>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match campaigns_page(&c, &s, lang.t()).await {
        Ok(p) => page(StatusCode::OK, p.render()),
        Err(e) => problem(lang, e),
    }
}
