package io.workerpools.jdbc;

import io.workerpools.store.InfrastructureStore;
import org.junit.jupiter.api.extension.ExtendWith;

/** The contract against the JDBC store on a real PostgreSQL server, a fresh database per test. */
@ExtendWith(PostgresExtension.class)
class JdbcStoreContractTest extends StoreContract {
  private final TestDatabase db;

  JdbcStoreContractTest(TestDatabase db) {
    this.db = db;
  }

  @Override
  protected InfrastructureStore newStore() {
    return db.newStore("contract");
  }
}
