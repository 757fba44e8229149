-- WorkerPools node relay (io.workerpools.jdbc.relay.PostgresRelay): schema for PostgreSQL 13+.
-- Created by the relay at start unless PostgresRelay.builder(...).createSchema(false); every
-- statement is idempotent. Rows are short-lived: deleted when served, or swept once expired
-- (all expiry instants are on the database's clock).

-- Which node holds which address (a polling agent's connection), until expires_at unless the
-- node refreshes it.
CREATE TABLE IF NOT EXISTS wp_relay_holders (
  address    varchar(200) NOT NULL,
  node       varchar(128) NOT NULL,
  expires_at timestamptz  NOT NULL,
  PRIMARY KEY (address, node)
);

-- Calls waiting for their target node to take them (a NOTIFY on the target's channel says so).
CREATE TABLE IF NOT EXISTS wp_relay_requests (
  id          varchar(64)  PRIMARY KEY,
  target_node varchar(128) NOT NULL,
  source_node varchar(128) NOT NULL,
  address     varchar(200) NOT NULL,
  payload     bytea        NOT NULL,
  expires_at  timestamptz  NOT NULL
);
CREATE INDEX IF NOT EXISTS wp_relay_requests_target ON wp_relay_requests (target_node);

-- Replies waiting for the calling node to take them.
CREATE TABLE IF NOT EXISTS wp_relay_replies (
  id          varchar(64)  PRIMARY KEY,
  target_node varchar(128) NOT NULL,
  payload     bytea,
  error       varchar(2000),
  expires_at  timestamptz  NOT NULL
);
CREATE INDEX IF NOT EXISTS wp_relay_replies_target ON wp_relay_replies (target_node);
