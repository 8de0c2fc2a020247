-- API keys for keeld's REST API (core/auth): each key has a role; the secret is shown once when created and only
-- its SHA-256 is stored (keys are 256 random bits, so a plain hash is enough: there is nothing to guess). A key is
-- found by its public prefix and revoked rather than deleted, so what it did stays attributable.
CREATE TABLE api_key (
    id           VARCHAR(36) NOT NULL PRIMARY KEY,
    name         VARCHAR(64) NOT NULL,
    role         VARCHAR(16) NOT NULL,
    prefix       VARCHAR(16) NOT NULL,
    secret_hash  VARCHAR(64) NOT NULL,
    created_at   BIGINT      NOT NULL,
    created_by   VARCHAR(64) NOT NULL,
    revoked_at   BIGINT,
    revoked_by   VARCHAR(64),
    last_used_at BIGINT,
    CONSTRAINT api_key_role_check CHECK (role IN ('admin', 'operations', 'finance', 'integration', 'read-only'))
){{table_options}};
CREATE UNIQUE INDEX api_key_name_idx ON api_key (name);
CREATE UNIQUE INDEX api_key_prefix_idx ON api_key (prefix);
