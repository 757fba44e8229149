package io.workerpools.benchmarks;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.LeaseRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under B1: one lease claimed and released directly on the in-memory store, with no
 * resolver (no listener, no selection), on one hot worker or cycling over 10,000 workers (B1's
 * working set, which on a busy machine costs cache misses the one-worker case does not). What
 * {@link ResolverBenchmark} costs above this is the resolver's own work: choosing the worker,
 * keeping its view current, tracking the lease.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(1)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ResolverStoreFloorBenchmark {
  /** How many workers the claims cycle over (1: one hot worker; 10000: B1's working set). */
  @Param({"1", "10000"})
  int workers;

  private InMemoryInfrastructureStore store;
  private WorkerId[] ids;
  private PoolId[] poolOf;
  private int next;
  private long seq;

  @Setup
  public void setUp() {
    int pools = Math.min(100, workers);
    List<WorkerPool> ps = new ArrayList<>();
    for (int p = 0; p < pools; p++) {
      ps.add(WorkerPool.of("p" + p, "P" + p));
    }
    List<Worker> ws = new ArrayList<>();
    ids = new WorkerId[workers];
    poolOf = new PoolId[workers];
    for (int i = 0; i < workers; i++) {
      Worker w =
          Worker.builder("w" + i)
              .endpoint(Endpoint.of("bench", "w" + i))
              .pool("p" + (i % pools))
              .build();
      ws.add(w);
      ids[i] = w.id();
      poolOf[i] = PoolId.of("p" + (i % pools));
    }
    store = new InMemoryInfrastructureStore(Infrastructure.of(ps, ws, PoolId.of("p0"), true));
    for (WorkerId id : ids) {
      store.recordHealth(
          id, HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
  }

  @Benchmark
  public Object claimAndRelease() {
    int i = next;
    next = i + 1 == ids.length ? 0 : i + 1;
    WorkerId worker = ids[i];
    PoolId pool = poolOf[i];
    Instant now = Instant.now();
    LeaseRecord claim =
        new LeaseRecord(
            "bench/" + Long.toString(++seq, 36),
            worker,
            pool,
            "bench",
            "step",
            now,
            now.plusSeconds(60));
    LeaseRecord r = store.tryAcquireLease(claim).orElseThrow();
    store.releaseLease(r.leaseId());
    return r;
  }
}
