package io.workerpools.jdbc.internal;

import io.workerpools.store.StoreEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The change log's SQL: stateless. Writers hold a transaction-scoped advisory lock, so rows become
 * visible in sequence order; the built-in worker's lease holds it shared.
 */
public final class ChangeLog {
  /** The advisory lock key that serializes change-log writers ("WPCL"). */
  private static final long CHANGE_LOCK = 0x5750_434CL;

  private ChangeLog() {}

  /** Rows read past a sequence number: the last one's number and their events, in order. */
  public record Batch(long lastSeq, List<StoreEvent> events) {}

  /** Holds the change-log lock shared: configuration writers (exclusive) wait until commit. */
  public static void lockShared(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(?)")) {
      ps.setLong(1, CHANGE_LOCK);
      ps.execute();
    }
  }

  /** Holds the change-log lock exclusively until the transaction ends. */
  public static void lock(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      ps.setLong(1, CHANGE_LOCK);
      ps.execute();
    }
  }

  /** Appends one row of events; returns its sequence number. */
  public static long append(Connection c, String node, List<StoreEvent> events)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO wp_changes (node, events) VALUES (?, ?) RETURNING seq")) {
      ps.setString(1, node);
      ps.setString(2, Codec.events(events));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** The rows after {@code seq}, in order ({@code lastSeq} is {@code seq} if there are none). */
  public static Batch since(Connection c, long seq) throws SQLException {
    List<StoreEvent> events = new ArrayList<>();
    long last = seq;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT seq, events FROM wp_changes WHERE seq > ? ORDER BY seq")) {
      ps.setLong(1, seq);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          last = rs.getLong(1);
          events.addAll(Codec.events(rs.getString(2)));
        }
      }
    }
    return new Batch(last, events);
  }

  /** The newest sequence number, 0 for an empty log. */
  public static long newest(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT coalesce(max(seq), 0) FROM wp_changes")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Deletes rows older than the retention; returns the oldest sequence number left, or {@link
   * Long#MAX_VALUE} if none is.
   */
  public static long prune(Connection c, Duration retention) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM wp_changes WHERE made_at < now() - ? * interval '1 millisecond'")) {
      ps.setLong(1, retention.toMillis());
      ps.executeUpdate();
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT min(seq) FROM wp_changes")) {
      rs.next();
      long min = rs.getLong(1);
      return rs.wasNull() ? Long.MAX_VALUE : min;
    }
  }
}
