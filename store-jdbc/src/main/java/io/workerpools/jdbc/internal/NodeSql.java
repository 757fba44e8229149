package io.workerpools.jdbc.internal;

import io.workerpools.store.NodeIdInUseException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;

/**
 * The node table's SQL: stateless. A node id is held by one live instance at a time, by the
 * database's clock: the heartbeat is one {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE} that
 * takes or keeps the row only for the instance holding it or once the holder's heartbeat expired.
 */
public final class NodeSql {
  private NodeSql() {}

  private static final String HEARTBEAT_SQL =
      "INSERT INTO wp_nodes AS n (node_id, instance, started_at, heartbeat_at, expires_at)"
          + " SELECT ?, ?, now.t, now.t, now.t + make_interval(secs => ?)"
          + " FROM (SELECT clock_timestamp() AS t) now"
          + " ON CONFLICT (node_id) DO UPDATE SET instance = excluded.instance,"
          + " heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at,"
          + " started_at = CASE WHEN n.instance = excluded.instance THEN n.started_at"
          + " ELSE excluded.started_at END"
          + " WHERE n.instance = excluded.instance OR n.expires_at < excluded.heartbeat_at";

  private static final String HOLDER_SQL =
      "SELECT started_at, heartbeat_at, extract(epoch FROM expires_at - clock_timestamp())"
          + " FROM wp_nodes WHERE node_id = ?";

  /**
   * Takes or keeps {@code nodeId} for {@code instance} until one TTL from the database's now.
   *
   * @throws NodeIdInUseException if another instance holds it and has not expired
   */
  public static void heartbeat(Connection c, String nodeId, String instance, Duration ttl)
      throws SQLException {
    int rows;
    try (PreparedStatement ps = c.prepareStatement(HEARTBEAT_SQL)) {
      ps.setString(1, nodeId);
      ps.setString(2, instance);
      ps.setDouble(3, LeaseSql.seconds(ttl));
      rows = ps.executeUpdate();
    }
    if (rows == 1) {
      return;
    }
    String detail = "its registration in wp_nodes is live";
    try (PreparedStatement ps = c.prepareStatement(HOLDER_SQL)) {
      ps.setString(1, nodeId);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          detail =
              "it started at "
                  + LeaseSql.instant(rs, 1)
                  + " and its last heartbeat, at "
                  + LeaseSql.instant(rs, 2)
                  + ", holds the id for "
                  + Math.max(0, Math.round(rs.getDouble(3)))
                  + " s more by the database's clock";
        }
      }
    }
    throw new NodeIdInUseException(nodeId, detail);
  }

  /** Frees {@code nodeId} if {@code instance} holds it. */
  public static void leave(Connection c, String nodeId, String instance) throws SQLException {
    Jdbc.update(c, "DELETE FROM wp_nodes WHERE node_id = ? AND instance = ?", nodeId, instance);
  }
}
