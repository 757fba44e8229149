package io.workerpools.testing;

import static io.workerpools.testing.InfrastructureStoreContract.T0;
import static io.workerpools.testing.InfrastructureStoreContract.claim;
import static io.workerpools.testing.InfrastructureStoreContract.healthy;
import static io.workerpools.testing.InfrastructureStoreContract.twoPools;
import static io.workerpools.testing.InfrastructureStoreContract.worker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.InfrastructureStoreContract.Recorder;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link InfrastructureStoreContract}. Pools, workers, the default pool, the built-in
 * worker switch, and the runtime state (health, draining) kept with them. Not meant to be
 * implemented directly: extend {@link InfrastructureStoreContract}.
 */
interface StoreConfigurationCases extends StoreContractCases {

  // ---- configuration ----

  @Test
  default void returnsTheInfrastructureItWasCreatedWith() {
    InfrastructureStore s = storeContract().open(twoPools());
    Infrastructure i = s.infrastructure();
    assertThat(i.pools().keySet())
        .containsExactlyInAnyOrder(PoolId.of("default"), PoolId.of("linux"));
    assertThat(i.workers().keySet()).containsExactlyInAnyOrder(WorkerId.of("a"), WorkerId.of("b"));
    assertThat(i.defaultPool()).isEqualTo(PoolId.of("default"));
    assertThat(i.builtInWorkerEnabled()).isTrue();
    assertThat(i.workers().get(WorkerId.of("a")).capOrMax()).isEqualTo(2);
    assertThat(s.leases()).isEmpty();
    assertThat(s.health()).isEmpty();
    assertThat(s.draining()).isEmpty();
  }

