-- VBot projects and vocabularies, OMI funnels, and the customer attributes they add.

CREATE TABLE projects (
    id         BLOB NOT NULL,
    tenant_id  BLOB NOT NULL,
    code       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX projects_code ON projects (tenant_id, code);

CREATE TABLE vocab (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    project_id      BLOB NOT NULL,
    kind            INTEGER NOT NULL,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    field_type      TEXT,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB,
    updated_by_name TEXT,
    deleted_at      TEXT
);
CREATE UNIQUE INDEX vocab_id ON vocab (tenant_id, id);
CREATE UNIQUE INDEX vocab_code ON vocab (tenant_id, project_id, kind, code) WHERE deleted_at IS NULL;
CREATE INDEX vocab_live ON vocab (tenant_id, seq) WHERE deleted_at IS NULL;

CREATE TABLE funnels (
    id         BLOB NOT NULL,
    tenant_id  BLOB NOT NULL,
    name       TEXT NOT NULL,
    stages     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE customer_groups ADD COLUMN project_id BLOB;
ALTER TABLE customer_groups ADD COLUMN code TEXT;
CREATE UNIQUE INDEX customer_groups_code ON customer_groups (tenant_id, project_id, code) WHERE deleted_at IS NULL AND code IS NOT NULL;

ALTER TABLE customers ADD COLUMN gender TEXT;
ALTER TABLE customers ADD COLUMN job_title TEXT;
ALTER TABLE customers ADD COLUMN avatar_url TEXT;
ALTER TABLE customers ADD COLUMN passport TEXT;
ALTER TABLE customers ADD COLUMN owner_email TEXT;
ALTER TABLE customers ADD COLUMN ref_id TEXT;
ALTER TABLE customers ADD COLUMN ref_code TEXT;
ALTER TABLE customers ADD COLUMN ref_type TEXT;
ALTER TABLE customers ADD COLUMN status_id BLOB;
ALTER TABLE customers ADD COLUMN type_id BLOB;
ALTER TABLE customers ADD COLUMN phones_json TEXT;
ALTER TABLE customers ADD COLUMN emails_json TEXT;
ALTER TABLE customers ADD COLUMN labels_json TEXT;
ALTER TABLE customers ADD COLUMN custom_json TEXT;
ALTER TABLE customers ADD COLUMN funnels_json TEXT;
CREATE UNIQUE INDEX customers_ref_id ON customers (tenant_id, ref_id) WHERE deleted_at IS NULL AND ref_id IS NOT NULL;
CREATE INDEX customers_status ON customers (tenant_id, status_id) WHERE deleted_at IS NULL AND status_id IS NOT NULL;
CREATE INDEX customers_type ON customers (tenant_id, type_id) WHERE deleted_at IS NULL AND type_id IS NOT NULL;
