-- The web console (crm_domain::console): a staff user's role and password, and sessions.
CREATE TABLE staff_logins (
    tenant_id     UUID NOT NULL,
    user_seq      BIGINT NOT NULL,
    actor_id      UUID NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_seq)
);
CREATE TABLE console_sessions (
    digest     TEXT PRIMARY KEY NOT NULL,
    tenant_id  UUID NOT NULL,
    user_seq   BIGINT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
