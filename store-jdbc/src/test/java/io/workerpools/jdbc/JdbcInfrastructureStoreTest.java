package io.workerpools.jdbc;

import io.workerpools.model.Infrastructure;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.testing.InfrastructureStoreContract;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Core's store contract against the JDBC store on a real PostgreSQL server: each store gets a fresh
 * database, tables created, then the initial infrastructure written through the store itself.
 */
@ExtendWith(PostgresExtension.class)
class JdbcInfrastructureStoreTest extends InfrastructureStoreContract {
  @Override
  protected InfrastructureStore newStore(Infrastructure initial) {
    PostgresCluster cluster = PostgresCluster.shared();
    String name = cluster.createDatabase();
    JdbcInfrastructureStore store =
        new TestDatabase(cluster, name, cluster.dataSource(name)).newStore("contract");
    if (!store.infrastructure().equals(initial)) {
      store.replaceInfrastructure(initial);
    }
    return store;
  }
}
