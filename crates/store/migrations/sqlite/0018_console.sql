-- The web console (crm_domain::console): a staff user's role and password, and sessions.
CREATE TABLE staff_logins (
    tenant_id     BLOB NOT NULL,
    user_seq      INTEGER NOT NULL,
    actor_id      BLOB NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_seq)
) WITHOUT ROWID;
CREATE TABLE console_sessions (
    digest     TEXT PRIMARY KEY NOT NULL,
    tenant_id  BLOB NOT NULL,
    user_seq   INTEGER NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
