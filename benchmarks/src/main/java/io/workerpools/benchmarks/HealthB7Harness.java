package io.workerpools.benchmarks;

import io.workerpools.health.HealthMonitor;
import io.workerpools.health.HealthPolicy;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.Resolution;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.StoreEvent;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Benchmark B7: health at 10,000 workers. A documented harness rather than JMH, because the figure
 * is the wall time of one sweep over I/O-bound checks, not a hot loop.
 *
 * <p>Each worker sits behind a simulated transport that answers after a network delay drawn
 * uniformly from 5 to 50 ms, on one scheduled-executor thread (no thread per check). One percent of
 * the workers are dead (they answer {@code UNAVAILABLE} after the same delay).
 *
 * <ul>
 *   <li><b>baseline</b>: the same checks, with the same delays, driven by a bare {@link Semaphore}
 *       of {@code maxInFlight} permits: the floor any bounded checker can reach.
 *   <li><b>monitor</b>: a {@link HealthMonitor} started on a store holding the workers, with the
 *       same bound; timed from {@code start()} until every worker has a report in the store.
 * </ul>
 *
 * Rounds alternate baseline and monitor; the medians and their ratio are printed. After each
 * monitor round a resolver makes 20,000 resolutions and the harness counts any that chose a dead
 * worker (must be zero).
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar
 * io.workerpools.benchmarks.HealthB7Harness [workers=10000] [maxInFlight=64] [rounds=3]}.
 */
public final class HealthB7Harness {
  private static final String KIND = "simulated";
  private static final int POOLS = 100;

  private HealthB7Harness() {}

  /** The simulated network: answers after a per-worker delay on one scheduler thread. */
  static final class SimulatedTransport implements WorkerTransport {
    final ScheduledThreadPoolExecutor net;
    final Map<WorkerId, Long> delayMicros;
    final Map<WorkerId, Boolean> dead;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
    final AtomicLong checks = new AtomicLong();
    volatile AtomicLongArray perSecond;
    volatile long perSecondFrom;

