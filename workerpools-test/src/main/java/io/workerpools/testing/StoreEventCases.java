package io.workerpools.testing;

import static io.workerpools.testing.InfrastructureStoreContract.claim;
import static io.workerpools.testing.InfrastructureStoreContract.healthy;
import static io.workerpools.testing.InfrastructureStoreContract.twoPools;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.InfrastructureStoreContract.Recorder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link InfrastructureStoreContract}. Events: their order, closing a subscription, and a
 * failing listener. Not meant to be implemented directly: extend {@link
 * InfrastructureStoreContract}.
 */
interface StoreEventCases extends StoreContractCases {

  // ---- events ----

  @Test
  default void eventsArriveInTheOrderTheChangesWereMade() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.recordHealth(WorkerId.of("b"), healthy());
      s.setDraining(WorkerId.of("b"), true);
      s.setDraining(WorkerId.of("b"), false);
      s.tryAcquireLease(claim("l1", "b", "n1"));
      s.releaseLease("l1");
      r.await(StoreEvent.LeaseEnded.class, x -> true);
      List<Class<?>> kinds = new ArrayList<>();
      for (StoreEvent e : r.events) {
        if (!(e instanceof StoreEvent.Resync)) {
          kinds.add(e.getClass());
        }
      }
      assertThat(kinds)
          .containsSubsequence(
              StoreEvent.HealthRecorded.class,
              StoreEvent.DrainingChanged.class,
              StoreEvent.DrainingChanged.class,
              StoreEvent.LeaseAcquired.class,
              StoreEvent.LeaseEnded.class);
    }
  }

  @Test
  default void closingASubscriptionStopsItsEvents() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder gone = new Recorder();
    Recorder stays = new Recorder();
    AutoCloseable sub = s.subscribe(gone);
    try (AutoCloseable sub2 = s.subscribe(stays)) {
      sub.close();
      s.putPool(WorkerPool.of("win", "Windows"));
      stays.await(StoreEvent.PoolPut.class, x -> true);
      // Whatever the first listener was delivered, it was not this change.
      assertThat(gone.events).noneMatch(e -> e instanceof StoreEvent.PoolPut);
    }
  }

  @Test
  default void aFailingListenerDoesNotStopOthersOrTheChange() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable bad =
            s.subscribe(
                e -> {
                  throw new IllegalStateException("listener bug");
                });
        AutoCloseable good = s.subscribe(r)) {
      s.putPool(WorkerPool.of("win", "Windows"));
      r.await(StoreEvent.PoolPut.class, x -> true);
    }
    assertThat(s.infrastructure().pool(PoolId.of("win"))).isPresent();
  }
}
