-- Idempotency keys of keeld's REST API (modules/server): POST /api/v1/orders with the same Idempotency-Key (per API
-- key) answers with the order the first request created, and refuses the key for a different document. The row is
-- written in the order's own transaction, so a key is never remembered for an order that was not stored.
CREATE TABLE api_idempotency (
    key_id          VARCHAR(36)  NOT NULL,
    idempotency_key VARCHAR(200) NOT NULL,
    request_hash    VARCHAR(64)  NOT NULL,
    order_id        VARCHAR(36)  NOT NULL,
    created_at      BIGINT       NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
){{table_options}};
