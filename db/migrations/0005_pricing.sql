-- Pricing (modules/pricing): price lists with quantity breaks and validity windows, and customer contract
-- prices. Unit prices are BIGINT minor units of the list's (or the contract's) currency, quantities are base
-- units, dates are INTEGER YYYYMMDD. valid_from is never NULL: an entry without a start date stores 19000101,
-- the earliest date Keel accepts, so that it can be part of the unique keys the imports upsert by (NULLs never
-- compare equal in a unique key). valid_to NULL means no end. Both bounds are inclusive.

CREATE TABLE price_list (
    code        VARCHAR(32)  NOT NULL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    currency    VARCHAR(3)   NOT NULL,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL
){{table_options}};

-- The unique key is also the lookup index: (price_list_code, item_id) is its prefix.
CREATE TABLE price_entry (
    id              VARCHAR(36) NOT NULL PRIMARY KEY,
    price_list_code VARCHAR(32) NOT NULL,
    item_id         VARCHAR(36) NOT NULL,
    min_quantity    BIGINT      NOT NULL,
    unit_price      BIGINT      NOT NULL,
    valid_from      INTEGER     NOT NULL,
    valid_to        INTEGER,
    created_at      BIGINT      NOT NULL,
    updated_at      BIGINT      NOT NULL,
    CONSTRAINT price_entry_key UNIQUE (price_list_code, item_id, min_quantity, valid_from),
    CONSTRAINT price_entry_price_check CHECK (unit_price >= 0),
    CONSTRAINT price_entry_quantity_check CHECK (min_quantity >= 1),
    CONSTRAINT price_entry_validity_check CHECK (valid_to IS NULL OR valid_from <= valid_to),
    CONSTRAINT price_entry_list_fk FOREIGN KEY (price_list_code) REFERENCES price_list (code),
    CONSTRAINT price_entry_item_fk FOREIGN KEY (item_id) REFERENCES item (id)
){{table_options}};
CREATE INDEX price_entry_item_idx ON price_entry (item_id);

-- A customer's own price for an item, in one currency; it comes before any price list.
CREATE TABLE contract_price (
    id            VARCHAR(36) NOT NULL PRIMARY KEY,
    customer_id   VARCHAR(36) NOT NULL,
    item_id       VARCHAR(36) NOT NULL,
    currency      VARCHAR(3)  NOT NULL,
    min_quantity  BIGINT      NOT NULL,
    unit_price    BIGINT      NOT NULL,
    valid_from    INTEGER     NOT NULL,
    valid_to      INTEGER,
    created_at    BIGINT      NOT NULL,
    updated_at    BIGINT      NOT NULL,
    CONSTRAINT contract_price_key UNIQUE (customer_id, item_id, currency, min_quantity, valid_from),
    CONSTRAINT contract_price_price_check CHECK (unit_price >= 0),
    CONSTRAINT contract_price_quantity_check CHECK (min_quantity >= 1),
    CONSTRAINT contract_price_validity_check CHECK (valid_to IS NULL OR valid_from <= valid_to),
    CONSTRAINT contract_price_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (id),
    CONSTRAINT contract_price_item_fk FOREIGN KEY (item_id) REFERENCES item (id)
){{table_options}};
CREATE INDEX contract_price_item_idx ON contract_price (item_id);
