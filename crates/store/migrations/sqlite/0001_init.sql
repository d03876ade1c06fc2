-- Tenants, API clients and tokens.
CREATE TABLE tenants (
    id          BLOB PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_clients (
    id          BLOB PRIMARY KEY NOT NULL,
    tenant_id   BLOB NOT NULL REFERENCES tenants (id),
    client_id   TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX api_clients_tenant ON api_clients (tenant_id);

CREATE TABLE auth_tokens (
    digest        TEXT PRIMARY KEY NOT NULL,
    kind          INTEGER NOT NULL,
    tenant_id     BLOB NOT NULL,
    api_client_id BLOB NOT NULL REFERENCES api_clients (id),
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    created_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX auth_tokens_client ON auth_tokens (api_client_id);

-- Per-tenant sequences for generated business codes.
CREATE TABLE counters (
    tenant_id BLOB NOT NULL,
    name      TEXT NOT NULL,
    value     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

-- Folded search terms of every searchable record (see crm_domain::search).
CREATE TABLE search_terms (
    tenant_id BLOB NOT NULL,
    entity    INTEGER NOT NULL,
    term      TEXT NOT NULL,
    field     INTEGER NOT NULL,
    record_id BLOB NOT NULL,
    PRIMARY KEY (tenant_id, entity, term, field, record_id)
) WITHOUT ROWID;

CREATE TABLE customer_groups (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    note            TEXT,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB,
    updated_by_name TEXT,
    deleted_at      TEXT
);
CREATE UNIQUE INDEX customer_groups_id ON customer_groups (tenant_id, id);
CREATE UNIQUE INDEX customer_groups_unique ON customer_groups (tenant_id, name_key) WHERE deleted_at IS NULL;
CREATE INDEX customer_groups_live ON customer_groups (tenant_id, seq) WHERE deleted_at IS NULL;

CREATE TABLE customers (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            INTEGER NOT NULL,
    tax_code        TEXT,
    business_type   TEXT,
    group_id        BLOB,
    phone           TEXT,
    email           TEXT,
    website         TEXT,
    address         TEXT,
    note            TEXT,
    owner_id        BLOB,
    owner_name      TEXT,
    org_unit_id     BLOB,
    org_unit_name   TEXT,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB,
    updated_by_name TEXT,
    deleted_at      TEXT
);
CREATE UNIQUE INDEX customers_id ON customers (tenant_id, id);
CREATE UNIQUE INDEX customers_unique ON customers (tenant_id, code) WHERE deleted_at IS NULL;
CREATE INDEX customers_live ON customers (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX customers_group ON customers (tenant_id, group_id) WHERE deleted_at IS NULL AND group_id IS NOT NULL;

CREATE TABLE contacts (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    customer_id     BLOB,
    code            TEXT NOT NULL,
    full_name       TEXT NOT NULL,
    position        TEXT,
    department      TEXT,
    phone           TEXT,
    email           TEXT,
    gender          INTEGER,
    birthday        TEXT,
    national_id     TEXT,
    address         TEXT,
    status          TEXT,
    is_primary      BOOLEAN NOT NULL,
    note            TEXT,
    owner_id        BLOB,
    owner_name      TEXT,
    org_unit_id     BLOB,
    org_unit_name   TEXT,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB,
    updated_by_name TEXT,
    deleted_at      TEXT
);
CREATE UNIQUE INDEX contacts_id ON contacts (tenant_id, id);
CREATE UNIQUE INDEX contacts_unique ON contacts (tenant_id, code) WHERE deleted_at IS NULL;
CREATE INDEX contacts_live ON contacts (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX contacts_customer ON contacts (tenant_id, customer_id) WHERE deleted_at IS NULL;

CREATE TABLE leads (
    seq                   INTEGER PRIMARY KEY,
    id                    BLOB NOT NULL,
    tenant_id             BLOB NOT NULL,
    source                INTEGER,
    status                INTEGER,
    full_name             TEXT NOT NULL,
    email                 TEXT,
    phone                 TEXT,
    company               TEXT,
    position              TEXT,
    industry              INTEGER,
    rating                INTEGER,
    probability           INTEGER,
    notes                 TEXT,
    assigned_to           INTEGER,
    owner_id              BLOB,
    owner_name            TEXT,
    org_unit_id           BLOB,
    org_unit_name         TEXT,
    converted_at          TEXT,
    converted_customer_id BLOB,
    converted_contact_id  BLOB,
    created_at            TEXT NOT NULL,
    created_by            BLOB,
    created_by_name       TEXT,
    updated_at            TEXT NOT NULL,
    updated_by            BLOB,
    updated_by_name       TEXT,
    deleted_at            TEXT
);
CREATE UNIQUE INDEX leads_id ON leads (tenant_id, id);
CREATE INDEX leads_live ON leads (tenant_id, seq) WHERE deleted_at IS NULL;
