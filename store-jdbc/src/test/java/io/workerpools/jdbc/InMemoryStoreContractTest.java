package io.workerpools.jdbc;

import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.InfrastructureStore;

/** The contract against the in-memory store: the reference the JDBC store must match. */
class InMemoryStoreContractTest extends StoreContract {
  @Override
  protected InfrastructureStore newStore() {
    return new InMemoryInfrastructureStore();
  }
}
