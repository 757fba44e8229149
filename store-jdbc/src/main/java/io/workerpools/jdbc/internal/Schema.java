package io.workerpools.jdbc.internal;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The versioned schema: plain DDL files {@code schema/V<n>__<what>.sql}, each applied once, in
 * order, in one transaction with its row in {@code wp_schema_version}. Version 1 is the 0.1 schema
 * (which had no version table; it is idempotent, so applying it to a 0.1 database only records the
 * version). Stateless.
 */
public final class Schema {
  /** Where the migration files are on the class path. */
  public static final String DIRECTORY = "/io/workerpools/jdbc/schema/";

  /** The migration files, oldest first; the last one is the version this code needs. */
  static final List<String> MIGRATIONS =
      List.of("V1__initial.sql", "V2__nodes_and_database_clock.sql");

  /** The schema version this code reads and writes. */
  public static final int CURRENT = MIGRATIONS.size();

  private Schema() {}

  /** One migration's SQL, as shipped. */
  static String sql(int version) {
    String resource = DIRECTORY + MIGRATIONS.get(version - 1);
    try (InputStream in = Schema.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new WorkerPoolsException(
            "missing resource " + resource + "; the store-jdbc jar is incomplete");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new WorkerPoolsException("cannot read " + resource, e);
    }
  }

  /** Every migration, oldest first, as one script (for a fresh database). */
  public static String sql() {
    StringBuilder all = new StringBuilder();
    for (int v = 1; v <= CURRENT; v++) {
      all.append(sql(v)).append('\n');
    }
    return all.toString();
  }

  /**
   * Brings the schema to {@link #CURRENT}: creates it in an empty database, or applies the versions
   * it lacks, under the change-log lock (so nodes starting together migrate once).
   *
   * @throws ConfigurationException if the database's schema is newer than this code
   */
  public static void migrate(Jdbc jdbc) {
    jdbc.inTransaction(
        "migrate the WorkerPools tables to schema version " + CURRENT,
        c -> {
          ChangeLog.lock(c);
          refuseNewer(version(c));
          // A 0.1 database has no version table: V1 (idempotent) runs on it and records itself.
          int at = tableExists(c, "wp_schema_version") ? version(c) : 0;
          for (int v = at + 1; v <= CURRENT; v++) {
            try (Statement st = c.createStatement()) {
              for (String stmt : statements(sql(v))) {
                st.execute(stmt);
              }
            }
          }
          return null;
        });
  }

  /**
   * Checks that the schema is at {@link #CURRENT}.
   *
   * @throws ConfigurationException naming {@code dataSource}, the version found and how to migrate
   */
  public static void check(Jdbc jdbc) {
    int at = jdbc.withConnection("read the WorkerPools schema version", c -> Schema.version(c));
    refuseNewer(at);
    if (at == 0) {
      throw new ConfigurationException(
          "dataSource",
          "the database has no WorkerPools tables; build the store with migrateSchema(true), or"
              + " apply the files in "
              + DIRECTORY
              + " (V1 to V"
              + CURRENT
              + ", in order) with your migration tool");
    }
    if (at < CURRENT) {
      throw new ConfigurationException(
          "dataSource",
          "the WorkerPools tables are at schema version "
              + at
              + " but this version of the store needs "
              + CURRENT
              + "; build the store with migrateSchema(true), or apply "
              + String.join(", ", MIGRATIONS.subList(at, CURRENT))
              + " from "
              + DIRECTORY
              + " with your migration tool");
    }
  }

  /**
   * The applied version: the highest row of {@code wp_schema_version}; 1 for a 0.1 database (its
   * tables, no version table); 0 for none.
   */
  static int version(Connection c) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT to_regclass('wp_schema_version') IS NOT NULL,"
                    + " to_regclass('wp_settings') IS NOT NULL")) {
      rs.next();
      if (!rs.getBoolean(1)) {
        return rs.getBoolean(2) ? 1 : 0;
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM wp_schema_version")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static boolean tableExists(Connection c, String table) throws SQLException {
    try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private static void refuseNewer(int at) {
    if (at > CURRENT) {
      throw new ConfigurationException(
          "dataSource",
          "the WorkerPools tables are at schema version "
              + at
              + ", newer than this version of the store knows ("
              + CURRENT
              + "); upgrade workerpools-store-jdbc on this node to the version the other nodes run");
    }
  }

  /** The statements of a migration file: comments dropped, split at semicolons. */
  private static List<String> statements(String sql) {
    StringBuilder noComments = new StringBuilder();
    for (String line : sql.split("\n")) {
      if (!line.trim().startsWith("--")) {
        noComments.append(line).append('\n');
      }
    }
    return java.util.Arrays.stream(noComments.toString().split(";"))
        .filter(s -> !s.isBlank())
        .toList();
  }
}
