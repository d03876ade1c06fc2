-- NextX: branches and stores, product categories, stock-moving documents and the ledger.

CREATE TABLE places (
    seq         INTEGER PRIMARY KEY,
    tenant_id   BLOB NOT NULL,
    is_store    BOOLEAN NOT NULL,
    branch_id   INTEGER,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    tel         TEXT,
    fax         TEXT,
    avatar      TEXT,
    address     TEXT,
    description TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX places_tenant ON places (tenant_id, is_store, seq);

CREATE TABLE categories (
    seq         INTEGER PRIMARY KEY,
    tenant_id   BLOB NOT NULL,
    name        TEXT NOT NULL,
    parent_id   INTEGER NOT NULL,
    picture     TEXT,
    description TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX categories_tenant ON categories (tenant_id, seq);

CREATE TABLE docs (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL,
    tenant_id        BLOB NOT NULL,
    kind             INTEGER NOT NULL,
    code             TEXT NOT NULL,
    transaction_date TEXT NOT NULL,
    customer_id      BLOB,
    branch_id        INTEGER NOT NULL,
    store_id         INTEGER NOT NULL,
    discount_type    TEXT,
    discount_amount  REAL NOT NULL,
    total_before_tax REAL NOT NULL,
    tax_amount       REAL NOT NULL,
    charges          REAL NOT NULL,
    final_total      REAL NOT NULL,
    paid             REAL NOT NULL,
    shipping_status  TEXT,
    approved         BOOLEAN NOT NULL,
    additional_notes TEXT,
    staff_note       TEXT,
    return_of        INTEGER,
    received_at      TEXT,
    payments_json    TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    created_by       BLOB,
    created_by_name  TEXT,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX docs_code ON docs (tenant_id, kind, code);
CREATE INDEX docs_list ON docs (tenant_id, kind, seq);
CREATE INDEX docs_customer ON docs (tenant_id, customer_id);

CREATE TABLE doc_lines (
    seq             INTEGER PRIMARY KEY,
    tenant_id       BLOB NOT NULL,
    doc_id          INTEGER NOT NULL,
    sort            INTEGER NOT NULL,
    product_id      BLOB NOT NULL,
    product_seq     INTEGER NOT NULL,
    unit_id         INTEGER,
    rate            REAL NOT NULL,
    unit_price      REAL NOT NULL,
    quantity        REAL NOT NULL,
    discount_type   TEXT,
    discount_amount REAL NOT NULL,
    tax_id          INTEGER,
    item_tax        REAL NOT NULL,
    note            TEXT,
    sell_line_id    INTEGER,
    total           REAL NOT NULL
);
CREATE INDEX doc_lines_doc ON doc_lines (tenant_id, doc_id);
CREATE INDEX doc_lines_returned ON doc_lines (tenant_id, sell_line_id) WHERE sell_line_id IS NOT NULL;

CREATE TABLE stock_moves (
    seq        INTEGER PRIMARY KEY,
    tenant_id  BLOB NOT NULL,
    product_id BLOB NOT NULL,
    branch_id  INTEGER NOT NULL,
    store_id   INTEGER NOT NULL,
    quantity   REAL NOT NULL,
    kind       INTEGER NOT NULL,
    doc_id     INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX stock_moves_product ON stock_moves (tenant_id, product_id, branch_id, store_id);
CREATE INDEX stock_moves_doc ON stock_moves (tenant_id, doc_id);

ALTER TABLE products ADD COLUMN category_id INTEGER;
ALTER TABLE products ADD COLUMN ext_json TEXT;
ALTER TABLE customers ADD COLUMN party_json TEXT;
ALTER TABLE leads ADD COLUMN ext_json TEXT;

CREATE TABLE webforms (
    seq         INTEGER PRIMARY KEY,
    tenant_id   BLOB NOT NULL,
    name        TEXT NOT NULL,
    key         TEXT NOT NULL UNIQUE,
    fields_json TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
ALTER TABLE activities ADD COLUMN ext_json TEXT;

CREATE TABLE users (
    seq              INTEGER PRIMARY KEY,
    tenant_id        BLOB NOT NULL,
    username         TEXT NOT NULL,
    email            TEXT,
    firstname        TEXT,
    lastname         TEXT,
    joined           TEXT,
    designation      TEXT,
    picture          TEXT,
    tel              TEXT,
    crm_extension_id INTEGER,
    code             TEXT NOT NULL,
    branch_id        INTEGER,
    is_sale          BOOLEAN NOT NULL,
    is_lock          BOOLEAN NOT NULL,
    is_access_crm    BOOLEAN NOT NULL,
    is_validated     BOOLEAN NOT NULL,
    created_at       TEXT NOT NULL,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX users_username ON users (tenant_id, username) WHERE deleted_at IS NULL;
ALTER TABLE campaigns ADD COLUMN ext_json TEXT;
ALTER TABLE opportunities ADD COLUMN opp_json TEXT;

CREATE TABLE definitions (
    seq             INTEGER PRIMARY KEY,
    tenant_id       BLOB NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    body_json       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    created_by_name TEXT
);
CREATE INDEX definitions_list ON definitions (tenant_id, kind, seq);
ALTER TABLE products ADD COLUMN nx_kind TEXT;
