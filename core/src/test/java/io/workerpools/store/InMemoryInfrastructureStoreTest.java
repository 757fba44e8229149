package io.workerpools.store;

import io.workerpools.model.Infrastructure;
import io.workerpools.testing.InfrastructureStoreContract;

/** The in-memory store passes the store contract. */
class InMemoryInfrastructureStoreTest extends InfrastructureStoreContract {
  @Override
  protected InfrastructureStore newStore(Infrastructure initial) {
    return new InMemoryInfrastructureStore(initial);
  }
}
