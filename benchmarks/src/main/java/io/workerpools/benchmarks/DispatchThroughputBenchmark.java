package io.workerpools.benchmarks;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.WorkerTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * B2: the dispatch loop through an in-memory transport that ends each script at once, so that only
 * the dispatcher, the resolver and the store are measured. Baseline in the same run: the resolver's
 * acquire + release alone (what any dispatch must do at least). Throughput, one thread (closed
 * loop).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar DispatchThroughputBenchmark -f 3 -wi 3 -i 5
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(3)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DispatchThroughputBenchmark {
  /** Workers in the pool: 0 means the built-in worker (rule 1). */
  @Param({"0", "100"})
  public int workers;

  private InMemoryInfrastructureStore store;
  private WorkerResolver resolver;
  private StepDispatcher dispatcher;
  private final StepRequirements requirements = StepRequirements.anyPool();
  private final ScriptRequest script = ScriptRequest.bash("true");
  private long n;

  /**
   * Ends every script at once with exit code 0, after one log line (or none); an optional hook runs
   * as each script starts (the open-loop harness times it there).
   */
  public static final class InstantTransport implements WorkerTransport {
    private static final CompletableFuture<ScriptResult> DONE =
        CompletableFuture.completedFuture(ScriptResult.exited(0, Duration.ZERO));
    private final Runnable onStart;
    private final boolean logLine;

    /** One log line a script, no hook. */
    public InstantTransport() {
      this(() -> {}, true);
    }

    /** Runs {@code onStart} as each script starts; {@code logLine}: whether it logs one line. */
    public InstantTransport(Runnable onStart, boolean logLine) {
      this.onStart = onStart;
      this.logLine = logLine;
    }

    @Override
    public boolean supports(Endpoint endpoint) {
      return true;
    }

    @Override
    public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
      return CompletableFuture.completedFuture(
          HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }

    @Override
    public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
      onStart.run();
      if (logLine) {
        sink.onLine(new LogLine(Instant.EPOCH, LogLine.Source.STDOUT, "ok"));
      }
      return new ScriptExecution() {
        @Override
        public String executionId() {
          return request.executionId();
        }

        @Override
        public CompletionStage<ScriptResult> result() {
          return DONE;
        }

        @Override
        public void cancel() {}
      };
    }
  }

  @Setup
  public void setUp() {
    store = new InMemoryInfrastructureStore();
    for (int i = 0; i < workers; i++) {
      Worker w =
          Worker.builder("w" + i).endpoint(Endpoint.of("mem", "w" + i)).pool("default").build();
      store.putWorker(w);
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
    resolver = WorkerResolver.builder(store).nodeId("bench").build();
    dispatcher =
        StepDispatcher.builder(resolver)
            .transport(new InstantTransport())
            .createBuiltInTransport(false)
            .executor(Runnable::run)
            .build();
  }

  @TearDown
  public void tearDown() {
    dispatcher.close();
    resolver.close();
  }

  /** Baseline: lease and release, nothing else. */
  @Benchmark
  public boolean leaseAndReleaseOnly() {
    try (WorkerLease lease = resolver.acquire(requirements, "s")) {
      return lease.isBuiltIn();
    }
  }

  /** Baseline: lease and release with a new step id each time, as dispatching does. */
  @Benchmark
  public boolean leaseAndReleaseOnlyDistinctStepIds() {
    try (WorkerLease lease = resolver.acquire(requirements, "s" + (n++))) {
      return lease.isBuiltIn();
    }
  }

  /** A whole step through the dispatcher: resolve, lease, start, one log line, result, release. */
  @Benchmark
  public StepResult dispatchOneStep() {
    Step step = Step.builder("s" + (n++), script).build();
    return dispatcher.run(step, StepLogSink.discard());
  }
}
