//! What a NextX automation body (E43/E44) runs: its trigger (our own `trigger` key, else the
//! component the body names, from the catalogue below), its `filter` conditions, how often a
//! record may enter (`scheduler.frequency_type`), and its `tasks` as steps. The decisions are in
//! `docs/automations.md` and `docs/dialects/nextx.md`.

use std::collections::BTreeMap;

use crm_domain::automation::{
    Action, Condition, DateRule, Every, Flow, Op, Repeat, Step, DATE_TRIGGERS, MAX_CONDITIONS,
    MAX_STEPS,
};
use crm_domain::campaign::BlastContent;
use serde_json::{Map, Value};

use super::kit::{bad, NxError};

/// The trigger components we serve (`component_id`, `code`, the table it watches, the event).
/// NextX publishes no catalogue; its examples name component 18 (`Auto_013`, "Customer
/// Sharing", table `transactions`) and component 13 (an automatic response e-mail to a
/// contact), which keep those meanings here.
pub const COMPONENTS: &[(i64, &str, &str, &str)] = &[
    (1, "Auto_001", "customers", "customer.created"),
    (2, "Auto_002", "customers", "customer.updated"),
    (3, "Auto_003", "contacts", "lead.created"),
    (4, "Auto_004", "contacts", "lead.updated"),
    (5, "Auto_005", "opportunities", "opportunity.created"),
    (6, "Auto_006", "opportunities", "opportunity.updated"),
    (7, "Auto_007", "transactions", "order.created"),
    (8, "Auto_008", "transactions", "order.approved"),
    (9, "Auto_009", "tickets", "ticket.created"),
    (10, "Auto_010", "tickets", "ticket.updated"),
    (11, "Auto_014", "customers", "date.birthday"),
    (12, "Auto_015", "customers", "date.created_at"),
    (13, "Auto_011", "contacts", "lead.created"),
    (14, "Auto_016", "contacts", "date.lead_birthday"),
    (15, "Auto_017", "contacts", "date.lead_created_at"),
    (16, "Auto_018", "transactions", "date.order_date"),
    (17, "Auto_019", "transactions", "date.order_due_date"),
    (18, "Auto_013", "transactions", "order.created"),
    (19, "Auto_020", "transactions", "sale.created"),
    (20, "Auto_021", "transactions", "sale.paid"),
];

/// A date trigger's schedule from the automation's `scheduler`: `frequency_type` `D` (and `F`
/// or none) daily, `W` weekly, `M` monthly, `O` once; `run_at` the local time (and for `W`,
/// `M`, `O` the weekday, day or date); `run_before_day` how many days ahead dates match.
fn date_rule(m: &Map<String, Value>, tz: chrono_tz::Tz) -> Result<DateRule, NxError> {
    let empty = Map::new();
    let s = m
        .get("scheduler")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let run_at = text(s, "run_at");
    let parsed = match run_at {
        None => None,
        Some(t) => Some(
            [
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M",
                "%Y-%m-%d %H:%M",
            ]
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(t, f).ok())
            .map(Ok)
            .or_else(|| {
                ["%H:%M:%S", "%H:%M"]
                    .iter()
                    .find_map(|f| chrono::NaiveTime::parse_from_str(t, f).ok())
                    .map(Err)
            })
            .ok_or_else(|| {
                bad(
                    "scheduler.run_at",
                    "is a date and time (2024-09-19T11:06:03) or a time (09:00)",
                )
            })?,
        ),
    };
    let nine = chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
    let (date, at) = match parsed {
        None => (None, nine),
        Some(Ok(dt)) => (Some(dt), dt.time()),
        Some(Err(t)) => (None, t),
    };
    use chrono::Datelike;
    let kind = text(s, "frequency_type").unwrap_or("D");
    let every = match kind {
        "D" | "F" => Every::Day,
        "W" => Every::Week {
            weekday: date.map_or(1, |d| d.weekday().num_days_from_sunday()),
        },
        "M" => Every::Month {
            day: date.map_or(1, |d| d.day().min(28)),
        },
        "O" => Every::Once,
        other => {
            return Err(bad(
                "scheduler.frequency_type",
                format!("'{other}' is not one of D, W, M, O"),
            ))
        }
    };
    let once_at = match (every, date) {
        (Every::Once, Some(d)) => crm_domain::common::local_instant(tz, d),
        (Every::Once, None) => {
            return Err(bad(
                "scheduler.run_at",
                "a one-off schedule needs its date and time",
            ))
        }
        _ => None,
    };
    Ok(DateRule {
        every,
        at,
        days_before: int(s.get("run_before_day")).unwrap_or(0),
        once_at,
        time_zone: tz.name().to_owned(),
    })
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn text<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The event the body's trigger names; `None` when it names none we serve.
fn trigger(m: &Map<String, Value>) -> Option<String> {
    if let Some(t) = text(m, "trigger") {
        return Some(t.to_owned());
    }
    let code = m
        .get("component")
        .and_then(Value::as_object)
        .and_then(|c| text(c, "code"));
    let id = int(m.get("component_id"));
    COMPONENTS
        .iter()
        .find(|(cid, ccode, _, _)| Some(*cid) == id || Some(*ccode) == code)
        .map(|(_, _, _, event)| (*event).to_owned())
}

