package io.workerpools.resolve;

import io.workerpools.ClosedException;
import io.workerpools.ConfigurationException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.time.TimeSource;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
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
 * <p>Do not call the resolver from inside a {@link io.workerpools.store.StoreListener}: the store
 * may hold its lock while it calls listeners.
 */
public final class WorkerResolver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerResolver.class);

  /** The default lease time-to-live: a dead holder's leases come back after this. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(60);

  /** How many times a lease is claimed again after the store refused it (another node won). */
  private static final int CLAIM_ATTEMPTS = 4;

  private final InfrastructureStore store;
  private final TimeSource time;
  private final String nodeId;
  private final String leaseIdPrefix;
  private final AtomicLong leaseSeq = new AtomicLong();
  private final Duration leaseTtl;
  private final SelectionStrategy strategy;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final AutoCloseable subscription;
  private final ScheduledFuture<?> maintenance;

  /** Guards the view, the waiters and the idle watchers. */
  private final ReentrantLock lock = new ReentrantLock();

  /** Events that arrived while another thread held {@link #lock}; applied before it is let go. */
  private final ConcurrentLinkedQueue<StoreEvent> inbox = new ConcurrentLinkedQueue<>();

  private final ResolverView view = new ResolverView();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final Map<WorkerId, List<CompletableFuture<Void>>> idleWatchers = new HashMap<>();
  private final AtomicBoolean pumpScheduled = new AtomicBoolean();
  private volatile boolean closed;

  private WorkerResolver(Builder b) {
    this.store = b.store;
    this.time = b.time;
    this.nodeId = b.nodeId;
    this.leaseIdPrefix = nodeId + "/" + UUID.randomUUID().toString().substring(0, 8) + "/";
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
    lock.lock();
    try {
      this.subscription = store.subscribe(this::onStoreEvent);
      inbox.clear();
      view.rebuild(store);
    } finally {
      unlock();
    }
    long period = Math.max(1, leaseTtl.toMillis() / 3);
    this.maintenance =
        b.maintenance
            ? scheduler.scheduleWithFixedDelay(
                this::maintain, period, period, TimeUnit.MILLISECONDS)
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
    lockView();
    try {
      return view.resolve(requirements, strategy);
    } finally {
      unlock();
    }
  }

  /**
   * Resolves and leases at once; fails at once if there is nowhere to run.
   *
   * @throws NoEligibleWorkerException with a reason per worker; {@link
   *     BuiltInWorkerDisabledException} when rule 1 applies and the built-in worker is off
   */
  public WorkerLease acquire(StepRequirements requirements, String stepId) {
    Objects.requireNonNull(requirements, "requirements");
    Objects.requireNonNull(stepId, "stepId");
    checkOpen();
    List<Served> served = null;
    Lease lease;
    Resolution.Blocked blocked = null;
    lockView();
    try {
      // With callers already waiting, serve them first: a newcomer takes only what they cannot use.
      if (!waiters.isEmpty()) {
        served = serveWaitersLocked();
      }
      lease = tryAcquireLocked(requirements, stepId);
      if (lease == null) {
        blocked = blockedLocked(requirements);
      }
    } finally {
      unlock();
    }
    complete(served);
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
   */
  public CompletableFuture<WorkerLease> acquire(
      StepRequirements requirements, String stepId, Duration maxWait) {
    Objects.requireNonNull(requirements, "requirements");
    Objects.requireNonNull(stepId, "stepId");
    Objects.requireNonNull(maxWait, "maxWait");
    checkOpen();
    List<Served> served = null;
    CompletableFuture<WorkerLease> result;
    lockView();
    try {
      if (!waiters.isEmpty()) {
        served = serveWaitersLocked();
      }
      // Waiters that could be served were served just now; those left cannot use what is free, so
      // the newcomer may take it (the same as the failing-fast acquire does).
      Lease lease = tryAcquireLocked(requirements, stepId);
      if (lease != null) {
        result = CompletableFuture.completedFuture(lease);
      } else {
        Resolution.Blocked blocked = blockedLocked(requirements);
        boolean couldHelp = blocked.waitingCouldHelp();
        if (!couldHelp || maxWait.isZero() || maxWait.isNegative()) {
          result = CompletableFuture.failedFuture(NoEligibleWorkerException.of(blocked));
        } else {
          result = enqueueLocked(requirements, stepId, maxWait);
        }
      }
    } finally {
      unlock();
    }
    complete(served);
    return result;
  }

  private CompletableFuture<WorkerLease> enqueueLocked(
      StepRequirements requirements, String stepId, Duration maxWait) {
    Waiter w = new Waiter(requirements, stepId, new CompletableFuture<>());
    waiters.addLast(w);
    w.timeout =
        scheduler.schedule(
            () -> expireWaiter(w), Math.max(1, maxWait.toNanos()), TimeUnit.NANOSECONDS);
    w.future.whenComplete(
        (lease, err) -> {
          if (err != null) {
            withdraw(w);
          }
        });
    return w.future;
  }

  /**
   * Why the step cannot have a worker now. If the view still sees an eligible worker, the store
   * refused every claim on it: another node sharing the store took its last slot in the meantime.
   */
  private Resolution.Blocked blockedLocked(StepRequirements req) {
    Resolution.Blocked b = view.explain(req);
    Worker contended = view.select(req, strategy, false);
    if (contended == null || contended.isBuiltIn()) {
      return b;
    }
    List<PassedOver> passed = new ArrayList<>(b.passedOver());
    passed.add(
        new PassedOver(
            contended.id(),
            contended.name(),
            PassedOver.Reason.AT_CAP,
            "its free slot was taken by another node sharing the store at the same moment"));
    return new Resolution.Blocked(
        b.pool(), b.poolChoice(), Resolution.Kind.NO_ELIGIBLE_WORKER, passed, true);
  }

  /** The lease on success, or null when blocked. Call with the lock held. */
  private Lease tryAcquireLocked(StepRequirements req, String stepId) {
    for (int attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      Worker chosen = view.select(req, strategy, true);
      if (chosen == null) {
        return null;
      }
      Instant now = time.now();
      LeaseRecord claim =
          new LeaseRecord(
              leaseIdPrefix + leaseSeq.incrementAndGet(),
              chosen.id(),
              view.poolOf(req),
              nodeId,
              stepId,
              now,
              now.plus(leaseTtl));
      Optional<LeaseRecord> granted = store.tryAcquireLease(claim);
      if (granted.isPresent()) {
        Lease lease = new Lease(granted.get(), chosen);
        // Keep the lease in the view (its event, if already applied, counted it; if the store
        // announces on another thread, this counts it now and the event will find it counted).
        view.noteHeld(lease);
        return lease;
      }
      // Another node took the last slot, or the worker changed under us: apply what we missed, then
      // start again from a fresh read of the store.
      drainInbox();
      view.rebuild(store);
    }
    return null;
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
    lockView();
    try {
      return view.leasesOn(worker);
    } finally {
      unlock();
    }
  }

  /** The leases this node holds and has not released, oldest first. */
  public List<WorkerLease> heldLeases() {
    List<WorkerLease> out = new ArrayList<>();
    lockView();
    try {
      for (ResolverView.Held h : view.held()) {
        out.add((Lease) h);
      }
    } finally {
      unlock();
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
    lockView();
    try {
      return view.leaseCount(worker);
    } finally {
      unlock();
    }
  }

  /** The number of callers waiting for a worker. */
  public int waiting() {
    lockView();
    try {
      return waiters.size();
    } finally {
      unlock();
    }
  }

  /** Where this resolver's view disagrees with the store now (empty if it agrees); for tests. */
  List<String> viewInconsistencies() {
    lockView();
    try {
      return view.inconsistencies(store);
    } finally {
      unlock();
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
   * resolver's scheduler thread, never under a lock; dependent actions may call the store.
   */
  public CompletableFuture<Void> awaitIdle(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    CompletableFuture<Void> f = new CompletableFuture<>();
    lockView();
    try {
      if (view.leaseCount(worker) == 0) {
        f.complete(null);
      } else {
        idleWatchers.computeIfAbsent(worker, k -> new ArrayList<>()).add(f);
      }
    } finally {
      unlock();
    }
    return f;
  }

  // ---- store events and the lock ----

  private void lockView() {
    lock.lock();
    drainInbox();
  }

  /** Lets go of the lock, then applies any event that arrived meanwhile and found the lock busy. */
  private void unlock() {
    for (; ; ) {
      lock.unlock();
      if (inbox.isEmpty() || !lock.tryLock()) {
        return;
      }
      drainInbox();
    }
  }

  private void drainInbox() {
    StoreEvent e;
    while ((e = inbox.poll()) != null) {
      applyLocked(e);
    }
  }

  private void onStoreEvent(StoreEvent e) {
    if (lock.tryLock()) {
      try {
        drainInbox();
        applyLocked(e);
      } finally {
        unlock();
      }
    } else {
      inbox.add(e);
      // The holder may have let go between our tryLock and the add: try once more.
      if (lock.tryLock()) {
        try {
          drainInbox();
        } finally {
          unlock();
        }
      }
    }
  }

  private void applyLocked(StoreEvent e) {
    WorkerId idle = view.apply(e, store);
    if (e instanceof StoreEvent.LeaseEnded ended) {
      if (ended.expired() && view.endedLease instanceof Lease mine) {
        mine.released = true;
        LOG.warn(
            "lease {} on {} for step {} expired before it was released",
            mine.id(),
            mine.worker.id(),
            mine.stepId());
      }
    }
    if (idle != null && !idleWatchers.isEmpty()) {
      notifyIdle(idleWatchers.remove(idle));
    } else if (e instanceof StoreEvent.Resync && !idleWatchers.isEmpty()) {
      for (Iterator<Map.Entry<WorkerId, List<CompletableFuture<Void>>>> it =
              idleWatchers.entrySet().iterator();
          it.hasNext(); ) {
        Map.Entry<WorkerId, List<CompletableFuture<Void>>> en = it.next();
        if (view.leaseCount(en.getKey()) == 0) {
          it.remove();
          notifyIdle(en.getValue());
        }
      }
    }
    if (!waiters.isEmpty() && !(e instanceof StoreEvent.LeaseAcquired)) {
      schedulePump();
    }
  }

  private void notifyIdle(List<CompletableFuture<Void>> watchers) {
    if (watchers == null) {
      return;
    }
    runAsync(
        () -> {
          for (CompletableFuture<Void> f : watchers) {
            f.complete(null);
          }
        });
  }

  private void runAsync(Runnable r) {
    try {
      scheduler.execute(r);
    } catch (RuntimeException rejected) {
      // Closed: run here rather than leave someone waiting forever.
      r.run();
    }
  }

  // ---- waiters ----

  private void schedulePump() {
    if (closed || !pumpScheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      scheduler.execute(this::pump);
    } catch (RuntimeException rejected) {
      pumpScheduled.set(false);
    }
  }

  private void pump() {
    pumpScheduled.set(false);
    List<Served> served;
    lockView();
    try {
      served = serveWaitersLocked();
    } finally {
      unlock();
    }
    complete(served);
  }

  /** A lease granted to a waiter, to hand over once the lock is let go. */
  private record Served(Waiter waiter, Lease lease) {}

  /** Serves waiters in arrival order; a waiter that cannot be served now does not block others. */
  private List<Served> serveWaitersLocked() {
    List<Served> served = null;
    Iterator<Waiter> it = waiters.iterator();
    while (it.hasNext()) {
      Waiter w = it.next();
      if (w.future.isDone()) {
        it.remove();
        continue;
      }
      Lease lease = tryAcquireLocked(w.requirements, w.stepId);
      if (lease != null) {
        it.remove();
        if (served == null) {
          served = new ArrayList<>();
        }
        served.add(new Served(w, lease));
      }
    }
    return served;
  }

  /** Hands leases to their waiters; a waiter that gave up meanwhile has its lease released. */
  private static void complete(List<Served> served) {
    if (served == null) {
      return;
    }
    for (Served s : served) {
      ScheduledFuture<?> t = s.waiter.timeout;
      if (t != null) {
        t.cancel(false);
      }
      if (!s.waiter.future.complete(s.lease)) {
        s.lease.close();
      }
    }
  }

  private void withdraw(Waiter w) {
    lockView();
    try {
      waiters.remove(w);
    } finally {
      unlock();
    }
    ScheduledFuture<?> t = w.timeout;
    if (t != null) {
      t.cancel(false);
    }
  }

  private void expireWaiter(Waiter w) {
    Resolution.Blocked b;
    lockView();
    try {
      if (!waiters.remove(w)) {
        return;
      }
      b = blockedLocked(w.requirements);
    } finally {
      unlock();
    }
    w.future.completeExceptionally(NoEligibleWorkerException.of(b));
  }

  // ---- lease maintenance ----

  private void maintain() {
    try {
      Instant now = time.now();
      store.renewLeases(nodeId, now.plus(leaseTtl));
      List<LeaseRecord> expired = store.expireLeases(now);
      if (!expired.isEmpty()) {
        LOG.warn(
            "{} lease(s) expired because their holder stopped renewing them: {}",
            expired.size(),
            expired);
      }
    } catch (RuntimeException e) {
      LOG.warn("lease maintenance failed; will retry", e);
    }
  }

  /**
   * Runs lease maintenance now: renews this node's leases to expire one TTL from now, then ends
   * every lease (any node's) past its expiry. The resolver runs this every third of the TTL; hosts
   * with a manual clock call it in tests.
   */
  public void maintainNow() {
    maintain();
  }

  private void checkOpen() {
    if (closed) {
      throw new ClosedException("WorkerResolver " + nodeId, "cannot acquire a lease");
    }
  }

  /**
   * Stops the timer thread, fails waiters and {@link #awaitIdle} stages. Held leases stay in the
   * store until released; they are no longer renewed by this node, so they expire one TTL after the
   * last renewal.
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
    List<Waiter> failed;
    List<CompletableFuture<Void>> watchers = new ArrayList<>();
    lockView();
    try {
      failed = new ArrayList<>(waiters);
      waiters.clear();
      idleWatchers.values().forEach(watchers::addAll);
      idleWatchers.clear();
    } finally {
      unlock();
    }
    for (Waiter w : failed) {
      w.future.completeExceptionally(
          new ClosedException("WorkerResolver " + nodeId, "stopped waiting for a worker"));
    }
    for (CompletableFuture<Void> f : watchers) {
      f.completeExceptionally(
          new ClosedException("WorkerResolver " + nodeId, "closed before the worker became idle"));
    }
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
  }

  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED = MethodHandles.lookup().findVarHandle(Lease.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final class Lease implements WorkerLease, ResolverView.Held {
    private final LeaseRecord record;
    private final Worker worker;

    /** Set once, by close() or by the holder noticing the lease expired. */
    volatile boolean released;

    /** The view's state of the worker; read and written under the resolver's lock only. */
    private ResolverView.WorkerState viewState;

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
    public LeaseRecord record() {
      return record;
    }

    @Override
    public ResolverView.WorkerState viewState() {
      return viewState;
    }

    @Override
    public void viewState(ResolverView.WorkerState s) {
      viewState = s;
    }

    @Override
    public boolean isReleased() {
      return released;
    }

    @Override
    public void close() {
      if (RELEASED.compareAndSet(this, false, true)) {
        try {
          if (!store.releaseLease(record.leaseId())) {
            LOG.warn(
                "lease {} on {} had already expired when released", record.leaseId(), worker.id());
          }
        } catch (RuntimeException e) {
          LOG.warn(
              "could not release lease {}; it will expire after {}", record.leaseId(), leaseTtl, e);
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
    volatile ScheduledFuture<?> timeout;

    Waiter(StepRequirements requirements, String stepId, CompletableFuture<WorkerLease> future) {
      this.requirements = requirements;
      this.stepId = stepId;
      this.future = future;
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
