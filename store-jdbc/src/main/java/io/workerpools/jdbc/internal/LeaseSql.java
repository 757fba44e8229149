package io.workerpools.jdbc.internal;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.store.LeaseRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The lease table's SQL: stateless, one statement per operation, each a compare-and-set the
 * database decides (the caps hold across any number of nodes). Lease time is the database's: every
 * statement stamps and compares instants with {@code clock_timestamp()}, so a node whose clock is
 * wrong can neither over-grant a worker nor expire another node's live lease. Callers own
 * connections and transactions.
 */
public final class LeaseSql {
  private LeaseSql() {}

  /** The database's clock, read once per statement. */
  private static final String NOW = "(SELECT clock_timestamp() AS t) now";

  /** One TTL after {@code now.t}; the TTL is bound as seconds (a double, microsecond precision). */
  private static final String NOW_PLUS_TTL = "now.t + make_interval(secs => ?)";

  private static final String STAMPS = "RETURNING acquired_at, expires_at";

  /**
   * A worker's lease: a conditional {@code UPDATE} of its lease counter ({@code active_leases <
   * cap}, enabled, not draining, worker exists) feeding the {@code INSERT} of the lease.
   */
  private static final String ACQUIRE_SQL =
      "WITH slot AS ("
          + " UPDATE wp_worker_state s SET active_leases = s.active_leases + 1"
          + " FROM wp_workers w"
          + " WHERE s.worker_id = ? AND w.id = s.worker_id AND w.enabled AND NOT s.draining"
          + " AND s.active_leases < coalesce(w.max_leases, 2147483647)"
          + " RETURNING s.worker_id)"
          + " INSERT INTO wp_leases (lease_id, worker_id, pool_id, holder, step_id,"
          + " acquired_at, expires_at)"
          + " SELECT ?, slot.worker_id, ?, ?, ?, now.t, "
          + NOW_PLUS_TTL
          + " FROM slot, "
          + NOW
          + " "
          + STAMPS;

  /**
   * The built-in worker's lease: granted only while rule 1 holds in the database (the claim's pool
   * is the default pool, no worker is in it, the built-in worker is on). Run in a transaction that
   * holds the change-log lock shared, so no configuration change commits between check and insert.
   */
  private static final String INSERT_BUILT_IN_LEASE_SQL =
      "INSERT INTO wp_leases (lease_id, worker_id, pool_id, holder, step_id,"
          + " acquired_at, expires_at)"
          + " SELECT ?, ?, st.default_pool, ?, ?, now.t, "
          + NOW_PLUS_TTL
          + " FROM wp_settings st, "
          + NOW
          + " WHERE st.id = 1 AND st.built_in_enabled AND st.default_pool = ?"
          + " AND NOT EXISTS (SELECT 1 FROM wp_workers w"
          + " WHERE (w.body::jsonb -> 'pools') @> to_jsonb(st.default_pool)) "
          + STAMPS;

  private static final String LEASE_COLUMNS =
      "lease_id, worker_id, pool_id, holder, step_id, acquired_at, expires_at";

  /** A holder's leases that have not expired yet: an expired one is never revived. */
  private static final String RENEW_SQL =
      "UPDATE wp_leases l SET expires_at = "
          + NOW_PLUS_TTL
          + " FROM "
          + NOW
          + " WHERE l.holder = ? AND l.expires_at >= now.t";

  private static final String RELEASE_SQL =
      "WITH gone AS (DELETE FROM wp_leases WHERE lease_id = ? RETURNING *),"
          + " dec AS (UPDATE wp_worker_state s SET active_leases = s.active_leases - 1 FROM gone"
          + " WHERE s.worker_id = gone.worker_id AND s.active_leases > 0 RETURNING 1)"
          + " SELECT "
          + LEASE_COLUMNS
          + " FROM gone";

