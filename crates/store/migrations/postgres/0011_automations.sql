-- What an automation runs (read by the dialect from the vendor's body, which `definitions`
-- keeps verbatim), found by the event that starts it.
CREATE TABLE automation_flows (
    tenant_id     UUID NOT NULL,
    automation_id BIGINT NOT NULL,
    trigger_event TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    flow          TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, automation_id)
);
CREATE INDEX automation_flows_trigger ON automation_flows (tenant_id, trigger_event);
-- One row per step a run reached: a run is its record and period (`run_key`), and reaches each
-- step once.
CREATE TABLE automation_steps (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL,
    automation_id BIGINT NOT NULL,
    run_key       TEXT NOT NULL,
    record        TEXT NOT NULL,
    step          BIGINT NOT NULL,
    state         TEXT NOT NULL,
    detail        TEXT,
    message_id    UUID,
    due_at        TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX automation_steps_once ON automation_steps (tenant_id, automation_id, run_key, step);
CREATE INDEX automation_steps_list ON automation_steps (tenant_id, automation_id, id);
