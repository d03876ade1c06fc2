//! The server's one time source. Everything that reads the time of day (records' stamps, due
//! jobs, schedules, automations' delays) reads it here, so a test can move it forward
//! (`advance`, reachable over HTTP only when the server runs with `CRM_TEST_CLOCK=true`) and see
//! a two-day delay or a birthday come without sleeping. Without an advance it is the system
//! clock.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// How far this process's clock is ahead of the system's, in microseconds.
static AHEAD_MICROS: AtomicI64 = AtomicI64::new(0);

/// Now, at the microsecond precision both databases keep.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now() + chrono::Duration::microseconds(AHEAD_MICROS.load(Ordering::Relaxed));
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Moves the clock forward by `by` (never back: a negative span is ignored); answers the new
/// time.
pub fn advance(by: chrono::Duration) -> DateTime<Utc> {
    let micros = by.num_microseconds().unwrap_or(i64::MAX).max(0);
    AHEAD_MICROS.fetch_add(micros, Ordering::Relaxed);
    now()
}

/// How far the clock has been moved forward.
pub fn ahead() -> chrono::Duration {
    chrono::Duration::microseconds(AHEAD_MICROS.load(Ordering::Relaxed))
}
