package io.workerpools;

import io.workerpools.dispatch.DispatchListener;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.health.HealthListener;
import io.workerpools.health.HealthMonitor;
import io.workerpools.health.HealthPolicy;
import io.workerpools.health.HealthPolicyResolver;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Infrastructure;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.TransportRegistry;
import io.workerpools.transport.WorkerTransport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a host needs, wired together: the {@link InfrastructureStore} (in memory unless the
 * host gives its own), the {@link LocalProcessTransport} that runs the built-in worker, the host's
 * transports (SSH, Tentacle, its own), the {@link WorkerResolver}, a started {@link HealthMonitor}
 * and the {@link StepDispatcher}. Start here; reach for the parts through the accessors when you
 * need more.
 *
 * <pre>{@code
 * try (WorkerPools pools = WorkerPools.builder().transport(ssh).build()) {
 *   StepResult r = pools.run(Step.builder("deploy", ScriptRequest.bash("./deploy.sh")).build());
 * }
 * }</pre>
 *
 * <p>Ownership: {@link #close()} closes everything the builder made and everything handed to it
 * through {@link Builder#store}, {@link Builder#transport} and {@link Builder#localTransport},
 * except transports handed in through {@link Builder#sharedTransport} (for example one SSH
 * transport shared by the facades of several spaces).
 *
 * <p>Immutable once built and thread-safe: every part is. The facade starts no threads of its own;
 * the resolver, the health monitor and the transports start theirs, and {@link #close()} stops
 * them.
 */
public final class WorkerPools implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPools.class);

  /** The default of {@link Builder#closeTimeout}: how long close waits for cancelled steps. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  private static final long MAX_WAIT_MILLIS = 100;

  /**
   * How the default {@link Builder#nodeId} starts: {@code node-} and 12 random hex digits, so that
   * every node sharing a store has its own id unless the host sets one.
   */
  public static final String DEFAULT_NODE_ID_PREFIX = "node-";

  private final InfrastructureStore store;
  private final LocalProcessTransport local;
  private final TransportRegistry transports;
  private final WorkerResolver resolver;
  private final HealthMonitor health;
  private final StepDispatcher dispatcher;
  private final StepLogSink defaultSink;
  private final Duration closeTimeout;
  private final TimeSource time;
  private final List<AutoCloseable> ownedTransports;
  private final Object endings = new Object();
  private volatile boolean closed;

  WorkerPools(Assembly.Parts parts) {
    this.store = parts.store();
    this.local = parts.local();
    this.transports = parts.transports();
    this.resolver = parts.resolver();
    this.health = parts.health();
    this.dispatcher = parts.dispatcher();
    this.defaultSink = parts.logSink();
    this.closeTimeout = parts.closeTimeout();
    this.time = parts.time();
    this.ownedTransports = List.copyOf(parts.toClose());
  }

  /** A builder; every option has a default, so {@code builder().build()} is a working setup. */
  public static Builder builder() {
    return new Builder();
  }

  /** Everything at its defaults: an in-memory store, the built-in worker on, health checks on. */
  public static WorkerPools create() {
    return builder().build();
  }

  // ---- running steps ----

  /** Runs the step where the two rules say, sends its lines to the default sink, and waits. */
  public StepResult run(Step step) {
    return run(step, defaultSink);
  }

  /** Runs the step where the two rules say, sends its lines to {@code sink}, and waits. */
  public StepResult run(Step step, StepLogSink sink) {
    return start(step, sink).result().toCompletableFuture().join();
  }

  /** Starts the step and returns at once; its lines go to the default sink. */
  public StepRun start(Step step) {
    return start(step, defaultSink);
  }

  /**
   * Starts the step and returns at once; its lines go to {@code sink}. After {@link #close()} the
   * run ends at once as {@link StepResult.Status#CANCELLED}.
   */
  public StepRun start(Step step, StepLogSink sink) {
    Objects.requireNonNull(step, "step");
    Objects.requireNonNull(sink, "sink");
    return dispatcher.dispatch(step, sink);
  }

  // ---- the built-in worker switch ----

  /**
   * Switches rule 1 on or off: with it off, a step that resolves to an empty default pool has
   * nowhere to run instead of running on this host. Stored in the store, so every node sharing it
   * sees the change.
   */
  public void setBuiltInWorkerEnabled(boolean enabled) {
    store.setBuiltInWorkerEnabled(enabled);
  }

  /** Whether rule 1 may run steps on this host. */
  public boolean builtInWorkerEnabled() {
    return store.infrastructure().builtInWorkerEnabled();
  }

  // ---- the parts ----

  /** The store: add pools and workers here. */
  public InfrastructureStore store() {
    return store;
  }

  /** The resolver: ask where a step would run, drain workers, see leases. */
  public WorkerResolver resolver() {
    return resolver;
  }

  /** The health monitor (started): check on demand, listen to status changes, read summaries. */
  public HealthMonitor health() {
    return health;
  }

  /** The dispatcher the {@code run}/{@code start} methods use. */
  public StepDispatcher dispatcher() {
    return dispatcher;
  }

  /** The transport of the built-in worker (and of any worker with a {@code local} endpoint). */
  public LocalProcessTransport localTransport() {
    return local;
  }

  /** Every transport, in the order they are asked whether they reach an endpoint; local last. */
  public List<WorkerTransport> transports() {
    return transports.transports();
  }

  /** The one registry the dispatcher and the health monitor look transports up in. */
  public TransportRegistry transportRegistry() {
    return transports;
  }

  /**
   * Stops everything, in an order that loses nothing: new steps are refused and running ones
   * cancelled (their leases released as they end, waiting up to {@link Builder#closeTimeout}), then
   * health checks stop, then the resolver's timers, then the transports (the host's first, the
   * built-in worker's last), then the store if this facade owns it. Idempotent. A part that fails
   * to close does not stop the others; the first failure is thrown afterwards as a {@link
   * WorkerPoolsException}, the others attached as suppressed.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<Throwable> failures = new ArrayList<>();
    closeQuietly(dispatcher, "dispatcher", failures);
    awaitStepsEnded();
    closeQuietly(health, "health monitor", failures);
    closeQuietly(resolver, "resolver", failures);
    for (AutoCloseable t : ownedTransports) {
      closeQuietly(t, "transport " + t, failures);
    }
    if (!failures.isEmpty()) {
      WorkerPoolsException e =
          new WorkerPoolsException(
              "closing WorkerPools: " + failures.get(0).getMessage(), failures.get(0));
      failures.subList(1, failures.size()).forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Waits for cancelled steps to end, up to the close timeout on the injected clock. */
  private void awaitStepsEnded() {
    long deadline = time.nanoTime() + closeTimeout.toNanos();
    synchronized (endings) {
      while (dispatcher.activeCount() > 0) {
        long left = deadline - time.nanoTime();
        if (left <= 0) {
          LOG.warn(
              "{} step(s) had not ended {} after they were cancelled; closing anyway",
              dispatcher.activeCount(),
              closeTimeout);
          return;
        }
        try {
          // Bounded, so that a host's manual clock moved meanwhile is seen.
          endings.wait(Math.max(1, Math.min(MAX_WAIT_MILLIS, left / 1_000_000)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  void stepEnded() {
    synchronized (endings) {
      endings.notifyAll();
    }
  }

  private static void closeQuietly(AutoCloseable c, String what, List<Throwable> failures) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("closing the {} failed", what, e);
      failures.add(e);
    }
  }

  @Override
  public String toString() {
    return "WorkerPools[node "
        + resolver.nodeId()
        + ", "
        + transports.transports().size()
        + " transports, built-in worker "
        + (builtInWorkerEnabled() ? "on" : "off")
        + "]";
  }

  /**
   * Builds {@link WorkerPools}. Setters validate at once and throw a {@link ConfigurationException}
   * whose {@link ConfigurationException#field() field} names the option ({@code
   * workerPools.nodeId}, ...). Not thread-safe; build once.
   */
  public static final class Builder {
    // Read by Assembly.
    InfrastructureStore store;
    boolean ownsStore = true;
    Infrastructure infrastructure;
    Boolean builtInWorkerEnabled;
    LocalProcessTransport localTransport;
    Path builtInWorkerDirectory;
    final List<WorkerTransport> transports = new ArrayList<>();
    final Set<WorkerTransport> shared = Collections.newSetFromMap(new IdentityHashMap<>());
    HealthPolicyResolver healthPolicies;
    int healthMaxInFlight = HealthMonitor.DEFAULT_MAX_IN_FLIGHT;
    boolean probeContainerEngines;
    final List<HealthListener> healthListeners = new ArrayList<>();
    final List<DispatchListener> dispatchListeners = new ArrayList<>();
    String nodeId =
        DEFAULT_NODE_ID_PREFIX + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Duration leaseTtl = WorkerResolver.DEFAULT_LEASE_TTL;
    TimeSource time = TimeSource.system();
    StepLogSink logSink = StepLogSink.discard();
    Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;

    private Builder() {}

    /**
     * The host's store (its database, the JDBC store, ...), closed with the facade. Default: a new
     * {@link InMemoryInfrastructureStore}.
     */
    public Builder store(InfrastructureStore store) {
      this.store = require(store, "store");
      this.ownsStore = true;
      return this;
    }

    /** The host's store, left open when the facade closes (the host closes it). */
    public Builder sharedStore(InfrastructureStore store) {
      this.store = require(store, "sharedStore");
      this.ownsStore = false;
      return this;
    }

    /**
     * Pools and workers to put in the store when the facade is built, replacing what it held (for
     * example from {@link io.workerpools.config.InfrastructureLoader}). Default: the store's own.
     */
    public Builder infrastructure(Infrastructure infrastructure) {
      this.infrastructure = require(infrastructure, "infrastructure");
      return this;
    }

    /**
     * Switches the built-in worker (rule 1) on or off when the facade is built, overriding the
     * store's and {@link #infrastructure}'s setting. Default: leave the store's setting (on, in a
     * new store). Switch it off on hosts that must never run user code themselves.
     */
    public Builder builtInWorker(boolean enabled) {
      this.builtInWorkerEnabled = enabled;
      return this;
    }

    /**
     * Where the built-in worker makes its working directories (one per step, deleted after it).
     * Default: {@code <java.io.tmpdir>/workerpools-steps}. Not with {@link #localTransport}.
     */
    public Builder builtInWorkerDirectory(Path directory) {
      this.builtInWorkerDirectory = require(directory, "builtInWorkerDirectory");
      return this;
    }

    /**
     * The host's own configured local transport for the built-in worker (run as another user, other
     * interpreters, ...), closed with the facade. Default: one made with {@link
     * LocalProcessTransport#builder()}. Not with {@link #builtInWorkerDirectory}.
     */
    public Builder localTransport(LocalProcessTransport transport) {
      this.localTransport = require(transport, "localTransport");
      return this;
    }

    /**
     * Adds a transport (SSH, Tentacle, the host's own), closed with the facade. Asked before the
     * local transport, in the order added.
     */
    public Builder transport(WorkerTransport transport) {
      add(require(transport, "transport"), "transport");
      return this;
    }

    /** Adds a transport the facade uses but does not close (one shared by several facades). */
    public Builder sharedTransport(WorkerTransport transport) {
      add(require(transport, "sharedTransport"), "sharedTransport");
      shared.add(transport);
      return this;
    }

    private void add(WorkerTransport t, String option) {
      for (WorkerTransport existing : transports) {
        if (existing == t) {
          throw new ConfigurationException(
              "workerPools." + option,
              "the transport " + t + " was added twice; add each transport once");
        }
      }
      if (t instanceof LocalProcessTransport) {
        throw new ConfigurationException(
            "workerPools." + option,
            "a LocalProcessTransport runs the built-in worker: pass it to localTransport(...)"
                + " instead");
      }
      transports.add(t);
    }

    /** The health policy of every worker. Default: {@link HealthPolicy#defaults()}. */
    public Builder healthPolicy(HealthPolicy policy) {
      this.healthPolicies = HealthPolicyResolver.fixed(require(policy, "healthPolicy"));
      return this;
    }

    /** A health policy per worker or pool ({@link HealthPolicyResolver#perPoolAndWorker}). */
    public Builder healthPolicies(HealthPolicyResolver policies) {
      this.healthPolicies = require(policies, "healthPolicies");
      return this;
    }

    /** The most health checks in flight at once (1 to 100,000; default 64). */
    public Builder healthMaxInFlight(int max) {
      if (max < 1 || max > 100_000) {
        throw new ConfigurationException(
            "workerPools.healthMaxInFlight", "must be between 1 and 100000 but was " + max);
      }
      this.healthMaxInFlight = max;
      return this;
    }

    /**
     * Whether health checks also probe each worker's container engine, so that steps whose script
     * names a {@link io.workerpools.container.ContainerSpec} can go to workers that have one (see
     * {@link HealthMonitor.Builder#probeContainerEngines}). Default: off.
     */
    public Builder probeContainerEngines(boolean probe) {
      this.probeContainerEngines = probe;
      return this;
    }

    /** Hears health status changes and checks (see {@link HealthListener} for its thread). */
    public Builder healthListener(HealthListener listener) {
      healthListeners.add(require(listener, "healthListener"));
      return this;
    }

    /** Hears what happens to steps (see {@link DispatchListener} for its thread). */
    public Builder dispatchListener(DispatchListener listener) {
      dispatchListeners.add(require(listener, "dispatchListener"));
      return this;
    }

    /**
     * This host node's id, carried by its leases: unique per live node sharing a store (a second
     * live node with the same id is refused with {@link
     * io.workerpools.store.NodeIdInUseException}). Letters, digits, {@code .}, {@code _}, {@code
     * -}; default {@value WorkerPools#DEFAULT_NODE_ID_PREFIX} and 12 random hex digits.
     */
    public Builder nodeId(String nodeId) {
      if (nodeId == null || !nodeId.matches("[A-Za-z0-9._-]{1,100}")) {
        throw new ConfigurationException(
            "workerPools.nodeId",
            "must be 1 to 100 letters, digits, '.', '_' or '-' but was '" + nodeId + "'");
      }
      this.nodeId = nodeId;
      return this;
    }

    /** How long a lease lives without renewal (default 60 s; at least 1 s). */
    public Builder leaseTtl(Duration ttl) {
      require(ttl, "leaseTtl");
      if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new ConfigurationException(
            "workerPools.leaseTtl", "must be at least 1 second (PT1S) but was " + ttl);
      }
      this.leaseTtl = ttl;
      return this;
    }

    /** The clock for leases, health and durations. Default: the system clock. */
    public Builder timeSource(TimeSource time) {
      this.time = require(time, "timeSource");
      return this;
    }

    /** Where {@link WorkerPools#run(Step)} sends log lines. Default: dropped. */
    public Builder logSink(StepLogSink sink) {
      this.logSink = require(sink, "logSink");
      return this;
    }

    /** How long {@link WorkerPools#close()} waits for cancelled steps to end (default 10 s). */
    public Builder closeTimeout(Duration timeout) {
      require(timeout, "closeTimeout");
      if (timeout.isNegative()) {
        throw new ConfigurationException(
            "workerPools.closeTimeout", "must not be negative but was " + timeout);
      }
      this.closeTimeout = timeout;
      return this;
    }

    private static <T> T require(T value, String option) {
      if (value == null) {
        throw new ConfigurationException("workerPools." + option, "must not be null");
      }
      return value;
    }

    /**
     * Builds and starts everything (the health monitor checks workers at once). If a part fails to
     * start, the parts already made are closed again and the error is thrown.
     */
    public WorkerPools build() {
      if (localTransport != null && builtInWorkerDirectory != null) {
        throw new ConfigurationException(
            "workerPools.builtInWorkerDirectory",
            "cannot be set together with localTransport(...): set the directory on that"
                + " transport's builder instead");
      }
      return Assembly.assemble(this);
    }
  }
}
