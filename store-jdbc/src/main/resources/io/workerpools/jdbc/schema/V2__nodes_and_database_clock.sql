-- WorkerPools JDBC store, schema version 2: node identity, and lease time kept by the database.

-- The live host nodes: one row per node id, held by one instance (a random token per process)
-- until expires_at, by the database's clock. A second live instance of one id is refused, so that
-- renewing leases by node id renews one live node's leases only.
CREATE TABLE wp_nodes (
  node_id      text        PRIMARY KEY,
  instance     text        NOT NULL,
  started_at   timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);

-- Lease instants become the database's own timestamps (microseconds, the database clock's
-- resolution), set by the database in the statements that grant and renew; the 0.1 columns
-- (epoch seconds + nanoseconds, written from each node's clock) are carried over and dropped.
ALTER TABLE wp_leases ADD COLUMN acquired_at timestamptz, ADD COLUMN expires_at timestamptz;
UPDATE wp_leases SET
  acquired_at = to_timestamp(acquired_s) + (acquired_n / 1000) * interval '1 microsecond',
  expires_at  = to_timestamp(expires_s)  + (expires_n  / 1000) * interval '1 microsecond';
ALTER TABLE wp_leases ALTER COLUMN acquired_at SET NOT NULL, ALTER COLUMN expires_at SET NOT NULL;
DROP INDEX wp_leases_expiry;
ALTER TABLE wp_leases DROP COLUMN acquired_s, DROP COLUMN acquired_n,
  DROP COLUMN expires_s, DROP COLUMN expires_n;
CREATE INDEX wp_leases_expiry ON wp_leases (expires_at);

INSERT INTO wp_schema_version (version, description)
  VALUES (2, 'node identity, lease time by the database clock');
