package io.workerpools.jdbc.internal;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.store.LeaseRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The lease table's SQL: stateless, one statement per operation, each a compare-and-set the
 * database decides (the caps hold across any number of nodes). Callers own connections and
 * transactions.
 */
public final class LeaseSql {
  private LeaseSql() {}

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
          + " acquired_s, acquired_n, expires_s, expires_n)"
          + " SELECT ?, slot.worker_id, ?, ?, ?, ?, ?, ?, ? FROM slot";

  /**
   * The built-in worker's lease: granted only while rule 1 holds in the database (the claim's pool
   * is the default pool, no worker is in it, the built-in worker is on). Run in a transaction that
   * holds the change-log lock shared, so no configuration change commits between check and insert.
   */
  private static final String INSERT_BUILT_IN_LEASE_SQL =
      "INSERT INTO wp_leases (lease_id, worker_id, pool_id, holder, step_id,"
          + " acquired_s, acquired_n, expires_s, expires_n)"
          + " SELECT ?, ?, st.default_pool, ?, ?, ?, ?, ?, ? FROM wp_settings st"
          + " WHERE st.id = 1 AND st.built_in_enabled AND st.default_pool = ?"
          + " AND NOT EXISTS (SELECT 1 FROM wp_workers w"
          + " WHERE (w.body::jsonb -> 'pools') @> to_jsonb(st.default_pool))";

  private static final String LEASE_COLUMNS =
      "lease_id, worker_id, pool_id, holder, step_id, acquired_s, acquired_n, expires_s, expires_n";

  private static final String RELEASE_SQL =
      "WITH gone AS (DELETE FROM wp_leases WHERE lease_id = ? RETURNING *),"
          + " dec AS (UPDATE wp_worker_state s SET active_leases = s.active_leases - 1 FROM gone"
          + " WHERE s.worker_id = gone.worker_id AND s.active_leases > 0 RETURNING 1)"
          + " SELECT "
          + LEASE_COLUMNS
          + " FROM gone";

  private static final String EXPIRE_SQL =
      "WITH gone AS (DELETE FROM wp_leases WHERE (expires_s, expires_n) < (?, ?) RETURNING *),"
          + " n AS (SELECT worker_id, count(*) AS c FROM gone GROUP BY worker_id),"
          + " dec AS (UPDATE wp_worker_state s SET active_leases = greatest(0, s.active_leases - n.c)"
          + " FROM n WHERE s.worker_id = n.worker_id RETURNING 1)"
          + " SELECT "
          + LEASE_COLUMNS
          + " FROM gone ORDER BY acquired_s, acquired_n, lease_id";

  private static final String ALL_SQL =
      "SELECT " + LEASE_COLUMNS + " FROM wp_leases ORDER BY acquired_s, acquired_n, lease_id";

  /** Grants a worker's lease if its counter allows; returns the rows inserted (0 or 1). */
  public static int acquire(Connection c, LeaseRecord claim) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ACQUIRE_SQL)) {
      ps.setString(1, claim.worker().value());
      ps.setString(2, claim.leaseId());
      ps.setString(3, claim.pool().value());
      bindLeaseTail(ps, 4, claim);
      return ps.executeUpdate();
    }
  }

  /**
   * Grants the built-in worker's lease if rule 1 holds; returns the rows inserted (0 or 1). Call
   * holding the change-log lock shared ({@link ChangeLog#lockShared}).
   */
  public static int acquireBuiltIn(Connection c, LeaseRecord claim) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT_BUILT_IN_LEASE_SQL)) {
      ps.setString(1, claim.leaseId());
      ps.setString(2, claim.worker().value());
      int i = bindLeaseTail(ps, 3, claim);
      ps.setString(i, claim.pool().value());
      return ps.executeUpdate();
    }
  }

  /** Moves every lease of the holder to a new expiry; returns how many. */
  public static int renew(Connection c, String holder, Instant expiresAt) throws SQLException {
    return Jdbc.update(
        c,
        "UPDATE wp_leases SET expires_s = ?, expires_n = ? WHERE holder = ?",
        expiresAt.getEpochSecond(),
        expiresAt.getNano(),
        holder);
  }

  /** Deletes one lease and frees its slot; returns it, or nothing if it was gone. */
  public static List<LeaseRecord> release(Connection c, String leaseId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RELEASE_SQL)) {
      ps.setString(1, leaseId);
      return read(ps);
    }
  }

  /** Deletes the leases that expired before {@code now} and frees their slots; returns them. */
  public static List<LeaseRecord> expire(Connection c, Instant now) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(EXPIRE_SQL)) {
      ps.setLong(1, now.getEpochSecond());
      ps.setInt(2, now.getNano());
      return read(ps);
    }
  }

  /** Every lease, oldest first. */
  public static List<LeaseRecord> all(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ALL_SQL)) {
      return read(ps);
    }
  }

  /** Binds holder, step and the two instants from {@code i}; returns the next index. */
  private static int bindLeaseTail(PreparedStatement ps, int i, LeaseRecord claim)
      throws SQLException {
    ps.setString(i++, claim.holder());
    ps.setString(i++, claim.stepId());
    ps.setLong(i++, claim.acquiredAt().getEpochSecond());
    ps.setInt(i++, claim.acquiredAt().getNano());
    ps.setLong(i++, claim.expiresAt().getEpochSecond());
    ps.setInt(i++, claim.expiresAt().getNano());
    return i;
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
                Instant.ofEpochSecond(rs.getLong(6), rs.getInt(7)),
                Instant.ofEpochSecond(rs.getLong(8), rs.getInt(9))));
      }
    }
    return out;
  }
}
