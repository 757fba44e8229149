package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.store.StoreListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A shared store (the JDBC store, say) announces changes later and on its own thread, and may tell
 * listeners to resync. The resolver must count its own leases at once, ignore the late duplicate
 * event, and rebuild without losing track of the leases it holds.
 */
class AsyncStoreEventsTest {
  private final ExecutorService eventThread = Executors.newSingleThreadExecutor();
  private final LateStore store = new LateStore(initial(), eventThread);
  private final WorkerResolver resolver =
      WorkerResolver.builder(store).nodeId("n").automaticMaintenance(false).build();
  private final StepRequirements req = StepRequirements.inPool("p");

  private static Infrastructure initial() {
    List<Worker> ws = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ws.add(
          Worker.builder("w" + i)
              .endpoint(Endpoint.of("t", "w" + i))
              .pool("p")
              .maxConcurrentSteps(1)
              .build());
    }
    return Infrastructure.of(
        List.of(WorkerPool.of("default", "Default"), WorkerPool.of("p", "P")),
        ws,
        PoolId.of("default"),
        true);
  }

  @AfterEach
  void close() throws Exception {
    resolver.close();
    eventThread.shutdownNow();
    assertThat(eventThread.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private void settle() throws Exception {
    eventThread.submit(() -> {}).get(10, TimeUnit.SECONDS);
  }

  private void allHealthy() throws Exception {
    for (int i = 0; i < 3; i++) {
      store.recordHealth(
          WorkerId.of("w" + i),
          HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
    settle();
  }

  @Test
  void leasesAreCountedAtOnceEvenBeforeTheirEventArrives() throws Exception {
    allHealthy();
    store.hold = true; // events queue up, undelivered
    Set<WorkerId> used = new HashSet<>();
    List<WorkerLease> ls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      WorkerLease l = resolver.acquire(req, "s" + i);
      ls.add(l);
      used.add(l.worker().id());
    }
    assertThat(used)
        .as("each cap-1 worker used once, not re-chosen while its event is late")
        .hasSize(3);
    store.hold = false;
    store.flush();
    settle();
    for (int i = 0; i < 3; i++) {
      assertThat(resolver.activeLeases(WorkerId.of("w" + i)))
          .as("late event not counted twice")
          .isEqualTo(1);
    }
    ls.forEach(WorkerLease::close);
    settle();
    for (int i = 0; i < 3; i++) {
      assertThat(resolver.activeLeases(WorkerId.of("w" + i))).isZero();
    }
  }

  @Test
  void aResyncRebuildsTheViewAndKeepsTrackOfHeldLeases() throws Exception {
    allHealthy();
    WorkerLease l = resolver.acquire(req, "s");
    settle();
    store.announce(new StoreEvent.Resync());
    settle();
    assertThat(resolver.heldLeases()).containsExactly(l);
    assertThat(resolver.activeLeases(l.worker().id())).isEqualTo(1);
    // Expiry of the held lease is still noticed after the rebuild.
    store.expireLeases(Instant.now().plus(Duration.ofDays(1)));
    settle();
    assertThat(l.isReleased()).isTrue();
    assertThat(resolver.heldLeases()).isEmpty();
    assertThat(resolver.activeLeases(l.worker().id())).isZero();
  }

  @Test
  void aClaimRefusedByTheStoreIsReportedAsContentionAndIsWorthWaitingFor() throws Exception {
    allHealthy();
    store.refuse = true;
    assertThatThrownBy(() -> resolver.acquire(req, "s"))
        .isInstanceOf(NoEligibleWorkerException.class)
        .hasMessageContaining("taken by another node")
        .satisfies(
            e -> assertThat(((NoEligibleWorkerException) e).blocked().waitingCouldHelp()).isTrue());
    CompletableFuture<WorkerLease> w = resolver.acquire(req, "w", Duration.ofMinutes(1));
    assertThat(w).isNotDone();
    store.refuse = false;
    // Any change wakes the waiter; a health report will do.
    store.recordHealth(
        WorkerId.of("w0"), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    try (WorkerLease l = w.get(10, TimeUnit.SECONDS)) {
      assertThat(l.stepId()).isEqualTo("w");
    }
  }

  /** An in-memory store whose events reach listeners later, on another thread, optionally held. */
  static final class LateStore implements InfrastructureStore {
    private final InMemoryInfrastructureStore inner;
    private final ExecutorService thread;
    private final List<StoreListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<StoreEvent> held = new ArrayList<>();
    volatile boolean hold;

    /** Refuse every claim, as if another node always won the last slot. */
    volatile boolean refuse;

    LateStore(Infrastructure initial, ExecutorService thread) {
      this.inner = new InMemoryInfrastructureStore(initial);
      this.thread = thread;
      inner.subscribe(this::onInner);
    }

    private synchronized void onInner(StoreEvent e) {
      if (hold) {
        held.add(e);
      } else {
        announce(e);
      }
    }

    synchronized void flush() {
      held.forEach(this::announce);
      held.clear();
    }

    void announce(StoreEvent e) {
      thread.execute(() -> listeners.forEach(l -> l.onEvent(e)));
    }

    @Override
    public Infrastructure infrastructure() {
      return inner.infrastructure();
    }

    @Override
    public void putPool(WorkerPool pool) {
      inner.putPool(pool);
    }

    @Override
    public void removePool(PoolId pool) {
      inner.removePool(pool);
    }

    @Override
    public void setDefaultPool(PoolId pool) {
      inner.setDefaultPool(pool);
    }

    @Override
    public void setBuiltInWorkerEnabled(boolean enabled) {
      inner.setBuiltInWorkerEnabled(enabled);
    }

    @Override
    public void putWorker(Worker worker) {
      inner.putWorker(worker);
    }

    @Override
    public void removeWorker(WorkerId worker) {
      inner.removeWorker(worker);
    }

    @Override
    public void replaceInfrastructure(Infrastructure infrastructure) {
      inner.replaceInfrastructure(infrastructure);
    }

    @Override
    public void recordHealth(WorkerId worker, HealthReport report) {
      inner.recordHealth(worker, report);
    }

    @Override
    public Map<WorkerId, HealthReport> health() {
      return inner.health();
    }

    @Override
    public void setDraining(WorkerId worker, boolean draining) {
      inner.setDraining(worker, draining);
    }

    @Override
    public Set<WorkerId> draining() {
      return inner.draining();
    }

    @Override
    public Optional<LeaseRecord> tryAcquireLease(LeaseRecord claim) {
      return refuse ? Optional.empty() : inner.tryAcquireLease(claim);
    }

    @Override
    public int renewLeases(String holder, Instant now, java.time.Duration ttl) {
      return inner.renewLeases(holder, now, ttl);
    }

    @Override
    public boolean releaseLease(String leaseId) {
      return inner.releaseLease(leaseId);
    }

    @Override
    public List<LeaseRecord> leases() {
      return inner.leases();
    }

    @Override
    public List<LeaseRecord> expireLeases(Instant now) {
      return inner.expireLeases(now);
    }

    @Override
    public AutoCloseable subscribe(StoreListener listener) {
      listeners.add(listener);
      return () -> listeners.remove(listener);
    }
  }
}
