-- Events (core/events): the global sequence and the audit chain of the outbox, and delivery to subscribers.
--
-- Writers never take a sequence number: a transaction that commits late would otherwise publish a number lower
-- than one already read, and a reader that moved past it would skip its event. Instead one sequencer at a time
-- (serialized by the event_sequence row) numbers the events that have committed, in (created_at, id) order, and
-- chains their hashes; readers only ever see numbered events, and numbers appear in order, without gaps.
ALTER TABLE event_outbox ADD seq BIGINT;
ALTER TABLE event_outbox ADD hash VARCHAR(64);
CREATE UNIQUE INDEX event_outbox_seq_idx ON event_outbox (seq);
CREATE INDEX event_outbox_pending_idx ON event_outbox (seq, created_at, id);

-- The head of the chain: the last number given and its hash. One row, 'global'.
CREATE TABLE event_sequence (
    name       VARCHAR(16) NOT NULL PRIMARY KEY,
    last_seq   BIGINT      NOT NULL,
    last_hash  VARCHAR(64) NOT NULL,
    updated_at BIGINT      NOT NULL
){{table_options}};
INSERT INTO event_sequence (name, last_seq, last_hash, updated_at)
VALUES ('global', 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- Delivery state per subscriber (configured in events.subscriber.NAME.*): every event up to `position` has been
-- delivered, filtered out or dead-lettered; the event after it is retried from next_attempt_at (microseconds).
CREATE TABLE event_subscription (
    subscriber      VARCHAR(64)  NOT NULL PRIMARY KEY,
    position        BIGINT       NOT NULL,
    attempts        INTEGER      NOT NULL,
    next_attempt_at BIGINT       NOT NULL,
    last_error      VARCHAR(500) NOT NULL,
    delivered       BIGINT       NOT NULL,
    delivered_at    BIGINT       NOT NULL,
    updated_at      BIGINT       NOT NULL
){{table_options}};

-- Events a subscriber gave up on after its maximum number of attempts; `keel events replay` sends them again.
CREATE TABLE event_dead_letter (
    subscriber VARCHAR(64)  NOT NULL,
    seq        BIGINT       NOT NULL,
    event_id   VARCHAR(36)  NOT NULL,
    attempts   INTEGER      NOT NULL,
    last_error VARCHAR(500) NOT NULL,
    created_at BIGINT       NOT NULL,
    PRIMARY KEY (subscriber, seq)
){{table_options}};
