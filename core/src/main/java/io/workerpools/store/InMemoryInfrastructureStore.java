package io.workerpools.store;

import io.workerpools.ConfigurationException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.Rules;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The embedded default store: everything in this process' memory, nothing persisted. One lock
 * guards all state, and listeners are called under it, so they see changes in exactly the order
 * they were made (see {@link StoreListener} for what listeners may do).
 */
public final class InMemoryInfrastructureStore implements InfrastructureStore {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(InMemoryInfrastructureStore.class);
  private final Object lock = new Object();
  private final CopyOnWriteArrayList<StoreListener> listeners = new CopyOnWriteArrayList<>();
  private Infrastructure infra;
  private final Map<WorkerId, HealthReport> health = new HashMap<>();
  private final Set<WorkerId> draining = new HashSet<>();
  private final Map<String, LeaseRecord> leases = new LinkedHashMap<>();
  private final Map<WorkerId, Integer> leaseCounts = new HashMap<>();
  // node id -> the live instance holding it and until when
  private final Map<String, NodeRow> nodes = new HashMap<>();

  private record NodeRow(String instance, Instant expiresAt) {}

  /** A store with one empty default pool and the built-in worker enabled. */
  public InMemoryInfrastructureStore() {
    this(Infrastructure.initial());
  }

  public InMemoryInfrastructureStore(Infrastructure initial) {
    this.infra = Objects.requireNonNull(initial, "initial");
  }

  @Override
  public Infrastructure infrastructure() {
    synchronized (lock) {
      return infra;
    }
  }

  @Override
  public void putPool(WorkerPool pool) {
    synchronized (lock) {
      infra = infra.withPool(pool);
      fire(new StoreEvent.PoolPut(pool));
    }
  }

  @Override
  public void removePool(PoolId pool) {
    synchronized (lock) {
      if (infra.pool(pool).isEmpty()) {
        throw new ConfigurationException(
            "pool " + pool, "does not exist; known pools: " + infra.pools().keySet());
      }
      infra = infra.withoutPool(pool);
      fire(new StoreEvent.PoolRemoved(pool));
    }
  }

  @Override
  public void setDefaultPool(PoolId pool) {
    synchronized (lock) {
      PoolId previous = infra.defaultPool();
      infra = infra.withDefaultPool(pool);
      if (!previous.equals(pool)) {
        fire(new StoreEvent.DefaultPoolMoved(previous, pool));
      }
    }
  }

  @Override
  public void setBuiltInWorkerEnabled(boolean enabled) {
    synchronized (lock) {
      boolean was = infra.builtInWorkerEnabled();
      infra = infra.withBuiltInWorkerEnabled(enabled);
      if (was != enabled) {
        fire(new StoreEvent.BuiltInWorkerSwitched(enabled));
      }
    }
  }

  @Override
  public void putWorker(Worker worker) {
    synchronized (lock) {
      Worker previous = infra.workers().get(worker.id());
      infra = infra.withWorker(worker);
      fire(new StoreEvent.WorkerPut(previous, worker));
    }
  }

  @Override
  public void removeWorker(WorkerId worker) {
    synchronized (lock) {
      Worker previous = infra.workers().get(worker);
      if (previous == null) {
        return;
      }
      infra = infra.withoutWorker(worker);
      leaseCounts.remove(worker, 0);
      health.remove(worker);
      draining.remove(worker);
      fire(new StoreEvent.WorkerRemoved(previous));
    }
  }

  @Override
  public void replaceInfrastructure(Infrastructure next) {
    synchronized (lock) {
      Infrastructure prev = infra;
      infra = Objects.requireNonNull(next, "infrastructure");
      health.keySet().retainAll(next.workers().keySet());
      draining.retainAll(next.workers().keySet());
      leaseCounts
          .entrySet()
          .removeIf(e -> e.getValue() == 0 && !next.workers().containsKey(e.getKey()));
      for (Worker w : prev.workers().values()) {
        if (!next.workers().containsKey(w.id())) {
          fire(new StoreEvent.WorkerRemoved(w));
        }
      }
      for (WorkerPool p : next.pools().values()) {
        if (!p.equals(prev.pools().get(p.id()))) {
          fire(new StoreEvent.PoolPut(p));
        }
      }
      for (Worker w : next.workers().values()) {
        Worker old = prev.workers().get(w.id());
        if (!w.equals(old)) {
          fire(new StoreEvent.WorkerPut(old, w));
        }
      }
      for (PoolId p : prev.pools().keySet()) {
        if (!next.pools().containsKey(p)) {
          fire(new StoreEvent.PoolRemoved(p));
        }
      }
      if (!prev.defaultPool().equals(next.defaultPool())) {
        fire(new StoreEvent.DefaultPoolMoved(prev.defaultPool(), next.defaultPool()));
      }
      if (prev.builtInWorkerEnabled() != next.builtInWorkerEnabled()) {
        fire(new StoreEvent.BuiltInWorkerSwitched(next.builtInWorkerEnabled()));
      }
    }
  }

  @Override
  public void recordHealth(WorkerId worker, HealthReport report) {
    synchronized (lock) {
      if (!infra.workers().containsKey(worker)) {
        return;
      }
      HealthReport previous = health.put(worker, report);
      fire(new StoreEvent.HealthRecorded(worker, previous, report));
    }
  }

