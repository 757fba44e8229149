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
import io.workerpools.store.LeaseClaim;
import io.workerpools.store.LeaseRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under B1: one lease claimed and released directly on the in-memory store, with no
 * resolver (no listener, no selection). What {@link ResolverBenchmark} costs above this is the
 * resolver's own work: choosing the worker, keeping its view current, tracking the lease.
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
  private InMemoryInfrastructureStore store;
  private final WorkerId worker = WorkerId.of("w");
  private final PoolId pool = PoolId.of("p");
  private long seq;

  @Setup
  public void setUp() {
    Worker w = Worker.builder("w").endpoint(Endpoint.of("bench", "w")).pool("p").build();
    store =
        new InMemoryInfrastructureStore(
            Infrastructure.of(List.of(WorkerPool.of("p", "P")), List.of(w), PoolId.of("p"), true));
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
  }

  @Benchmark
  public Object claimAndRelease() {
    Instant now = Instant.now();
    LeaseClaim claim =
        new LeaseClaim(
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
