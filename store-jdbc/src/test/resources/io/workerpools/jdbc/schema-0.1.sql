-- WorkerPools JDBC store: schema for PostgreSQL (13 or later).
-- Apply it with your own migration tool, or let the store create it with
-- JdbcInfrastructureStore.builder(...).createSchemaIfMissing(true).
-- Every statement is idempotent (IF NOT EXISTS / ON CONFLICT DO NOTHING).

-- One row: the default pool and whether the built-in worker may run steps (rule 1).
CREATE TABLE IF NOT EXISTS wp_settings (
  id               smallint PRIMARY KEY CHECK (id = 1),
  default_pool     text     NOT NULL,
  built_in_enabled boolean  NOT NULL
);

CREATE TABLE IF NOT EXISTS wp_pools (
  id          text   PRIMARY KEY,
  position    bigint NOT NULL,
  name        text   NOT NULL,
  description text   NOT NULL
);

-- A worker's configuration. enabled and max_leases are columns because lease acquisition checks
-- them in SQL; body is the whole worker as JSON (endpoint, pools, syntaxes, labels).
CREATE TABLE IF NOT EXISTS wp_workers (
  id         text    PRIMARY KEY,
  position   bigint  NOT NULL,
  name       text    NOT NULL,
  enabled    boolean NOT NULL,
  max_leases integer,
  body       text    NOT NULL
);

-- Which workers are in a pool: the built-in worker's lease checks that the default pool holds none
-- (rule 1) in the same statement that grants it.
CREATE INDEX IF NOT EXISTS wp_workers_pools ON wp_workers USING gin (((body::jsonb) -> 'pools'));

-- A worker's runtime state, kept apart from its configuration so that replacing the configuration
-- never loses it. active_leases is the counter the conditional UPDATE in lease acquisition guards.
-- The row outlives the worker's removal (its leases stay until released or expired).
CREATE TABLE IF NOT EXISTS wp_worker_state (
  worker_id     text    PRIMARY KEY,
  active_leases integer NOT NULL DEFAULT 0 CHECK (active_leases >= 0),
  draining      boolean NOT NULL DEFAULT false,
  health        text
);

-- Leases held now. Instants are stored as epoch seconds + nanoseconds, exactly.
CREATE TABLE IF NOT EXISTS wp_leases (
  lease_id   text   PRIMARY KEY,
  worker_id  text   NOT NULL,
  pool_id    text   NOT NULL,
  holder     text   NOT NULL,
  step_id    text   NOT NULL,
  acquired_s bigint NOT NULL,
  acquired_n integer NOT NULL,
  expires_s  bigint NOT NULL,
  expires_n  integer NOT NULL
);
CREATE INDEX IF NOT EXISTS wp_leases_holder ON wp_leases (holder);
CREATE INDEX IF NOT EXISTS wp_leases_expiry ON wp_leases (expires_s, expires_n);

-- The change log other nodes poll. Writers hold a transaction-scoped advisory lock while they append,
-- so rows become visible in seq order and "seq > last seen" never skips a row.
CREATE TABLE IF NOT EXISTS wp_changes (
  seq     bigserial   PRIMARY KEY,
  node    text        NOT NULL,
  events  text        NOT NULL,
  made_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO wp_pools (id, position, name, description)
  VALUES ('default', 0, 'Default Worker Pool', '') ON CONFLICT DO NOTHING;
INSERT INTO wp_settings (id, default_pool, built_in_enabled)
  VALUES (1, 'default', true) ON CONFLICT DO NOTHING;
