package io.workerpools.jdbc;

import javax.sql.DataSource;

/**
 * One fresh database on the test cluster.
 *
 * @param cluster the cluster it lives on
 * @param name the database name
 * @param dataSource a non-pooling data source for it
 */
public record TestDatabase(PostgresCluster cluster, String name, DataSource dataSource) {

  /**
   * A store on this database with the tables created and a short poll interval, over its own small
   * connection pool (as a host would hand it).
   */
  public JdbcInfrastructureStore newStore(String nodeId) {
    return JdbcInfrastructureStore.builder(TestPools.of(dataSource))
        .createSchemaIfMissing(true)
        .pollInterval(java.time.Duration.ofMillis(20))
        .nodeId(nodeId)
        .build();
  }

  /** The JDBC URL, for a second JVM. */
  public String url() {
    return cluster.url(name);
  }
}
