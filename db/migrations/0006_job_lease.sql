-- Leases of background jobs (keeld): several keeld nodes share one database, and a job that must not run on
-- two of them at once (allocation, backorder fill) runs where its lease is held. A lease is free when it has
-- expired (expires_at, microseconds since the epoch); the holder renews it at each run.

CREATE TABLE job_lease (
    name        VARCHAR(64) NOT NULL PRIMARY KEY,
    owner       VARCHAR(128) NOT NULL,
    expires_at  BIGINT      NOT NULL
){{table_options}};
