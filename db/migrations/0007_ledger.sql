-- The general ledger (core/ledger): chart of accounts, periods, exchange rates, journal entries and their lines,
-- inventory cost pools and FIFO layers, and customer invoices (the receivables sub-ledger). Amounts are BIGINT
-- minor units; a journal line is signed (debit > 0, credit < 0) in its own currency and in the functional one.
-- Dates are INTEGER YYYYMMDD, periods 'YYYY-MM'. Entries and lines are never updated or deleted: a correction
-- is a reversal entry that references the original.

-- name/value settings fixed when the ledger is initialized (the functional currency).
CREATE TABLE ledger_setting (
    name        VARCHAR(64)  NOT NULL PRIMARY KEY,
    value       VARCHAR(200) NOT NULL
){{table_options}};

CREATE TABLE ledger_account (
    code        VARCHAR(32)  NOT NULL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    type        VARCHAR(16)  NOT NULL,
    currency    VARCHAR(3)   NOT NULL,
    parent_code VARCHAR(32)  NOT NULL,
    active      SMALLINT     NOT NULL,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL,
    CONSTRAINT ledger_account_type_check CHECK (type IN ('asset', 'liability', 'equity', 'income', 'expense')),
    CONSTRAINT ledger_account_active_check CHECK (active IN (0, 1))
){{table_options}};

-- Which account plays which part in the posting rules ('inventory', 'cogs', 'tax_payable:US-CA', ...).
CREATE TABLE ledger_role (
    role         VARCHAR(64) NOT NULL PRIMARY KEY,
    account_code VARCHAR(32) NOT NULL,
    CONSTRAINT ledger_role_account_fk FOREIGN KEY (account_code) REFERENCES ledger_account (code)
){{table_options}};

-- A period without a row is open.
CREATE TABLE ledger_period (
    period      VARCHAR(7)   NOT NULL PRIMARY KEY,
    status      VARCHAR(8)   NOT NULL,
    changed_by  VARCHAR(64)  NOT NULL,
    changed_at  BIGINT       NOT NULL,
    CONSTRAINT ledger_period_status_check CHECK (status IN ('open', 'closed'))
){{table_options}};

-- Functional-currency units per unit of `currency`, from rate_date on: rate_mantissa x 10^-rate_scale.
CREATE TABLE exchange_rate (
    currency      VARCHAR(3) NOT NULL,
    rate_date     INTEGER    NOT NULL,
    rate_mantissa BIGINT     NOT NULL,
    rate_scale    INTEGER    NOT NULL,
    created_at    BIGINT     NOT NULL,
    PRIMARY KEY (currency, rate_date),
    CONSTRAINT exchange_rate_check CHECK (rate_mantissa > 0 AND rate_scale >= 0 AND rate_scale <= 18)
){{table_options}};

CREATE TABLE journal_entry (
    id              VARCHAR(36)  NOT NULL PRIMARY KEY,
    entry_date      INTEGER      NOT NULL,
    period          VARCHAR(7)   NOT NULL,
    kind            VARCHAR(32)  NOT NULL,
    source_type     VARCHAR(32)  NOT NULL,
    source_id       VARCHAR(64)  NOT NULL,
    idempotency_key VARCHAR(200) NOT NULL,
    content_hash    VARCHAR(64)  NOT NULL,
    memo            VARCHAR(500) NOT NULL,
    reverses_id     VARCHAR(36),
    actor           VARCHAR(64)  NOT NULL,
    created_at      BIGINT       NOT NULL,
    CONSTRAINT journal_entry_key UNIQUE (idempotency_key)
){{table_options}};
CREATE INDEX journal_entry_date_idx ON journal_entry (entry_date);
CREATE INDEX journal_entry_source_idx ON journal_entry (source_type, source_id);
CREATE INDEX journal_entry_reverses_idx ON journal_entry (reverses_id);

