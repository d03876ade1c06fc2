-- Addresses that asked for no more messages of a channel from a tenant (one-click unsubscribe).
CREATE TABLE unsubscribes (
    tenant_id   BLOB NOT NULL,
    channel     TEXT NOT NULL,
    address     TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, channel, address)
);
