package io.workerpools.resolve;

import io.workerpools.ConfigurationException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseClaim;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves steps to workers by the two rules and leases them.
 *
 * <ol>
 *   <li>A step that resolves to the default pool while the default pool holds no workers at all runs
 *       on the built-in worker, unless it is switched off (then it has nowhere to run, and the error
 *       says so).
 *   <li>Otherwise it runs on an eligible worker of its pool: enabled, {@code HEALTHY} or {@code
 *       HAS_WARNINGS}, able to run the step's syntax, not draining, under its cap.
 * </ol>
 *
 * <p>Thread-safe. Reads come from a view kept current by the store's events; the lease itself is
 * granted atomically by the store, so several host nodes sharing a store never over-lease. Waiters
 * (callers that asked to wait for a worker) are served first come, first served, woken by store
 * events, never by polling. Close the resolver to stop its timer thread (lease renewal and expiry).
 */
public final class WorkerResolver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerResolver.class);

  /** The default lease time-to-live: a dead holder's leases come back after this. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(60);

  private final InfrastructureStore store;
  private final TimeSource time;
  private final String nodeId;
  private final Duration leaseTtl;
  private final SelectionStrategy strategy;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final AutoCloseable subscription;
  private final ScheduledFuture<?> maintenance;

  private final Object lock = new Object();
  private final ResolverView view;
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final AtomicBoolean pumpScheduled = new AtomicBoolean();
  private volatile boolean closed;

  private WorkerResolver(Builder b) {
    this.store = b.store;
    this.time = b.time;
    this.nodeId = b.nodeId;
    this.leaseTtl = b.leaseTtl;
    this.strategy = b.strategy;
    if (b.scheduler == null) {
      this.scheduler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "workerpools-resolver-" + nodeId);
                t.setDaemon(true);
                return t;
              });
      this.ownsScheduler = true;
    } else {
      this.scheduler = b.scheduler;
      this.ownsScheduler = false;
    }
    this.view = new ResolverView();
    synchronized (lock) {
      this.subscription = store.subscribe(this::onStoreEvent);
      view.rebuild(store);
    }
    long period = Math.max(1, leaseTtl.toMillis() / 3);
    this.maintenance =
        scheduler.scheduleWithFixedDelay(this::maintain, period, period, TimeUnit.MILLISECONDS);
  }

  /** A builder over this store. */
  public static Builder builder(InfrastructureStore store) {
    return new Builder(store);
  }

  /** The id this resolver's leases carry as holder. */
  public String nodeId() {
    return nodeId;
  }

  /** The store this resolver reads and leases through. */
  public InfrastructureStore store() {
    return store;
  }

  /** Where the step would run now, and why; takes no lease. */
  public Resolution resolve(StepRequirements requirements) {
    Objects.requireNonNull(requirements, "requirements");
    synchronized (lock) {
      return view.resolve(requirements, strategy);
    }
  }

  /**
   * Resolves and leases at once; fails at once if there is nowhere to run.
   *
   * @throws NoEligibleWorkerException with a reason per worker; {@link BuiltInWorkerDisabledException}
   *     when rule 1 applies and the built-in worker is off
   */
  public WorkerLease acquire(StepRequirements requirements, String stepId) {
    Objects.requireNonNull(requirements, "requirements");
    Objects.requireNonNull(stepId, "stepId");
    checkOpen();
    synchronized (lock) {
      Object r = tryAcquireLocked(requirements, stepId, !waiters.isEmpty());
      if (r instanceof WorkerLease lease) {
        return lease;
      }
      throw NoEligibleWorkerException.of((Resolution.Blocked) r);
    }
  }

  /**
   * Resolves and leases, waiting up to {@code maxWait} for a worker to become eligible. Waiters are
   * served first come, first served. Fails at once (without waiting) if waiting cannot help: an
   * unknown or empty pool, the built-in worker switched off, or every worker disabled, draining or
   * unable to run the syntax.
   */
  public CompletableFuture<WorkerLease> acquire(
      StepRequirements requirements, String stepId, Duration maxWait) {
    Objects.requireNonNull(requirements, "requirements");
    Objects.requireNonNull(stepId, "stepId");
    Objects.requireNonNull(maxWait, "maxWait");
    checkOpen();
    synchronized (lock) {
      Object r = tryAcquireLocked(requirements, stepId, !waiters.isEmpty());
      if (r instanceof WorkerLease lease) {
        return CompletableFuture.completedFuture(lease);
      }
      Resolution.Blocked blocked = (Resolution.Blocked) r;
      if (!blocked.waitingCouldHelp() || maxWait.isZero() || maxWait.isNegative()) {
        return CompletableFuture.failedFuture(NoEligibleWorkerException.of(blocked));
      }
      Waiter w = new Waiter(requirements, stepId, new CompletableFuture<>());
      waiters.addLast(w);
      w.timeout =
          scheduler.schedule(
              () -> expireWaiter(w), Math.max(1, maxWait.toMillis()), TimeUnit.MILLISECONDS);
      w.future.whenComplete(
          (lease, err) -> {
            if (err != null) {
              synchronized (lock) {
                waiters.remove(w);
              }
            }
          });
      return w.future;
    }
  }

  /** The leases the store holds now (all nodes). */
  public List<LeaseRecord> leases() {
    return store.leases();
  }

  /** The number of callers waiting for a worker. */
  public int waiting() {
    synchronized (lock) {
      return waiters.size();
    }
  }

  /** Active leases this resolver's view counts on a worker. */
  public int activeLeases(WorkerId worker) {
    synchronized (lock) {
      return view.leaseCount(worker);
    }
  }

  private Object tryAcquireLocked(StepRequirements req, String stepId, boolean queueAhead) {
    // With callers already waiting, a newcomer may only take what they cannot use: serve them first.
    if (queueAhead) {
      serveWaitersLocked();
    }
    for (int attempt = 0; attempt < 8; attempt++) {
      Resolution res = view.resolve(req, strategy);
      if (res instanceof Resolution.Blocked b) {
        return b;
      }
      Resolution.Resolved ok = (Resolution.Resolved) res;
      Instant now = time.now();
      LeaseClaim claim =
          new LeaseClaim(
              UUID.randomUUID().toString(),
              ok.worker().id(),
              ok.pool(),
              nodeId,
              stepId,
              now,
              now.plus(leaseTtl));
      Optional<LeaseRecord> granted = store.tryAcquireLease(claim);
      if (granted.isPresent()) {
        view.noteAffinity(req, ok.worker().id());
        return new Lease(granted.get(), ok.worker());
      }
      // Another node took the last slot, or the worker changed under us: refresh and try again.
      view.rebuild(store);
    }
    Resolution res = view.resolve(req, strategy);
    if (res instanceof Resolution.Blocked b) {
      return b;
    }
    return new Resolution.Blocked(
        res.pool(), res.poolChoice(), Resolution.Kind.NO_ELIGIBLE_WORKER, List.of(), true);
  }

  private void onStoreEvent(StoreEvent e) {
    synchronized (lock) {
      view.apply(e, store);
    }
    if (!waiters.isEmpty()) {
      schedulePump();
    }
  }

  private void schedulePump() {
    if (pumpScheduled.compareAndSet(false, true)) {
      try {
        scheduler.execute(
            () -> {
              pumpScheduled.set(false);
              synchronized (lock) {
                serveWaitersLocked();
              }
            });
      } catch (RuntimeException rejected) {
        pumpScheduled.set(false);
      }
    }
  }

  private void serveWaitersLocked() {
    Iterator<Waiter> it = waiters.iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (w.future.isDone()) {
        it.remove();
        continue;
      }
      Object r = tryAcquireForWaiter(w);
      if (r instanceof WorkerLease lease) {
        it.remove();
        w.timeout.cancel(false);
        if (!w.future.complete(lease)) {
          lease.close();
        }
      } else if (r instanceof Resolution.Blocked b && !b.waitingCouldHelp()) {
        it.remove();
        w.timeout.cancel(false);
        w.future.completeExceptionally(NoEligibleWorkerException.of(b));
      }
    }
  }

  private Object tryAcquireForWaiter(Waiter w) {
    return tryAcquireLocked(w.requirements, w.stepId, false);
  }

  private void expireWaiter(Waiter w) {
    synchronized (lock) {
      if (!waiters.remove(w)) {
        return;
      }
      Resolution r = view.resolve(w.requirements, strategy);
      Resolution.Blocked b =
          r instanceof Resolution.Blocked blocked
              ? blocked
              : new Resolution.Blocked(
                  r.pool(), r.poolChoice(), Resolution.Kind.NO_ELIGIBLE_WORKER, List.of(), true);
      w.future.completeExceptionally(NoEligibleWorkerException.of(b));
    }
  }

  private void maintain() {
    try {
      Instant now = time.now();
      store.renewLeases(nodeId, now.plus(leaseTtl));
      List<LeaseRecord> expired = store.expireLeases(now);
      if (!expired.isEmpty()) {
        LOG.warn("{} lease(s) expired because their holder stopped renewing them: {}", expired.size(), expired);
      }
    } catch (RuntimeException e) {
      LOG.warn("lease maintenance failed; will retry", e);
    }
  }

  /** Runs lease renewal and expiry now (hosts with a manual clock call this in tests). */
  public void maintainNow() {
    maintain();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("this WorkerResolver is closed");
    }
  }

  /** Stops the timer thread and fails waiters. Held leases stay valid until released. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    maintenance.cancel(false);
    try {
      subscription.close();
    } catch (Exception e) {
      LOG.debug("unsubscribe failed", e);
    }
    synchronized (lock) {
      for (Waiter w : waiters) {
        w.future.completeExceptionally(new IllegalStateException("WorkerResolver closed"));
      }
      waiters.clear();
    }
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
  }

  private final class Lease implements WorkerLease {
    private final LeaseRecord record;
    private final Worker worker;
    private final AtomicBoolean released = new AtomicBoolean();

    Lease(LeaseRecord record, Worker worker) {
      this.record = record;
      this.worker = worker;
    }

    @Override
    public String id() {
      return record.leaseId();
    }

    @Override
    public Worker worker() {
      return worker;
    }

    @Override
    public PoolId pool() {
      return record.pool();
    }

    @Override
    public String stepId() {
      return record.stepId();
    }

    @Override
    public Instant acquiredAt() {
      return record.acquiredAt();
    }

    @Override
    public boolean isReleased() {
      return released.get();
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        try {
          if (!store.releaseLease(record.leaseId())) {
            LOG.warn("lease {} on {} had already expired when released", record.leaseId(), worker.id());
          }
        } catch (RuntimeException e) {
          LOG.warn("could not release lease {}; it will expire after {}", record.leaseId(), leaseTtl, e);
        }
      }
    }

    @Override
    public String toString() {
      return "Lease[" + record.leaseId() + " on " + worker.id() + " for " + record.stepId() + "]";
    }
  }

  private static final class Waiter {
    final StepRequirements requirements;
    final String stepId;
    final CompletableFuture<WorkerLease> future;
    ScheduledFuture<?> timeout;

    Waiter(StepRequirements requirements, String stepId, CompletableFuture<WorkerLease> future) {
      this.requirements = requirements;
      this.stepId = stepId;
      this.future = future;
    }
  }

  /** Builds a {@link WorkerResolver}. Defaults: system time, a random node id, 60 s lease TTL. */
  public static final class Builder {
    private final InfrastructureStore store;
    private TimeSource time = TimeSource.system();
    private String nodeId = "node-" + UUID.randomUUID().toString().substring(0, 8);
    private Duration leaseTtl = DEFAULT_LEASE_TTL;
    private SelectionStrategy strategy = SelectionStrategy.FEWEST_LEASES;
    private ScheduledExecutorService scheduler;

    private Builder(InfrastructureStore store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    public Builder timeSource(TimeSource time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /** The holder id this node's leases carry: unique per host node sharing a store. */
    public Builder nodeId(String nodeId) {
      if (nodeId == null || nodeId.isBlank()) {
        throw new ConfigurationException("nodeId", "must not be empty");
      }
      this.nodeId = nodeId;
      return this;
    }

    public Builder leaseTtl(Duration ttl) {
      if (ttl == null || ttl.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new ConfigurationException("leaseTtl", "must be at least 1s but was " + ttl);
      }
      this.leaseTtl = ttl;
      return this;
    }

    public Builder selectionStrategy(SelectionStrategy strategy) {
      this.strategy = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /** A scheduler for lease renewal, expiry and waiter timeouts; the resolver does not shut it down. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    public WorkerResolver build() {
      return new WorkerResolver(this);
    }
  }
}
