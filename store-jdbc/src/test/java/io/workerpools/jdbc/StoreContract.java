package io.workerpools.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseClaim;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store contract of {@link InfrastructureStore}, run against the in-memory store and the JDBC
 * store alike (core's own contract suite will replace this one when it lands).
 */
abstract class StoreContract {
  static final Instant T0 = Instant.parse("2026-01-02T03:04:05.123456789Z");
  static final PoolId LINUX = PoolId.of("linux");

  protected InfrastructureStore store;
  protected final List<StoreEvent> events = new CopyOnWriteArrayList<>();

  /** A fresh store with the initial infrastructure. */
  protected abstract InfrastructureStore newStore();

  @BeforeEach
  void open() {
    store = newStore();
    store.subscribe(events::add);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static Worker worker(String id, int cap) {
    return Worker.builder(id)
        .endpoint(Endpoint.of("ssh", id + ".example:22", Map.of("user", "ci")))
        .pool(LINUX)
        .syntaxes(ScriptSyntax.BASH, ScriptSyntax.PYTHON)
        .maxConcurrentSteps(cap)
        .label("rack", "a1")
        .build();
  }

  static LeaseClaim claim(String worker, String holder, Instant expires) {
    return new LeaseClaim(
        UUID.randomUUID().toString(), WorkerId.of(worker), LINUX, holder, "step-1", T0, expires);
  }

  static LeaseClaim claimIn(PoolId pool, String worker, String holder) {
    Instant now = Instant.now();
    return new LeaseClaim(
        UUID.randomUUID().toString(), WorkerId.of(worker), pool, holder, "step", now, now.plusSeconds(60));
  }

  static LeaseClaim claim(String worker) {
    return claim(worker, "node-a", T0.plusSeconds(60));
  }

  void withLinuxPool(Worker... workers) {
    store.putPool(new WorkerPool(LINUX, "Linux", "build boxes"));
    for (Worker w : workers) {
      store.putWorker(w);
    }
  }

  void awaitEvent(StoreEvent e) {
    Await.until("the store announces " + e, () -> events.contains(e));
  }

  @Test
  void startsWithAnEmptyDefaultPoolAndTheBuiltInWorkerOn() {
    Infrastructure i = store.infrastructure();
    assertThat(i.defaultPool()).isEqualTo(Infrastructure.DEFAULT_POOL_ID);
    assertThat(i.workers()).isEmpty();
    assertThat(i.builtInWorkerEnabled()).isTrue();
    assertThat(store.leases()).isEmpty();
  }

  @Test
  void workersAndPoolsRoundTripWithEveryField() {
    Worker w = worker("w1", 3);
    withLinuxPool(w);
    assertThat(store.infrastructure().pool(LINUX)).contains(new WorkerPool(LINUX, "Linux", "build boxes"));
    assertThat(store.infrastructure().worker(w.id())).contains(w);
    awaitEvent(new StoreEvent.PoolPut(new WorkerPool(LINUX, "Linux", "build boxes")));
    awaitEvent(new StoreEvent.WorkerPut(null, w));
    Worker disabled = w.toBuilder().enabled(false).unboundedConcurrency().build();
    store.putWorker(disabled);
    assertThat(store.infrastructure().worker(w.id())).contains(disabled);
    awaitEvent(new StoreEvent.WorkerPut(w, disabled));
  }

  @Test
  void invalidConfigurationIsRejectedNamingTheField() {
    Worker orphan =
        Worker.builder("w1").endpoint(Endpoint.of("ssh", "h:22")).pool("nowhere").build();
    assertThatThrownBy(() -> store.putWorker(orphan))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nowhere");
    assertThatThrownBy(() -> store.removePool(PoolId.of("nowhere")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> store.removePool(Infrastructure.DEFAULT_POOL_ID))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("default pool");
    withLinuxPool(worker("w1", 1));
    assertThatThrownBy(() -> store.removePool(LINUX))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("still holds");
    assertThatThrownBy(() -> store.setDefaultPool(PoolId.of("nowhere")))
        .isInstanceOf(ConfigurationException.class);
    assertThatThrownBy(() -> store.setDraining(WorkerId.of("ghost"), true))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("ghost");
    assertThat(store.infrastructure().workers()).containsOnlyKeys(WorkerId.of("w1"));
  }

  @Test
  void defaultPoolMovesAndBuiltInWorkerSwitchesAreAnnouncedOnce() {
    withLinuxPool();
    store.setDefaultPool(LINUX);
    store.setDefaultPool(LINUX);
    store.setBuiltInWorkerEnabled(false);
    store.setBuiltInWorkerEnabled(false);
    assertThat(store.infrastructure().defaultPool()).isEqualTo(LINUX);
    assertThat(store.infrastructure().builtInWorkerEnabled()).isFalse();
    awaitEvent(new StoreEvent.BuiltInWorkerSwitched(false));
    assertThat(events)
        .filteredOn(e -> e instanceof StoreEvent.DefaultPoolMoved)
        .containsExactly(new StoreEvent.DefaultPoolMoved(Infrastructure.DEFAULT_POOL_ID, LINUX));
    assertThat(events).filteredOn(e -> e instanceof StoreEvent.BuiltInWorkerSwitched).hasSize(1);
    store.removePool(Infrastructure.DEFAULT_POOL_ID);
    assertThat(store.infrastructure().pools()).containsOnlyKeys(LINUX);
  }

  @Test
  void leasesAreGrantedUpToTheCapAndReleasedExactlyOnce() {
    withLinuxPool(worker("w1", 2));
    Optional<LeaseRecord> a = store.tryAcquireLease(claim("w1"));
    Optional<LeaseRecord> b = store.tryAcquireLease(claim("w1"));
    assertThat(a).isPresent();
    assertThat(b).isPresent();
    assertThat(store.tryAcquireLease(claim("w1"))).isEmpty();
    assertThat(store.leases()).containsExactlyInAnyOrder(a.get(), b.get());
    assertThat(store.releaseLease(a.get().leaseId())).isTrue();
    assertThat(store.releaseLease(a.get().leaseId())).isFalse();
    assertThat(store.tryAcquireLease(claim("w1"))).isPresent();
    assertThat(store.tryAcquireLease(claim("w1"))).isEmpty();
    awaitEvent(new StoreEvent.LeaseAcquired(a.get()));
    awaitEvent(new StoreEvent.LeaseEnded(a.get(), false));
  }

  @Test
  void leaseRecordsKeepTheirInstantsExactly() {
    withLinuxPool(worker("w1", 1));
    LeaseClaim c = claim("w1", "node-a", T0.plusNanos(987_654_321));
    LeaseRecord r = store.tryAcquireLease(c).orElseThrow();
    assertThat(r).isEqualTo(c.toRecord());
    assertThat(store.leases()).containsExactly(c.toRecord());
  }

  @Test
  void noLeaseOnADisabledDrainingOrUnknownWorker() {
    withLinuxPool(worker("w1", 5), worker("w2", 5).toBuilder().enabled(false).build());
    store.setDraining(WorkerId.of("w1"), true);
    assertThat(store.tryAcquireLease(claim("w1"))).isEmpty();
    assertThat(store.tryAcquireLease(claim("w2"))).isEmpty();
    assertThat(store.tryAcquireLease(claim("ghost"))).isEmpty();
    store.setDraining(WorkerId.of("w1"), false);
    assertThat(store.tryAcquireLease(claim("w1"))).isPresent();
    assertThat(store.draining()).isEmpty();
    awaitEvent(new StoreEvent.DrainingChanged(WorkerId.of("w1"), true));
    awaitEvent(new StoreEvent.DrainingChanged(WorkerId.of("w1"), false));
  }

  @Test
  void theBuiltInWorkerHasNoCap() {
    for (int i = 0; i < 5; i++) {
      LeaseClaim c =
          new LeaseClaim(
              "b" + i,
              Worker.BUILT_IN_ID,
              Infrastructure.DEFAULT_POOL_ID,
              "node-a",
              "s",
              T0,
              T0.plusSeconds(5));
      assertThat(store.tryAcquireLease(c)).contains(c.toRecord());
    }
    assertThat(store.leases()).hasSize(5);
  }

  @Test
  void aLeaseIdCannotBeUsedTwice() {
    withLinuxPool(worker("w1", 5));
    LeaseClaim c = claim("w1");
    store.tryAcquireLease(c);
    assertThatThrownBy(() -> store.tryAcquireLease(c))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(c.leaseId());
    assertThat(store.leases()).hasSize(1);
  }

  @Test
  void renewalMovesOnlyTheHoldersLeasesAndExpiryFreesTheirSlots() {
    withLinuxPool(worker("w1", 2));
    LeaseRecord mine = store.tryAcquireLease(claim("w1", "node-a", T0.plusSeconds(10))).orElseThrow();
    LeaseRecord dead = store.tryAcquireLease(claim("w1", "node-b", T0.plusSeconds(10))).orElseThrow();
    assertThat(store.renewLeases("node-a", T0.plusSeconds(100))).isEqualTo(1);
    List<LeaseRecord> expired = store.expireLeases(T0.plusSeconds(50));
    assertThat(expired).containsExactly(dead);
    assertThat(store.leases()).containsExactly(mine.withExpiresAt(T0.plusSeconds(100)));
    assertThat(store.expireLeases(T0.plusSeconds(50))).isEmpty();
    assertThat(store.releaseLease(dead.leaseId())).isFalse();
    assertThat(store.tryAcquireLease(claim("w1"))).isPresent();
    awaitEvent(new StoreEvent.LeaseEnded(dead, true));
  }

  @Test
  void healthIsRecordedWithItsPreviousValueAndIgnoredForUnknownWorkers() {
    withLinuxPool(worker("w1", 1));
    WorkerId w1 = WorkerId.of("w1");
    HealthReport first = HealthReport.of(HealthStatus.HEALTHY, T0, Duration.ofMillis(3), "");
    HealthReport second =
        new HealthReport(
            HealthStatus.UNHEALTHY, T0.plusSeconds(1), Duration.ofNanos(7), "disk", Map.of("d", "1"));
    store.recordHealth(w1, first);
    store.recordHealth(w1, second);
    store.recordHealth(WorkerId.of("ghost"), first);
    assertThat(store.health()).isEqualTo(Map.of(w1, second));
    awaitEvent(new StoreEvent.HealthRecorded(w1, null, first));
    awaitEvent(new StoreEvent.HealthRecorded(w1, first, second));
  }

  @Test
  void replacingAWorkerKeepsItsRuntimeStateAndRemovingItKeepsItsLeases() {
    Worker w = worker("w1", 1);
    withLinuxPool(w);
    WorkerId id = w.id();
    HealthReport h = HealthReport.of(HealthStatus.HEALTHY, T0, Duration.ZERO, "");
    store.recordHealth(id, h);
    LeaseRecord lease = store.tryAcquireLease(claim("w1")).orElseThrow();
    store.setDraining(id, true);
    store.putWorker(w.toBuilder().name("renamed").build());
    assertThat(store.health()).containsEntry(id, h);
    assertThat(store.draining()).containsExactly(id);
    store.removeWorker(id);
    store.removeWorker(id);
    assertThat(store.health()).isEmpty();
    assertThat(store.draining()).isEmpty();
    assertThat(store.leases()).containsExactly(lease);
    awaitEvent(new StoreEvent.WorkerRemoved(w.toBuilder().name("renamed").build()));
    // Back again with its old lease still counted against its cap.
    store.putWorker(w);
    assertThat(store.tryAcquireLease(claim("w1"))).isEmpty();
    assertThat(store.releaseLease(lease.leaseId())).isTrue();
    assertThat(store.tryAcquireLease(claim("w1"))).isPresent();
  }

  @Test
  void replacingTheInfrastructureAnnouncesTheDifferenceAndKeepsLeases() {
    Worker keep = worker("keep", 1);
    Worker gone = worker("gone", 1);
    withLinuxPool(keep, gone);
    LeaseRecord lease = store.tryAcquireLease(claim("keep")).orElseThrow();
    WorkerPool win = WorkerPool.of("windows", "Windows");
    Worker fresh =
        Worker.builder("fresh").endpoint(Endpoint.of("tentacle-listening", "https://w:10933"))
            .pool("windows").syntaxes(ScriptSyntax.POWERSHELL).build();
    Infrastructure next =
        Infrastructure.of(
            List.of(win, new WorkerPool(LINUX, "Linux", "build boxes")),
            List.of(fresh, keep),
            win.id(),
            false);
    store.replaceInfrastructure(next);
    assertThat(store.infrastructure()).isEqualTo(next);
    assertThat(store.leases()).containsExactly(lease);
    awaitEvent(new StoreEvent.WorkerRemoved(gone));
    awaitEvent(new StoreEvent.WorkerPut(null, fresh));
    awaitEvent(new StoreEvent.PoolRemoved(Infrastructure.DEFAULT_POOL_ID));
    awaitEvent(new StoreEvent.DefaultPoolMoved(Infrastructure.DEFAULT_POOL_ID, win.id()));
    awaitEvent(new StoreEvent.BuiltInWorkerSwitched(false));
    assertThat(events).doesNotContain(new StoreEvent.WorkerPut(keep, keep));
    assertThat(store.tryAcquireLease(claim("keep"))).isEmpty();
  }
}
