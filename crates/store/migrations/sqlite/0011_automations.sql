-- What an automation runs (read by the dialect from the vendor's body, which `definitions`
-- keeps verbatim), found by the event that starts it.
CREATE TABLE automation_flows (
    tenant_id     BLOB NOT NULL,
    automation_id INTEGER NOT NULL,
    trigger_event TEXT NOT NULL,
    active        INTEGER NOT NULL,
    flow          TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, automation_id)
);
CREATE INDEX automation_flows_trigger ON automation_flows (tenant_id, trigger_event);
-- One row per step a run reached: a run is its record and period (`run_key`), and reaches each
-- step once.
CREATE TABLE automation_steps (
    id            BLOB PRIMARY KEY NOT NULL,
    tenant_id     BLOB NOT NULL,
    automation_id INTEGER NOT NULL,
    run_key       TEXT NOT NULL,
    record        TEXT NOT NULL,
    step          INTEGER NOT NULL,
    state         TEXT NOT NULL,
    detail        TEXT,
    message_id    BLOB,
    due_at        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX automation_steps_once ON automation_steps (tenant_id, automation_id, run_key, step);
CREATE INDEX automation_steps_list ON automation_steps (tenant_id, automation_id, id);
