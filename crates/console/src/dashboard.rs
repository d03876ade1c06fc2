//! The dashboard: today's activities and tasks, this week's new leads and orders with their
//! revenue, and the last campaign sends with what they delivered.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Datelike, Days, NaiveTime, TimeZone, Utc};
use crm_domain::activity::Activity;
use crm_domain::campaign::BlastState;
use crm_domain::common::RecordKind;
use crm_domain::console::Session;
use crm_domain::lead::Lead;
use crm_domain::search::{Field, Filter, PageRequest};
use crm_domain::DomainResult;

use crate::customer::{channel_name, kind_name};
use crate::i18n::{Lang, Texts};
use crate::pages::{session, when, Shell};
use crate::web::{page, problem};
use crate::Console;

/// Activities, leads and campaign sends the dashboard lists at most, and how far it counts
/// today's activities and the week's leads (`hơn 1.000` past it).
const SHOWN: u32 = 8;
const COUNT_CAP: u64 = 1_000;

/// An activity of today.
struct TodayView {
    subject: String,
    kind: &'static str,
    at: String,
    /// The customer it is about, for a link.
    customer: Option<(uuid::Uuid, String)>,
}

/// A new lead.
struct LeadView {
    id: uuid::Uuid,
    name: String,
    created: String,
}

/// A campaign send and what it delivered.
pub(crate) struct SendView {
    pub(crate) name: String,
    pub(crate) channel: &'static str,
    pub(crate) state: &'static str,
    pub(crate) sent: i64,
    pub(crate) failed: i64,
    pub(crate) waiting: i64,
    pub(crate) skipped: i64,
}

pub(crate) fn send_view(t: &Texts, v: crm_domain::service::BlastView) -> SendView {
    SendView {
        channel: channel_name(t, v.blast.channel),
        state: state_name(t, v.blast.state),
        name: v.blast.name,
        sent: v.totals.sent,
        failed: v.totals.failed,
        waiting: v.totals.queued,
        skipped: v.totals.skipped,
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: &'static Texts,
    shell: Shell,
    today: Vec<TodayView>,
    today_total: String,
    leads: Vec<LeadView>,
    leads_total: String,
    orders: String,
    revenue: String,
    sends: Vec<SendView>,
}

/// Midnight at the start of today and of this week's Monday, in the tenant's zone, as instants.
fn day_and_week(s: &Session, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let tz = s.tenant.tz();
    let today = now.with_timezone(&tz).date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let midnight = |d: chrono::NaiveDate| {
        tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map_or(now, |t| t.with_timezone(&Utc))
    };
    (midnight(today), midnight(monday))
}

fn state_name(t: &Texts, s: BlastState) -> &'static str {
    match s {
        BlastState::Scheduled => t.send_scheduled,
        BlastState::Running => t.send_running,
        BlastState::Done => t.send_done,
        BlastState::Cancelled => t.send_cancelled,
    }
}

async fn build(c: &Console, s: &Session, t: &'static Texts) -> DomainResult<DashboardPage> {
    let actor = s.actor();
    let now = crm_domain::auth::now();
    let (today, week) = day_and_week(s, now);
    let tomorrow = today + chrono::Duration::days(1);
    let range = |field| Filter::Range {
        field,
        from: Some(today),
        to: Some(tomorrow - chrono::Duration::milliseconds(1)),
    };
    let activities = c
        .crm
        .search::<Activity>(
            &actor,
            &Filter::Any(vec![range(Field::StartTime), range(Field::DueDate)]),
            PageRequest::new(1, SHOWN)?.counting_up_to(COUNT_CAP),
        )
        .await?;
    let leads = c
        .crm
        .search::<Lead>(
            &actor,
            &Filter::Range {
                field: Field::CreatedAt,
                from: Some(week),
                to: None,
            },
            PageRequest::new(1, SHOWN)?.counting_up_to(COUNT_CAP),
        )
        .await?;
    let (orders, revenue) = c
        .crm
        .order_totals(&actor, week, week + chrono::Duration::days(7))
        .await?;
    let sends = c.crm.latest_blasts(&actor, SHOWN).await?;
    Ok(DashboardPage {
        t,
        today_total: crate::pages::counted(t, &activities),
        today: activities
            .items
            .into_iter()
            .map(|a| {
                let d = a.data;
                TodayView {
                    kind: kind_name(t, d.kind),
                    at: when(d.start_time.or(d.due_date).unwrap_or(now), s),
                    customer: d
                        .primary
                        .filter(|l| l.kind == RecordKind::Customer)
                        .map(|l| (l.id, l.name.unwrap_or_default())),
                    subject: d.subject,
                }
            })
            .collect(),
        leads_total: crate::pages::counted(t, &leads),
        leads: leads
            .items
            .into_iter()
            .map(|l| LeadView {
                id: l.id.0,
                created: when(l.audit.created_at, s),
                name: l.data.full_name,
            })
            .collect(),
        orders: crm_domain::money::grouped(orders),
        revenue: revenue.vnd(),
        sends: sends.into_iter().map(|v| send_view(t, v)).collect(),
        shell: Shell::of(s, "dashboard"),
    })
}

/// `/app/dashboard`, where signing in leads.
pub(crate) async fn dashboard(State(c): State<Console>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let s = match session(&c, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match build(&c, &s, lang.t()).await {
        Ok(p) => page(StatusCode::OK, p.render()),
        Err(e) => problem(lang, e),
    }
}
