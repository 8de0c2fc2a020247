-- A 3PL's warehouse receipts (EDI 944) that Keel took in, one per partner and receipt number (W1703): the key makes a
-- re-sent or reprocessed 944 a no-op instead of a second receipt, even when two of them race. Written in the unit of
-- work that receives the stock; message_id is the inbound edi_message the stock moves name as their source.
CREATE TABLE edi_warehouse_receipt (
    partner        VARCHAR(64) NOT NULL,
    receipt_number VARCHAR(30) NOT NULL,
    location_id    VARCHAR(36) NOT NULL,
    message_id     VARCHAR(36) NOT NULL,
    units          BIGINT      NOT NULL,
    received_at    BIGINT      NOT NULL,
    PRIMARY KEY (partner, receipt_number)
){{table_options}};
