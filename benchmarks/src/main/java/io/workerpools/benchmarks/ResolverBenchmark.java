package io.workerpools.benchmarks;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.SelectionStrategy;
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
 * B1: resolve + lease + release through {@link WorkerResolver} and the in-memory store. Workers are
 * spread evenly over the pools; 5% are unhealthy; half run bash only and half bash and python, and
 * every step asks for python (the syntax filter). Each call goes to the next pool in turn.
 *
 * <p>{@code selection=indexed} is the resolver's default (the per pool and syntax index); {@code
 * selection=scan} is the baseline in the same run: the same resolver, store and lease path with a
 * custom {@link SelectionStrategy} doing "fewest leases, round robin among ties" over the pool's
 * eligible workers, which the resolver gathers by scanning the pool (what the first resolver did on
 * every call).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar ResolverBenchmark -prof gc
 * java -jar benchmarks/target/benchmarks.jar ResolverBenchmark -p pools=100 \
 *     -p workers=1000,10000,100000 -p selection=indexed
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(1)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ResolverBenchmark {

  @Param({"10000"})
  int workers;

  @Param({"10", "100", "1000"})
  int pools;

  @Param({"indexed", "scan"})
  String selection;

  private InMemoryInfrastructureStore store;
  private WorkerResolver resolver;
  private StepRequirements[] steps;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    List<WorkerPool> poolList = new ArrayList<>();
    for (int p = 0; p < pools; p++) {
      poolList.add(WorkerPool.of("p" + p, "Pool " + p));
    }
    List<Worker> workerList = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      workerList.add(
          Worker.builder("w" + w)
              .endpoint(Endpoint.of("bench", "w" + w))
              .pool("p" + (w % pools))
              .syntaxes(
                  (w / pools) % 2 == 0
                      ? EnumSet.of(ScriptSyntax.BASH)
                      : EnumSet.of(ScriptSyntax.BASH, ScriptSyntax.PYTHON))
              .maxConcurrentSteps(4)
              .build());
    }
    store =
        new InMemoryInfrastructureStore(
            Infrastructure.of(poolList, workerList, PoolId.of("p0"), true));
    Instant now = Instant.now();
    for (int w = 0; w < workers; w++) {
      // 5% unhealthy in every pool, in both syntax groups.
      HealthStatus s = (w / pools) % 20 == 7 ? HealthStatus.UNAVAILABLE : HealthStatus.HEALTHY;
      store.recordHealth(workerList.get(w).id(), HealthReport.of(s, now, Duration.ofMillis(1), ""));
    }
    resolver =
        WorkerResolver.builder(store)
            .nodeId("bench")
            .selectionStrategy(
                "scan".equals(selection)
                    ? new ScanningFewestLeases()
                    : SelectionStrategy.FEWEST_LEASES)
            .build();
    steps = new StepRequirements[pools];
    for (int p = 0; p < pools; p++) {
      steps[p] = StepRequirements.builder().pool("p" + p).syntax(ScriptSyntax.PYTHON).build();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    resolver.close();
  }

  @Benchmark
  public Object resolveLeaseRelease() {
    int p = next;
    next = p + 1 == steps.length ? 0 : p + 1;
    WorkerLease lease = resolver.acquire(steps[p], "step");
    lease.close();
    return lease;
  }

  /** Selection alone: where the next step would go, without leasing (no store call). */
  @Benchmark
  public Object resolveOnly() {
    int p = next;
    next = p + 1 == steps.length ? 0 : p + 1;
    return resolver.resolve(steps[p]);
  }

  /** The baseline: fewest leases with round robin among ties, over the full eligible list. */
  static final class ScanningFewestLeases implements SelectionStrategy {
    private int turn;

    @Override
    public Worker select(List<Candidate> eligible) {
      int min = Integer.MAX_VALUE;
      int ties = 0;
      for (Candidate c : eligible) {
        if (c.activeLeases() < min) {
          min = c.activeLeases();
          ties = 1;
        } else if (c.activeLeases() == min) {
          ties++;
        }
      }
      int pick = Math.floorMod(turn++, ties);
      for (Candidate c : eligible) {
        if (c.activeLeases() == min && pick-- == 0) {
          return c.worker();
        }
      }
      throw new IllegalStateException("unreachable");
    }
  }
}
