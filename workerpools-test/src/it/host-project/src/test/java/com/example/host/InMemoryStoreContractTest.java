package com.example.host;

import io.workerpools.model.Infrastructure;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.testing.InfrastructureStoreContract;

/** How a host proves a store: the same suite every store passes. */
class InMemoryStoreContractTest extends InfrastructureStoreContract {
  @Override
  protected InfrastructureStore newStore(Infrastructure initial) {
    return new InMemoryInfrastructureStore(initial);
  }
}
