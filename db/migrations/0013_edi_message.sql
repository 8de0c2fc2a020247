-- EDI messages (modules/app, edi_exchange): every file received from or sent to a trading partner, stored before
-- anything else is done with it, so nothing received is ever lost: a file that cannot be translated stays here for
-- `keel edi reprocess ID`. The bytes are kept as base64 text (any byte survives every backend's text type).
-- status: received (stored, not processed yet), processed (every set taken in), rejected (some sets refused; the
-- acknowledgment says which), failed (the translator could not run: retried by reprocess), sent (outbound).
-- An outbound document's control_number is its ISA13/GS06; the partner's 997/999 for that group sets
-- acknowledged_at and ack_status (AK901: A, E, P, R).
CREATE TABLE edi_message (
    id            VARCHAR(36)  NOT NULL PRIMARY KEY,
    partner       VARCHAR(64)  NOT NULL,
    direction     VARCHAR(3)   NOT NULL,
    kind          VARCHAR(16)  NOT NULL,
    name          VARCHAR(255) NOT NULL,
    size          BIGINT       NOT NULL,
    sha256        VARCHAR(64)  NOT NULL,
    body          {{text}}     NOT NULL,
    status        VARCHAR(16)  NOT NULL,
    detail        {{text}}     NOT NULL,
    related_id    VARCHAR(36),
    received_at   BIGINT       NOT NULL,
    processed_at  BIGINT,
    attempts      INTEGER      NOT NULL,
    control_number BIGINT,
    acknowledged_at BIGINT,
    ack_status    VARCHAR(1),
    CONSTRAINT edi_message_direction_check CHECK (direction IN ('in', 'out')),
    CONSTRAINT edi_message_status_check CHECK (status IN ('received', 'processed', 'rejected', 'failed', 'sent'))
){{table_options}};
CREATE INDEX edi_message_partner_idx ON edi_message (partner, received_at);
CREATE INDEX edi_message_sha_idx ON edi_message (sha256);
CREATE INDEX edi_message_control_idx ON edi_message (partner, direction, control_number);

-- Control numbers Keel uses in what it sends to a partner (ISA13/GS06/ST02 of acknowledgments and documents):
-- handed out in blocks and never reused, across restarts and keel processes.
CREATE TABLE edi_control_number (
    partner     VARCHAR(64) NOT NULL,
    kind        VARCHAR(16) NOT NULL,
    next_value  BIGINT      NOT NULL,
    PRIMARY KEY (partner, kind)
){{table_options}};
