package io.workerpools.jdbc;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.WorkerId;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.LeaseRecord;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A second host node in its own JVM, for the two-process tests. Usage: {@code NodeMain <mode> <jdbc
 * url> <pool> <worker,worker...> <n> <holder>}; modes:
 *
 * <ul>
 *   <li>{@code hammer}: two threads each try {@code n} lease round trips; prints a {@code HELD}
 *       line per lease held and {@code DONE granted refused releasedTrue releasedFalse}.
 *   <li>{@code hold}: leases each worker once with a time-to-live of {@code n} seconds, prints
 *       {@code HOLDING k} and waits for stdin to close (the test kills it first).
 *   <li>{@code resolve <ttl s> <skew s>}: a {@link WorkerResolver} (node id {@code holder}, its
 *       clock skewed by {@code skew}) on two threads each leasing {@code n} times from the pool
 *       (waiting up to 60 s), holding each lease across a read of the lease table, and on past
 *       {@code n} until it has held the worker named by an optional last argument (up to 2
 *       minutes); prints a {@code HELD} line per lease and {@code DONE granted lost overCap} (lost:
 *       expired under its holder; overCap: the table showed more leases on the worker than its
 *       cap).
 *   <li>{@code resolve-hold <ttl s> <skew s>}: a resolver that leases each worker once, renews
 *       them, prints {@code HOLDING k} and waits (the test kills it).
 * </ul>
 */
public final class NodeMain {
  private NodeMain() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(args[1]);
    ds.setUser("postgres");
    PoolId pool = PoolId.of(args[2]);
    List<String> workers = Arrays.asList(args[3].split(","));
    int n = Integer.parseInt(args[4]);
    String holder = args[5];
    try (JdbcInfrastructureStore store =
        JdbcInfrastructureStore.builder(TestPools.of(ds)).nodeId(holder).build()) {
      if (mode.equals("hammer")) {
        System.out.println("READY");
        ExecutorService threads = Executors.newFixedThreadPool(2);
        List<Future<Hammer.Result>> runs = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
          runs.add(
              threads.submit(
                  () ->
                      Hammer.run(
                          store,
                          holder,
                          pool,
                          workers,
                          Integer.MAX_VALUE,
                          n,
                          h -> System.out.println(h.format()))));
        }
        int[] sum = new int[4];
        for (Future<Hammer.Result> f : runs) {
          Hammer.Result r = f.get();
          sum[0] += r.granted();
          sum[1] += r.refused();
          sum[2] += r.releasedTrue();
          sum[3] += r.releasedFalse();
        }
        threads.shutdown();
        System.out.println("DONE " + sum[0] + " " + sum[1] + " " + sum[2] + " " + sum[3]);
      } else if (mode.equals("hold")) {
        int held = 0;
        for (String w : workers) {
          Instant now = Instant.now();
          LeaseRecord c =
              new LeaseRecord(
                  UUID.randomUUID().toString(),
                  WorkerId.of(w),
                  pool,
                  holder,
                  "held-" + w,
                  now,
                  now.plusSeconds(n));
          if (store.tryAcquireLease(c).isPresent()) {
            held++;
          }
        }
        System.out.println("HOLDING " + held);
        System.out.flush();
        waitForStdinToClose();
      } else if (mode.startsWith("resolve")) {
        Duration ttl = Duration.ofSeconds(Long.parseLong(args[6]));
        Duration skew = Duration.ofSeconds(Long.parseLong(args[7]));
        try (WorkerResolver r =
            WorkerResolver.builder(store)
                .nodeId(holder)
                .leaseTtl(ttl)
                .timeSource(new JdbcDatabaseClockTest.SkewedClock(skew))
                .build()) {
          if (mode.equals("resolve-hold")) {
            for (String w : workers) {
              r.acquire(StepRequirements.inPool(pool.value()), "held-" + w, Duration.ofSeconds(30))
                  .get(60, TimeUnit.SECONDS);
            }
            System.out.println("HOLDING " + r.heldLeases().size());
            System.out.flush();
            waitForStdinToClose();
          } else {
            System.out.println("READY");
            resolveLoop(store, r, pool, n, args.length > 8 ? args[8] : null);
          }
        }
      } else {
        throw new IllegalArgumentException("unknown mode " + mode);
      }
    }
    System.out.flush();
  }

  private static void resolveLoop(
      JdbcInfrastructureStore store, WorkerResolver r, PoolId pool, int n, String mustUse)
      throws Exception {
    Map<String, Integer> caps = new HashMap<>();
    store.infrastructure().workers().values().forEach(w -> caps.put(w.id().value(), w.capOrMax()));
    AtomicInteger granted = new AtomicInteger();
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger overCap = new AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean used =
        new java.util.concurrent.atomic.AtomicBoolean(mustUse == null);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    List<Future<?>> runs = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      int tt = t;
      runs.add(
          threads.submit(
              () -> {
                for (int i = 0; i < n || (!used.get() && System.nanoTime() < deadline); i++) {
                  WorkerLease l =
                      r.acquire(
                              StepRequirements.inPool(pool.value()),
                              "s" + tt + "-" + i,
                              Duration.ofSeconds(60))
                          .get(90, TimeUnit.SECONDS);
                  granted.incrementAndGet();
                  String w = l.worker().id().value();
                  if (w.equals(mustUse)) {
                    used.set(true);
                  }
                  long from = System.nanoTime();
                  long inTable =
                      store.leases().stream().filter(x -> x.worker().value().equals(w)).count();
                  if (inTable > caps.get(w)) {
                    overCap.incrementAndGet();
                  }
                  long to = System.nanoTime();
                  if (l.isReleased()) {
                    lost.incrementAndGet();
                  }
                  l.close();
                  System.out.println(new LeaseWitness.Held(w, from, to).format());
                }
                return null;
              }));
    }
    for (Future<?> f : runs) {
      f.get();
    }
    threads.shutdown();
    System.out.println("DONE " + granted + " " + lost + " " + overCap);
  }

  private static void waitForStdinToClose() throws IOException {
    while (System.in.read() >= 0) {
      // nothing: the parent kills this process
    }
  }
}
