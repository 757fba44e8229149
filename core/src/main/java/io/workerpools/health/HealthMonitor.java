package io.workerpools.health;

import io.workerpools.ClosedException;
import io.workerpools.ConfigurationException;
import io.workerpools.LifecycleException;
import io.workerpools.WorkerPoolsException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.StoreEvent;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.TransportRegistry;
import io.workerpools.transport.WorkerTransport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
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
  private static final String NAME = "the health monitor";

  // How it is made (each mechanism in its own class; the roster's monitor is the one lock):
  private final InfrastructureStore store;
  private final TimeSource time;
  private final ScheduledThreadPoolExecutor ownedExecutor;
  private final CopyOnWriteArrayList<HealthListener> listeners = new CopyOnWriteArrayList<>();
  private final DueQueue queue = new DueQueue();
  private final Roster roster;
  private final OrderedRecorder recorder;
  private final CheckRunner runner;
  // Guarded by roster:
  private boolean started;
  private AutoCloseable subscription;

  private HealthMonitor(Builder b) {
    this.store = b.store;
    this.time = b.time;
    RandomGenerator random = b.random != null ? b.random : new SplittableRandom();
    HealthScheduler scheduler;
    if (b.scheduler != null) {
      scheduler = b.scheduler;
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
      scheduler = HealthScheduler.of(ex);
    }
    SafePolicies policies = new SafePolicies(b.policies);
    this.roster = new Roster(store, time, random, policies, queue);
    this.recorder = new OrderedRecorder(store, scheduler, listeners, roster);
    this.runner =
        new CheckRunner(
            roster,
            queue,
            b.transports,
            policies,
            scheduler,
            time,
            random,
            recorder,
            b.maxInFlight,
            b.probeContainerEngines);
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
   * @throws ClosedException if the monitor is closed
   * @throws LifecycleException if it is already started
   */
  public HealthMonitor start() {
    synchronized (roster) {
      if (roster.isClosed()) {
        throw new ClosedException(NAME, "build a new one");
      }
      if (started) {
        throw new LifecycleException(NAME, "is already started");
      }
      started = true;
    }
    AutoCloseable sub = store.subscribe(this::onStoreEvent);
    synchronized (roster) {
      subscription = sub;
    }
    roster.reconcile();
    runner.requestPump();
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
   * @throws ClosedException if the monitor is closed
   * @throws LifecycleException if it is not started
   */
  public CompletionStage<HealthReport> check(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    CompletableFuture<HealthReport> f;
    synchronized (roster) {
      requireStarted();
      WorkerState st = roster.get(worker);
      if (st == null) {
        throw new ConfigurationException(
            "worker " + worker,
            "is not known to the health monitor; add it to the store first (known workers: "
                + roster.size()
                + ")");
      }
      if (st.attempt != null && !st.recheck) {
        return st.attempt.result.minimalCompletionStage(); // join the check in flight
      }
      f = st.resultOfNextCheck();
      queue.now(st);
    }
    runner.requestPump();
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
    synchronized (roster) {
      requireStarted();
      List<WorkerState> sorted = new ArrayList<>(roster.all());
      sorted.sort((a, b) -> a.id.compareTo(b.id));
      for (WorkerState st : sorted) {
        if (st.worker.enabled() && which.test(st.worker)) {
          if (st.attempt != null && !st.recheck) {
            futures.put(st.id, st.attempt.result); // join the check in flight
          } else {
            futures.put(st.id, st.resultOfNextCheck());
            queue.now(st);
          }
        }
      }
    }
    runner.requestPump();
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
   * never blocks. (A dispatcher's listener that calls it: {@code
   * DispatchListener.recheckLostWorkers(monitor)}.)
   */
  public void workerLost(WorkerId worker) {
    Objects.requireNonNull(worker, "worker");
    synchronized (roster) {
      WorkerState st = roster.get(worker);
      if (st == null || roster.isClosed()) {
        return;
      }
      queue.now(st);
    }
    runner.requestPump();
  }

  // ---------------------------------------------------------------- reading

  /** What the monitor knows of one worker now, or empty if it does not know the worker. */
  public Optional<WorkerHealth> status(WorkerId worker) {
    synchronized (roster) {
      WorkerState st = roster.get(worker);
      return st == null ? Optional.empty() : Optional.of(st.snapshot());
    }
  }

  /**
   * Per pool: how many workers are in each status, and since when. Costs one pass over the workers;
   * meant for dashboards, not for a hot path.
   */
  public HealthSummary summary() {
    Summaries s = new Summaries(store.infrastructure());
    synchronized (roster) {
      s.count(roster.all());
    }
    return s.at(time.now());
  }

  /** Counters for monitoring the monitor (and for the B7 benchmark). */
  public Stats stats() {
    synchronized (roster) {
      return runner.stats();
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
    List<CompletableFuture<HealthReport>> pending;
    AutoCloseable sub;
    synchronized (roster) {
      if (roster.isClosed()) {
        return;
      }
      runner.stop();
      pending = roster.close();
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
    recorder.deliver(); // fails the stages of results decided but not yet recorded
  }

  private void onStoreEvent(StoreEvent e) {
    if (roster.onStoreEvent(e)) {
      runner.requestPump();
    }
  }

  /** Under the roster's lock. */
  private void requireStarted() {
    if (roster.isClosed()) {
      throw new ClosedException(NAME, "build a new one");
    }
    if (!started) {
      throw new LifecycleException(NAME, "is not started; call start()");
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
    private boolean probeContainerEngines;

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

    /**
     * Whether each check of a worker that answers also probes its container engine (one more short
     * script through its transport), so that its report's details say whether it can run execution
     * containers ({@link io.workerpools.container.ContainerEngine}) and its orphaned containers are
     * removed. Off by default; without it no worker takes a container step (the built-in worker
     * still does).
     */
    public Builder probeContainerEngines(boolean probe) {
      this.probeContainerEngines = probe;
      return this;
    }

    public HealthMonitor build() {
      return new HealthMonitor(this);
    }
  }
}
