-- API client scopes (crm_domain::scope): comma-separated words, `read` for read-only and the
-- dialects it may reach; empty or `all` for full access (every client made before).
ALTER TABLE api_clients ADD COLUMN scope TEXT NOT NULL DEFAULT 'all';
