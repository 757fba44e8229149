package io.workerpools.testing;

import static io.workerpools.testing.InfrastructureStoreContract.T0;
import static io.workerpools.testing.InfrastructureStoreContract.twoPools;
import static io.workerpools.testing.InfrastructureStoreContract.worker;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link InfrastructureStoreContract}. Rule 1 at grant time: the built-in worker is leased
 * only while it may be chosen. Not meant to be implemented directly: extend {@link
 * InfrastructureStoreContract}.
 */
interface StoreRuleOneCases extends StoreContractCases {

  // ---- built-in worker and rule 1 ----

  @Test
  default void theBuiltInWorkerIsAlwaysLeasableAndHasNoCap() {
    InfrastructureStore s = storeContract().open(Infrastructure.initial());
    for (int i = 0; i < 50; i++) {
      LeaseRecord c =
          new LeaseRecord(
              "b" + i,
              Worker.BUILT_IN_ID,
              Infrastructure.DEFAULT_POOL_ID,
              "n1",
              "s",
              T0,
              T0.plusSeconds(9));
      assertThat(s.tryAcquireLease(c)).isPresent();
    }
    assertThat(s.leases()).hasSize(50);
  }

  @Test
  default void theBuiltInWorkerIsGrantedOnlyWhileRuleOneHoldsAtThatMoment() {
    // A resolver chooses from its own view, which may lag: the store has the last word on rule 1.
    InfrastructureStore s =
        storeContract().open(twoPools()); // default pool empty, workers a and b in linux
    PoolId linux = PoolId.of("linux");
    int[] n = {0};
    java.util.function.Function<PoolId, Optional<LeaseRecord>> builtIn =
        pool ->
            s.tryAcquireLease(
                new LeaseRecord(
                    "bi" + n[0]++, Worker.BUILT_IN_ID, pool, "n1", "s", T0, T0.plusSeconds(9)));

    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("empty default pool").isPresent();
    assertThat(builtIn.apply(linux)).as("not the default pool").isEmpty();

    s.setBuiltInWorkerEnabled(false);
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("switched off").isEmpty();
    s.setBuiltInWorkerEnabled(true);
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("switched on again").isPresent();

    s.putWorker(worker("c", "default").toBuilder().enabled(false).build());
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID))
        .as("the default pool holds a worker, even a disabled one")
        .isEmpty();
    s.removeWorker(WorkerId.of("c"));
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("worker removed").isPresent();

    s.setDefaultPool(linux);
    assertThat(builtIn.apply(linux)).as("the new default pool holds workers").isEmpty();
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("no longer the default").isEmpty();
    assertThat(s.leases()).hasSize(3);
  }
}
