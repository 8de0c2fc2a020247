-- Installation metadata: the instance id (created by `keel db migrate`) and other settings that belong to
-- the database rather than to one node's configuration. Portable SQL; see db/README.md for the placeholders.
CREATE TABLE keel_meta (
    meta_key    VARCHAR(100) NOT NULL PRIMARY KEY,
    meta_value  VARCHAR(1000) NOT NULL,
    updated_at  BIGINT NOT NULL
){{table_options}};
