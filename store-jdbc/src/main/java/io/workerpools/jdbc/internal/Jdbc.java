package io.workerpools.jdbc.internal;

import io.workerpools.ClosedException;
import io.workerpools.store.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/**
 * One connection per unit of work from the host's {@link DataSource}: auto-committed work, or a
 * transaction retried a few times on a deadlock or serialization failure. SQL failures become
 * {@link StoreUnavailableException}s that say what could not be done and what to do; a unique-key
 * violation becomes {@link DuplicateKey} for the caller to turn into its own error.
 */
public final class Jdbc {
  private final DataSource dataSource;
  private final String nodeId;
  private final BooleanSupplier closed;

  /** Work on one connection. */
  @FunctionalInterface
  public interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /** A unique-key violation, which callers turn into their own error. */
  public static final class DuplicateKey extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DuplicateKey(SQLException cause) {
      super(cause);
    }
  }

  public Jdbc(DataSource dataSource, String nodeId, BooleanSupplier closed) {
    this.dataSource = dataSource;
    this.nodeId = nodeId;
    this.closed = closed;
  }

  /** Runs one auto-committed unit of work. */
  public <T> T withConnection(String what, SqlWork<T> work) {
    try (Connection c = connect(what)) {
      return work.run(c);
    } catch (SQLException e) {
      throw translate(what, e);
    }
  }

  /** Runs a transaction, retried a few times on a deadlock or serialization failure. */
  public <T> T inTransaction(String what, SqlWork<T> work) {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = connect(what)) {
        c.setAutoCommit(false);
        try {
          T result = work.run(c);
          c.commit();
          return result;
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(c);
          throw e;
        }
      } catch (SQLException e) {
        String state = e.getSQLState();
        boolean retry = "40001".equals(state) || "40P01".equals(state);
        if (!retry || attempt >= 5) {
          throw translate(what, e);
        }
      }
    }
  }

  /** Runs a statement with positional arguments; returns the update count. */
  public static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      return ps.executeUpdate();
    }
  }

  private Connection connect(String what) throws SQLException {
    if (closed.getAsBoolean()) {
      throw new ClosedException("the JDBC store (node " + nodeId + ")", "cannot " + what);
    }
    return dataSource.getConnection();
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is gone; the transaction dies with it.
    }
  }

  private RuntimeException translate(String what, SQLException e) {
    if ("23505".equals(e.getSQLState())) {
      return new DuplicateKey(e);
    }
    String hint =
        "42P01".equals(e.getSQLState()) || "42703".equals(e.getSQLState())
            ? " The WorkerPools tables are missing or outdated: build the store with"
                + " migrateSchema(true) or apply the files in "
                + Schema.DIRECTORY
                + "."
            : " The operation was not applied. The store holds no connection between calls and"
                + " works again by itself once the database is reachable.";
    return new StoreUnavailableException(
        "JDBC store (node "
            + nodeId
            + ") could not "
            + what
            + ": "
            + e.getMessage()
            + " [SQLState "
            + e.getSQLState()
            + "]."
            + hint,
        e);
  }
}
