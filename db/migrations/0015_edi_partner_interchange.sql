-- Trading partners in the database (modules/app, edi_partners): each profile file of edi.partners
-- (PARTNER.properties) as last loaded, by `keel edi partners load` and by every receive, poll and send that uses the
-- partner. The row is what listings show, what an interchange's sender ids are looked up in, and what a keeld node
-- without the files works from. `profile` is the file's full text (the EDI plugin gets it with each request), sha256
-- its hash: a changed file replaces the row, a malformed one is refused and the row kept. The other columns are the
-- profile's values, for queries; empty strings where the profile has none (no file drop).
CREATE TABLE edi_partner (
    partner             VARCHAR(64)   NOT NULL PRIMARY KEY,
    isa_qualifier       VARCHAR(2)    NOT NULL,
    isa_id              VARCHAR(15)   NOT NULL,
    gs_id               VARCHAR(15)   NOT NULL,
    our_isa_qualifier   VARCHAR(2)    NOT NULL,
    our_isa_id          VARCHAR(15)   NOT NULL,
    our_gs_id           VARCHAR(15)   NOT NULL,
    version             VARCHAR(12)   NOT NULL,
    role                VARCHAR(8)    NOT NULL,
    ack                 VARCHAR(4)    NOT NULL,
    ack_deadline_hours  INTEGER       NOT NULL,
    channel             VARCHAR(64)   NOT NULL,
    customer            VARCHAR(64)   NOT NULL,
    transport_inbound   VARCHAR(1000) NOT NULL,
    transport_outbound  VARCHAR(1000) NOT NULL,
    transport_archive   VARCHAR(1000) NOT NULL,
    transport_error     VARCHAR(1000) NOT NULL,
    source              VARCHAR(1000) NOT NULL,
    profile             {{text}}      NOT NULL,
    sha256              VARCHAR(64)   NOT NULL,
    loaded_at           BIGINT        NOT NULL
){{table_options}};
CREATE INDEX edi_partner_sender_idx ON edi_partner (isa_qualifier, isa_id);

-- Interchanges received (ISA05/ISA06 sender, ISA07/ISA08 receiver, ISA13), across files, processes and keeld nodes:
-- the database-backed InterchangeRegistry of duplicate detection. One row per key with the message that took it in
-- and when; a message that is processed again (keel edi reprocess) keeps its own rows. A row older than
-- edi.duplicate_window_days is taken over by the next interchange with that key. The primary key makes two processes
-- that receive the same interchange at the same moment agree: the second insert fails, and that message becomes the
-- duplicate.
CREATE TABLE edi_interchange (
    sender_qualifier    VARCHAR(2)    NOT NULL,
    sender_id           VARCHAR(35)   NOT NULL,
    receiver_qualifier  VARCHAR(2)    NOT NULL,
    receiver_id         VARCHAR(35)   NOT NULL,
    control_number      VARCHAR(16)   NOT NULL,
    partner             VARCHAR(64)   NOT NULL,
    message_id          VARCHAR(36)   NOT NULL,
    seen_at             BIGINT        NOT NULL,
    PRIMARY KEY (sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number)
){{table_options}};
CREATE INDEX edi_interchange_message_idx ON edi_interchange (message_id);

-- The version of the order (sales_order.version) an outbound 855 describes. Every change of an order's lines or
-- state raises its version; keel edi send compares an order of a later version with its last 855 and sends a further
-- one (a change acknowledgment) when what it acknowledges changed, or else notes here the version the last one still
-- describes. 855s sent before this migration describe their orders as they are now: Keel sent no changes before.
ALTER TABLE edi_message ADD subject_version BIGINT;
UPDATE edi_message SET subject_version = (SELECT o.version FROM sales_order o WHERE o.id = edi_message.related_id)
    WHERE kind = '855';
-- What was sent for an order, shipment or invoice (every send looks it up).
CREATE INDEX edi_message_related_idx ON edi_message (related_id, kind);