  @Test
  default void putPoolAddsThePoolAndAnnouncesIt() throws Exception {
    InfrastructureStore s = storeContract().open(Infrastructure.initial());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.putPool(WorkerPool.of("win", "Windows"));
      assertThat(s.infrastructure().pool(PoolId.of("win"))).isPresent();
      r.await(StoreEvent.PoolPut.class, e -> e.pool().id().equals(PoolId.of("win")));
    }
  }

  @Test
  default void aPoolNameUsedTwiceIsRejectedNamingTheField() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThatThrownBy(() -> s.putPool(WorkerPool.of("other", "Linux")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("Linux")
        .hasMessageContaining("unique");
    assertThat(s.infrastructure().pool(PoolId.of("other"))).isEmpty();
  }

  @Test
  default void theDefaultPoolCannotBeRemoved() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThatThrownBy(() -> s.removePool(PoolId.of("default")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("default pool");
    assertThat(s.infrastructure().pool(PoolId.of("default"))).isPresent();
  }

  @Test
  default void aPoolThatHoldsWorkersCannotBeRemoved() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThatThrownBy(() -> s.removePool(PoolId.of("linux")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("still holds");
    assertThat(s.infrastructure().pool(PoolId.of("linux"))).isPresent();
  }

  @Test
  default void removingAnUnknownPoolIsRejected() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThatThrownBy(() -> s.removePool(PoolId.of("nope")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope");
  }

  @Test
  default void anEmptyPoolIsRemovedAndTheRemovalAnnounced() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    s.putPool(WorkerPool.of("empty", "Empty"));
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.removePool(PoolId.of("empty"));
      assertThat(s.infrastructure().pool(PoolId.of("empty"))).isEmpty();
      r.await(StoreEvent.PoolRemoved.class, e -> e.pool().equals(PoolId.of("empty")));
    }
  }

  @Test
  default void theDefaultPoolMovesAndTheMoveIsAnnounced() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.setDefaultPool(PoolId.of("linux"));
      assertThat(s.infrastructure().defaultPool()).isEqualTo(PoolId.of("linux"));
      StoreEvent.DefaultPoolMoved e = r.await(StoreEvent.DefaultPoolMoved.class, x -> true);
      assertThat(e.previous()).isEqualTo(PoolId.of("default"));
      assertThat(e.current()).isEqualTo(PoolId.of("linux"));
    }
    // The old default can now be removed, being empty and no longer the default.
    s.removePool(PoolId.of("default"));
    assertThat(s.infrastructure().pools()).containsOnlyKeys(PoolId.of("linux"));
  }

  @Test
  default void theDefaultPoolCannotMoveToAPoolThatDoesNotExist() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThatThrownBy(() -> s.setDefaultPool(PoolId.of("nope")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope");
    assertThat(s.infrastructure().defaultPool()).isEqualTo(PoolId.of("default"));
  }

  @Test
  default void theBuiltInWorkerSwitchIsStoredAndAnnounced() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.setBuiltInWorkerEnabled(false);
      assertThat(s.infrastructure().builtInWorkerEnabled()).isFalse();
      r.await(StoreEvent.BuiltInWorkerSwitched.class, e -> !e.enabled());
      s.setBuiltInWorkerEnabled(true);
      assertThat(s.infrastructure().builtInWorkerEnabled()).isTrue();
      r.await(StoreEvent.BuiltInWorkerSwitched.class, StoreEvent.BuiltInWorkerSwitched::enabled);
    }
  }

  @Test
  default void aWorkerInAnUnknownPoolIsRejectedNamingThePool() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThatThrownBy(() -> s.putWorker(worker("c", "nope")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope")
        .hasMessageContaining("known pools");
    assertThat(s.infrastructure().worker(WorkerId.of("c"))).isEmpty();
  }

  @Test
  default void aWorkerNameUsedTwiceIsRejected() {
    InfrastructureStore s = storeContract().open(twoPools());
    Worker dup = worker("c", "linux").toBuilder().name("a").build();
    assertThatThrownBy(() -> s.putWorker(dup))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("unique");
  }

  @Test
  default void replacingAWorkerKeepsItsHealthDrainingAndLeases() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    s.recordHealth(WorkerId.of("a"), healthy());
    s.setDraining(WorkerId.of("a"), true);
    s.setDraining(WorkerId.of("a"), false);
    assertThat(s.tryAcquireLease(claim("l1", "a", "n1"))).isPresent();
    s.setDraining(WorkerId.of("a"), true);
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      Worker bigger =
          s.infrastructure().workers().get(WorkerId.of("a")).toBuilder()
              .maxConcurrentSteps(5)
              .build();
      s.putWorker(bigger);
      StoreEvent.WorkerPut e = r.await(StoreEvent.WorkerPut.class, x -> x.worker().equals(bigger));
      assertThat(e.previous()).isNotNull();
      assertThat(e.previous().capOrMax()).isEqualTo(2);
    }
    assertThat(s.health()).containsKey(WorkerId.of("a"));
    assertThat(s.draining()).contains(WorkerId.of("a"));
    assertThat(s.leases()).extracting(LeaseRecord::leaseId).containsExactly("l1");
  }

  @Test
  default void removingAWorkerForgetsItsHealthAndAnnouncesIt() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    s.recordHealth(WorkerId.of("b"), healthy());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.removeWorker(WorkerId.of("b"));
      r.await(StoreEvent.WorkerRemoved.class, e -> e.worker().id().equals(WorkerId.of("b")));
    }
    assertThat(s.infrastructure().worker(WorkerId.of("b"))).isEmpty();
    assertThat(s.health()).doesNotContainKey(WorkerId.of("b"));
  }

  @Test
  default void replaceInfrastructureSwapsTheConfigurationAndKeepsRuntimeStateOfWorkersThatStay() {
    InfrastructureStore s = storeContract().open(twoPools());
    s.recordHealth(WorkerId.of("a"), healthy());
    s.recordHealth(WorkerId.of("b"), healthy());
    Infrastructure next = s.infrastructure().withoutWorker(WorkerId.of("b"));
    next = next.withPool(WorkerPool.of("win", "Windows")).withDefaultPool(PoolId.of("win"));
    s.replaceInfrastructure(next);
    Infrastructure now = s.infrastructure();
    assertThat(now.workers()).containsOnlyKeys(WorkerId.of("a"));
    assertThat(now.defaultPool()).isEqualTo(PoolId.of("win"));
    assertThat(s.health()).containsOnlyKeys(WorkerId.of("a"));
  }

  // ---- runtime state ----

  @Test
  default void healthIsRecordedAndAnnouncedWithThePreviousReport() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder r = new Recorder();
    HealthReport bad =
        HealthReport.of(HealthStatus.UNAVAILABLE, T0.plusSeconds(5), null, "refused");
    try (AutoCloseable sub = s.subscribe(r)) {
      s.recordHealth(WorkerId.of("a"), healthy());
      s.recordHealth(WorkerId.of("a"), bad);
      StoreEvent.HealthRecorded e =
          r.await(StoreEvent.HealthRecorded.class, x -> x.current().equals(bad));
      assertThat(e.previous()).isEqualTo(healthy());
    }
    assertThat(s.health().get(WorkerId.of("a"))).isEqualTo(bad);
  }

  @Test
  default void healthOfAWorkerThatDoesNotExistIsIgnored() {
    InfrastructureStore s = storeContract().open(twoPools());
    s.recordHealth(WorkerId.of("ghost"), healthy());
    assertThat(s.health()).doesNotContainKey(WorkerId.of("ghost"));
  }

  @Test
  default void drainingIsStoredAndAnnounced() throws Exception {
    InfrastructureStore s = storeContract().open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.setDraining(WorkerId.of("a"), true);
      assertThat(s.draining()).containsExactly(WorkerId.of("a"));
      r.await(StoreEvent.DrainingChanged.class, StoreEvent.DrainingChanged::draining);
      s.setDraining(WorkerId.of("a"), false);
      assertThat(s.draining()).isEmpty();
      r.await(StoreEvent.DrainingChanged.class, e -> !e.draining());
    }
  }

  @Test
  default void drainingAnUnknownWorkerIsRejected() {
    InfrastructureStore s = storeContract().open(twoPools());
    assertThatThrownBy(() -> s.setDraining(WorkerId.of("ghost"), true))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("ghost");
  }
}
