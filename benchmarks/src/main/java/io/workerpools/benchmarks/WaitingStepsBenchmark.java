package io.workerpools.benchmarks;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.WaitingSteps;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * "Why is my step waiting?" at UI scale: {@link WorkerResolver#waitingSteps} with {@code waiting}
 * steps queued over 10 pools of 100 workers (every worker at its cap of one lease, 10% of them
 * unavailable; half run bash only, half bash and python; steps ask for bash or python in turn, so
 * 20 groups).
 *
 * <p>The baseline in the same run, {@code blockedResolve}: one {@link WorkerResolver#resolve} of a
 * waiting step, which explains itself by walking its pool. Explaining every waiting step that way
 * would cost {@code waiting} times the baseline; the snapshot explains each group once.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar WaitingStepsBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WaitingStepsBenchmark {
  private static final int POOLS = 10;
  private static final int WORKERS_PER_POOL = 100;

  @Param({"10000"})
  int waiting;

  private WorkerResolver resolver;
  private StepRequirements blocked;
  private final WaitingSteps.Query countsOnly = WaitingSteps.Query.builder().maxSteps(0).build();

  @Setup(Level.Trial)
  public void setUp() {
    List<WorkerPool> pools = new ArrayList<>();
    for (int p = 0; p < POOLS; p++) {
      pools.add(WorkerPool.of("p" + p, "Pool " + p));
    }
    List<Worker> workers = new ArrayList<>();
    for (int w = 0; w < POOLS * WORKERS_PER_POOL; w++) {
      workers.add(
          Worker.builder("w" + w)
              .endpoint(Endpoint.of("bench", "w" + w))
              .pool("p" + (w % POOLS))
              .syntaxes(
                  (w / POOLS) % 2 == 0
                      ? EnumSet.of(ScriptSyntax.BASH)
                      : EnumSet.of(ScriptSyntax.BASH, ScriptSyntax.PYTHON))
              .maxConcurrentSteps(1)
              .build());
    }
    InMemoryInfrastructureStore store =
        new InMemoryInfrastructureStore(Infrastructure.of(pools, workers, PoolId.of("p0"), true));
    Instant now = Instant.now();
    for (int w = 0; w < workers.size(); w++) {
      HealthStatus s = (w / POOLS) % 10 == 3 ? HealthStatus.UNAVAILABLE : HealthStatus.HEALTHY;
      store.recordHealth(workers.get(w).id(), HealthReport.of(s, now, Duration.ofMillis(1), ""));
    }
    resolver = WorkerResolver.builder(store).nodeId("bench").build();
    // Fill every healthy worker's one slot.
    for (int p = 0; p < POOLS; p++) {
      StepRequirements req = StepRequirements.inPool("p" + p);
      while (resolver.resolve(req) instanceof io.workerpools.resolve.Resolution.Resolved) {
        resolver.acquire(req, "holder");
      }
    }
    for (int i = 0; i < waiting; i++) {
      StepRequirements req =
          StepRequirements.builder()
              .pool("p" + (i % POOLS))
              .syntax((i / POOLS) % 2 == 0 ? ScriptSyntax.BASH : ScriptSyntax.PYTHON)
              .build();
      if (resolver.acquire(req, "step-" + i, Duration.ofHours(1)).isDone()) {
        throw new IllegalStateException("step " + i + " did not wait");
      }
    }
    blocked = StepRequirements.builder().pool("p0").syntax(ScriptSyntax.PYTHON).build();
    if (resolver.waiting() != waiting) {
      throw new IllegalStateException(resolver.waiting() + " waiting, expected " + waiting);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    resolver.close();
  }

  /** The default snapshot: counts for all, 1,000 steps and 20 workers per group listed. */
  @Benchmark
  public Object snapshot() {
    return resolver.waitingSteps(WaitingSteps.Query.DEFAULT);
  }

  /** Counts and groups only (no step listed): what a dashboard's summary needs. */
  @Benchmark
  public Object snapshotCountsOnly() {
    return resolver.waitingSteps(countsOnly);
  }

  /** The baseline: one waiting step explained by {@link WorkerResolver#resolve}. */
  @Benchmark
  public Object blockedResolve() {
    return resolver.resolve(blocked);
  }
}
