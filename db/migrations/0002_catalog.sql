-- Item master and locations (core/catalog). Quantities are integers in the item's base unit; weights in
-- milligrams and dimensions in millimetres, so no value needs a fraction. Timestamps are UTC epoch microseconds.
CREATE TABLE item (
    id              VARCHAR(36)   NOT NULL PRIMARY KEY,
    sku             VARCHAR(64)   NOT NULL,
    name            VARCHAR(200)  NOT NULL,
    description     VARCHAR(4000) NOT NULL,
    base_uom        VARCHAR(16)   NOT NULL,
    gtin            VARCHAR(14),
    weight_mg       BIGINT,
    length_mm       BIGINT,
    width_mm        BIGINT,
    height_mm       BIGINT,
    lot_tracked     SMALLINT      NOT NULL,
    expiry_tracked  SMALLINT      NOT NULL,
    shelf_life_days INTEGER,
    tax_class       VARCHAR(32)   NOT NULL,
    cost_method     VARCHAR(16)   NOT NULL,
    status          VARCHAR(16)   NOT NULL,
    is_kit          SMALLINT      NOT NULL,
    safety_stock    BIGINT        NOT NULL,
    created_at      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL,
    CONSTRAINT item_sku_key UNIQUE (sku),
    CONSTRAINT item_gtin_key UNIQUE (gtin),
    CONSTRAINT item_flags_check CHECK (lot_tracked IN (0, 1) AND expiry_tracked IN (0, 1) AND is_kit IN (0, 1)),
    CONSTRAINT item_cost_method_check CHECK (cost_method IN ('moving_average', 'fifo')),
    CONSTRAINT item_status_check CHECK (status IN ('active', 'discontinued')),
    CONSTRAINT item_safety_stock_check CHECK (safety_stock >= 0)
){{table_options}};

-- Other units of measure of an item as whole multiples of its base unit (a case of 12).
CREATE TABLE item_uom (
    item_id VARCHAR(36) NOT NULL,
    uom     VARCHAR(16) NOT NULL,
    factor  BIGINT      NOT NULL,
    gtin    VARCHAR(14),
    PRIMARY KEY (item_id, uom),
    CONSTRAINT item_uom_gtin_key UNIQUE (gtin),
    CONSTRAINT item_uom_factor_check CHECK (factor > 1),
    CONSTRAINT item_uom_item_fk FOREIGN KEY (item_id) REFERENCES item (id)
){{table_options}};

-- Channel SKU aliases: what a marketplace or partner calls an item, unique per channel.
CREATE TABLE item_alias (
    channel     VARCHAR(64)  NOT NULL,
    channel_sku VARCHAR(128) NOT NULL,
    item_id     VARCHAR(36)  NOT NULL,
    created_at  BIGINT       NOT NULL,
    PRIMARY KEY (channel, channel_sku),
    CONSTRAINT item_alias_item_fk FOREIGN KEY (item_id) REFERENCES item (id)
){{table_options}};
CREATE INDEX item_alias_item_idx ON item_alias (item_id);

-- Kits and bundles: a kit is sold as one item and made of its components.
CREATE TABLE kit_component (
    kit_item_id       VARCHAR(36) NOT NULL,
    component_item_id VARCHAR(36) NOT NULL,
    quantity          BIGINT      NOT NULL,
    PRIMARY KEY (kit_item_id, component_item_id),
    CONSTRAINT kit_component_quantity_check CHECK (quantity > 0),
    CONSTRAINT kit_component_kit_fk FOREIGN KEY (kit_item_id) REFERENCES item (id),
    CONSTRAINT kit_component_item_fk FOREIGN KEY (component_item_id) REFERENCES item (id)
){{table_options}};

CREATE TABLE location (
    id                 VARCHAR(36)  NOT NULL PRIMARY KEY,
    code               VARCHAR(32)  NOT NULL,
    name               VARCHAR(200) NOT NULL,
    type               VARCHAR(16)  NOT NULL,
    priority           INTEGER      NOT NULL,
    country            VARCHAR(2)   NOT NULL,
    region             VARCHAR(64)  NOT NULL,
    ships_to_customers SMALLINT     NOT NULL,
    active             SMALLINT     NOT NULL,
    created_at         BIGINT       NOT NULL,
    updated_at         BIGINT       NOT NULL,
    CONSTRAINT location_code_key UNIQUE (code),
    CONSTRAINT location_type_check CHECK (type IN ('warehouse', 'store', '3pl', 'transit', 'virtual')),
    CONSTRAINT location_flags_check CHECK (ships_to_customers IN (0, 1) AND active IN (0, 1))
){{table_options}};
