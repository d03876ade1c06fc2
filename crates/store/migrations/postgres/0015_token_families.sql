-- Token families (crm_domain::auth): a client-credentials grant starts one; each refresh
-- passes it on. A spent refresh token presented again revokes its whole family.
ALTER TABLE auth_tokens ADD COLUMN family UUID;
CREATE INDEX auth_tokens_family ON auth_tokens (family);
CREATE INDEX auth_tokens_expires ON auth_tokens (expires_at);
