package io.workerpools.resolve;

import io.workerpools.ClosedException;
import io.workerpools.ConfigurationException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves steps to workers by the two rules and leases them.
 *
 * <ol>
 *   <li>A step that resolves to the default pool while the default pool holds no workers at all
 *       runs on the built-in worker, unless it is switched off (then it has nowhere to run, and the
 *       error says so).
 *   <li>Otherwise it runs on an eligible worker of its pool: enabled, {@code HEALTHY} or {@code
 *       HAS_WARNINGS}, able to run the step's syntax, not draining, under its cap.
 * </ol>
 *
 * <p>Selection: the affine worker if the step has an affinity key and that worker is still eligible
 * and under the step's affinity lease cap; otherwise the worker with the fewest active leases, ties
 * broken round robin. The default strategy is served by an index per (pool, syntax) that store
 * events keep current, so a resolution costs the same with 10 or 100,000 workers and scans nothing;
 * a custom {@link SelectionStrategy} is given the eligible workers of the pool (a scan).
 *
 * <p>Thread-safe. Reads come from a view kept current by the store's events; the lease itself is
 * granted atomically by the store, so several host nodes sharing a store never over-lease. Store
 * events are never blocked on: a listener call that finds the resolver busy leaves the event in an
 * inbox that the busy thread applies before it lets go, so the store's lock and the resolver's lock
 * are never waited for in opposite orders. Waiters (callers that asked to wait for a worker) are
 * served first come, first served, woken by store events, never by polling. Close the resolver to
 * stop its timer thread (lease renewal and expiry, waiter deadlines).
 *
 * <p>This class is the facade; the mechanisms are each in their own class: {@link Rules} (what is
 * decided), {@link ResolverView} with {@link SelectionIndex} (the store's state, indexed), {@link
 * EventInbox} (the lock and the events that arrive while it is held), {@link ClaimLoop} (choose,
 * claim, retry), {@link StepWaiters} (the FIFO wait queue), {@link LeaseKeeper} (renewal, expiry)
 * and {@link IdleWatchers} (draining).
 *
 * <p>Do not call the resolver from inside a {@link io.workerpools.store.StoreListener}: the store
 * may hold its lock while it calls listeners.
 */
