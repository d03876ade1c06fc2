-- Idempotency keys (crm_domain::idempotency): one API client's key, the request it was taken
-- for, and the answer once there is one.
CREATE TABLE idempotency_keys (
    tenant_id    UUID NOT NULL,
    client_id    UUID NOT NULL,
    idem_key     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER,
    content_type TEXT,
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, client_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
