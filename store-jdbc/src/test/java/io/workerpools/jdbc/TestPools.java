package io.workerpools.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;

/**
 * HikariCP pools over the test cluster's data sources, as a host would hand the store one (the
 * tests and, through this module's test-jar, the JDBC benchmarks). Pools keep no idle connection (a
 * closed store's pool holds none for long) and are all closed when the cluster stops ({@link
 * #closeAll}).
 */
public final class TestPools {
  private static final List<HikariDataSource> OPEN = new CopyOnWriteArrayList<>();

  private TestPools() {}

  /** A pool of at most {@code max} connections from {@code target}. */
  public static DataSource of(DataSource target, int max) {
    HikariConfig c = new HikariConfig();
    c.setDataSource(target);
    c.setMaximumPoolSize(max);
    c.setMinimumIdle(0);
    c.setIdleTimeout(10_000);
    c.setConnectionTimeout(10_000);
    c.setPoolName("wp-test-" + OPEN.size());
    HikariDataSource ds = new HikariDataSource(c);
    OPEN.add(ds);
    return ds;
  }

  /** A pool of at most 8 connections. */
  public static DataSource of(DataSource target) {
    return of(target, 8);
  }

  /** Closes every pool made so far. */
  public static void closeAll() {
    for (HikariDataSource ds : OPEN) {
      ds.close();
    }
    OPEN.clear();
  }
}
