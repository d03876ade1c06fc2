-- Durable jobs (crm_domain::jobs) and webhook endpoints and deliveries (crm_domain::webhooks).
CREATE TABLE jobs (
    id           UUID PRIMARY KEY NOT NULL,
    tenant_id    UUID NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    run_at       TIMESTAMPTZ NOT NULL,
    locked_by    TEXT,
    locked_until TIMESTAMPTZ,
    last_error   TEXT,
    unique_key   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
-- What a claim scans: only jobs that can still run.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_tenant_kind ON jobs (tenant_id, kind, state);
CREATE UNIQUE INDEX jobs_unique_key ON jobs (tenant_id, kind, unique_key) WHERE unique_key IS NOT NULL;

CREATE TABLE webhook_endpoints (
    id          UUID PRIMARY KEY NOT NULL,
    tenant_id   UUID NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL,
    disabled    BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);

CREATE TABLE webhook_deliveries (
    id          UUID PRIMARY KEY NOT NULL,
    tenant_id   UUID NOT NULL,
    endpoint_id UUID NOT NULL,
    job_id      UUID NOT NULL,
    msg_id      TEXT NOT NULL,
    event       TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      INTEGER,
    latency_ms  BIGINT NOT NULL,
    error       TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, at);
