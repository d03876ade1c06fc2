-- Recurring jobs (crm_domain::jobs::Schedule).
CREATE TABLE job_schedules (
    id          UUID PRIMARY KEY NOT NULL,
    tenant_id   UUID NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    cron        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    next_run_at TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX job_schedules_due ON job_schedules (next_run_at);
