-- Channel settings per tenant, and one send record per message (crm_domain::messaging).
CREATE TABLE channel_settings (
    tenant_id   UUID NOT NULL,
    channel     TEXT NOT NULL,
    settings    TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, channel)
);

CREATE TABLE messages (
    id          UUID PRIMARY KEY NOT NULL,
    tenant_id   UUID NOT NULL,
    channel     TEXT NOT NULL,
    campaign    TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    content     TEXT NOT NULL,
    state       TEXT NOT NULL,
    provider_id TEXT,
    reason      TEXT,
    answer      TEXT,
    attempts    INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ
);
-- One message per recipient and campaign: a second queueing finds the first.
CREATE UNIQUE INDEX messages_once ON messages (tenant_id, channel, campaign, recipient);
CREATE INDEX messages_campaign_state ON messages (tenant_id, campaign, state);
CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at);
