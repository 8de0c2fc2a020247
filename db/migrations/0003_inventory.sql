-- Inventory (core/inventory): the append-only stock ledger, balances projected from it in the same
-- transaction, lots, reservations, safety stock, channel rules, transfers and cycle counts.
-- No lot is the empty string '' (not NULL), so it can be part of keys on every backend.

CREATE TABLE lot (
    id          VARCHAR(36) NOT NULL PRIMARY KEY,
    item_id     VARCHAR(36) NOT NULL,
    lot_code    VARCHAR(64) NOT NULL,
    expiry_date INTEGER,
    status      VARCHAR(16) NOT NULL,
    created_at  BIGINT      NOT NULL,
    CONSTRAINT lot_code_key UNIQUE (item_id, lot_code),
    CONSTRAINT lot_status_check CHECK (status IN ('released', 'quarantined')),
    CONSTRAINT lot_item_fk FOREIGN KEY (item_id) REFERENCES item (id)
){{table_options}};

-- Quantity per (item, location, lot, state). `allocated` is the part of on_hand stock promised to active
-- reservations; only on_hand rows carry allocations. The CHECKs make negative stock and over-allocation
-- impossible whatever the code above does.
CREATE TABLE stock_balance (
    item_id     VARCHAR(36) NOT NULL,
    location_id VARCHAR(36) NOT NULL,
    lot_id      VARCHAR(36) NOT NULL,
    state       VARCHAR(16) NOT NULL,
    quantity    BIGINT      NOT NULL,
    allocated   BIGINT      NOT NULL,
    updated_at  BIGINT      NOT NULL,
    PRIMARY KEY (item_id, location_id, lot_id, state),
    CONSTRAINT stock_balance_quantity_check CHECK (quantity >= 0 AND allocated >= 0 AND allocated <= quantity),
    CONSTRAINT stock_balance_state_check CHECK (state IN ('on_hand', 'quarantined', 'in_transit', 'returned', 'damaged')),
    CONSTRAINT stock_balance_allocated_check CHECK (state = 'on_hand' OR allocated = 0)
){{clustered_table_options}};
CREATE INDEX stock_balance_location_idx ON stock_balance (location_id, item_id);

-- The stock ledger. A receipt comes from outside ('' location and state), a shipment or write-off goes
-- outside. Rows are never updated or deleted.
CREATE TABLE stock_move (
    id               VARCHAR(36)  NOT NULL PRIMARY KEY,
    item_id          VARCHAR(36)  NOT NULL,
    lot_id           VARCHAR(36)  NOT NULL,
    quantity         BIGINT       NOT NULL,
    from_location_id VARCHAR(36)  NOT NULL,
    from_state       VARCHAR(16)  NOT NULL,
    to_location_id   VARCHAR(36)  NOT NULL,
    to_state         VARCHAR(16)  NOT NULL,
    reason           VARCHAR(32)  NOT NULL,
    note             VARCHAR(500) NOT NULL,
    source_type      VARCHAR(32)  NOT NULL,
    source_id        VARCHAR(64)  NOT NULL,
    unit_cost        BIGINT,
    currency         VARCHAR(3),
    actor            VARCHAR(64)  NOT NULL,
    created_at       BIGINT       NOT NULL,
    CONSTRAINT stock_move_quantity_check CHECK (quantity > 0),
    CONSTRAINT stock_move_ends_check CHECK (from_location_id <> '' OR to_location_id <> ''),
    CONSTRAINT stock_move_item_fk FOREIGN KEY (item_id) REFERENCES item (id)
){{table_options}};
CREATE INDEX stock_move_item_idx ON stock_move (item_id, created_at);
CREATE INDEX stock_move_source_idx ON stock_move (source_type, source_id);

