package io.workerpools.dispatch;

import io.workerpools.container.ContainerSteps;
import io.workerpools.lease.WorkerLease;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.time.TimeSource;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.TransportRegistry;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs steps end to end: resolves and leases a worker through the {@link WorkerResolver} (waiting
 * for one if the step allows), starts the script through the first registered {@link
 * WorkerTransport} that supports the worker's endpoint, streams its log lines to the host's {@link
 * StepLogSink}, honours cancellation and the script's timeout, releases the lease exactly once
 * however the step ends, and completes a {@link StepResult} that tells a failed script from a lost
 * worker, nowhere to run, a cancellation and a timeout.
 *
 * <p>Max parallelism: steps that share an {@link Step#actionId()} and carry a {@link
 * Step#maxParallelism()} are let in at most that many at a time (counting from leasing to the end);
 * the others wait, first come first served, without holding a thread.
 *
 * <p>Threads: the dispatcher owns none by default. {@link #dispatch} leases and starts on the
 * caller's thread; a step let in later (its action's turn came, or a worker became free) starts on
 * the {@link Builder#executor(Executor) executor}. Results complete on transport threads.
 * Thread-safe.
 *
 * <p>The built-in worker ({@link Endpoint#local()}) runs through a {@link LocalProcessTransport}:
 * the one registered, or one the dispatcher creates, owns and closes.
 */
public final class StepDispatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StepDispatcher.class);

  private final WorkerResolver resolver;
  private final TransportRegistry transports;
  private final List<WorkerTransport> owned;
  private final ListenerList listener;
  private final Executor executor;
  private final ExecutorService ownedExecutor;
  private final TimeSource time;
  private final ActionGates<Run> gates = new ActionGates<>();
  private final Set<Run> active = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private StepDispatcher(Builder b) {
    this.resolver = b.resolver;
    this.listener = new ListenerList(b.listener);
    this.time = b.time;
    TransportRegistry ts = b.registry.orElse(TransportRegistry.empty());
    if (!b.transports.isEmpty()) {
      List<WorkerTransport> all = new ArrayList<>(ts.transports());
      all.addAll(b.transports);
      ts = TransportRegistry.of(all);
    }
    List<WorkerTransport> own = new ArrayList<>();
    if (!ts.supports(Endpoint.local()) && b.builtInTransport) {
      LocalProcessTransport local = LocalProcessTransport.create();
      ts = ts.plus(local);
      own.add(local);
    }
    this.transports = ts;
    this.owned = List.copyOf(own);
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownedExecutor = null;
    } else {
      AtomicInteger n = new AtomicInteger();
      this.ownedExecutor =
          Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "workerpools-dispatch-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
      this.executor = ownedExecutor;
    }
  }

  /** A builder over this resolver. */
  public static Builder builder(WorkerResolver resolver) {
    return new Builder(resolver);
  }

  /** The transports, in the order they are asked whether they support an endpoint. */
  public List<WorkerTransport> transports() {
    return transports.transports();
  }

  /**
   * The registry the transports are looked up in (with the built-in one, if the dispatcher made
   * it).
   */
  public TransportRegistry transportRegistry() {
    return transports;
  }

  /**
   * Starts running the step and returns at once (after leasing and starting the script on this
   * thread, when nothing makes it wait). The returned run's result completes exactly once.
   */
  public StepRun dispatch(Step step, StepLogSink sink) {
    Objects.requireNonNull(step, "step");
    Objects.requireNonNull(sink, "sink");
    Run run = new Run(step, sink);
    if (closed) {
      run.finish(run.ending(StepResult.Status.CANCELLED, "the dispatcher is closed"));
      return run;
    }
    active.add(run);
    boolean admitted = true;
    if (step.maxParallelism().isPresent()) {
      // onQueued runs under the gates' lock, so that it comes before the step is let in and ends.
      admitted =
          gates.enter(
              step.actionId().get(),
              step.maxParallelism().getAsInt(),
              run,
              () -> listener.onQueued(step));
      run.gated = admitted;
    }
    if (admitted) {
      begin(run);
    }
    return run;
  }

  /** Runs the step and waits for it to end. */
  public StepResult run(Step step, StepLogSink sink) {
    return dispatch(step, sink).result().toCompletableFuture().join();
  }

  /** How many invocations of an action are in flight (leasing or running) now. */
  public int inFlight(String actionId) {
    return gates.inFlight(actionId);
  }

  /** How many steps wait for their action's max parallelism to let them in. */
  public int queued() {
    return gates.queued();
  }

  /** Adds a listener after the builder's (same thread rules); closing the handle removes it. */
  public AutoCloseable addListener(DispatchListener listener) {
    return this.listener.add(listener);
  }

  /** How many steps have been dispatched and not yet ended. */
  public int activeCount() {
    return active.size();
  }

  // ---- the life of a step ----

  private void begin(Run run) {
    if (run.cancelled) {
      run.finish(run.ending(StepResult.Status.CANCELLED, "cancelled before it started"));
      return;
    }
    Step step = run.step;
    if (step.waitForWorker().isPresent()) {
      CompletableFuture<WorkerLease> f;
      try {
        f = resolver.acquire(step.requirements(), step.stepId(), step.waitForWorker().get());
      } catch (RuntimeException e) {
        run.finish(couldNotLease(run, e));
        return;
      }
      run.pendingLease = f;
      if (run.cancelled) {
        f.cancel(false);
      }
      if (f.isDone()) {
        leaseArrived(run, f);
      } else {
        f.whenComplete((lease, err) -> runLater(() -> leaseArrived(run, f)));
      }
      return;
    }
    WorkerLease lease;
    try {
      lease = resolver.acquire(step.requirements(), step.stepId());
    } catch (RuntimeException e) {
      run.finish(couldNotLease(run, e));
      return;
    }
    leased(run, lease);
  }

  private void leaseArrived(Run run, CompletableFuture<WorkerLease> f) {
    WorkerLease lease;
    try {
      lease = f.join();
    } catch (CancellationException e) {
      run.finish(run.ending(StepResult.Status.CANCELLED, "cancelled while waiting for a worker"));
      return;
    } catch (CompletionException e) {
      run.finish(couldNotLease(run, e.getCause() == null ? e : e.getCause()));
      return;
    }
    leased(run, lease);
  }

  private StepResult couldNotLease(Run run, Throwable e) {
    return Outcomes.ofLeaseFailure(run.step.stepId(), e, run.elapsed());
  }

  private void leased(Run run, WorkerLease lease) {
    run.lease = lease;
    Step step = run.step;
    listener.onLeased(step, lease, run.elapsed());
    Worker worker = lease.worker();
    if (run.cancelled) {
      run.finish(run.ending(StepResult.Status.CANCELLED, "cancelled before it started"));
      return;
    }
    WorkerTransport transport = transports.forEndpoint(worker.endpoint()).orElse(null);
    if (transport == null) {
      run.finish(run.ending(StepResult.Status.COULD_NOT_START, Outcomes.noTransport(worker)));
      return;
    }
    listener.onStarted(step, lease);
    StepLogSink host = run.sink;
    LogSink sink =
        line -> {
          try {
            host.onLine(new StepLogLine(step.stepId(), worker.id(), line));
          } catch (RuntimeException e) {
            LOG.warn("log sink of step {} threw; line dropped", step.stepId(), e);
          }
        };
    sink.onLine(
        new LogLine(time.now(), LogLine.Source.DEBUG, Outcomes.runningOn(worker, lease.pool())));
    ScriptExecution exec;
    try {
      exec = ContainerSteps.start(transport, worker, step.script(), sink);
    } catch (RuntimeException e) {
      run.finish(run.ending(StepResult.Status.COULD_NOT_START, Outcomes.refused(worker, e)));
      return;
    }
    run.execution = exec;
    if (run.cancelled) {
      exec.cancel();
    }
    exec.result()
        .whenComplete(
            (r, err) -> {
              if (err != null) {
                LOG.warn(
                    "transport {} completed step {} exceptionally (a contract violation)",
                    transport,
                    step.stepId(),
                    err);
                r =
                    ScriptResult.of(
                        ScriptResult.Outcome.WORKER_LOST, Duration.ZERO, String.valueOf(err));
              }
              scriptEnded(run, r);
            });
  }

  private void scriptEnded(Run run, ScriptResult r) {
    WorkerLease lease = run.lease;
    StepResult result = Outcomes.ofScript(run.step.stepId(), lease, r, run.elapsed());
    if (result.status() == StepResult.Status.WORKER_LOST) {
      listener.onWorkerLost(run.step, lease.worker(), result);
    }
    run.finish(result);
  }

  /**
   * The step ended: give its turn to the next invocation of its action, if one waits. Returns that
   * invocation, to be begun once this step's result is out.
   */
  private Run ended(Run run) {
    active.remove(run);
    if (!run.gated) {
      return null;
    }
    // A cancelled waiter ends without taking a turn (its finish happens outside the lock).
    Run next =
        gates.leave(
            run.step.actionId().get(),
            c -> c.cancelled,
            c ->
                runLater(
                    () ->
                        c.finish(
                            c.ending(StepResult.Status.CANCELLED, "cancelled before it started"))));
    if (next != null) {
      next.gated = true;
    }
    return next;
  }

  private void cancelQueued(Run run) {
    if (run.step.maxParallelism().isPresent() && gates.withdraw(run.step.actionId().get(), run)) {
      run.finish(run.ending(StepResult.Status.CANCELLED, "cancelled before it started"));
    }
  }

  private void runLater(Runnable r) {
    try {
      executor.execute(r);
    } catch (RejectedExecutionException e) {
      r.run();
    }
  }

  /** Cancels every step still running or waiting, and closes the transports it created. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Run r : List.copyOf(active)) {
      r.cancel();
    }
    for (WorkerTransport t : owned) {
      try {
        t.close();
      } catch (Exception e) {
        LOG.warn("closing transport {} failed", t, e);
      }
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }

  private final class Run implements StepRun {
    final Step step;
    final StepLogSink sink;
    final long startNanos = time.nanoTime();
    final CompletableFuture<StepResult> result = new CompletableFuture<>();
    final AtomicBoolean finished = new AtomicBoolean();
    final AtomicBoolean leaseReleased = new AtomicBoolean();
    volatile boolean cancelled;
    volatile WorkerLease lease;
    volatile CompletableFuture<WorkerLease> pendingLease;
    volatile ScriptExecution execution;
    // Set before the step begins: whether it holds a turn of its action's gate.
    volatile boolean gated;

    Run(Step step, StepLogSink sink) {
      this.step = step;
      this.sink = sink;
    }

    @Override
    public String stepId() {
      return step.stepId();
    }

    @Override
    public CompletionStage<StepResult> result() {
      return result;
    }

    @Override
    public void cancel() {
      if (cancelled || finished.get()) {
        return;
      }
      cancelled = true;
      cancelQueued(this);
      CompletableFuture<WorkerLease> f = pendingLease;
      if (f != null) {
        f.cancel(false);
      }
      ScriptExecution e = execution;
      if (e != null) {
        e.cancel();
      }
    }

    Duration elapsed() {
      return Duration.ofNanos(time.nanoTime() - startNanos);
    }

    StepResult ending(StepResult.Status status, String message) {
      return Outcomes.ending(step.stepId(), lease, status, message, elapsed());
    }

    void finish(StepResult r) {
      if (!finished.compareAndSet(false, true)) {
        return;
      }
      WorkerLease l = lease;
      if (l != null && leaseReleased.compareAndSet(false, true)) {
        try {
          l.close();
        } catch (RuntimeException e) {
          LOG.warn("releasing lease {} of step {} failed", l, step.stepId(), e);
        }
      }
      Run next = ended(this);
      listener.onFinished(step, r);
      result.complete(r);
      if (next != null) {
        runLater(() -> begin(next));
      }
    }
  }

  /** Builds a {@link StepDispatcher}. */
  public static final class Builder {
    private final WorkerResolver resolver;
    private final List<WorkerTransport> transports = new ArrayList<>();
    private Optional<TransportRegistry> registry = Optional.empty();
    private DispatchListener listener = DispatchListener.none();
    private Executor executor;
    private TimeSource time = TimeSource.system();
    private boolean builtInTransport = true;

    private Builder(WorkerResolver resolver) {
      this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    /**
     * Registers a transport. Transports are asked in registration order; the first that supports a
     * worker's endpoint runs its steps. The dispatcher does not close registered transports.
     */
    public Builder transport(WorkerTransport transport) {
      transports.add(Objects.requireNonNull(transport, "transport"));
      return this;
    }

    /**
     * Looks transports up in this registry (shared with the {@link
     * io.workerpools.health.HealthMonitor}, say), before any added with {@link #transport}. The
     * dispatcher does not close them.
     */
    public Builder transports(TransportRegistry registry) {
      this.registry = Optional.of(Objects.requireNonNull(registry, "registry"));
      return this;
    }

    /**
     * Whether to create a {@link LocalProcessTransport} for the built-in worker when no registered
     * transport supports {@link Endpoint#local()} (default true).
     */
    public Builder createBuiltInTransport(boolean create) {
      this.builtInTransport = create;
      return this;
    }

    public Builder listener(DispatchListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Runs steps let in later (an action's turn, a worker that became free). Default: a cached pool
     * of daemon threads, idle when nothing waits. The dispatcher does not shut a given one down.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    public Builder timeSource(TimeSource time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    public StepDispatcher build() {
      return new StepDispatcher(this);
    }
  }
}
