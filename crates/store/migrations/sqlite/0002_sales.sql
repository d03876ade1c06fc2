-- Activities, opportunities, templates, lists (segments, campaigns), products, orders,
-- tickets, marketing campaigns and stored files (CRMTOP's full surface, issue 4).

CREATE TABLE activities (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    kind            INTEGER NOT NULL,
    subject         TEXT NOT NULL,
    description     TEXT,
    status          INTEGER NOT NULL,
    priority        INTEGER,
    start_time      TEXT,
    end_time        TEXT,
    due_date        TEXT,
    is_all_day      BOOLEAN NOT NULL,
    extra_data      TEXT,
    primary_kind    INTEGER,
    primary_id      BLOB,
    primary_name    TEXT,
    related_kind    INTEGER,
    related_id      BLOB,
    related_name    TEXT,
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
CREATE UNIQUE INDEX activities_id ON activities (tenant_id, id);
CREATE INDEX activities_live ON activities (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE INDEX activities_primary ON activities (tenant_id, primary_id) WHERE deleted_at IS NULL;
CREATE INDEX activities_related ON activities (tenant_id, related_id) WHERE deleted_at IS NULL;

CREATE TABLE opportunities (
    seq                 INTEGER PRIMARY KEY,
    id                  BLOB NOT NULL,
    tenant_id           BLOB NOT NULL,
    code                TEXT NOT NULL,
    name                TEXT NOT NULL,
    description         TEXT,
    customer_id         BLOB,
    customer_name       TEXT,
    contact_id          BLOB,
    contact_name        TEXT,
    lead_id             BLOB,
    lead_name           TEXT,
    amount              REAL NOT NULL,
    currency            TEXT NOT NULL,
    probability         REAL NOT NULL,
    stage               INTEGER,
    priority            INTEGER,
    source              TEXT,
    expected_close_date TEXT,
    actual_close_date   TEXT,
    owner_id            BLOB,
    owner_name          TEXT,
    org_unit_id         BLOB,
    org_unit_name       TEXT,
    created_at          TEXT NOT NULL,
    created_by          BLOB,
    created_by_name     TEXT,
    updated_at          TEXT NOT NULL,
    updated_by          BLOB,
    updated_by_name     TEXT,
    deleted_at          TEXT
);
CREATE UNIQUE INDEX opportunities_id ON opportunities (tenant_id, id);
CREATE INDEX opportunities_live ON opportunities (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX opportunities_unique ON opportunities (tenant_id, code) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_customer ON opportunities (tenant_id, customer_id) WHERE deleted_at IS NULL;

CREATE TABLE templates (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    kind            INTEGER NOT NULL,
    name            TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB,
    updated_by_name TEXT,
    deleted_at      TEXT
);
CREATE UNIQUE INDEX templates_id ON templates (tenant_id, id);
CREATE INDEX templates_live ON templates (tenant_id, seq) WHERE deleted_at IS NULL;

CREATE TABLE segments (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB,
    updated_by_name TEXT,
    deleted_at      TEXT
);
CREATE UNIQUE INDEX segments_id ON segments (tenant_id, id);
CREATE INDEX segments_live ON segments (tenant_id, seq) WHERE deleted_at IS NULL;

CREATE TABLE campaigns (
    seq                    INTEGER PRIMARY KEY,
    id                     BLOB NOT NULL,
    tenant_id              BLOB NOT NULL,
    code                   TEXT NOT NULL,
    name                   TEXT NOT NULL,
    kind                   INTEGER,
    status                 INTEGER,
    start_date             TEXT,
    end_date               TEXT,
    expected_revenue       REAL NOT NULL,
    budgeted_cost          REAL NOT NULL,
    actual_cost            REAL NOT NULL,
    expected_response_rate REAL NOT NULL,
    actual_response_rate   REAL NOT NULL,
    note                   TEXT,
    owner_id               BLOB,
    owner_name             TEXT,
    org_unit_id            BLOB,
    org_unit_name          TEXT,
    created_at             TEXT NOT NULL,
    created_by             BLOB,
    created_by_name        TEXT,
    updated_at             TEXT NOT NULL,
    updated_by             BLOB,
    updated_by_name        TEXT,
    deleted_at             TEXT
);
CREATE UNIQUE INDEX campaigns_id ON campaigns (tenant_id, id);
CREATE INDEX campaigns_live ON campaigns (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX campaigns_unique ON campaigns (tenant_id, code) WHERE deleted_at IS NULL;

CREATE TABLE list_members (
    seq             INTEGER PRIMARY KEY,
    tenant_id       BLOB NOT NULL,
    list_kind       INTEGER NOT NULL,
    list_id         BLOB NOT NULL,
    member_kind     INTEGER NOT NULL,
    member_id       BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT
);
CREATE UNIQUE INDEX list_members_unique ON list_members (tenant_id, list_kind, list_id, member_kind, member_id);
CREATE INDEX list_members_page ON list_members (tenant_id, list_kind, list_id, seq);
CREATE INDEX list_members_member ON list_members (tenant_id, member_id);

CREATE TABLE units (
    seq        INTEGER PRIMARY KEY,
    tenant_id  BLOB NOT NULL,
    name       TEXT NOT NULL,
    note       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX units_tenant ON units (tenant_id, seq);

CREATE TABLE products (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    group_id        INTEGER,
    group_name      TEXT,
    unit_id         INTEGER,
    import_price    REAL NOT NULL,
    retail_price    REAL NOT NULL,
    wholesale_price REAL NOT NULL,
    config          TEXT,
    note            TEXT,
    image           TEXT,
    created_at      TEXT NOT NULL,
    created_by      BLOB,
    created_by_name TEXT,
    updated_at      TEXT NOT NULL,
    updated_by      BLOB,
    updated_by_name TEXT,
    deleted_at      TEXT
);
CREATE UNIQUE INDEX products_id ON products (tenant_id, id);
CREATE INDEX products_live ON products (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX products_unique ON products (tenant_id, code) WHERE deleted_at IS NULL;

CREATE TABLE product_units (
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    product_id      BLOB NOT NULL,
    position        INTEGER NOT NULL,
    unit_id         INTEGER NOT NULL,
    rate            REAL NOT NULL,
    import_price    REAL NOT NULL,
    retail_price    REAL NOT NULL,
    wholesale_price REAL NOT NULL,
    note            TEXT,
    PRIMARY KEY (tenant_id, product_id, position)
);

CREATE TABLE orders (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL,
    tenant_id        BLOB NOT NULL,
    code             TEXT NOT NULL,
    customer_id      BLOB,
    customer_name    TEXT,
    order_date       TEXT,
    due_date         TEXT,
    total_amount     REAL NOT NULL,
    tax_amount       REAL NOT NULL,
    discount_amount  REAL NOT NULL,
    status           INTEGER NOT NULL,
    note             TEXT,
    receiver_name    TEXT,
    receiver_phone   TEXT,
    receiver_email   TEXT,
    receiver_address TEXT,
    lines            TEXT NOT NULL,
    approved         BOOLEAN NOT NULL,
    approved_at      TEXT,
    approved_by      BLOB,
    approved_by_name TEXT,
    approval_note    TEXT,
    created_at       TEXT NOT NULL,
    created_by       BLOB,
    created_by_name  TEXT,
    updated_at       TEXT NOT NULL,
    updated_by       BLOB,
    updated_by_name  TEXT,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX orders_id ON orders (tenant_id, id);
CREATE INDEX orders_live ON orders (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX orders_unique ON orders (tenant_id, code) WHERE deleted_at IS NULL;
CREATE INDEX orders_customer ON orders (tenant_id, customer_id) WHERE deleted_at IS NULL;

CREATE TABLE ticket_types (
    seq        INTEGER PRIMARY KEY,
    tenant_id  BLOB NOT NULL,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    note       TEXT,
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX ticket_types_tenant ON ticket_types (tenant_id, seq) WHERE deleted_at IS NULL;

CREATE TABLE tickets (
    seq             INTEGER PRIMARY KEY,
    id              BLOB NOT NULL,
    tenant_id       BLOB NOT NULL,
    code            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    description     TEXT,
    type_id         INTEGER,
    priority        INTEGER,
    status          INTEGER NOT NULL,
    channel         INTEGER,
    customer_id     BLOB,
    customer_name   TEXT,
    contact_id      BLOB,
    contact_name    TEXT,
    product_id      BLOB,
    product_name    TEXT,
    order_id        BLOB,
    order_code      TEXT,
    reported_at     TEXT,
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
CREATE UNIQUE INDEX tickets_id ON tickets (tenant_id, id);
CREATE INDEX tickets_live ON tickets (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX tickets_unique ON tickets (tenant_id, code) WHERE deleted_at IS NULL;
CREATE INDEX tickets_customer ON tickets (tenant_id, customer_id) WHERE deleted_at IS NULL;
CREATE INDEX tickets_type ON tickets (tenant_id, type_id) WHERE deleted_at IS NULL;

CREATE TABLE ticket_comments (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL,
    tenant_id   BLOB NOT NULL,
    ticket_id   BLOB NOT NULL,
    user_id     BLOB,
    user_name   TEXT,
    message     TEXT,
    message_key TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (tenant_id, ticket_id, seq);

CREATE TABLE files (
    id           BLOB NOT NULL,
    tenant_id    BLOB NOT NULL,
    owner_kind   INTEGER NOT NULL,
    owner_id     BLOB NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    created_by   BLOB,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX files_owner ON files (tenant_id, owner_kind, owner_id);

CREATE TABLE email_campaigns (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL,
    tenant_id        BLOB NOT NULL,
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT,
    subject          TEXT,
    supplier         INTEGER,
    sender           TEXT,
    display_name     TEXT,
    template_id      BLOB,
    template_name    TEXT,
    send_type        INTEGER NOT NULL,
    segment_id       BLOB,
    segment_name     TEXT,
    file_path        TEXT,
    status           INTEGER NOT NULL,
    appointment_date TEXT,
    created_at       TEXT NOT NULL,
    created_by       BLOB,
    created_by_name  TEXT,
    updated_at       TEXT NOT NULL,
    updated_by       BLOB,
    updated_by_name  TEXT,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX email_campaigns_id ON email_campaigns (tenant_id, id);
CREATE INDEX email_campaigns_live ON email_campaigns (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX email_campaigns_unique ON email_campaigns (tenant_id, code) WHERE deleted_at IS NULL;

CREATE TABLE zalo_campaigns (
    seq                      INTEGER PRIMARY KEY,
    id                       BLOB NOT NULL,
    tenant_id                BLOB NOT NULL,
    code                     TEXT NOT NULL,
    name                     TEXT NOT NULL,
    description              TEXT,
    channel                  INTEGER,
    social_id                TEXT,
    social_name              TEXT,
    zns_template_id          TEXT,
    zns_template_name        TEXT,
    zns_template_param       TEXT,
    zns_template_preview_url TEXT,
    zns_template_price       REAL NOT NULL,
    sms_template_id          BLOB,
    sms_template_name        TEXT,
    sms_template_param       TEXT,
    send_type                INTEGER NOT NULL,
    segment_id               BLOB,
    segment_name             TEXT,
    file_path                TEXT,
    excel_header             TEXT,
    status                   INTEGER NOT NULL,
    appointment_date         TEXT,
    created_at               TEXT NOT NULL,
    created_by               BLOB,
    created_by_name          TEXT,
    updated_at               TEXT NOT NULL,
    updated_by               BLOB,
    updated_by_name          TEXT,
    deleted_at               TEXT
);
CREATE UNIQUE INDEX zalo_campaigns_id ON zalo_campaigns (tenant_id, id);
CREATE INDEX zalo_campaigns_live ON zalo_campaigns (tenant_id, seq) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX zalo_campaigns_unique ON zalo_campaigns (tenant_id, code) WHERE deleted_at IS NULL;
