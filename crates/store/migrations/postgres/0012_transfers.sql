-- Imports and exports (crm_domain::transfer): where each stands, and an import's rejected rows.
CREATE TABLE transfers (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL,
    direction    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    format       TEXT NOT NULL,
    state        TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    plan         TEXT NOT NULL,
    total        BIGINT NOT NULL,
    done         BIGINT NOT NULL,
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    skipped      BIGINT NOT NULL,
    failed       BIGINT NOT NULL,
    cursor_pos   BIGINT NOT NULL,
    error        TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX transfers_tenant ON transfers (tenant_id, direction, created_at);

CREATE TABLE transfer_failures (
    tenant_id    UUID NOT NULL,
    transfer_id  UUID NOT NULL,
    row_no       BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    column_name  TEXT,
    reason       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, transfer_id, row_no, seq)
);
