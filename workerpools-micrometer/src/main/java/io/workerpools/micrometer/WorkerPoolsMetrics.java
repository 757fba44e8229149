package io.workerpools.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPools;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Micrometer meters for one {@link WorkerPools} facade: a {@link MeterBinder}, bound once to the
 * host's registry (Spring Boot binds every {@code MeterBinder} bean itself).
 *
 * <pre>{@code
 * WorkerPoolsMetrics metrics = WorkerPoolsMetrics.builder(pools).build();
 * metrics.bindTo(registry);   // starts listening; close() stops and removes the meters
 * }</pre>
 *
 * <table>
 *   <caption>The meters (names as Micrometer writes them; Prometheus shows {@code
 *   workerpools_lease_wait_seconds}, ...)</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@value #LEASES_ACTIVE}</td><td>gauge</td><td>pool</td><td>leases this node holds
 *       (built-in worker's included)</td></tr>
 *   <tr><td>{@value #WORKER_LEASES_ACTIVE}</td><td>gauge</td><td>worker</td><td>leases this node
 *       holds per worker: <b>one gauge per worker</b>, see {@link Builder#perWorker}</td></tr>
 *   <tr><td>{@value #LEASE_WAIT}</td><td>timer, percentiles and histogram</td><td>pool</td>
 *       <td>from dispatch until the step held a lease</td></tr>
 *   <tr><td>{@value #STEPS_QUEUED}</td><td>gauge</td><td></td><td>steps waiting for their
 *       action's max parallelism</td></tr>
 *   <tr><td>{@value #STEPS_WAITING}</td><td>gauge</td><td></td><td>steps waiting for a free
 *       eligible worker</td></tr>
 *   <tr><td>{@value #STEPS_FINISHED}</td><td>counter</td><td>status, pool</td><td>steps that
 *       ended ({@code succeeded}, {@code script_failed}, {@code could_not_start}, {@code
 *       worker_lost}, {@code nowhere_to_run}, {@code cancelled}, {@code timed_out}; pool {@code
 *       none} if it resolved to none)</td></tr>
 *   <tr><td>{@value #STEP_DURATION}</td><td>timer</td><td>status, pool</td><td>from the script's
 *       start on its worker to the step's end</td></tr>
 *   <tr><td>{@value #WORKERS}</td><td>gauge</td><td>pool, status</td><td>workers of the pool in
 *       each health status ({@code healthy}, {@code has_warnings}, {@code unhealthy}, {@code
 *       unavailable}, {@code unknown})</td></tr>
 *   <tr><td>{@value #HEALTH_CHECKS}</td><td>timer</td><td>outcome, transport</td><td>health check
 *       latency; outcome {@code answered} or {@code failed} (no answer)</td></tr>
 *   <tr><td>{@value #TRANSPORT_ERRORS}</td><td>counter</td><td>transport, error</td><td>{@code
 *       worker_lost}, {@code could_not_start}, {@code check_failed}; transport is the worker's
 *       endpoint kind ({@code local}, {@code ssh}, {@code tentacle-listening}, ...)</td></tr>
 * </table>
 *
 * <p>Cardinality: every tag is bounded by configuration, never by traffic: {@code pool} by the
 * pools in the store, {@code status}, {@code outcome} and {@code error} by fixed sets, {@code
 * transport} by the endpoint kinds in use. Step ids are never tags. The one tag per worker is
 * {@code worker}, on {@value #WORKER_LEASES_ACTIVE} only; turn it off with {@code perWorker(false)}
 * (Spring Boot: {@code workerpools.metrics.per-worker=false}) for fleets of thousands of workers.
 * Counts are this node's (leases it holds, steps it runs), so the sums over several host nodes
 * sharing one store are right; the {@value #WORKERS} gauges show the store's view, the same on
 * every node. Percentiles and histograms can also be set the Micrometer way, with a {@code
 * MeterFilter}.
 *
 * <p>Threads: the meters are fed by the dispatcher's, the monitor's and the store's listeners
 * (cheap: a counter or timer lookup each, nothing blocks). The gauges read one snapshot of leases
 * and health, taken again when a gauge is read and the snapshot is older than {@link
 * Builder#snapshotMaxAge} (one pass over the held leases and the workers per snapshot, however many
 * gauges are read). Thread-safe.
 */
public final class WorkerPoolsMetrics implements MeterBinder, AutoCloseable {
  /** Gauge: leases this node holds, per pool. */
  public static final String LEASES_ACTIVE = "workerpools.leases.active";

  /** Gauge: leases this node holds, per worker (only with {@link Builder#perWorker}). */
  public static final String WORKER_LEASES_ACTIVE = "workerpools.worker.leases.active";

  /** Timer: how long steps waited for a lease, per pool. */
  public static final String LEASE_WAIT = "workerpools.lease.wait";

  /** Gauge: steps waiting for their action's turn. */
  public static final String STEPS_QUEUED = "workerpools.steps.queued";

  /** Gauge: steps waiting for a free eligible worker. */
  public static final String STEPS_WAITING = "workerpools.steps.waiting";

  /** Counter: steps that ended, per status and pool. */
  public static final String STEPS_FINISHED = "workerpools.steps.finished";

  /** Timer: how long steps ran on their worker, per status and pool. */
  public static final String STEP_DURATION = "workerpools.step.duration";

  /** Gauge: workers per pool and health status. */
  public static final String WORKERS = "workerpools.workers";

  /** Timer: health check latency, per outcome and transport. */
  public static final String HEALTH_CHECKS = "workerpools.health.checks";

  /** Counter: transport errors, per transport kind and error. */
  public static final String TRANSPORT_ERRORS = "workerpools.transport.errors";

  /** The default of {@link Builder#leaseWaitPercentiles}. */
  public static final double[] DEFAULT_PERCENTILES = {0.5, 0.95, 0.99};

  /** The default of {@link Builder#snapshotMaxAge}. */
  public static final Duration DEFAULT_SNAPSHOT_MAX_AGE = Duration.ofSeconds(1);

  /** The options, validated. */
  record Options(
      boolean perWorker,
      double[] leaseWaitPercentiles,
      boolean leaseWaitHistogram,
      Duration maxAge) {}

  private final WorkerPools pools;
  private final Options options;
  private final List<AutoCloseable> subscriptions = new ArrayList<>();
  private FleetGauges gauges;
  private MeterRegistry registry;
  private boolean closed;

  private WorkerPoolsMetrics(WorkerPools pools, Options options) {
    this.pools = pools;
    this.options = options;
  }

  /** A builder of the meters of this facade. */
  public static Builder builder(WorkerPools pools) {
    return new Builder(pools);
  }

  /**
   * Registers the meters and starts feeding them. Bind to one registry: to publish to several, bind
   * to a {@code CompositeMeterRegistry}. Binding again to the same registry does nothing.
   *
   * @throws IllegalStateException if bound to another registry already, or closed
   */
  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    if (closed) {
      throw new IllegalStateException("these WorkerPools metrics are closed; make new ones");
    }
    if (this.registry == registry) {
      return; // bound already (Spring Boot binds MeterBinder beans a host may have bound too)
    }
    if (this.registry != null) {
      throw new IllegalStateException(
          "these WorkerPools metrics are already bound to "
              + this.registry
              + "; bind them once (to a CompositeMeterRegistry to publish to several)");
    }
    this.registry = registry;
    FleetGauges g = new FleetGauges(pools, registry, options);
    this.gauges = g;
    // Subscribe first, then read: a change in between is applied twice, harmlessly.
    subscriptions.add(pools.store().subscribe(g));
    g.reconcile(pools.store().infrastructure());
    subscriptions.add(pools.dispatcher().addListener(new StepMeters(registry, options)));
    subscriptions.add(pools.health().addListener(new HealthMeters(registry, g)));
  }

  /** Stops feeding the meters and removes them from the registry. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (AutoCloseable s : subscriptions) {
      try {
        s.close();
      } catch (Exception e) {
        // A handle that fails to close leaves a listener that records into removed meters only.
      }
    }
    subscriptions.clear();
    if (gauges != null) {
      gauges.close();
    }
    if (registry != null) {
      registry.getMeters().stream()
          .filter(m -> m.getId().getName().startsWith("workerpools."))
          .forEach(registry::remove);
    }
  }

  static void transportError(MeterRegistry registry, String transport, String error) {
    Counter.builder(TRANSPORT_ERRORS)
        .description(
            "Transport errors: workers lost mid-step, steps that could not start, failed"
                + " health checks")
        .tag(MeterTags.TRANSPORT, transport == null ? MeterTags.UNKNOWN_TRANSPORT : transport)
        .tag(MeterTags.ERROR, error)
        .register(registry)
        .increment();
  }

  @Override
  public String toString() {
    return "WorkerPoolsMetrics[" + pools + (options.perWorker() ? ", per worker" : "") + "]";
  }

  /** Builds {@link WorkerPoolsMetrics}. Not thread-safe; build once. */
  public static final class Builder {
    private final WorkerPools pools;
    private boolean perWorker = true;
    private double[] percentiles = DEFAULT_PERCENTILES.clone();
    private boolean histogram = true;
    private Duration maxAge = DEFAULT_SNAPSHOT_MAX_AGE;

    private Builder(WorkerPools pools) {
      if (pools == null) {
        throw new ConfigurationException("workerPoolsMetrics.pools", "must not be null");
      }
      this.pools = pools;
    }

    /**
     * Whether to register {@value #WORKER_LEASES_ACTIVE}, one gauge per worker (default true). Turn
     * it off for fleets of thousands of workers; the per-pool meters stay.
     */
    public Builder perWorker(boolean on) {
      this.perWorker = on;
      return this;
    }

    /**
     * The percentiles {@value #LEASE_WAIT} publishes, each above 0 and below 1 (default 0.5, 0.95,
     * 0.99); none to publish none.
     */
    public Builder leaseWaitPercentiles(double... percentiles) {
      if (percentiles == null) {
        throw new ConfigurationException("workerPoolsMetrics.leaseWaitPercentiles", "is null");
      }
      for (double p : percentiles) {
        if (!(p > 0 && p < 1)) {
          throw new ConfigurationException(
              "workerPoolsMetrics.leaseWaitPercentiles",
              "each must be above 0 and below 1 (0.95 for the 95th) but one was " + p);
        }
      }
      this.percentiles = percentiles.clone();
      return this;
    }

    /** Whether {@value #LEASE_WAIT} publishes a histogram, for percentiles over nodes (true). */
    public Builder leaseWaitHistogram(boolean on) {
      this.histogram = on;
      return this;
    }

    /**
     * How old the gauges' snapshot of leases and health may be before a read takes it again
     * (default 1 s; zero: every read takes it, for tests).
     */
    public Builder snapshotMaxAge(Duration maxAge) {
      if (maxAge == null || maxAge.isNegative()) {
        throw new ConfigurationException(
            "workerPoolsMetrics.snapshotMaxAge", "must be zero or more but was " + maxAge);
      }
      this.maxAge = maxAge;
      return this;
    }

    public WorkerPoolsMetrics build() {
      return new WorkerPoolsMetrics(
          pools, new Options(perWorker, percentiles.clone(), histogram, maxAge));
    }
  }
}