public final class WorkerResolver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerResolver.class);

  /** The default lease time-to-live: a dead holder's leases come back after this. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(60);

  private final InfrastructureStore store;
  private final String nodeId;
  private final String component;
  private final Duration leaseTtl;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final AutoCloseable subscription;
  private final ScheduledFuture<?> maintenance;

  /** Guards the view, the waiters and the idle watchers. */
  private final EventInbox lock = new EventInbox(this::applyLocked);

  private final ResolverView view = new ResolverView();
  private final ClaimLoop claims;
  private final StepWaiters waiters;
  private final IdleWatchers idle;
  private final LeaseKeeper keeper;
  private volatile boolean closed;

  private WorkerResolver(Builder b) {
    this.store = b.store;
    this.nodeId = b.nodeId;
    this.component = "WorkerResolver " + nodeId;
    this.leaseTtl = b.leaseTtl;
    this.keeper = new LeaseKeeper(store, b.time, nodeId, leaseTtl);
    keeper.join();
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
    this.claims = new ClaimLoop(store, b.time, nodeId, leaseTtl, b.strategy, view, lock);
    this.waiters = new StepWaiters(claims, lock, scheduler, b.time);
    this.idle = new IdleWatchers(scheduler);
    lock.lock();
    try {
      this.subscription = store.subscribe(lock::offer);
      lock.discard();
      view.rebuild(store);
    } finally {
      lock.unlock();
    }
    long period = keeper.periodMillis();
    this.maintenance =
        b.maintenance
            ? scheduler.scheduleWithFixedDelay(
                keeper::maintain, period, period, TimeUnit.MILLISECONDS)
            : null;
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

  /** The lease time-to-live: how long a lease lives without renewal. */
  public Duration leaseTtl() {
    return leaseTtl;
  }

  // ---- resolving ----

  /**
   * Where the step would run now, and why; takes no lease and remembers no affinity. A blocked
   * result lists every worker of the pool and why it was passed over.
   */
  public Resolution resolve(StepRequirements requirements) {
    Objects.requireNonNull(requirements, "requirements");
    lock.lock();
    try {
      return claims.resolve(requirements);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Resolves and leases at once; fails at once if there is nowhere to run.
   *
   * @throws NoEligibleWorkerException with a reason per worker; {@link
   *     BuiltInWorkerDisabledException} when rule 1 applies and the built-in worker is off
   * @throws ClosedException if the resolver is closed
   */
  public WorkerLease acquire(StepRequirements requirements, String stepId) {
    Objects.requireNonNull(requirements, "requirements");
    Objects.requireNonNull(stepId, "stepId");
    checkOpen();
    List<StepWaiters.Served> served = null;
    HeldLease lease;
    Resolution.Blocked blocked = null;
    lock.lock();
    try {
      // With callers already waiting, serve them first: a newcomer takes only what they cannot use.
      if (!waiters.isEmptyLocked()) {
        served = waiters.serveLocked();
      }
      lease = claims.tryAcquire(requirements, stepId);
      if (lease == null) {
        blocked = claims.blocked(requirements);
      }
    } finally {
      lock.unlock();
    }
    StepWaiters.complete(served);
    if (lease == null) {
      throw NoEligibleWorkerException.of(blocked);
    }
    return lease;
  }

  /**
   * Resolves and leases, waiting up to {@code maxWait} for a worker to become eligible. Waiters are
   * served first come, first served, when a store event (a lease ending, a health check passing, a
   * worker added or enabled) may have made room; never by polling.
   *
   * <p>Fails at once, without waiting, if waiting cannot help by itself: an unknown or empty pool,
   * the built-in worker switched off, or every worker disabled, draining or unable to run the
   * syntax. Once waiting, a waiter waits until it is served or its deadline passes, whatever
   * changes meanwhile.
   *
   * <p>Cancelling the returned future (or completing it otherwise) withdraws the waiter; a lease
   * that was granted to it at the same moment is released, never leaked.
   *
   * @throws ClosedException if the resolver is closed (a waiter pending when it closes fails with
   *     it)
   */
  public CompletableFuture<WorkerLease> acquire(
      StepRequirements requirements, String stepId, Duration maxWait) {
    Objects.requireNonNull(requirements, "requirements");
    Objects.requireNonNull(stepId, "stepId");
    Objects.requireNonNull(maxWait, "maxWait");
    checkOpen();
    List<StepWaiters.Served> served = null;
    CompletableFuture<WorkerLease> result;
    lock.lock();
    try {
      if (!waiters.isEmptyLocked()) {
        served = waiters.serveLocked();
      }
      // Waiters that could be served were served just now; those left cannot use what is free, so
      // the newcomer may take it (the same as the failing-fast acquire does).
      HeldLease lease = claims.tryAcquire(requirements, stepId);
      if (lease != null) {
        result = CompletableFuture.completedFuture(lease);
      } else {
        Resolution.Blocked blocked = claims.blocked(requirements);
        boolean couldHelp = blocked.waitingCouldHelp();
        if (!couldHelp || maxWait.isZero() || maxWait.isNegative()) {
          result = CompletableFuture.failedFuture(NoEligibleWorkerException.of(blocked));
        } else {
          result = waiters.enqueueLocked(requirements, stepId, maxWait);
        }
      }
    } finally {
      lock.unlock();
    }
    StepWaiters.complete(served);
    return result;
  }

  // ---- observing ----

  /**
   * The leases the store holds now (all nodes): who holds which worker, for which step, since when.
   */
  public List<LeaseRecord> leases() {
    return store.leases();
  }

  /** The active leases on one worker (all nodes), as this resolver's view knows them. */
  public List<LeaseRecord> leases(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    lock.lock();
    try {
      return view.leasesOn(worker);
    } finally {
      lock.unlock();
    }
  }

  /** The leases this node holds and has not released, oldest first. */
  public List<WorkerLease> heldLeases() {
    List<WorkerLease> out = new ArrayList<>();
    lock.lock();
    try {
      for (ResolverView.Held h : view.held()) {
        out.add((HeldLease) h);
      }
    } finally {
      lock.unlock();
    }
    out.sort(
        (a, b) -> {
          int c = a.acquiredAt().compareTo(b.acquiredAt());
          return c != 0 ? c : a.id().compareTo(b.id());
        });
    return out;
  }

  /** Active leases this resolver's view counts on a worker (all nodes). */
  public int activeLeases(WorkerId worker) {
    lock.lock();
    try {
      return view.leaseCount(worker);
    } finally {
      lock.unlock();
    }
  }

  /** The number of callers waiting for a worker. */
  public int waiting() {
    lock.lock();
    try {
      return waiters.sizeLocked();
    } finally {
      lock.unlock();
    }
  }

  /** "Why is my step waiting?": a {@link WaitingSteps} snapshot (see its Javadoc); thread-safe. */
  public WaitingSteps waitingSteps(WaitingSteps.Query query) {
    Objects.requireNonNull(query, "query");
    lock.lock();
    try {
      return WaitingSnapshot.take(view, waiters, query);
    } finally {
      lock.unlock();
    }
  }

  /** Where this resolver's view disagrees with the store now (empty if it agrees); for tests. */
  List<String> viewInconsistencies() {
    lock.lock();
    try {
      return view.inconsistencies(store);
    } finally {
      lock.unlock();
    }
  }

  // ---- draining ----

  /**
   * Drains a worker: it gets no new leases (on any node sharing the store), the steps it runs
   * finish. The returned stage completes when it holds no lease, released or expired; then the host
   * may remove it.
   */
  public CompletableFuture<Void> drain(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    store.setDraining(worker, true);
    return awaitIdle(worker);
  }

  /** Stops draining a worker: it takes new leases again. */
  public void undrain(WorkerId worker) {
    store.setDraining(Objects.requireNonNull(worker, "worker"), false);
  }

  /**
   * Completes when the worker holds no lease (at once if it holds none now). Completed on the
   * resolver's scheduler thread, never under a lock; dependent actions may call the store. Fails
   * with {@link ClosedException} if the resolver closes first.
   */
  public CompletableFuture<Void> awaitIdle(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    lock.lock();
    try {
      return idle.awaitLocked(worker, view.leaseCount(worker));
    } finally {
      lock.unlock();
    }
  }

  // ---- store events ----

  /** Applies one store event to the view and wakes whoever it concerns. Lock held. */
  private void applyLocked(StoreEvent e) {
    WorkerId idleNow = view.apply(e, store);
    if (e instanceof StoreEvent.LeaseEnded ended && ended.expired()) {
      LeaseKeeper.expired(view.endedLease);
    }
    if (idleNow != null && !idle.isEmptyLocked()) {
      idle.idleLocked(idleNow);
    } else if (e instanceof StoreEvent.Resync && !idle.isEmptyLocked()) {
      idle.resyncedLocked(view::leaseCount);
    }
    if (!waiters.isEmptyLocked() && !(e instanceof StoreEvent.LeaseAcquired)) {
      waiters.schedulePump();
    }
  }

  // ---- lease maintenance and closing ----

  /**
   * Runs lease maintenance now: renews this node's leases to expire one TTL from now, then ends
   * every lease (any node's) past its expiry. The resolver runs this every third of the TTL; hosts
   * with a manual clock call it in tests.
   */
  public void maintainNow() {
    keeper.maintain();
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException(component, "cannot acquire a lease");
    }
  }

  /**
   * Stops the timer thread, fails waiters and {@link #awaitIdle} stages with {@link
   * ClosedException}. Held leases stay in the store until released; they are no longer renewed by
   * this node, so they expire one TTL after the last renewal.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (maintenance != null) {
      maintenance.cancel(false);
    }
    try {
      subscription.close();
    } catch (Exception e) {
      LOG.debug("unsubscribe failed", e);
    }
    waiters.close(component);
    List<CompletableFuture<Void>> watchers;
    lock.lock();
    try {
      watchers = idle.removeAllLocked();
    } finally {
      lock.unlock();
    }
    IdleWatchers.fail(watchers, component);
    // With leases still held the id stays registered until it expires, so that no new instance
    // with this id renews them.
    if (heldLeases().isEmpty()) {
      keeper.leave();
    }
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
  }

  /**
   * Builds a {@link WorkerResolver}. Defaults: system time, a random node id, 60 s lease TTL,
   * fewest leases selection, its own timer thread.
   */
  public static final class Builder {
    private final InfrastructureStore store;
    private TimeSource time = TimeSource.system();
    private String nodeId = "node-" + UUID.randomUUID().toString().substring(0, 8);
    private Duration leaseTtl = DEFAULT_LEASE_TTL;
    private SelectionStrategy strategy = SelectionStrategy.FEWEST_LEASES;
    private ScheduledExecutorService scheduler;
    private boolean maintenance = true;

    private Builder(InfrastructureStore store) {
      this.store = Objects.requireNonNull(store, "store");
    }

    public Builder timeSource(TimeSource time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /**
     * The holder id this node's leases carry: unique per live host node sharing a store (a second
     * live node with the same id is refused with {@link
     * io.workerpools.store.NodeIdInUseException}). Random by default.
     */
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

    /**
     * A scheduler for lease renewal, expiry and waiter timeouts; the resolver does not shut it
     * down.
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Whether the resolver renews and expires leases on its own timer (default true). Tests with a
     * manual clock switch it off and call {@link WorkerResolver#maintainNow()}.
     */
    public Builder automaticMaintenance(boolean on) {
      this.maintenance = on;
      return this;
    }

    public WorkerResolver build() {
      return new WorkerResolver(this);
    }
  }
}
