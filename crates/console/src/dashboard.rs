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
use crm_domain::ids::TenantId;
use crm_domain::lead::Lead;
use crm_domain::money::Money;
use crm_domain::search::{Field, Filter, PageRequest};
use crm_domain::DomainResult;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::customer::{channel_name, kind_name};
use crate::i18n::{Lang, Texts};
use crate::pages::{session, when, Shell};
use crate::web::{page, problem};
use crate::Console;

/// Activities, leads and campaign sends the dashboard lists at most, and how far it counts
/// today's activities and the week's leads (`hơn 1.000` past it).
const SHOWN: u32 = 8;
const COUNT_CAP: u64 = 1_000;

/// How long the week's order figures are shown before they are summed again.
const FIGURES_FOR: std::time::Duration = std::time::Duration::from_secs(10);
/// Tenants whose figures are kept at most (past it the stale ones go, then all).
const FIGURES_KEPT: usize = 10_000;

/// The week's order count and revenue per tenant, kept [`FIGURES_FOR`]: summing a busy week's
/// orders (50,000 in the benchmark) is the dashboard's one read that grows with the data, and a
/// dashboard's figure a few seconds old is what staff expect; the lists stay live.
#[derive(Clone, Default)]
pub struct Figures(Arc<Mutex<HashMap<Key, Kept>>>);

/// A tenant and the start of its week.
type Key = (TenantId, DateTime<Utc>);

/// When the figures were summed, the orders and their revenue.
type Kept = (Instant, u64, Money);

impl Figures {
    fn fresh(&self, key: &Key, now: Instant) -> Option<(u64, Money)> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(key)
            .filter(|(at, _, _)| now.saturating_duration_since(*at) < FIGURES_FOR)
            .map(|(_, n, m)| (*n, *m))
    }

    fn keep(&self, key: Key, orders: u64, revenue: Money, now: Instant) {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= FIGURES_KEPT {
            kept.retain(|_, (at, _, _)| now.saturating_duration_since(*at) < FIGURES_FOR);
            if kept.len() >= FIGURES_KEPT {
                kept.clear();
            }
        }
        kept.insert(key, (now, orders, revenue));
    }
}

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
    let key = (actor.tenant_id, week);
    let (orders, revenue) = match c.figures.fresh(&key, Instant::now()) {
        Some(f) => f,
        None => {
            let (orders, revenue) = c
                .crm
                .order_totals(&actor, week, week + chrono::Duration::days(7))
                .await?;
            c.figures.keep(key, orders, revenue, Instant::now());
            (orders, revenue)
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_kept_ten_seconds_for_ten_thousand_tenants_at_most() {
        let figures = Figures::default();
        let t0 = Instant::now();
        let week = Utc::now();
        let shop = (TenantId::new(), week);
        figures.keep(shop, 3, Money::default(), t0);
        assert_eq!(
            figures.fresh(&shop, t0 + std::time::Duration::from_secs(9)),
            Some((3, Money::default()))
        );
        assert_eq!(figures.fresh(&shop, t0 + FIGURES_FOR), None);
        assert_eq!(
            figures.fresh(&(TenantId::new(), week), t0),
            None,
            "another tenant"
        );
        assert_eq!(
            figures.fresh(&(shop.0, week + chrono::Duration::days(7)), t0),
            None
        );
        for _ in 0..FIGURES_KEPT + 5 {
            figures.keep((TenantId::new(), week), 1, Money::default(), t0);
            assert!(figures.0.lock().expect("not poisoned").len() <= FIGURES_KEPT);
        }
    }
}
