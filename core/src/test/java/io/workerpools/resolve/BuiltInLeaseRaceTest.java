package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Found by the soak suite: a resolver whose view had not yet applied "a worker joined the default
 * pool" chose the built-in worker, and the store granted it, so a step ran on the host although the
 * default pool held a worker. The store now checks rule 1 atomically when it grants the built-in
 * worker; the resolver, refused, re-reads the store and chooses the worker.
 */
class BuiltInLeaseRaceTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static Worker worker(String id, String pool) {
    return Worker.builder(id).endpoint(Endpoint.of("t", id)).pool(pool).build();
  }

  private static LeaseRecord builtIn(String id, String pool) {
    return new LeaseRecord(
        id, Worker.BUILT_IN_ID, PoolId.of(pool), "n", "s", T0, T0.plusSeconds(60));
  }

  @Test
  void aResolverThatHasNotSeenAWorkerJoinTheDefaultPoolStillNeverLeasesTheBuiltInWorker() {
    HeldEventsStore store = new HeldEventsStore(new InMemoryInfrastructureStore());
    try (WorkerResolver resolver =
        WorkerResolver.builder(store).nodeId("n").automaticMaintenance(false).build()) {
      store.hold();
      Worker w = worker("w1", "default");
      store.putWorker(w);
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, T0, Duration.ofMillis(1), "ok"));
      Resolution stale = resolver.resolve(StepRequirements.anyPool());
      assertThat(stale instanceof Resolution.Resolved r && r.isBuiltIn())
          .as("the resolver's view is stale: it would pick the built-in worker (%s)", stale)
          .isTrue();

      try (WorkerLease lease = resolver.acquire(StepRequirements.anyPool(), "s1")) {
        assertThat(lease.isBuiltIn()).isFalse();
        assertThat(lease.worker().id()).isEqualTo(w.id());
      }
      assertThat(store.leasesGrantedOnBuiltIn).isZero();
    }
  }

  @Test
  void theStoreGrantsTheBuiltInWorkerOnlyWhileRuleOneHolds() {
    InMemoryInfrastructureStore s = new InMemoryInfrastructureStore();
    s.putPool(WorkerPool.of("p", "P"));
    assertThat(s.tryAcquireLease(builtIn("a", "default"))).as("empty default pool").isPresent();
    assertThat(s.tryAcquireLease(builtIn("b", "p"))).as("not the default pool").isEmpty();

    s.putWorker(worker("w1", "default"));
    assertThat(s.tryAcquireLease(builtIn("c", "default")))
        .as("the default pool holds a worker")
        .isEmpty();
    s.putWorker(worker("w1", "default").toBuilder().enabled(false).build());
    assertThat(s.tryAcquireLease(builtIn("d", "default")))
        .as("a disabled worker still counts: rule 1 speaks of any worker")
        .isEmpty();
    s.removeWorker(WorkerId.of("w1"));
    assertThat(s.tryAcquireLease(builtIn("e", "default"))).isPresent();

    s.setBuiltInWorkerEnabled(false);
    assertThat(s.tryAcquireLease(builtIn("f", "default"))).as("switched off").isEmpty();
    s.setBuiltInWorkerEnabled(true);
    s.setDefaultPool(PoolId.of("p"));
    assertThat(s.tryAcquireLease(builtIn("g", "default")))
        .as("the default moved away from this pool")
        .isEmpty();
    assertThat(s.tryAcquireLease(builtIn("h", "p"))).isPresent();
    assertThat(s.leases()).extracting(LeaseRecord::leaseId).containsExactly("a", "e", "h");
  }

  /** Delegates to a store, but can hold back its events (as a slow listener thread would). */
  static final class HeldEventsStore implements InfrastructureStore {
    private final InfrastructureStore d;
    private final List<StoreListener> listeners = new ArrayList<>();
    private final List<StoreEvent> held = new ArrayList<>();
    private boolean holding;
    int leasesGrantedOnBuiltIn;

    HeldEventsStore(InfrastructureStore delegate) {
      this.d = delegate;
      d.subscribe(this::deliver);
    }

    synchronized void hold() {
      holding = true;
    }

    private synchronized void deliver(StoreEvent e) {
      if (e instanceof StoreEvent.LeaseAcquired a
          && a.lease().worker().equals(Worker.BUILT_IN_ID)) {
        leasesGrantedOnBuiltIn++;
      }
      if (holding) {
        held.add(e);
        return;
      }
      for (StoreListener l : listeners) {
        l.onEvent(e);
      }
    }

    @Override
    public Infrastructure infrastructure() {
      return d.infrastructure();
    }

    @Override
    public void putPool(WorkerPool pool) {
      d.putPool(pool);
    }

    @Override
    public void removePool(PoolId pool) {
      d.removePool(pool);
    }

    @Override
    public void setDefaultPool(PoolId pool) {
      d.setDefaultPool(pool);
    }

    @Override
    public void setBuiltInWorkerEnabled(boolean enabled) {
      d.setBuiltInWorkerEnabled(enabled);
    }

    @Override
    public void putWorker(Worker worker) {
      d.putWorker(worker);
    }

    @Override
    public void removeWorker(WorkerId worker) {
      d.removeWorker(worker);
    }

    @Override
    public void replaceInfrastructure(Infrastructure infrastructure) {
      d.replaceInfrastructure(infrastructure);
    }

    @Override
    public void recordHealth(WorkerId worker, HealthReport report) {
      d.recordHealth(worker, report);
    }

    @Override
    public Map<WorkerId, HealthReport> health() {
      return d.health();
    }

    @Override
    public void setDraining(WorkerId worker, boolean draining) {
      d.setDraining(worker, draining);
    }

    @Override
    public Set<WorkerId> draining() {
      return d.draining();
    }

    @Override
    public Optional<LeaseRecord> tryAcquireLease(LeaseRecord claim) {
      return d.tryAcquireLease(claim);
    }

    @Override
    public int renewLeases(String holder, Instant now, java.time.Duration ttl) {
      return d.renewLeases(holder, now, ttl);
    }

    @Override
    public boolean releaseLease(String leaseId) {
      return d.releaseLease(leaseId);
    }

    @Override
    public List<LeaseRecord> leases() {
      return d.leases();
    }

    @Override
    public List<LeaseRecord> expireLeases(Instant now) {
      return d.expireLeases(now);
    }

    @Override
    public synchronized AutoCloseable subscribe(StoreListener listener) {
      listeners.add(listener);
      return () -> {
        synchronized (this) {
          listeners.remove(listener);
        }
      };
    }
  }
}