  @Override
  public Map<WorkerId, HealthReport> health() {
    synchronized (lock) {
      return Map.copyOf(health);
    }
  }

  @Override
  public void setDraining(WorkerId worker, boolean drain) {
    synchronized (lock) {
      if (!infra.workers().containsKey(worker)) {
        throw new ConfigurationException("worker " + worker, "does not exist");
      }
      boolean changed = drain ? draining.add(worker) : draining.remove(worker);
      if (changed) {
        fire(new StoreEvent.DrainingChanged(worker, drain));
      }
    }
  }

  @Override
  public Set<WorkerId> draining() {
    synchronized (lock) {
      return Set.copyOf(draining);
    }
  }

  @Override
  public Optional<LeaseRecord> tryAcquireLease(LeaseRecord claim) {
    synchronized (lock) {
      if (leases.containsKey(claim.leaseId())) {
        throw new IllegalArgumentException("lease id already in use: " + claim.leaseId());
      }
      int held = leaseCounts.getOrDefault(claim.worker(), 0);
      if (claim.worker().equals(Worker.BUILT_IN_ID)) {
        // Rule 1, checked atomically: a resolver's view may not have seen a worker just added to
        // the default pool (or the default moved, or the built-in switched off) when it chose the
        // built-in worker. Refused here, the resolver re-reads and chooses again.
        if (!builtInLeasable(claim)) {
          return Optional.empty();
        }
      } else {
        Worker w = infra.workers().get(claim.worker());
        if (w == null
            || Rules.refuseGrant(w.enabled(), draining.contains(w.id()), held, w.capOrMax())
                != null) {
          return Optional.empty();
        }
      }
      leases.put(claim.leaseId(), claim);
      leaseCounts.put(claim.worker(), held + 1);
      fire(new StoreEvent.LeaseAcquired(claim));
      return Optional.of(claim);
    }
  }

  /** Whether rule 1 holds now for this claim's pool. Call with the lock held. */
  private boolean builtInLeasable(LeaseRecord claim) {
    boolean poolHasWorkers = false;
    for (Worker w : infra.workers().values()) {
      if (w.pools().contains(claim.pool())) {
        poolHasWorkers = true;
        break;
      }
    }
    return Rules.builtInGrantable(
        claim.pool(), infra.defaultPool(), poolHasWorkers, infra.builtInWorkerEnabled());
  }

  @Override
  public int renewLeases(String holder, Instant now, Duration ttl) {
    Instant expiresAt = now.plus(ttl);
    synchronized (lock) {
      int n = 0;
      for (Map.Entry<String, LeaseRecord> e : leases.entrySet()) {
        LeaseRecord r = e.getValue();
        if (r.holder().equals(holder) && !r.expiresAt().isBefore(now)) {
          e.setValue(r.withExpiresAt(expiresAt));
          n++;
        }
      }
      return n;
    }
  }

  @Override
  public boolean releaseLease(String leaseId) {
    synchronized (lock) {
      LeaseRecord r = leases.remove(leaseId);
      if (r == null) {
        return false;
      }
      end(r, false);
      return true;
    }
  }

  @Override
  public List<LeaseRecord> leases() {
    synchronized (lock) {
      return List.copyOf(leases.values());
    }
  }

  @Override
  public List<LeaseRecord> expireLeases(Instant now) {
    synchronized (lock) {
      List<LeaseRecord> expired = new ArrayList<>();
      var it = leases.values().iterator();
      while (it.hasNext()) {
        LeaseRecord r = it.next();
        if (r.expiresAt().isBefore(now)) {
          it.remove();
          expired.add(r);
        }
      }
      for (LeaseRecord r : expired) {
        end(r, true);
      }
      return expired;
    }
  }

  @Override
  public void heartbeatNode(String nodeId, String instance, Instant now, Duration ttl) {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(instance, "instance");
    synchronized (lock) {
      NodeRow row = nodes.get(nodeId);
      if (row != null && !row.instance().equals(instance) && !row.expiresAt().isBefore(now)) {
        throw new NodeIdInUseException(
            nodeId, "its heartbeat in this process' store is live until " + row.expiresAt());
      }
      nodes.put(nodeId, new NodeRow(instance, now.plus(ttl)));
    }
  }

  @Override
  public void leaveNode(String nodeId, String instance) {
    synchronized (lock) {
      NodeRow row = nodes.get(nodeId);
      if (row != null && row.instance().equals(instance)) {
        nodes.remove(nodeId);
      }
    }
  }

  private void end(LeaseRecord r, boolean expired) {
    WorkerId w = r.worker();
    Integer held = leaseCounts.get(w);
    if (held != null) {
      // A configured worker keeps its entry at zero, so the next lease on it allocates no entry.
      if (held > 1 || infra.workers().containsKey(w)) {
        leaseCounts.put(w, held - 1);
      } else {
        leaseCounts.remove(w);
      }
    }
    fire(new StoreEvent.LeaseEnded(r, expired));
  }

  @Override
  public AutoCloseable subscribe(StoreListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  private void fire(StoreEvent e) {
    for (StoreListener l : listeners) {
      try {
        l.onEvent(e);
      } catch (RuntimeException ex) {
        LOG.warn("store listener {} failed on {}", l, e, ex);
      }
    }
  }
}
