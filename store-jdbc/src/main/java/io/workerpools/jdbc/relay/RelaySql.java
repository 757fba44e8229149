package io.workerpools.jdbc.relay;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The relay's statements: stateless, one statement per operation, each on a connection of its own
 * from the host's pool, each under a query timeout. Every expiry is computed by the database
 * ({@code now() + interval}), so node clocks never matter.
 */
final class RelaySql {
  private final DataSource ds;

  RelaySql(DataSource ds) {
    this.ds = ds;
  }

  /** A claimed request: who sent it, for what, its payload and the milliseconds it has left. */
  record Request(String id, String sourceNode, String address, byte[] payload, long remainingMs) {}

  /** A claimed reply: its payload, or the holder's error. */
  record Reply(byte[] payload, String error) {}

  void createSchema() throws SQLException {
    String ddl;
    try (InputStream in = RelaySql.class.getResourceAsStream("relay-schema-postgresql.sql")) {
      if (in == null) {
        throw new SQLException("relay-schema-postgresql.sql is missing from the class path");
      }
      ddl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SQLException("cannot read the relay schema: " + e.getMessage(), e);
    }
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.setQueryTimeout(30);
      // Two nodes creating the schema at once could collide on the catalog: serialize them.
      c.setAutoCommit(false);
      try {
        s.execute("SELECT pg_advisory_xact_lock(7262657761)"); // "relay" as a number
        s.execute(ddl);
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  /** Inserts or refreshes the announcements of {@code addresses} by {@code node}. */
  void announce(String node, Collection<String> addresses, long ttlMs) throws SQLException {
    if (addresses.isEmpty()) {
      return;
    }
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "INSERT INTO wp_relay_holders (address, node, expires_at)"
                    + " SELECT a, ?, now() + ? * interval '1 millisecond' FROM unnest(?) AS a"
                    + " ON CONFLICT (address, node) DO UPDATE SET expires_at = excluded.expires_at")) {
      p.setQueryTimeout(10);
      p.setString(1, node);
      p.setLong(2, ttlMs);
      p.setArray(3, c.createArrayOf("varchar", addresses.toArray()));
      p.executeUpdate();
    }
  }

  /** Removes an announcement (all of the node's when {@code address} is null). */
  void withdraw(String node, String address) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                address == null
                    ? "DELETE FROM wp_relay_holders WHERE node = ?"
                    : "DELETE FROM wp_relay_holders WHERE node = ? AND address = ?")) {
      p.setQueryTimeout(10);
      p.setString(1, node);
      if (address != null) {
        p.setString(2, address);
      }
      p.executeUpdate();
    }
  }

  /** The most recently refreshed live holder of {@code address} other than {@code self}. */
  Optional<String> holder(String address, String self) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT node FROM wp_relay_holders WHERE address = ? AND node <> ?"
                    + " AND expires_at > now() ORDER BY expires_at DESC LIMIT 1")) {
      p.setQueryTimeout(10);
      p.setString(1, address);
      p.setString(2, self);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
      }
    }
  }

  /** Inserts a request and notifies its target in one statement (the notice goes at commit). */
  void sendRequest(
      String id,
      String target,
      String targetChannel,
      String source,
      String address,
      byte[] payload,
      long remainingMs,
      int timeoutSeconds)
      throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "WITH ins AS (INSERT INTO wp_relay_requests"
                    + " (id, target_node, source_node, address, payload, expires_at)"
                    + " VALUES (?, ?, ?, ?, ?, now() + ? * interval '1 millisecond') RETURNING id)"
                    + " SELECT pg_notify(?, 'q:' || id) FROM ins")) {
      p.setQueryTimeout(timeoutSeconds);
      p.setString(1, id);
      p.setString(2, target);
      p.setString(3, source);
      p.setString(4, address);
      p.setBytes(5, payload);
      p.setLong(6, remainingMs);
      p.setString(7, targetChannel);
      p.executeQuery().close();
    }
  }

  /** Takes (deletes) a request addressed to {@code node}; empty if gone or someone took it. */
  Optional<Request> claimRequest(String id, String node) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "DELETE FROM wp_relay_requests WHERE id = ? AND target_node = ?"
                    + " RETURNING source_node, address, payload,"
                    + " (extract(epoch FROM (expires_at - now())) * 1000)::bigint")) {
      p.setQueryTimeout(10);
      p.setString(1, id);
      p.setString(2, node);
      try (ResultSet r = p.executeQuery()) {
        if (!r.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new Request(id, r.getString(1), r.getString(2), r.getBytes(3), r.getLong(4)));
      }
    }
  }

  /** Deletes a request not yet taken; true if it was still there (so it was never delivered). */
  boolean withdrawRequest(String id) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p = c.prepareStatement("DELETE FROM wp_relay_requests WHERE id = ?")) {
      p.setQueryTimeout(10);
      p.setString(1, id);
      return p.executeUpdate() > 0;
    }
  }

  /** Inserts a reply and notifies the caller in one statement. */
  void sendReply(
      String id, String target, String targetChannel, byte[] payload, String error, long keepMs)
      throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "WITH ins AS (INSERT INTO wp_relay_replies (id, target_node, payload, error,"
                    + " expires_at) VALUES (?, ?, ?, ?, now() + ? * interval '1 millisecond')"
                    + " ON CONFLICT (id) DO NOTHING RETURNING id)"
                    + " SELECT pg_notify(?, 'r:' || id) FROM ins")) {
      p.setQueryTimeout(10);
      p.setString(1, id);
      p.setString(2, target);
      p.setBytes(3, payload);
      p.setString(4, error);
      p.setLong(5, keepMs);
      p.setString(6, targetChannel);
      p.executeQuery().close();
    }
  }

  /** Takes (deletes) a reply addressed to {@code node}. */
  Optional<Reply> claimReply(String id, String node) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "DELETE FROM wp_relay_replies WHERE id = ? AND target_node = ?"
                    + " RETURNING payload, error")) {
      p.setQueryTimeout(10);
      p.setString(1, id);
      p.setString(2, node);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(new Reply(r.getBytes(1), r.getString(2))) : Optional.empty();
      }
    }
  }

  /**
   * Ids of requests (or replies) addressed to {@code node}, for the sweep after a missed notice.
   */
  List<String> waitingFor(String node, boolean replies) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT id FROM "
                    + (replies ? "wp_relay_replies" : "wp_relay_requests")
                    + " WHERE target_node = ? LIMIT 1000")) {
      p.setQueryTimeout(10);
      p.setString(1, node);
      List<String> ids = new ArrayList<>();
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          ids.add(r.getString(1));
        }
      }
      return ids;
    }
  }

  /** Deletes expired rows of every relay table; returns how many. */
  int deleteExpired() throws SQLException {
    int n = 0;
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.setQueryTimeout(10);
      n += s.executeUpdate("DELETE FROM wp_relay_requests WHERE expires_at < now()");
      n += s.executeUpdate("DELETE FROM wp_relay_replies WHERE expires_at < now()");
      n += s.executeUpdate("DELETE FROM wp_relay_holders WHERE expires_at < now()");
    }
    return n;
  }
}
