package io.workerpools.micrometer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workerpools.WorkerPools;
import io.workerpools.health.HealthSummary;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.StoreEvent;
import io.workerpools.store.StoreListener;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gauges: per pool, the leases this node holds and its workers in each health status; per
 * worker (if on), the leases this node holds on it; the steps queued and waiting. Which pools and
 * workers have gauges follows the store's events (a {@link StoreEvent.Resync} is applied at the
 * next read, on the reading thread, since a store listener must not read the store).
 *
 * <p>Reading many gauges must not cost a pass over the fleet each: the lease and health counts come
 * from one snapshot, taken again when it is older than {@link WorkerPoolsMetrics.Options#maxAge}.
 */
final class FleetGauges implements StoreListener {
  private final WorkerPools pools;
  private final MeterRegistry registry;
  private final WorkerPoolsMetrics.Options options;
  private final Map<PoolId, List<Meter>> poolMeters = new ConcurrentHashMap<>();
  private final Map<WorkerId, Meter> workerMeters = new ConcurrentHashMap<>();
  private final Map<WorkerId, String> transports = new ConcurrentHashMap<>();
  private final List<Meter> fixed = new ArrayList<>();

  /**
   * Held while a snapshot is taken (which calls into the resolver, the monitor and, on a resync,
   * the store). Never taken while holding {@code this}, which guards the meters and is taken by
   * store events, possibly under the store's lock: so no lock order is ever reversed.
   */
  private final Object snapshotLock = new Object();

  private volatile boolean resync;
  private volatile boolean closed;
  private volatile Snapshot snapshot;

  /** The counts the gauges read, taken at one moment. */
  private record Snapshot(
      long atNanos,
      Map<PoolId, Integer> leasesByPool,
      Map<WorkerId, Integer> leasesByWorker,
      HealthSummary health) {}

  FleetGauges(WorkerPools pools, MeterRegistry registry, WorkerPoolsMetrics.Options options) {
    this.pools = pools;
    this.registry = registry;
    this.options = options;
    fixed.add(
        Gauge.builder(WorkerPoolsMetrics.STEPS_QUEUED, pools.dispatcher(), d -> d.queued())
            .description("Steps waiting for their action's max parallelism to let them in")
            .baseUnit("steps")
            .register(registry));
    fixed.add(
        Gauge.builder(WorkerPoolsMetrics.STEPS_WAITING, pools.resolver(), r -> r.waiting())
            .description("Steps waiting for an eligible worker to become free")
            .baseUnit("steps")
            .register(registry));
    if (options.perWorker()) {
      addWorker(Worker.BUILT_IN);
    }
  }

  /** Registers the gauges of what the store holds now. Call after subscribing. */
  synchronized void reconcile(Infrastructure infra) {
    Set<PoolId> pools = new HashSet<>(infra.pools().keySet());
    for (PoolId p : pools) {
      addPool(p);
    }
    for (PoolId p : Set.copyOf(poolMeters.keySet())) {
      if (!pools.contains(p)) {
        removePool(p);
      }
    }
    for (Worker w : infra.workers().values()) {
      addWorker(w);
    }
    for (WorkerId w : Set.copyOf(transports.keySet())) {
      if (!w.equals(Worker.BUILT_IN_ID) && !infra.workers().containsKey(w)) {
        removeWorker(w);
      }
    }
  }

  @Override
  public void onEvent(StoreEvent event) {
    if (closed) {
      return;
    }
    if (event instanceof StoreEvent.PoolPut e) {
      addPool(e.pool().id());
    } else if (event instanceof StoreEvent.PoolRemoved e) {
      removePool(e.pool());
    } else if (event instanceof StoreEvent.WorkerPut e) {
      addWorker(e.worker());
    } else if (event instanceof StoreEvent.WorkerRemoved e) {
      removeWorker(e.worker().id());
    } else if (event instanceof StoreEvent.Resync) {
      resync = true;
    }
  }

  /** The transport kind of a worker, as its endpoint names it. */
  String transportOf(WorkerId worker) {
    if (worker.equals(Worker.BUILT_IN_ID)) {
      return MeterTags.transport(Worker.BUILT_IN);
    }
    return transports.getOrDefault(worker, MeterTags.UNKNOWN_TRANSPORT);
  }

  private synchronized void addPool(PoolId pool) {
    if (closed || poolMeters.containsKey(pool)) {
      return;
    }
    List<Meter> meters = new ArrayList<>();
    meters.add(
        Gauge.builder(
                WorkerPoolsMetrics.LEASES_ACTIVE,
                this,
                g -> g.snapshot().leasesByPool().getOrDefault(pool, 0))
            .description("Leases this node holds on the pool's workers (the built-in worker's too)")
            .tag(MeterTags.POOL, MeterTags.pool(pool))
            .baseUnit("leases")
            .register(registry));
    for (HealthStatus s : HealthStatus.values()) {
      meters.add(
          Gauge.builder(
                  WorkerPoolsMetrics.WORKERS, this, g -> g.snapshot().health().pool(pool).count(s))
              .description("Workers of the pool in each health status")
              .tag(MeterTags.POOL, MeterTags.pool(pool))
              .tag(MeterTags.STATUS, MeterTags.value(s))
              .baseUnit("workers")
              .register(registry));
    }
    poolMeters.put(pool, meters);
  }

  private synchronized void removePool(PoolId pool) {
    List<Meter> meters = poolMeters.remove(pool);
    if (meters != null) {
      meters.forEach(registry::remove);
    }
  }

  private synchronized void addWorker(Worker worker) {
    if (closed) {
      return;
    }
    transports.put(worker.id(), MeterTags.transport(worker));
    if (!options.perWorker() || workerMeters.containsKey(worker.id())) {
      return;
    }
    WorkerId id = worker.id();
    workerMeters.put(
        id,
        Gauge.builder(
                WorkerPoolsMetrics.WORKER_LEASES_ACTIVE,
                this,
                g -> g.snapshot().leasesByWorker().getOrDefault(id, 0))
            .description("Leases this node holds on the worker")
            .tag(MeterTags.WORKER, id.value())
            .baseUnit("leases")
            .register(registry));
  }

  private synchronized void removeWorker(WorkerId worker) {
    transports.remove(worker);
    Meter m = workerMeters.remove(worker);
    if (m != null) {
      registry.remove(m);
    }
  }

  /** The current counts, taken again if older than the maximum age. */
  private Snapshot snapshot() {
    Snapshot s = snapshot;
    long now = registry.config().clock().monotonicTime();
    if (s != null && !resync && now - s.atNanos() < options.maxAge().toNanos()) {
      return s;
    }
    synchronized (snapshotLock) {
      s = snapshot;
      if (s != null && !resync && now - s.atNanos() < options.maxAge().toNanos()) {
        return s;
      }
      if (resync && !closed) {
        resync = false;
        reconcile(pools.store().infrastructure());
      }
      Map<PoolId, Integer> byPool = new HashMap<>();
      Map<WorkerId, Integer> byWorker = new HashMap<>();
      for (WorkerLease l : pools.resolver().heldLeases()) {
        byPool.merge(l.pool(), 1, Integer::sum);
        byWorker.merge(l.worker().id(), 1, Integer::sum);
      }
      s = new Snapshot(now, byPool, byWorker, pools.health().summary());
      snapshot = s;
      return s;
    }
  }

  /** Removes every gauge this made. */
  synchronized void close() {
    closed = true;
    fixed.forEach(registry::remove);
    for (PoolId p : Set.copyOf(poolMeters.keySet())) {
      removePool(p);
    }
    for (WorkerId w : Set.copyOf(workerMeters.keySet())) {
      removeWorker(w);
    }
  }
}
