-- How many live records of each kind a tenant has, kept by the writes (crates/store/src/counts.rs):
-- an unfiltered list reads its total here instead of counting every row. The total is the sum
-- of a tenant's and kind's rows (shards: PostgreSQL spreads concurrent writers over several).
-- `entity` is the record kind's code (`Table::ENTITY_CODE`), as in `search_terms`.
CREATE TABLE record_counts (
    tenant_id UUID NOT NULL,
    entity    SMALLINT NOT NULL,
    shard     SMALLINT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, entity, shard)
);

-- What is stored already, counted once.
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 1, 0, COUNT(*) FROM customers WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 2, 0, COUNT(*) FROM customer_groups WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 3, 0, COUNT(*) FROM contacts WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 4, 0, COUNT(*) FROM leads WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 5, 0, COUNT(*) FROM activities WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 6, 0, COUNT(*) FROM opportunities WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 7, 0, COUNT(*) FROM templates WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 8, 0, COUNT(*) FROM segments WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 9, 0, COUNT(*) FROM campaigns WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 10, 0, COUNT(*) FROM products WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 11, 0, COUNT(*) FROM orders WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 12, 0, COUNT(*) FROM tickets WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 13, 0, COUNT(*) FROM email_campaigns WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 14, 0, COUNT(*) FROM zalo_campaigns WHERE deleted_at IS NULL GROUP BY tenant_id;
INSERT INTO record_counts (tenant_id, entity, shard, n)
    SELECT tenant_id, 15, 0, COUNT(*) FROM vocab WHERE deleted_at IS NULL GROUP BY tenant_id;