    SimulatedTransport(Map<WorkerId, Long> delayMicros, Map<WorkerId, Boolean> dead) {
      this.net =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "simulated-network");
                t.setDaemon(true);
                return t;
              });
      this.delayMicros = delayMicros;
      this.dead = dead;
    }

    void reset() {
      maxInFlight.set(0);
    }

    @Override
    public boolean supports(Endpoint endpoint) {
      return endpoint.kind().equals(KIND);
    }

    @Override
    public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
      int now = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(now, Math::max);
      checks.incrementAndGet();
      AtomicLongArray buckets = perSecond;
      if (buckets != null) {
        long sec = (System.nanoTime() - perSecondFrom) / 1_000_000_000L;
        if (sec >= 0 && sec < buckets.length()) {
          buckets.incrementAndGet((int) sec);
        }
      }
      CompletableFuture<HealthReport> f = new CompletableFuture<>();
      long micros = delayMicros.get(worker.id());
      boolean isDead = dead.get(worker.id());
      net.schedule(
          () -> {
            inFlight.decrementAndGet();
            f.complete(
                HealthReport.of(
                    isDead ? HealthStatus.UNAVAILABLE : HealthStatus.HEALTHY,
                    Instant.now(),
                    Duration.ofNanos(micros * 1000),
                    isDead ? "connection refused" : ""));
          },
          micros,
          TimeUnit.MICROSECONDS);
      return f;
    }

    @Override
    public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
      throw new UnsupportedOperationException("the B7 harness runs no scripts");
    }

    @Override
    public void close() {
      net.shutdownNow();
    }
  }

  record Run(
      double seconds, int maxInFlight, double cpuSeconds, long heapDeltaBytes, int threads) {}

  public static void main(String[] args) throws Exception {
    int workers = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int maxInFlight = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int steadySeconds = args.length > 3 ? Integer.parseInt(args[3]) : 45;

    SplittableRandom random = new SplittableRandom(7);
    List<Worker> all = new ArrayList<>();
    Map<WorkerId, Long> delays = new ConcurrentHashMap<>();
    Map<WorkerId, Boolean> dead = new ConcurrentHashMap<>();
    long totalMicros = 0;
    for (int i = 0; i < workers; i++) {
      Worker w =
          Worker.builder("w" + i)
              .endpoint(Endpoint.of(KIND, "10.0." + (i / 250) + "." + (i % 250)))
              .pool("pool-" + (i % POOLS))
              .build();
      all.add(w);
      long d = random.nextLong(5_000, 50_001);
      delays.put(w.id(), d);
      dead.put(w.id(), i % 100 == 37);
      totalMicros += d;
    }
    System.out.printf(
        Locale.ROOT,
        "B7: %d workers in %d pools, %d checks in flight at most, delays 5-50 ms (sum %.1f s,"
            + " ideal sweep %.2f s), 1%% dead; JDK %s, %d CPUs%n",
        workers,
        POOLS,
        maxInFlight,
        totalMicros / 1e6,
        totalMicros / 1e6 / maxInFlight,
        System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors());

    try (SimulatedTransport transport = new SimulatedTransport(delays, dead)) {
      // Warm-up: a tenth of the workers, both ways.
      List<Worker> warm = all.subList(0, Math.max(1, workers / 10));
      baseline(warm, transport, maxInFlight);
      monitor(warm, transport, maxInFlight, false);

      List<Run> base = new ArrayList<>();
      List<Run> mon = new ArrayList<>();
      for (int r = 1; r <= rounds; r++) {
        Run b = baseline(all, transport, maxInFlight);
        Run m = monitor(all, transport, maxInFlight, true);
        base.add(b);
        mon.add(m);
        System.out.printf(
            Locale.ROOT,
            "round %d: baseline %.3f s (max in flight %d, cpu %.2f s) | monitor %.3f s (max in"
                + " flight %d, cpu %.2f s, heap +%.1f MiB, threads +%d) | ratio %.3f%n",
            r,
            b.seconds,
            b.maxInFlight,
            b.cpuSeconds,
            m.seconds,
            m.maxInFlight,
            m.cpuSeconds,
            m.heapDeltaBytes / 1048576.0,
            m.threads,
            m.seconds / b.seconds);
      }
      double bMed = median(base.stream().map(Run::seconds).toList());
      double mMed = median(mon.stream().map(Run::seconds).toList());
      System.out.printf(
          Locale.ROOT,
          "MEDIAN: baseline %.3f s, monitor %.3f s, ratio %.3f; monitor cpu %.2f s (baseline %.2f"
              + " s), heap +%.1f MiB, max in flight %d (target: all checked <= 60 s, <= %d in"
              + " flight)%n",
          bMed,
          mMed,
          mMed / bMed,
          median(mon.stream().map(Run::cpuSeconds).toList()),
          median(base.stream().map(Run::cpuSeconds).toList()),
          median(mon.stream().map(r -> (double) r.heapDeltaBytes).toList()) / 1048576.0,
          mon.stream().mapToInt(Run::maxInFlight).max().orElse(0),
          maxInFlight);
      if (steadySeconds > 0) {
        steady(all, transport, maxInFlight, steadySeconds);
      }
    }
  }

  /**
   * Steady state: a 15 s interval (so each worker is checked every 15 s ± 10 %), measured for
   * {@code seconds} after the first sweep. Reports check starts per second (mean, max) and CPU.
   */
  private static void steady(
      List<Worker> workers, SimulatedTransport t, int maxInFlight, int seconds)
      throws InterruptedException {
    List<WorkerPool> pools = new ArrayList<>();
    for (int p = 0; p < POOLS; p++) {
      pools.add(WorkerPool.of("pool-" + p, "Pool " + p));
    }
    InMemoryInfrastructureStore store =
        new InMemoryInfrastructureStore(
            Infrastructure.of(pools, workers, PoolId.of("pool-0"), true));
    Duration interval = Duration.ofSeconds(15);
    try (HealthMonitor monitor =
        HealthMonitor.builder(store, List.of(t))
            .maxInFlight(maxInFlight)
            .policy(
                HealthPolicy.builder().interval(interval).timeout(Duration.ofSeconds(5)).build())
            .build()) {
      monitor.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (store.health().size() < workers.size()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("first sweep did not finish");
        }
        Thread.sleep(50);
      }
      // Skip one interval: the checks that fell due during the sweep queue behind it and catch up
      // at full speed just after it; that transient is not the steady state.
      Thread.sleep(interval.toMillis());
      t.perSecondFrom = System.nanoTime();
      t.perSecond = new AtomicLongArray(seconds);
      long checks0 = t.checks.get();
      long cpu0 = cpuNanos();
      Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
      long cpu = cpuNanos() - cpu0;
      long checks = t.checks.get() - checks0;
      AtomicLongArray b = t.perSecond;
      t.perSecond = null;
      long max = 0;
      long min = Long.MAX_VALUE;
      StringBuilder series = new StringBuilder();
      for (int i = 0; i < b.length(); i++) {
        max = Math.max(max, b.get(i));
        min = Math.min(min, b.get(i));
        series.append(i == 0 ? "" : " ").append(b.get(i));
      }
      System.out.println("STEADY checks started per second: " + series);
      System.out.printf(
          Locale.ROOT,
          "STEADY: %d workers, interval %s +-10%%, %d s: %d checks (%.0f/s; ideal %.0f/s), per"
              + " second min %d max %d, max in flight %d, cpu %.2f s (%.1f%% of one core, %.1f"
              + " us per check)%n",
          workers.size(),
          interval,
          seconds,
          checks,
          checks / (double) seconds,
          workers.size() / (double) interval.toSeconds(),
          min,
          max,
          monitor.stats().maxInFlight(),
          cpu / 1e9,
          100.0 * cpu / 1e9 / seconds,
          cpu / 1e3 / Math.max(1, checks));
    }
  }

  private static Run baseline(List<Worker> workers, SimulatedTransport t, int maxInFlight)
      throws InterruptedException {
    t.reset();
    Semaphore permits = new Semaphore(maxInFlight);
    CountDownLatch done = new CountDownLatch(workers.size());
    HealthCheckRequest req = HealthCheckRequest.connectivity(Duration.ofSeconds(10));
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    for (Worker w : workers) {
      permits.acquire();
      t.checkHealth(w, req)
          .whenComplete(
              (r, e) -> {
                permits.release();
                done.countDown();
              });
    }
    done.await();
    long t1 = System.nanoTime();
    return new Run((t1 - t0) / 1e9, t.maxInFlight.get(), (cpuNanos() - cpu0) / 1e9, 0, 0);
  }

  private static Run monitor(
      List<Worker> workers, SimulatedTransport t, int maxInFlight, boolean checkResolver)
      throws InterruptedException {
    List<WorkerPool> pools = new ArrayList<>();
    for (int p = 0; p < POOLS; p++) {
      pools.add(WorkerPool.of("pool-" + p, "Pool " + p));
    }
    InMemoryInfrastructureStore store =
        new InMemoryInfrastructureStore(
            Infrastructure.of(pools, workers, PoolId.of("pool-0"), true));
    t.reset();
    CountDownLatch done = new CountDownLatch(workers.size());
    Map<WorkerId, Boolean> seen = new ConcurrentHashMap<>();
    AutoCloseable sub =
        store.subscribe(
            e -> {
              if (e instanceof StoreEvent.HealthRecorded h
                  && seen.putIfAbsent(h.worker(), Boolean.TRUE) == null) {
                done.countDown();
              }
            });
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    System.gc();
    long heap0 = mem.getHeapMemoryUsage().getUsed();
    int threads0 = threads.getThreadCount();
    HealthMonitor monitor =
        HealthMonitor.builder(store, List.of(t))
            .maxInFlight(maxInFlight)
            .policy(
                HealthPolicy.builder()
                    .interval(Duration.ofMinutes(1))
                    .timeout(Duration.ofSeconds(10))
                    .build())
            .build();
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    monitor.start();
    if (!done.await(120, TimeUnit.SECONDS)) {
      throw new IllegalStateException(
          "only " + seen.size() + " of " + workers.size() + " workers checked within 120 s");
    }
    long t1 = System.nanoTime();
    long cpu = cpuNanos() - cpu0;
    int threadDelta = threads.getThreadCount() - threads0;
    System.gc();
    long heapDelta = mem.getHeapMemoryUsage().getUsed() - heap0;
    HealthMonitor.Stats stats = monitor.stats();
    if (stats.maxInFlight() > maxInFlight || t.maxInFlight.get() > maxInFlight) {
      throw new IllegalStateException(
          "bound broken: " + stats + ", transport saw " + t.maxInFlight);
    }
    if (checkResolver) {
      int chosenDead = 0;
      try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("b7").build()) {
        for (int i = 0; i < 20_000; i++) {
          Resolution r = resolver.resolve(StepRequirements.inPool("pool-" + (i % POOLS)));
          if (r instanceof Resolution.Resolved ok && t.dead.get(ok.worker().id())) {
            chosenDead++;
          }
        }
      }
      long deadSeen =
          store.health().values().stream()
              .filter(h -> h.status() == HealthStatus.UNAVAILABLE)
              .count();
      System.out.printf(
          Locale.ROOT,
          "  resolver: 20000 resolutions, %d chose a dead worker; %d workers seen UNAVAILABLE%n",
          chosenDead,
          deadSeen);
      if (chosenDead > 0) {
        throw new IllegalStateException("a dead worker was chosen " + chosenDead + " times");
      }
    }
    monitor.close();
    // Checks the monitor had started after the sweep finish on the simulated network; wait for
    // them so the next round's in-flight count starts from zero.
    while (t.inFlight.get() > 0) {
      Thread.sleep(10);
    }
    try {
      sub.close();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return new Run((t1 - t0) / 1e9, t.maxInFlight.get(), cpu / 1e9, heapDelta, threadDelta);
  }

  private static long cpuNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime();
    }
    return -1;
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
