-- Orders (core/orders), the event outbox every state change writes to (core/events), customers, shipments and
-- returns. Money is BIGINT minor units in the order's currency; quantities are base units.

-- Events written in the same transaction as the change they describe. Delivery, sequence and the audit chain
-- are added by the event issue; the rows written here are already complete and in commit order per aggregate.
CREATE TABLE event_outbox (
    id             VARCHAR(36)  NOT NULL PRIMARY KEY,
    type           VARCHAR(64)  NOT NULL,
    aggregate_type VARCHAR(32)  NOT NULL,
    aggregate_id   VARCHAR(64)  NOT NULL,
    payload        {{text}}     NOT NULL,
    actor          VARCHAR(64)  NOT NULL,
    created_at     BIGINT       NOT NULL
){{table_options}};
CREATE INDEX event_outbox_aggregate_idx ON event_outbox (aggregate_type, aggregate_id);

CREATE TABLE customer (
    id             VARCHAR(36)  NOT NULL PRIMARY KEY,
    code           VARCHAR(64)  NOT NULL,
    name           VARCHAR(200) NOT NULL,
    email          VARCHAR(254) NOT NULL,
    kind           VARCHAR(8)   NOT NULL,
    credit_limit   BIGINT,
    currency       VARCHAR(3)   NOT NULL,
    price_list     VARCHAR(32)  NOT NULL,
    created_at     BIGINT       NOT NULL,
    updated_at     BIGINT       NOT NULL,
    CONSTRAINT customer_code_key UNIQUE (code),
    CONSTRAINT customer_kind_check CHECK (kind IN ('b2c', 'b2b')),
    CONSTRAINT customer_credit_check CHECK (credit_limit IS NULL OR credit_limit >= 0)
){{table_options}};

CREATE TABLE sales_order (
    id               VARCHAR(36)   NOT NULL PRIMARY KEY,
    channel          VARCHAR(64)   NOT NULL,
    external_id      VARCHAR(64)   NOT NULL,
    document_hash    VARCHAR(64)   NOT NULL,
    customer_id      VARCHAR(36)   NOT NULL,
    email            VARCHAR(254)  NOT NULL,
    currency         VARCHAR(3)    NOT NULL,
    state            VARCHAR(24)   NOT NULL,
    hold_reasons     VARCHAR(1000) NOT NULL,
    priority         INTEGER       NOT NULL,
    promise_date     INTEGER,
    ship_complete    SMALLINT      NOT NULL,
    allow_backorder  SMALLINT      NOT NULL,
    payment_status   VARCHAR(16)   NOT NULL,
    ship_name        VARCHAR(200)  NOT NULL,
    ship_line1       VARCHAR(200)  NOT NULL,
    ship_line2       VARCHAR(200)  NOT NULL,
    ship_city        VARCHAR(100)  NOT NULL,
    ship_region      VARCHAR(64)   NOT NULL,
    ship_postal_code VARCHAR(32)   NOT NULL,
    ship_country     VARCHAR(2)    NOT NULL,
    bill_country     VARCHAR(2)    NOT NULL,
    address_key      VARCHAR(64)   NOT NULL,
    shipping_service VARCHAR(32)   NOT NULL,
    shipping_amount  BIGINT        NOT NULL,
    subtotal         BIGINT        NOT NULL,
    discount_total   BIGINT        NOT NULL,
    tax_total        BIGINT        NOT NULL,
    total            BIGINT        NOT NULL,
    notes            VARCHAR(2000) NOT NULL,
    document         {{text}}      NOT NULL,
    version          BIGINT        NOT NULL,
    created_at       BIGINT        NOT NULL,
    updated_at       BIGINT        NOT NULL,
    CONSTRAINT sales_order_external_key UNIQUE (channel, external_id),
    CONSTRAINT sales_order_flags_check CHECK (ship_complete IN (0, 1) AND allow_backorder IN (0, 1)),
    CONSTRAINT sales_order_payment_check CHECK (payment_status IN ('pending', 'authorized', 'captured')),
    CONSTRAINT sales_order_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (id)
){{table_options}};
CREATE INDEX sales_order_state_idx ON sales_order (state, priority, created_at);
CREATE INDEX sales_order_customer_idx ON sales_order (customer_id, created_at);
CREATE INDEX sales_order_address_idx ON sales_order (address_key, created_at);

