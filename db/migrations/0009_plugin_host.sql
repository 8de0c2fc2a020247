-- The integration exception queue (core/plugin_host): failures of plugins and other integrations that need an
-- operator. A circuit breaker that opens, and a plugin's report_error, write a row here; `keel plugin list` shows
-- the open ones. A row is resolved (resolved_at set, microseconds since the epoch) rather than deleted, so the
-- history of an integration stays visible.

CREATE TABLE integration_exception (
    id           VARCHAR(36)  NOT NULL PRIMARY KEY,
    source       VARCHAR(128) NOT NULL,
    code         VARCHAR(64)  NOT NULL,
    message      {{text}}     NOT NULL,
    reference    VARCHAR(128) NOT NULL,
    created_at   BIGINT       NOT NULL,
    resolved_at  BIGINT
){{table_options}};
CREATE INDEX integration_exception_source_idx ON integration_exception (source, created_at);
