package io.workerpools.health;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.health.internal.Transitions;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.StoreEvent;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.TransportRegistry;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every enabled worker of an {@link InfrastructureStore} through its transport, on the
 * schedule its {@link HealthPolicy} sets and on demand, and records each result with {@link
 * InfrastructureStore#recordHealth}, where the resolver sees it at once.
 *
 * <p>How it runs:
 *
 * <ul>
 *   <li>No thread per worker: a queue of due times and one scheduler (a single daemon thread unless
 *       the host passes its own) start checks; the transports' own threads finish them.
 *   <li>At most {@link Builder#maxInFlight} checks are in flight at once (default {@value
 *       #DEFAULT_MAX_IN_FLIGHT}: checks wait on I/O, not CPU, so a 2-core host handles 64 easily);
 *       the rest wait in order. One check per worker at a time.
 *   <li>A check that does not answer within the policy's timeout is a failure and frees its slot at
 *       once, whatever the transport does later.
 *   <li>Workers never checked (which get no work until they are) are checked at once, as is a newly
 *       added worker, a re-enabled one, one whose endpoint changed, and one the dispatcher reports
 *       {@linkplain #workerLost lost}. The check after that first one falls at a random point of
 *       the interval, so workers checked together at start do not stay together. Workers that
 *       already have a fresh report in the store when the monitor starts get their first check at a
 *       random point of what is left of their interval.
 *   <li>From then on each next check is placed {@code interval} after the previous one ended, moved
 *       at random by up to {@code jitter × interval} either way.
 *   <li>A worker removed while its check runs is forgotten: the result is dropped, nothing
 *       recorded.
 * </ul>
 *
 * <p>Thread-safe. {@link #close()} stops checking, unsubscribes from the store and stops the
 * scheduler thread if the monitor made it.
 *
 * <pre>{@code
 * try (HealthMonitor monitor =
 *     HealthMonitor.builder(store, List.of(localTransport, sshTransport))
 *         .policy(HealthPolicy.builder().interval(Duration.ofMinutes(1)).build())
 *         .build()
 *         .start()) {
 *   monitor.addListener(new HealthListener() {
 *     public void onStatusChanged(HealthStatusChange c) { alerts.offer(c); }
 *   });
 *   // dispatcher: .listener(DispatchListener.recheckLostWorkers(monitor))
 * }
 * }</pre>
 */
public final class HealthMonitor implements AutoCloseable {
  /** The default limit on checks in flight. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 64;

  private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);

  private final InfrastructureStore store;
  private final TransportRegistry transports;
  private final HealthPolicyResolver policies;
  private final TimeSource time;
  private final HealthScheduler scheduler;
  private final ScheduledThreadPoolExecutor ownedExecutor;
  private final int maxInFlight;
  private final RandomGenerator random;
  private final CopyOnWriteArrayList<HealthListener> listeners = new CopyOnWriteArrayList<>();

  private final Object lock = new Object();
  // Guarded by lock:
  private final Map<WorkerId, WorkerState> states = new HashMap<>();
  private final PriorityQueue<Due> dueQueue = new PriorityQueue<>();
  private final ArrayDeque<WorkerState> ready = new ArrayDeque<>();
  private int inFlight;
  private int maxInFlightSeen;
  private long checksStarted;
  private long checksCompleted;
  private long checksTimedOut;
  private long dueSeq;
  private long wakeAt = Long.MAX_VALUE;
  private HealthScheduler.Cancellable wake;
  private boolean started;
  private boolean closed;
  private AutoCloseable subscription;

  private final AtomicBoolean pumpPending = new AtomicBoolean();
  // Store writes and listener calls, in the order decided under lock, run one at a time.
  private final ConcurrentLinkedQueue<Outgoing> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean delivering = new AtomicBoolean();
  private final AtomicBoolean deliverPending = new AtomicBoolean();

  private HealthMonitor(Builder b) {
    this.store = b.store;
    this.transports = b.transports;
    this.policies = b.policies;
    this.time = b.time;
    this.maxInFlight = b.maxInFlight;
    this.random = b.random != null ? b.random : new SplittableRandom();
    if (b.scheduler != null) {
      this.scheduler = b.scheduler;
      this.ownedExecutor = null;
    } else {
      ScheduledThreadPoolExecutor ex =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "workerpools-health");
                t.setDaemon(true);
                return t;
              });
      ex.setRemoveOnCancelPolicy(true);
      this.ownedExecutor = ex;
      this.scheduler = HealthScheduler.of(ex);
    }
  }

  /**
   * A builder for a monitor of {@code store}'s workers, reaching them through the first of {@code
   * transports} that {@linkplain WorkerTransport#supports supports} each worker's endpoint.
   */
  public static Builder builder(
      InfrastructureStore store, List<? extends WorkerTransport> transports) {
    return new Builder(store, transports);
  }

  /**
   * A builder for a monitor of {@code store}'s workers, reaching each through the transport the
   * registry gives for its endpoint (the same registry as the dispatcher's, in {@link
   * io.workerpools.WorkerPools}).
   */
  public static Builder builder(InfrastructureStore store, TransportRegistry transports) {
    return new Builder(store, transports);
  }

  /**
   * Subscribes to the store and begins checking. Call once.
   *
   * @return this monitor
   */
  public HealthMonitor start() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the health monitor is closed; build a new one");
      }
      if (started) {
        throw new IllegalStateException("the health monitor is already started");
      }
      started = true;
    }
    AutoCloseable sub = store.subscribe(this::onStoreEvent);
    synchronized (lock) {
      subscription = sub;
    }
    reconcile();
    requestPump();
    return this;
  }

  /** Adds a listener; closing the returned handle removes it. */
  public AutoCloseable addListener(HealthListener listener) {
    Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  // ---------------------------------------------------------------- on demand

  /**
   * Checks one worker now (enabled or not), within the limit on checks in flight. If a check of the
   * worker is already running, returns that check's result instead of starting another.
   *
   * @return the report recorded for this check, completed on the scheduler thread once the store
   *     holds it (chain with the {@code *Async} methods for anything slow); fails if the worker is
   *     removed before the check finishes or the monitor closes
   * @throws ConfigurationException if the monitor does not know the worker
   */
  public CompletionStage<HealthReport> check(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    CompletableFuture<HealthReport> f;
    synchronized (lock) {
      requireStarted();
      WorkerState st = states.get(worker);
      if (st == null) {
        throw new ConfigurationException(
            "worker " + worker,
            "is not known to the health monitor; add it to the store first (known workers: "
                + states.size()
                + ")");
      }
      if (st.attempt != null && !st.recheck) {
        return st.attempt.result.minimalCompletionStage(); // join the check in flight
      }
      f = resultOfNextCheck(st);
      enqueueNow(st);
    }
    requestPump();
    return f.minimalCompletionStage();
  }

  /**
   * Checks every enabled worker of a pool now.
   *
   * @return each worker's recorded report, by worker id (a worker removed meanwhile is left out)
   * @throws ConfigurationException if the pool does not exist
   */
  public CompletionStage<Map<WorkerId, HealthReport>> checkPool(PoolId pool) {
    Objects.requireNonNull(pool, "pool");
    Infrastructure infra = store.infrastructure();
    if (infra.pool(pool).isEmpty()) {
      throw new ConfigurationException(
          "pool " + pool, "does not exist; known pools: " + infra.pools().keySet());
    }
    return checkMatching(w -> w.pools().contains(pool));
  }

  /**
   * Checks every enabled worker now.
   *
   * @return each worker's recorded report, by worker id (a worker removed meanwhile is left out)
   */
  public CompletionStage<Map<WorkerId, HealthReport>> checkAll() {
    return checkMatching(w -> true);
  }

  private CompletionStage<Map<WorkerId, HealthReport>> checkMatching(Predicate<Worker> which) {
    Map<WorkerId, CompletableFuture<HealthReport>> futures = new LinkedHashMap<>();
    synchronized (lock) {
      requireStarted();
      List<WorkerState> sorted = new ArrayList<>(states.values());
      sorted.sort((a, b) -> a.id.compareTo(b.id));
      for (WorkerState st : sorted) {
        if (st.worker.enabled() && which.test(st.worker)) {
          if (st.attempt != null && !st.recheck) {
            futures.put(st.id, st.attempt.result); // join the check in flight
          } else {
            futures.put(st.id, resultOfNextCheck(st));
            enqueueNow(st);
          }
        }
      }
    }
    requestPump();
    return CompletableFuture.allOf(
            futures.values().stream()
                .map(f -> f.handle((r, ex) -> r))
                .toArray(CompletableFuture<?>[]::new))
        .thenApply(
            ignored -> {
              Map<WorkerId, HealthReport> out = new LinkedHashMap<>();
              futures.forEach(
                  (id, f) -> {
                    if (!f.isCompletedExceptionally()) {
                      out.put(id, f.join());
                    }
                  });
              return out;
            })
        .minimalCompletionStage();
  }

  /**
   * Tells the monitor a step lost its worker (a transport failure while a script ran): the worker
   * is checked again at once, ahead of scheduled checks (right after the current one, if a check is
   * running). Does nothing for a worker the monitor does not know. Safe to call from any thread;
   * never blocks.
   */
  public void workerLost(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    synchronized (lock) {
      WorkerState st = states.get(worker);
      if (st == null || closed) {
        return;
      }
      enqueueNow(st);
    }
    requestPump();
  }

  // ---------------------------------------------------------------- reading

  /** What the monitor knows of one worker now, or empty if it does not know the worker. */
  public Optional<WorkerHealth> status(WorkerId worker) {
    synchronized (lock) {
      WorkerState st = states.get(worker);
      return st == null ? Optional.empty() : Optional.of(st.snapshot());
    }
  }

  /**
   * Per pool: how many workers are in each status, and since when. Costs one pass over the workers;
   * meant for dashboards, not for a hot path.
   */
  public HealthSummary summary() {
    Infrastructure infra = store.infrastructure();
    Map<PoolId, EnumMap<HealthStatus, Integer>> counts = new LinkedHashMap<>();
    Map<PoolId, EnumMap<HealthStatus, Instant>> since = new HashMap<>();
    Map<PoolId, int[]> extra = new HashMap<>();
    for (PoolId p : infra.pools().keySet()) {
      counts.put(p, new EnumMap<>(HealthStatus.class));
      since.put(p, new EnumMap<>(HealthStatus.class));
      extra.put(p, new int[2]);
    }
    synchronized (lock) {
      for (WorkerState st : states.values()) {
        for (PoolId p : st.worker.pools()) {
          EnumMap<HealthStatus, Integer> c = counts.get(p);
          if (c == null) {
            continue; // pool added after we read the configuration
          }
          c.merge(st.status, 1, Integer::sum);
          since.get(p).merge(st.status, st.since, (a, b) -> a.isBefore(b) ? a : b);
          int[] e = extra.get(p);
          if (!st.worker.enabled()) {
            e[0]++;
          }
          if (st.status == HealthStatus.UNAVAILABLE && st.offlineAllowed) {
            e[1]++;
          }
        }
      }
    }
    Map<PoolId, HealthSummary.PoolHealth> pools = new LinkedHashMap<>();
    counts.forEach(
        (p, c) ->
            pools.put(
                p,
                new HealthSummary.PoolHealth(
                    p, c, since.get(p), extra.get(p)[0], extra.get(p)[1])));
    return new HealthSummary(time.now(), pools);
  }

  /** Counters for monitoring the monitor (and for the B7 benchmark). */
  public Stats stats() {
    synchronized (lock) {
      return new Stats(
          inFlight, maxInFlightSeen, ready.size(), checksStarted, checksCompleted, checksTimedOut);
    }
  }

  /**
   * Counters since the monitor started.
   *
   * @param inFlight checks running now
   * @param maxInFlight the most checks that were ever running at once
   * @param queued checks due and waiting for a free slot
   * @param started checks started
   * @param completed checks finished (answered, failed or timed out)
   * @param timedOut checks that did not answer within their timeout
   */
  public record Stats(
      int inFlight, int maxInFlight, int queued, long started, long completed, long timedOut) {}

  // ---------------------------------------------------------------- lifecycle

  /**
   * Stops checking: unsubscribes from the store, fails the results of pending on-demand checks and
   * stops the scheduler thread if the monitor made it. Checks in flight are abandoned; nothing more
   * is recorded. Idempotent.
   */
  @Override
  public void close() {
    List<CompletableFuture<HealthReport>> pending = new ArrayList<>();
    AutoCloseable sub;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (wake != null) {
        wake.cancel();
        wake = null;
      }
      for (WorkerState st : states.values()) {
        st.collectPending(pending);
      }
      states.clear();
      ready.clear();
      dueQueue.clear();
      sub = subscription;
      subscription = null;
    }
    if (sub != null) {
      try {
        sub.close();
      } catch (Exception e) {
        LOG.warn("could not unsubscribe the health monitor from the store", e);
      }
    }
    WorkerPoolsException closedEx =
        new WorkerPoolsException("the health monitor was closed before the check finished");
    pending.forEach(f -> f.completeExceptionally(closedEx));
    if (ownedExecutor != null) {
      ownedExecutor.shutdownNow();
    }
    deliver(); // fails the stages of results decided but not yet recorded
  }

  // ---------------------------------------------------------------- store events

  private void onStoreEvent(StoreEvent e) {
    // Called under the store's lock (in-memory store): only touch our own state, start nothing.
    if (e instanceof StoreEvent.WorkerPut put) {
      boolean pump;
      synchronized (lock) {
        if (closed) {
          return;
        }
        pump = upsert(put.worker(), null);
      }
      if (pump) {
        requestPump();
      }
    } else if (e instanceof StoreEvent.WorkerRemoved removed) {
      forget(removed.worker().id());
    } else if (e instanceof StoreEvent.Resync) {
      reconcile();
      requestPump();
    }
  }

  /** Brings our workers in line with the store: adds, updates, forgets. */
  private void reconcile() {
    Infrastructure infra = store.infrastructure();
    Map<WorkerId, HealthReport> health = store.health();
    List<WorkerId> gone = new ArrayList<>();
    synchronized (lock) {
      if (closed) {
        return;
      }
      for (Worker w : infra.workers().values()) {
        upsert(w, health.get(w.id()));
      }
      for (WorkerId id : states.keySet()) {
        if (!infra.workers().containsKey(id)) {
          gone.add(id);
        }
      }
    }
    gone.forEach(this::forget);
  }

  /** Adds or updates a worker. Under lock. Returns whether a check was queued. */
  private boolean upsert(Worker w, HealthReport known) {
    WorkerState st = states.get(w.id());
    if (st == null) {
      st = new WorkerState(w, time.now());
      states.put(w.id(), st);
      if (!w.enabled()) {
        return false;
      }
      if (known != null && known.status() != HealthStatus.UNKNOWN) {
        // Seen before (another run of this monitor, or another node): adopt it and spread the first
        // check over what is left of one interval, so a restart does not check everyone at once.
        st.status = known.status();
        st.since = known.checkedAt();
        st.last = known;
        long interval = policyFor(w).interval().toNanos();
        long age = Math.max(0, Duration.between(known.checkedAt(), time.now()).toNanos());
        if (age < interval) {
          st.phased = true;
          scheduleAt(st, time.nanoTime() + (long) (random.nextDouble() * (interval - age)));
          return false;
        }
      }
      enqueueNow(st);
      return true;
    }
    Worker old = st.worker;
    st.worker = w;
    if (w.enabled() && (!old.enabled() || !old.endpoint().equals(w.endpoint()))) {
      enqueueNow(st);
      return true;
    }
    return false;
  }

  private void forget(WorkerId id) {
    List<CompletableFuture<HealthReport>> pending = new ArrayList<>();
    synchronized (lock) {
      WorkerState st = states.remove(id);
      if (st == null) {
        return;
      }
      st.dueGen++;
      if (st.queued) {
        ready.remove(st);
        st.queued = false;
      }
      dueQueue.removeIf(d -> d.state == st); // keep nothing of a removed worker
      st.collectPending(pending);
    }
    WorkerPoolsException ex =
        new WorkerPoolsException(
            "worker '"
                + id
                + "' was removed before its health check finished; nothing was recorded");
    pending.forEach(f -> f.completeExceptionally(ex));
  }

  // ---------------------------------------------------------------- scheduling

  private void requireStarted() {
    if (!started || closed) {
      throw new IllegalStateException(
          closed
              ? "the health monitor is closed"
              : "the health monitor is not started; call start()");
    }
  }

  /** The future of the worker's next check. Under lock. */
  private static CompletableFuture<HealthReport> resultOfNextCheck(WorkerState st) {
    if (st.next == null) {
      st.next = new CompletableFuture<>();
    }
    return st.next;
  }

  /** Queues a check ahead of scheduled ones, or right after the running one. Under lock. */
  private void enqueueNow(WorkerState st) {
    if (st.attempt != null) {
      st.recheck = true;
    } else if (!st.queued) {
      st.queued = true;
      st.dueGen++;
      ready.addFirst(st);
    }
  }

  /** Schedules the worker's next check at a monotonic time. Under lock. */
  private void scheduleAt(WorkerState st, long atNanos) {
    st.dueGen++;
    dueQueue.add(new Due(atNanos, dueSeq++, st, st.dueGen));
  }

  private void requestPump() {
    if (pumpPending.compareAndSet(false, true)) {
      try {
        scheduler.schedule(() -> pump(false), Duration.ZERO);
      } catch (RuntimeException e) {
        pumpPending.set(false);
        synchronized (lock) {
          if (closed) {
            return;
          }
        }
        throw e;
      }
    }
  }

  /** Moves due checks to the ready queue, starts what the limit allows, sets the next wake-up. */
  private void pump(boolean isWake) {
    if (!isWake) {
      pumpPending.set(false);
    }
    List<Attempt> toStart = new ArrayList<>();
    synchronized (lock) {
      if (closed) {
        return;
      }
      long now = time.nanoTime();
      if (isWake || wakeAt <= now) {
        // Also when woken early (a host's clock and executor may disagree): re-armed below.
        wakeAt = Long.MAX_VALUE;
        wake = null;
      }
      while (!dueQueue.isEmpty() && dueQueue.peek().atNanos <= now) {
        Due d = dueQueue.poll();
        WorkerState st = d.state;
        if (d.gen != st.dueGen
            || states.get(st.id) != st
            || !st.worker.enabled()
            || st.attempt != null
            || st.queued) {
          continue;
        }
        st.queued = true;
        ready.addLast(st);
      }
      while (inFlight < maxInFlight && !ready.isEmpty()) {
        WorkerState st = ready.pollFirst();
        st.queued = false;
        if (states.get(st.id) != st) {
          continue;
        }
        CompletableFuture<HealthReport> result =
            st.next != null ? st.next : new CompletableFuture<>();
        st.next = null;
        st.dueGen++;
        Attempt a = new Attempt(st, st.worker, ++checksStarted, result);
        st.attempt = a;
        inFlight++;
        maxInFlightSeen = Math.max(maxInFlightSeen, inFlight);
        toStart.add(a);
      }
      while (!dueQueue.isEmpty() && dueQueue.peek().gen != dueQueue.peek().state.dueGen) {
        dueQueue.poll(); // drop stale heads so we do not wake up for nothing
      }
      if (!dueQueue.isEmpty()) {
        long head = dueQueue.peek().atNanos;
        if (head < wakeAt) {
          if (wake != null) {
            wake.cancel();
          }
          wakeAt = head;
          wake = scheduler.schedule(() -> pump(true), Duration.ofNanos(Math.max(0, head - now)));
        }
      }
    }
    for (Attempt a : toStart) {
      try {
        begin(a);
      } catch (RuntimeException e) {
        // A bug in a transport or policy resolver must not leak the slot.
        LOG.warn("health check of worker {} could not start", a.worker.id(), e);
        finish(a, null, "the check could not start: " + e, false);
      }
    }
  }

  private HealthPolicy policyFor(Worker w) {
    try {
      HealthPolicy p = policies.policyFor(w);
      if (p != null) {
        return p;
      }
      LOG.warn("health policy resolver returned null for worker {}; using the defaults", w.id());
    } catch (RuntimeException e) {
      LOG.warn("health policy resolver failed for worker {}; using the defaults", w.id(), e);
    }
    return HealthPolicy.defaults();
  }

  /** Starts one check through the transport. Never under lock. */
  private void begin(Attempt a) {
    Worker w = a.worker;
    HealthPolicy policy = policyFor(w);
    a.policy = policy;
    a.startNanos = time.nanoTime();
    try {
      a.timeout =
          scheduler.schedule(
              () -> finish(a, null, "no answer within " + policy.timeout(), true),
              policy.timeout());
    } catch (RuntimeException e) {
      // The scheduler is shut down (the monitor is closing): drop the check.
      finish(a, null, "could not schedule the check's timeout: " + e, false);
      return;
    }
    WorkerTransport t = transports.forEndpoint(w.endpoint()).orElse(null);
    if (t == null) {
      finish(
          a,
          null,
          "no transport supports endpoint kind '"
              + w.endpoint().kind()
              + "'; give the health monitor a transport for it",
          false);
      return;
    }
    CompletionStage<HealthReport> stage;
    try {
      stage = t.checkHealth(w, policy.request("health-" + w.id() + "-" + a.seq));
    } catch (RuntimeException e) {
      finish(a, null, "the transport refused the check: " + e, false);
      return;
    }
    if (stage == null) {
      finish(a, null, "the transport returned no result", false);
      return;
    }
    stage.whenComplete(
        (r, ex) -> {
          if (ex != null) {
            Throwable cause =
                ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
            finish(a, null, "the check failed: " + cause, false);
          } else if (r == null) {
            finish(a, null, "the transport returned no report", false);
          } else {
            finish(a, r, null, false);
          }
        });
  }

  /** The first of answer, failure and timeout ends the check; the others are ignored. */
  private void finish(Attempt a, HealthReport report, String failure, boolean timedOut) {
    if (!a.done.compareAndSet(false, true)) {
      return;
    }
    HealthScheduler.Cancellable timeout = a.timeout;
    if (timeout != null && !timedOut) {
      timeout.cancel();
    }
    WorkerState st = a.state;
    HealthReport recorded = null;
    HealthStatusChange change = null;
    boolean discarded;
    synchronized (lock) {
      inFlight--;
      checksCompleted++;
      if (timedOut) {
        checksTimedOut++;
      }
      if (st.attempt == a) {
        st.attempt = null;
      }
      discarded = closed || states.get(st.id) != st;
      if (!discarded) {
        HealthPolicy policy = a.policy != null ? a.policy : policyFor(a.worker);
        Instant now = time.now();
        Duration latency = Duration.ofNanos(time.nanoTime() - a.startNanos);
        HealthStatus answer =
            report != null && Transitions.isAnswer(report.status()) ? report.status() : null;
        String reason;
        if (answer != null) {
          reason = report.message();
        } else if (failure != null) {
          reason = failure;
        } else {
          reason = report.status() + (report.message().isEmpty() ? "" : ": " + report.message());
        }
        Transitions.State before = new Transitions.State(st.status, st.failures);
        Transitions.State after =
            Transitions.next(before, answer, policy.failuresBeforeUnavailable());
        st.failures = after.consecutiveFailures();
        String message = reason;
        if (answer == null && after.status() == before.status()) {
          message =
              "check failed ("
                  + after.consecutiveFailures()
                  + " of "
                  + policy.failuresBeforeUnavailable()
                  + " before UNAVAILABLE): "
                  + reason;
        }
        if (after.status() != before.status()) {
          st.status = after.status();
          st.since = now;
          st.offlineAllowed = policy.mayBeOffline() && after.status() == HealthStatus.UNAVAILABLE;
          change =
              new HealthStatusChange(
                  st.id, before.status(), after.status(), reason, now, st.offlineAllowed);
        }
        Map<String, String> details = new HashMap<>();
        if (report != null) {
          details.putAll(report.details());
        }
        details.put("statusSince", st.since.toString());
        if (st.failures > 0) {
          details.put("consecutiveFailures", Integer.toString(st.failures));
        }
        recorded = new HealthReport(st.status, now, latency, message, details);
        st.last = recorded;
        if (st.recheck) {
          st.recheck = false;
          st.queued = true;
          st.dueGen++;
          ready.addFirst(st);
        } else if (st.worker.enabled()) {
          long interval = policy.interval().toNanos();
          long delay;
          if (!st.phased) {
            // The first check came at once (new worker, cold start): place the next one at a
            // random point of the interval, so workers added together do not stay in lockstep.
            st.phased = true;
            delay = (long) (interval * (1 - random.nextDouble()));
          } else {
            delay = (long) (interval * (1 + policy.jitter() * (2 * random.nextDouble() - 1)));
          }
          scheduleAt(st, time.nanoTime() + Math.max(1, delay));
        }
        outbox.add(new Outgoing(st.id, recorded, change, a.result));
      }
    }
    if (discarded) {
      a.result.completeExceptionally(
          new WorkerPoolsException(
              "worker '"
                  + st.id
                  + "' was removed (or the monitor closed) before its health check finished;"
                  + " nothing was recorded"));
    } else {
      requestDeliver();
    }
    requestPump();
  }

  /** A decided result waiting to be recorded and published, in decision order. */
  private record Outgoing(
      WorkerId id,
      HealthReport report,
      HealthStatusChange change,
      CompletableFuture<HealthReport> result) {}

  /**
   * Store writes and listener calls run on the scheduler, not on the thread that finished the
   * check: that is often a transport's I/O thread, which must not wait on a database or a listener.
   */
  private void requestDeliver() {
    if (deliverPending.compareAndSet(false, true)) {
      try {
        scheduler.schedule(
            () -> {
              deliverPending.set(false);
              deliver();
            },
            Duration.ZERO);
      } catch (RuntimeException e) {
        deliverPending.set(false); // closing: close() flushes what is left
        deliver();
      }
    }
  }

  /** Records and tells listeners. Runs from {@link #deliver}, one at a time. */
  private void publish(WorkerId id, HealthReport report, HealthStatusChange change) {
    try {
      store.recordHealth(id, report);
    } catch (RuntimeException e) {
      LOG.warn("could not record the health of worker {} in the store", id, e);
    }
    if (change != null) {
      if (change.current().isEligible() && change.previous() == HealthStatus.UNKNOWN) {
        LOG.debug("worker {} is now {} (first check)", id, change.current());
      } else if (change.current().isEligible()) {
        LOG.info("worker {} is now {} (was {})", id, change.current(), change.previous());
      } else if (change.offlineAllowed()) {
        LOG.info("worker {} is offline, which its policy allows: {}", id, change.reason());
      } else {
        LOG.warn(
            "worker {} is now {} (was {}): {}",
            id,
            change.current(),
            change.previous(),
            change.reason());
      }
      for (HealthListener l : listeners) {
        try {
          l.onStatusChanged(change);
        } catch (RuntimeException e) {
          LOG.warn("health listener {} failed on {}", l, change, e);
        }
      }
    }
    for (HealthListener l : listeners) {
      try {
        l.onCheckCompleted(id, report);
      } catch (RuntimeException e) {
        LOG.warn("health listener {} failed on a check of {}", l, id, e);
      }
    }
  }

  /**
   * Records and publishes queued results in order, on one thread at a time, then completes their
   * on-demand stages (so a caller sees the store updated). After close, fails them instead.
   */
  private void deliver() {
    while (!outbox.isEmpty()) {
      if (!delivering.compareAndSet(false, true)) {
        return; // the thread delivering now will also run ours
      }
      try {
        Outgoing o;
        while ((o = outbox.poll()) != null) {
          boolean isClosed;
          synchronized (lock) {
            isClosed = closed;
          }
          if (isClosed) {
            o.result.completeExceptionally(
                new WorkerPoolsException(
                    "the health monitor was closed before the check of worker '"
                        + o.id
                        + "' was recorded"));
          } else {
            publish(o.id, o.report, o.change);
            o.result.complete(o.report);
          }
        }
      } finally {
        delivering.set(false);
      }
    }
  }

  // ---------------------------------------------------------------- state

  private static final class WorkerState {
    final WorkerId id;
    Worker worker;
    HealthStatus status = HealthStatus.UNKNOWN;
    Instant since;
    int failures;
    boolean offlineAllowed;
    HealthReport last;
    long dueGen;
    boolean queued;
    boolean recheck;
    boolean phased;
    Attempt attempt;
    CompletableFuture<HealthReport> next;

    WorkerState(Worker worker, Instant seen) {
      this.id = worker.id();
      this.worker = worker;
      this.since = seen;
    }

    WorkerHealth snapshot() {
      return new WorkerHealth(
          id,
          status,
          since,
          failures,
          last == null ? Optional.empty() : Optional.of(last.checkedAt()),
          last == null ? "" : last.message());
    }

    void collectPending(List<CompletableFuture<HealthReport>> out) {
      if (next != null) {
        out.add(next);
        next = null;
      }
      if (attempt != null) {
        out.add(attempt.result);
      }
    }
  }

  private static final class Attempt {
    final WorkerState state;
    final Worker worker;
    final long seq;
    final CompletableFuture<HealthReport> result;
    final AtomicBoolean done = new AtomicBoolean();
    volatile HealthPolicy policy;
    volatile long startNanos;
    volatile HealthScheduler.Cancellable timeout;

    Attempt(WorkerState state, Worker worker, long seq, CompletableFuture<HealthReport> result) {
      this.state = state;
      this.worker = worker;
      this.seq = seq;
      this.result = result;
    }
  }

  private record Due(long atNanos, long seq, WorkerState state, long gen)
      implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      int c = Long.compare(atNanos, o.atNanos);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  // ---------------------------------------------------------------- builder

  /**
   * Builds a {@link HealthMonitor}. Defaults: {@link HealthPolicy#defaults()} for every worker, the
   * system clock, a scheduler thread of its own, {@value #DEFAULT_MAX_IN_FLIGHT} checks in flight.
   */
  public static final class Builder {
    private final InfrastructureStore store;
    private final TransportRegistry transports;
    private HealthPolicyResolver policies = HealthPolicyResolver.fixed(HealthPolicy.defaults());
    private TimeSource time = TimeSource.system();
    private HealthScheduler scheduler;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private RandomGenerator random;

    private Builder(InfrastructureStore store, List<? extends WorkerTransport> transports) {
      this.store = Objects.requireNonNull(store, "store");
      this.transports = TransportRegistry.of(transports);
    }

    private Builder(InfrastructureStore store, TransportRegistry transports) {
      this.store = Objects.requireNonNull(store, "store");
      this.transports = Objects.requireNonNull(transports, "transports");
    }

    /** The same policy for every worker. */
    public Builder policy(HealthPolicy policy) {
      this.policies = HealthPolicyResolver.fixed(policy);
      return this;
    }

    /**
     * A policy per worker (for example per pool: {@link HealthPolicyResolver#perPoolAndWorker}).
     */
    public Builder policies(HealthPolicyResolver resolver) {
      this.policies = Objects.requireNonNull(resolver, "resolver");
      return this;
    }

    public Builder timeSource(TimeSource time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    /**
     * Where timed work runs (the caller owns it). Without one, the monitor starts one daemon thread
     * and stops it on {@link HealthMonitor#close()}.
     */
    public Builder scheduler(HealthScheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The most checks in flight at once (1 to 100,000). */
    public Builder maxInFlight(int max) {
      if (max < 1 || max > 100_000) {
        throw new ConfigurationException(
            "healthMonitor.maxInFlight", "must be between 1 and 100000 but was " + max);
      }
      this.maxInFlight = max;
      return this;
    }

    /** The source of jitter (tests pass a seeded one). Used under the monitor's lock only. */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    public HealthMonitor build() {
      return new HealthMonitor(this);
    }
  }
}