fn repeat(scheduler: Option<&Value>) -> Repeat {
    match scheduler
        .and_then(|s| s.get("frequency_type"))
        .and_then(Value::as_str)
        .map(str::trim)
    {
        Some("D") => Repeat::Daily,
        Some("W") => Repeat::Weekly,
        Some("M") => Repeat::Monthly,
        Some("Y") => Repeat::Yearly,
        _ => Repeat::Once,
    }
}

fn conditions(m: &Map<String, Value>) -> Result<Vec<Condition>, NxError> {
    let Some(list) = m.get("filter").or_else(|| m.get("filters")) else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(bad("filter", "must be a list"));
    };
    if list.len() > MAX_CONDITIONS {
        return Err(bad(
            "filter",
            format!("at most {MAX_CONDITIONS} conditions"),
        ));
    }
    list.iter()
        .map(|c| {
            let c = c
                .as_object()
                .ok_or_else(|| bad("filter", "each condition is an object"))?;
            let field = text(c, "field").ok_or_else(|| bad("filter.field", "is required"))?;
            let op = match text(c, "operator").unwrap_or("=") {
                "=" | "==" | "eq" => Op::Eq,
                "!=" | "<>" | "ne" => Op::Ne,
                "contains" | "like" => Op::Contains,
                "empty" => Op::Empty,
                "not_empty" => Op::NotEmpty,
                other => {
                    return Err(bad(
                        "filter.operator",
                        format!("'{other}' is not one of =, !=, contains, empty, not_empty"),
                    ))
                }
            };
            let value = match c.get("value") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => i32::from(*b).to_string(),
                _ => String::new(),
            };
            Ok(Condition {
                field: field.to_owned(),
                op,
                value,
            })
        })
        .collect()
}

/// A task's delay: `frequency_interval` (or, when that is empty, `limited_day`) units of
/// `run_after_type` (`M` minutes, `H` hours, `D` days, `W` weeks).
fn delay(scheduler: Option<&Value>) -> Result<i64, NxError> {
    let Some(s) = scheduler.and_then(Value::as_object) else {
        return Ok(0);
    };
    let n = int(s.get("frequency_interval"))
        .filter(|n| *n > 0)
        .or_else(|| int(s.get("limited_day")))
        .unwrap_or(0);
    let unit = match text(s, "run_after_type") {
        None => return Ok(0),
        Some("M") => 60,
        Some("H") => 3_600,
        Some("D") => 86_400,
        Some("W") => 7 * 86_400,
        Some(other) => {
            return Err(bad(
                "tasks.scheduler.run_after_type",
                format!("'{other}' is not one of M (minutes), H, D, W"),
            ))
        }
    };
    if !(0..=crm_domain::automation::MAX_DELAY_SECS / unit).contains(&n) {
        return Err(bad("tasks.scheduler", "a task's delay is at most a year"));
    }
    Ok(n * unit)
}

/// Our own task types, CRM actions on the triggering record (NextX documents only sends).
fn crm_action(kind: &str, d: &Map<String, Value>) -> Result<Option<Action>, NxError> {
    Ok(Some(match kind {
        "create_task" => Action::Task {
            subject: text(d, "subject")
                .ok_or_else(|| bad("tasks.details.subject", "is required"))?
                .to_owned(),
            description: text(d, "message").map(str::to_owned),
            due_days: int(d.get("due_days")).unwrap_or(0),
        },
        "add_to_segment" => Action::Segment {
            segment_id: text(d, "segment_id")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("tasks.details.segment_id", "is a segment's id (a UUID)"))?,
        },
        "update_lead_status" => match d.get("status") {
            Some(Value::String(words)) if words.trim().parse::<i32>().is_err() => {
                Action::LeadStatus {
                    status: None,
                    status_text: Some(words.trim().to_owned()).filter(|w| !w.is_empty()),
                }
            }
            v => Action::LeadStatus {
                status: Some(int(v).and_then(|n| i32::try_from(n).ok()).ok_or_else(|| {
                    bad(
                        "tasks.details.status",
                        "is a status code or the status's words",
                    )
                })?),
                status_text: None,
            },
        },
        _ => return Ok(None),
    }))
}

