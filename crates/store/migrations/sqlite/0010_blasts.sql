-- Messages get an integer id (NextX's send history shows one): the table is rebuilt with it.
CREATE TABLE messages_seq (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    tenant_id   BLOB NOT NULL,
    channel     TEXT NOT NULL,
    campaign    TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    content     TEXT NOT NULL,
    state       TEXT NOT NULL,
    provider_id TEXT,
    reason      TEXT,
    answer      TEXT,
    attempts    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    sent_at     TEXT
);
INSERT INTO messages_seq (id, tenant_id, channel, campaign, recipient, content, state,
    provider_id, reason, answer, attempts, created_at, updated_at, sent_at)
SELECT id, tenant_id, channel, campaign, recipient, content, state, provider_id, reason,
    answer, attempts, created_at, updated_at, sent_at
FROM messages ORDER BY created_at, id;
DROP TABLE messages;
ALTER TABLE messages_seq RENAME TO messages;
CREATE UNIQUE INDEX messages_once ON messages (tenant_id, channel, campaign, recipient);
CREATE INDEX messages_campaign_state ON messages (tenant_id, campaign, state);
CREATE INDEX messages_tenant_channel_seq ON messages (tenant_id, channel, seq);

-- A campaign's send (crm_domain::campaign): its plan and where its fan-out stands.
CREATE TABLE blasts (
    tenant_id    BLOB NOT NULL,
    campaign     TEXT NOT NULL,
    name         TEXT NOT NULL,
    name_folded  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    state        TEXT NOT NULL,
    plan         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    run_at       TEXT NOT NULL,
    cursor_part  INTEGER NOT NULL,
    cursor_pos   INTEGER NOT NULL,
    recipients   INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, campaign)
);