-- One line of an entry. entry_date repeats the entry's so that the trial balance reads one covering index.
CREATE TABLE journal_line (
    entry_id          VARCHAR(36) NOT NULL,
    line_no           INTEGER     NOT NULL,
    account_code      VARCHAR(32) NOT NULL,
    entry_date        INTEGER     NOT NULL,
    currency          VARCHAR(3)  NOT NULL,
    amount            BIGINT      NOT NULL,
    functional_amount BIGINT      NOT NULL,
    rate_mantissa     BIGINT      NOT NULL,
    rate_scale        INTEGER     NOT NULL,
    channel           VARCHAR(64) NOT NULL,
    location_id       VARCHAR(36) NOT NULL,
    customer_id       VARCHAR(36) NOT NULL,
    item_id           VARCHAR(36) NOT NULL,
    PRIMARY KEY (entry_id, line_no),
    CONSTRAINT journal_line_entry_fk FOREIGN KEY (entry_id) REFERENCES journal_entry (id),
    CONSTRAINT journal_line_account_fk FOREIGN KEY (account_code) REFERENCES ledger_account (code)
){{clustered_table_options}};
CREATE INDEX journal_line_balance_idx ON journal_line (account_code, entry_date, functional_amount);
CREATE INDEX journal_line_customer_idx ON journal_line (customer_id, account_code);

-- Inventory value per item and pool ('stock': every state held at a location; 'transit': between locations).
-- Moving average: a pool's unit cost is value / quantity; an issue takes its proportional share and the last
-- unit out takes what is left, so a pool with no stock has no value. unit_cost is the last average (minor units
-- per base unit, rounded) for stock that comes back when the pool is empty.
CREATE TABLE item_cost (
    item_id     VARCHAR(36) NOT NULL,
    pool        VARCHAR(8)  NOT NULL,
    quantity    BIGINT      NOT NULL,
    value       BIGINT      NOT NULL,
    unit_cost   BIGINT      NOT NULL,
    updated_at  BIGINT      NOT NULL,
    PRIMARY KEY (item_id, pool),
    CONSTRAINT item_cost_check CHECK (quantity >= 0 AND value >= 0 AND (quantity > 0 OR value = 0)),
    CONSTRAINT item_cost_pool_check CHECK (pool IN ('stock', 'transit'))
){{clustered_table_options}};

-- FIFO cost layers of items costed FIFO: what is left of each receipt, oldest first.
CREATE TABLE cost_layer (
    id          VARCHAR(36) NOT NULL PRIMARY KEY,
    item_id     VARCHAR(36) NOT NULL,
    move_id     VARCHAR(36) NOT NULL,
    quantity    BIGINT      NOT NULL,
    value       BIGINT      NOT NULL,
    created_at  BIGINT      NOT NULL,
    CONSTRAINT cost_layer_check CHECK (quantity >= 0 AND value >= 0 AND (quantity > 0 OR value = 0))
){{table_options}};
CREATE INDEX cost_layer_item_idx ON cost_layer (item_id, quantity, id);

-- Customer invoices: one per shipment (or delivery), with the order lines' shares of goods, discount and tax.
CREATE TABLE invoice (
    id            VARCHAR(36)  NOT NULL PRIMARY KEY,
    order_id      VARCHAR(36)  NOT NULL,
    shipment_id   VARCHAR(36)  NOT NULL,
    customer_id   VARCHAR(36)  NOT NULL,
    channel       VARCHAR(64)  NOT NULL,
    currency      VARCHAR(3)   NOT NULL,
    jurisdiction  VARCHAR(16)  NOT NULL,
    invoice_date  INTEGER      NOT NULL,
    due_date      INTEGER      NOT NULL,
    goods         BIGINT       NOT NULL,
    discount      BIGINT       NOT NULL,
    shipping      BIGINT       NOT NULL,
    tax           BIGINT       NOT NULL,
    total         BIGINT       NOT NULL,
    entry_id      VARCHAR(36)  NOT NULL,
    created_at    BIGINT       NOT NULL,
    CONSTRAINT invoice_shipment_key UNIQUE (shipment_id)
){{table_options}};
CREATE INDEX invoice_order_idx ON invoice (order_id);
CREATE INDEX invoice_customer_idx ON invoice (customer_id, invoice_date);

CREATE TABLE invoice_line (
    invoice_id    VARCHAR(36) NOT NULL,
    order_line_no INTEGER     NOT NULL,
    quantity      BIGINT      NOT NULL,
    goods         BIGINT      NOT NULL,
    discount      BIGINT      NOT NULL,
    tax           BIGINT      NOT NULL,
    PRIMARY KEY (invoice_id, order_line_no),
    CONSTRAINT invoice_line_invoice_fk FOREIGN KEY (invoice_id) REFERENCES invoice (id)
){{table_options}};
