-- The format of a tenant's search terms (crm_store::TERMS_VERSION): 0 was word suffixes. A
-- tenant whose index is older is rebuilt before the server serves (docs/search.md).
ALTER TABLE tenants ADD COLUMN search_version INTEGER NOT NULL DEFAULT 0;
