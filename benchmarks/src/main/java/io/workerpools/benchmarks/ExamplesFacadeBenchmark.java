package io.workerpools.benchmarks;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.ScriptRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the {@link WorkerPools} facade costs per step: {@code pools.run(step)} against the same step
 * through a {@link StepDispatcher} wired by hand (the baseline, same run), both over 100 healthy
 * workers and the in-memory transport of B2 that ends each script at once, so that only the wiring
 * differs (the facade adds a composite dispatch listener and its health monitor runs in the
 * background).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ExamplesFacadeBenchmark -f 1 -wi 2 -i 3
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(3)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ExamplesFacadeBenchmark {
  private static final int WORKERS = 100;

  private final ScriptRequest script = ScriptRequest.bash("true");
  private InMemoryInfrastructureStore bareStore;
  private WorkerResolver bareResolver;
  private StepDispatcher bare;
  private WorkerPools facade;
  private long n;

  private static void fill(io.workerpools.store.InfrastructureStore store) {
    for (int i = 0; i < WORKERS; i++) {
      Worker w =
          Worker.builder("w" + i).endpoint(Endpoint.of("mem", "w" + i)).pool("default").build();
      store.putWorker(w);
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
  }

  @Setup
  public void setUp() {
    bareStore = new InMemoryInfrastructureStore();
    fill(bareStore);
    bareResolver = WorkerResolver.builder(bareStore).nodeId("bare").build();
    bare =
        StepDispatcher.builder(bareResolver)
            .transport(new DispatchThroughputBenchmark.InstantTransport())
            .createBuiltInTransport(false)
            .build();
    facade =
        WorkerPools.builder()
            .nodeId("facade")
            .transport(new DispatchThroughputBenchmark.InstantTransport())
            .build();
    fill(facade.store());
  }

  @TearDown
  public void tearDown() {
    facade.close();
    bare.close();
    bareResolver.close();
  }

  /** Baseline: the dispatcher wired by hand. */
  @Benchmark
  public StepResult bareDispatcher() {
    return bare.run(Step.builder("s" + (n++), script).build(), StepLogSink.discard());
  }

  /** The same step through the facade. */
  @Benchmark
  public StepResult facadeRun() {
    return facade.run(Step.builder("s" + (n++), script).build());
  }
}
