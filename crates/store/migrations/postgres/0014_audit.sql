-- The audit trail (crm_domain::audit): one row per change, written in the change's own
-- transaction. `changes` is JSON ({"field": {"before": …, "after": …}}).
CREATE TABLE audit_log (
    seq          BIGSERIAL PRIMARY KEY,
    tenant_id    UUID NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    client_id    UUID,
    client_name  TEXT,
    dialect      TEXT,
    route        TEXT,
    request_id   TEXT,
    object       TEXT NOT NULL,
    action       TEXT NOT NULL,
    record_id    UUID,
    changes      TEXT
);
CREATE INDEX audit_log_record ON audit_log (tenant_id, record_id, seq);
CREATE INDEX audit_log_client ON audit_log (tenant_id, client_id, seq);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_at ON audit_log (at);