  private static final String EXPIRE_SQL =
      "WITH gone AS (DELETE FROM wp_leases l USING "
          + NOW
          + " WHERE l.expires_at < now.t RETURNING l.*),"
          + " n AS (SELECT worker_id, count(*) AS c FROM gone GROUP BY worker_id),"
          + " dec AS (UPDATE wp_worker_state s SET active_leases = greatest(0, s.active_leases - n.c)"
          + " FROM n WHERE s.worker_id = n.worker_id RETURNING 1)"
          + " SELECT "
          + LEASE_COLUMNS
          + " FROM gone ORDER BY acquired_at, lease_id";

  private static final String ALL_SQL =
      "SELECT " + LEASE_COLUMNS + " FROM wp_leases ORDER BY acquired_at, lease_id";

  /** Grants a worker's lease if its counter allows; returns it as the database stamped it. */
  public static Optional<LeaseRecord> acquire(Connection c, LeaseRecord claim) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ACQUIRE_SQL)) {
      ps.setString(1, claim.worker().value());
      ps.setString(2, claim.leaseId());
      ps.setString(3, claim.pool().value());
      bindLeaseTail(ps, 4, claim);
      return stamped(ps, claim);
    }
  }

  /**
   * Grants the built-in worker's lease if rule 1 holds; returns it as the database stamped it. Call
   * holding the change-log lock shared ({@link ChangeLog#lockShared}).
   */
  public static Optional<LeaseRecord> acquireBuiltIn(Connection c, LeaseRecord claim)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT_BUILT_IN_LEASE_SQL)) {
      ps.setString(1, claim.leaseId());
      ps.setString(2, claim.worker().value());
      int i = bindLeaseTail(ps, 3, claim);
      ps.setString(i, claim.pool().value());
      return stamped(ps, claim);
    }
  }

  /** Moves the holder's live leases to expire {@code ttl} after the database's now. */
  public static int renew(Connection c, String holder, Duration ttl) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RENEW_SQL)) {
      ps.setDouble(1, seconds(ttl));
      ps.setString(2, holder);
      return ps.executeUpdate();
    }
  }

  /** Deletes one lease and frees its slot; returns it, or nothing if it was gone. */
  public static List<LeaseRecord> release(Connection c, String leaseId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RELEASE_SQL)) {
      ps.setString(1, leaseId);
      return read(ps);
    }
  }

  /** Deletes the leases past their expiry by the database's clock; frees their slots. */
  public static List<LeaseRecord> expire(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(EXPIRE_SQL)) {
      return read(ps);
    }
  }

  /** Every lease, oldest first. */
  public static List<LeaseRecord> all(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ALL_SQL)) {
      return read(ps);
    }
  }

  /** A duration as the seconds {@code make_interval} takes, to the microsecond. */
  static double seconds(Duration d) {
    return d.toNanos() / 1_000 / 1e6;
  }

  /** Binds holder, step and the claim's TTL from {@code i}; returns the next index. */
  private static int bindLeaseTail(PreparedStatement ps, int i, LeaseRecord claim)
      throws SQLException {
    ps.setString(i++, claim.holder());
    ps.setString(i++, claim.stepId());
    ps.setDouble(i++, seconds(Duration.between(claim.acquiredAt(), claim.expiresAt())));
    return i;
  }

  private static Optional<LeaseRecord> stamped(PreparedStatement ps, LeaseRecord claim)
      throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return Optional.empty();
      }
      return Optional.of(claim.withTimes(instant(rs, 1), instant(rs, 2)));
    }
  }

  static Instant instant(ResultSet rs, int column) throws SQLException {
    return rs.getObject(column, OffsetDateTime.class).toInstant();
  }

  private static List<LeaseRecord> read(PreparedStatement ps) throws SQLException {
    List<LeaseRecord> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new LeaseRecord(
                rs.getString(1),
                WorkerId.of(rs.getString(2)),
                PoolId.of(rs.getString(3)),
                rs.getString(4),
                rs.getString(5),
                instant(rs, 6),
                instant(rs, 7)));
      }
    }
    return out;
  }
}
