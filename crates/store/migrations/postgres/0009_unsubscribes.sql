-- Addresses that asked for no more messages of a channel from a tenant (one-click unsubscribe).
CREATE TABLE unsubscribes (
    tenant_id   UUID NOT NULL,
    channel     TEXT NOT NULL,
    address     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, channel, address)
);