fn action(kind: &str, d: &Map<String, Value>) -> Result<Action, NxError> {
    if let Some(a) = crm_action(kind, d)? {
        return Ok(a);
    }
    let message = text(d, "message").unwrap_or("");
    let staff = match text(d, "recipient_type").unwrap_or("contact") {
        "contact" => None,
        "employee" => Some(crm_domain::ids::StaffId(
            int(d.get("recipient_id")).ok_or_else(|| {
                bad(
                    "tasks.details.recipient_id",
                    "is required when recipient_type is employee",
                )
            })?,
        )),
        other => {
            return Ok(Action::Unsupported {
                reason: format!(
                    "sending to recipient_type '{other}' is not supported (contact or employee)"
                ),
            })
        }
    };
    Ok(match kind {
        "send_email" => {
            let subject =
                text(d, "subject").ok_or_else(|| bad("tasks.details.subject", "is required"))?;
            if message.is_empty() {
                return Err(bad("tasks.details.message", "is required"));
            }
            Action::Send {
                content: BlastContent::Email {
                    subject: subject.to_owned(),
                    html: message.to_owned(),
                    text: None,
                    from_name: None,
                    reply_to: None,
                },
                staff,
            }
        }
        "send_sms" => {
            if message.is_empty() {
                return Err(bad("tasks.details.message", "is required"));
            }
            Action::Send {
                content: BlastContent::Sms {
                    text: message.to_owned(),
                },
                staff,
            }
        }
        "send_zalo" => match text(d, "template_id") {
            Some(template) => {
                let params: BTreeMap<String, String> = d
                    .get("params")
                    .and_then(Value::as_object)
                    .map(|p| {
                        p.iter()
                            .filter_map(|(k, v)| {
                                let v = v.as_str()?.trim();
                                (!v.is_empty()).then(|| (k.clone(), v.to_owned()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Action::Send {
                    content: BlastContent::Zns {
                        template_id: template.to_owned(),
                        params,
                    },
                    staff,
                }
            }
            None => Action::Unsupported {
                reason: "a send_zalo task without template_id is a Zalo OA message, which is not \
                         supported (only ZNS templates)"
                    .to_owned(),
            },
        },
        other => Action::Unsupported {
            reason: format!("task type '{other}' is not supported"),
        },
    })
}

fn steps(m: &Map<String, Value>) -> Result<Vec<Step>, NxError> {
    let Some(tasks) = m.get("tasks").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    if tasks.len() > MAX_STEPS {
        return Err(bad("tasks", format!("at most {MAX_STEPS} tasks")));
    }
    tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t = t
                .as_object()
                .ok_or_else(|| bad("tasks", "each task is an object"))?;
            let kind = text(t, "type").ok_or_else(|| bad("tasks.type", "is required"))?;
            let empty = Map::new();
            let details = t
                .get("details")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let position = i as i64 + 1;
            Ok(Step {
                id: int(t.get("id")).unwrap_or(position),
                parent: int(t.get("parent_id")),
                order: int(t.get("order")).unwrap_or(position),
                delay_secs: delay(t.get("scheduler"))?,
                action: action(kind, details)?,
            })
        })
        .collect()
}

/// The flow a stored automation body runs; `None` when its trigger names no component we
/// serve (it is kept as sent and never runs).
pub(super) fn flow(m: &Map<String, Value>, tz: chrono_tz::Tz) -> Result<Option<Flow>, NxError> {
    let Some(trigger) = trigger(m) else {
        return Ok(None);
    };
    let is_date = DATE_TRIGGERS.contains(&trigger.as_str());
    let date = if is_date {
        Some(date_rule(m, tz)?)
    } else {
        None
    };
    // A birthday comes once a year; any other date once.
    let repeat = match trigger.as_str() {
        t if crm_domain::automation::is_birthday(t) => Repeat::Yearly,
        _ if is_date => Repeat::Once,
        _ => repeat(m.get("scheduler")),
    };
    let active = match m.get("is_active") {
        None | Some(Value::Null) => true,
        v => int(v) == Some(1),
    };
    let flow = Flow {
        active,
        trigger,
        conditions: conditions(m)?,
        repeat,
        steps: steps(m)?,
        date,
    };
    flow.validate()
        .map_err(|e| NxError::from(e.map_field(wire_field)))?;
    Ok(Some(flow))
}

/// NextX's name for a field of the domain's flow, in a validation error.
pub(super) fn wire_field(field: &str) -> Option<String> {
    Some(
        match field {
            "date" => "scheduler",
            "date.days_before" => "scheduler.run_before_day",
            "date.once_at" => "scheduler.run_at",
            "steps" => "tasks",
            "conditions" => "filter",
            "steps.delay" => "tasks.scheduler",
            "steps.subject" => "tasks.details.subject",
            "steps.description" => "tasks.details.message",
            "steps.due_days" => "tasks.details.due_days",
            "steps.status" => "tasks.details.status",
            "steps.parent" => "tasks.parent_id",
            "steps.staff" => "tasks.details.recipient_id",
            "steps.segment_id" => "tasks.details.segment_id",
            _ => return None,
        }
        .to_owned(),
    )
}
