-- Imports and exports (crm_domain::transfer): where each stands, and an import's rejected rows.
CREATE TABLE transfers (
    id           BLOB PRIMARY KEY,
    tenant_id    BLOB NOT NULL,
    direction    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    format       TEXT NOT NULL,
    state        TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    plan         TEXT NOT NULL,
    total        INTEGER NOT NULL,
    done         INTEGER NOT NULL,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    cursor_pos   INTEGER NOT NULL,
    error        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX transfers_tenant ON transfers (tenant_id, direction, created_at);

CREATE TABLE transfer_failures (
    tenant_id    BLOB NOT NULL,
    transfer_id  BLOB NOT NULL,
    row_no       INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    column_name  TEXT,
    reason       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, transfer_id, row_no, seq)
);
