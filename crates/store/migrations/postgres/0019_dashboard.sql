-- The console's dashboard counts this week's orders and leads and lists today's activities:
-- each reads a range of one tenant's live rows by its time (the orders' index covers the sum of
-- their amounts). The board counts and lists each stage's deals, newest first.
CREATE INDEX orders_date ON orders (tenant_id, order_date, total_amount, approved_at, approved)
    WHERE deleted_at IS NULL;
CREATE INDEX opportunities_stage ON opportunities (tenant_id, stage, seq) WHERE deleted_at IS NULL;
-- The week's new leads, newest first: read along the leads' order with their date in the index
-- (a date index would make SQLite sort every match of the week to find the newest).
CREATE INDEX leads_created ON leads (tenant_id, seq, created_at) WHERE deleted_at IS NULL;
CREATE INDEX activities_start ON activities (tenant_id, start_time) WHERE deleted_at IS NULL;
CREATE INDEX activities_due ON activities (tenant_id, due_date) WHERE deleted_at IS NULL;
-- A customer's page lists the messages sent to its phone and e-mail, newest first.
CREATE INDEX messages_recipient ON messages (tenant_id, recipient, seq);
