-- The tax engine's breakdown of each order line's tax by jurisdiction (line_no 0: the tax on shipping), as quoted
-- by a tax plugin (state, county, city, special district). Invoices and credit notes post tax payable per
-- jurisdiction from it; an order without rows (the rate table) posts its tax to the ship-to jurisdiction.
-- Rewritten whenever the order is quoted again (release of a hold).
CREATE TABLE order_tax (
    order_id     VARCHAR(36) NOT NULL,
    line_no      INTEGER     NOT NULL,
    jurisdiction VARCHAR(24) NOT NULL,
    tax          BIGINT      NOT NULL,
    PRIMARY KEY (order_id, line_no, jurisdiction)
){{table_options}};