-- Quantities per line: ordered = allocated-but-unshipped (open allocations) + shipped + cancelled +
-- backordered + what is not yet decided.
CREATE TABLE sales_order_line (
    order_id      VARCHAR(36)  NOT NULL,
    line_no       INTEGER      NOT NULL,
    external_line VARCHAR(64)  NOT NULL,
    item_id       VARCHAR(36),
    sku           VARCHAR(128) NOT NULL,
    quantity      BIGINT       NOT NULL,
    unit_price    BIGINT,
    price_source  VARCHAR(64)  NOT NULL,
    discount      BIGINT       NOT NULL,
    tax           BIGINT       NOT NULL,
    line_total    BIGINT       NOT NULL,
    allocated     BIGINT       NOT NULL,
    shipped       BIGINT       NOT NULL,
    cancelled     BIGINT       NOT NULL,
    backordered   BIGINT       NOT NULL,
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT sales_order_line_quantity_check CHECK (quantity > 0 AND allocated >= 0 AND shipped >= 0 AND
        cancelled >= 0 AND backordered >= 0 AND allocated + shipped + cancelled + backordered <= quantity),
    CONSTRAINT sales_order_line_order_fk FOREIGN KEY (order_id) REFERENCES sales_order (id)
){{clustered_table_options}};

-- Every state change of an order: who, when, why.
CREATE TABLE order_transition (
    id          VARCHAR(36)   NOT NULL PRIMARY KEY,
    order_id    VARCHAR(36)   NOT NULL,
    from_state  VARCHAR(24)   NOT NULL,
    to_state    VARCHAR(24)   NOT NULL,
    reason      VARCHAR(1000) NOT NULL,
    actor       VARCHAR(64)   NOT NULL,
    created_at  BIGINT        NOT NULL
){{table_options}};
CREATE INDEX order_transition_order_idx ON order_transition (order_id, created_at);

CREATE TABLE shipment (
    id            VARCHAR(36)  NOT NULL PRIMARY KEY,
    order_id      VARCHAR(36)  NOT NULL,
    location_id   VARCHAR(36)  NOT NULL,
    state         VARCHAR(16)  NOT NULL,
    carrier       VARCHAR(64)  NOT NULL,
    service       VARCHAR(32)  NOT NULL,
    tracking      VARCHAR(128) NOT NULL,
    packages      INTEGER      NOT NULL,
    weight_mg     BIGINT,
    created_at    BIGINT       NOT NULL,
    shipped_at    BIGINT,
    delivered_at  BIGINT,
    proof         VARCHAR(500) NOT NULL,
    CONSTRAINT shipment_state_check CHECK (state IN ('released', 'picking', 'packed', 'shipped', 'delivered', 'cancelled')),
    CONSTRAINT shipment_order_fk FOREIGN KEY (order_id) REFERENCES sales_order (id)
){{table_options}};
CREATE INDEX shipment_order_idx ON shipment (order_id);

CREATE TABLE shipment_line (
    shipment_id    VARCHAR(36) NOT NULL,
    line_no        INTEGER     NOT NULL,
    order_line_no  INTEGER     NOT NULL,
    item_id        VARCHAR(36) NOT NULL,
    lot_id         VARCHAR(36) NOT NULL,
    reservation_id VARCHAR(36) NOT NULL,
    quantity       BIGINT      NOT NULL,
    line_units     BIGINT      NOT NULL,
    PRIMARY KEY (shipment_id, line_no),
    CONSTRAINT shipment_line_quantity_check CHECK (quantity > 0 AND line_units >= 0),
    CONSTRAINT shipment_line_shipment_fk FOREIGN KEY (shipment_id) REFERENCES shipment (id)
){{table_options}};

CREATE TABLE return_authorization (
    id            VARCHAR(36)  NOT NULL PRIMARY KEY,
    order_id      VARCHAR(36)  NOT NULL,
    state         VARCHAR(16)  NOT NULL,
    reason        VARCHAR(32)  NOT NULL,
    refund_policy VARCHAR(24)  NOT NULL,
    refund_amount BIGINT       NOT NULL,
    currency      VARCHAR(3)   NOT NULL,
    created_at    BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL,
    CONSTRAINT return_state_check CHECK (state IN ('authorized', 'received', 'inspected', 'closed', 'cancelled')),
    CONSTRAINT return_order_fk FOREIGN KEY (order_id) REFERENCES sales_order (id)
){{table_options}};
CREATE INDEX return_authorization_order_idx ON return_authorization (order_id);

CREATE TABLE return_line (
    return_id     VARCHAR(36) NOT NULL,
    line_no       INTEGER     NOT NULL,
    order_line_no INTEGER     NOT NULL,
    item_id       VARCHAR(36) NOT NULL,
    lot_id        VARCHAR(36) NOT NULL,
    location_id   VARCHAR(36) NOT NULL,
    expected      BIGINT      NOT NULL,
    received      BIGINT      NOT NULL,
    restocked     BIGINT      NOT NULL,
    refurbished   BIGINT      NOT NULL,
    disposed      BIGINT      NOT NULL,
    PRIMARY KEY (return_id, line_no),
    CONSTRAINT return_line_quantity_check CHECK (expected > 0 AND received >= 0 AND received <= expected AND
        restocked + refurbished + disposed <= received),
    CONSTRAINT return_line_return_fk FOREIGN KEY (return_id) REFERENCES return_authorization (id)
){{table_options}};