-- Claims on on_hand stock: allocations for order lines and expiring holds (carts, quotes). `remaining` is
-- what the reservation still holds; the sum of `remaining` over active reservations of a balance row equals
-- its `allocated`.
CREATE TABLE reservation (
    id          VARCHAR(36) NOT NULL PRIMARY KEY,
    item_id     VARCHAR(36) NOT NULL,
    location_id VARCHAR(36) NOT NULL,
    lot_id      VARCHAR(36) NOT NULL,
    kind        VARCHAR(16) NOT NULL,
    status      VARCHAR(16) NOT NULL,
    quantity    BIGINT      NOT NULL,
    remaining   BIGINT      NOT NULL,
    order_id    VARCHAR(64) NOT NULL,
    order_line  VARCHAR(64) NOT NULL,
    channel     VARCHAR(64) NOT NULL,
    expires_at  BIGINT,
    created_at  BIGINT      NOT NULL,
    closed_at   BIGINT,
    CONSTRAINT reservation_quantity_check CHECK (quantity > 0 AND remaining >= 0 AND remaining <= quantity),
    CONSTRAINT reservation_kind_check CHECK (kind IN ('allocation', 'hold')),
    CONSTRAINT reservation_status_check CHECK (status IN ('active', 'released', 'consumed', 'expired'))
){{table_options}};
-- Holds are found by expiry (allocations have none); reservations of an order by the order. Nothing else
-- is indexed: every index is paid for on each reservation.
CREATE INDEX reservation_expiry_idx ON reservation (expires_at);
CREATE INDEX reservation_order_idx ON reservation (order_id, order_line);

-- Safety stock per item and location, overriding the item's default (item.safety_stock).
CREATE TABLE safety_stock (
    item_id     VARCHAR(36) NOT NULL,
    location_id VARCHAR(36) NOT NULL,
    quantity    BIGINT      NOT NULL,
    updated_at  BIGINT      NOT NULL,
    PRIMARY KEY (item_id, location_id),
    CONSTRAINT safety_stock_quantity_check CHECK (quantity >= 0)
){{table_options}};

-- How much of the available stock a channel may see and take: a percentage and/or a cap, for one item or
-- for every item ('' item_id). The item rule wins over the channel-wide one.
CREATE TABLE channel_rule (
    channel     VARCHAR(64) NOT NULL,
    item_id     VARCHAR(36) NOT NULL,
    percent     INTEGER,
    cap         BIGINT,
    updated_at  BIGINT      NOT NULL,
    PRIMARY KEY (channel, item_id),
    CONSTRAINT channel_rule_check CHECK ((percent IS NULL OR (percent >= 0 AND percent <= 100)) AND (cap IS NULL OR cap >= 0))
){{table_options}};

CREATE TABLE stock_transfer (
    id               VARCHAR(36) NOT NULL PRIMARY KEY,
    from_location_id VARCHAR(36) NOT NULL,
    to_location_id   VARCHAR(36) NOT NULL,
    status           VARCHAR(16) NOT NULL,
    reference        VARCHAR(64) NOT NULL,
    created_at       BIGINT      NOT NULL,
    closed_at        BIGINT,
    CONSTRAINT stock_transfer_status_check CHECK (status IN ('in_transit', 'received', 'closed'))
){{table_options}};

CREATE TABLE stock_transfer_line (
    transfer_id VARCHAR(36) NOT NULL,
    line_no     INTEGER     NOT NULL,
    item_id     VARCHAR(36) NOT NULL,
    lot_id      VARCHAR(36) NOT NULL,
    shipped     BIGINT      NOT NULL,
    received    BIGINT      NOT NULL,
    written_off BIGINT      NOT NULL,
    PRIMARY KEY (transfer_id, line_no),
    CONSTRAINT stock_transfer_line_check CHECK (shipped > 0 AND received >= 0 AND written_off >= 0 AND received + written_off <= shipped),
    CONSTRAINT stock_transfer_line_fk FOREIGN KEY (transfer_id) REFERENCES stock_transfer (id)
){{table_options}};

-- Cycle counts: what was counted, what the books said, and the adjustment that posted the difference.
CREATE TABLE stock_count (
    id          VARCHAR(36) NOT NULL PRIMARY KEY,
    item_id     VARCHAR(36) NOT NULL,
    location_id VARCHAR(36) NOT NULL,
    lot_id      VARCHAR(36) NOT NULL,
    counted     BIGINT      NOT NULL,
    expected    BIGINT      NOT NULL,
    status      VARCHAR(16) NOT NULL,
    actor       VARCHAR(64) NOT NULL,
    created_at  BIGINT      NOT NULL,
    posted_at   BIGINT,
    CONSTRAINT stock_count_check CHECK (counted >= 0 AND expected >= 0),
    CONSTRAINT stock_count_status_check CHECK (status IN ('open', 'posted', 'cancelled'))
){{table_options}};
