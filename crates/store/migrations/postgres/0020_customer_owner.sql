-- The console filters customers by the staff member in charge, newest first: a range of the
-- index in the list's order (a rare owner no longer reads every customer to find its few).
CREATE INDEX customers_owner ON customers (tenant_id, owner_id, seq)
    WHERE deleted_at IS NULL AND owner_id IS NOT NULL;
