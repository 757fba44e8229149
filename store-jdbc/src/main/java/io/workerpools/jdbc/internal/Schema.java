package io.workerpools.jdbc.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.store.StoreUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;

/** The shipped schema: reading it, applying it, and checking that the tables are there. */
public final class Schema {
  private Schema() {}

  /** The schema as shipped ({@link Jdbc#SCHEMA_RESOURCE}). */
  public static String sql() {
    try (InputStream in = Schema.class.getResourceAsStream(Jdbc.SCHEMA_RESOURCE)) {
      if (in == null) {
        throw new WorkerPoolsException(
            "missing resource " + Jdbc.SCHEMA_RESOURCE + "; the store-jdbc jar is incomplete");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new WorkerPoolsException("cannot read " + Jdbc.SCHEMA_RESOURCE, e);
    }
  }

  /** Creates the tables that are missing (and the initial default pool), under the change lock. */
  public static void create(Jdbc jdbc) {
    StringBuilder noComments = new StringBuilder();
    for (String line : sql().split("\n")) {
      if (!line.trim().startsWith("--")) {
        noComments.append(line).append('\n');
      }
    }
    jdbc.inTransaction(
        "create the WorkerPools tables",
        c -> {
          ChangeLog.lock(c);
          try (Statement st = c.createStatement()) {
            for (String stmt : noComments.toString().split(";")) {
              if (!stmt.isBlank()) {
                st.execute(stmt);
              }
            }
          }
          return null;
        });
  }

  /**
   * Checks that every table exists.
   *
   * @throws ConfigurationException naming {@code dataSource} if they do not
   */
  public static void check(Jdbc jdbc) {
    try {
      jdbc.withConnection(
          "check the WorkerPools tables",
          c -> {
            try (Statement st = c.createStatement()) {
              st.executeQuery(
                      "SELECT 1 FROM wp_settings, wp_pools, wp_workers, wp_worker_state, wp_leases,"
                          + " wp_changes LIMIT 0")
                  .close();
            }
            return null;
          });
    } catch (StoreUnavailableException e) {
      if (e.getCause() instanceof SQLException s && "42P01".equals(s.getSQLState())) {
        throw new ConfigurationException(
            "dataSource",
            "the database has no WorkerPools tables ("
                + s.getMessage()
                + "); apply "
                + Jdbc.SCHEMA_RESOURCE
                + " with your migration tool, or build the store with createSchemaIfMissing(true)",
            s);
      }
      throw e;
    }
  }
}
