package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.StoreEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Many threads, one pool with caps, two host nodes sharing one store: no lost or double lease,
 * never over a cap, no deadlock between store events and resolution, no lease leaked by a waiter
 * that gives up at the moment it is served. Every wait is bounded; a deadlock fails the test
 * instead of hanging.
 */
class ResolverConcurrencyTest {
  private static final int THREADS = 6;
  private static final int CAP = 2;
  private static final int WORKERS = 5;

  private final Fixture fx = new Fixture().pool("p");
  private final ExecutorService pool = Executors.newFixedThreadPool(THREADS + 2);
  private final Map<String, AtomicInteger> granted = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> ended = new ConcurrentHashMap<>();
  private final Map<WorkerId, AtomicInteger> inUse = new ConcurrentHashMap<>();
  private final AtomicBoolean overCap = new AtomicBoolean();
  private final StepRequirements req = StepRequirements.inPool("p");

  ResolverConcurrencyTest() {
    for (int i = 0; i < WORKERS; i++) {
      fx.worker(
          Worker.builder("w" + i).endpoint(Endpoint.of("t", "w" + i)).maxConcurrentSteps(CAP), "p");
      inUse.put(WorkerId.of("w" + i), new AtomicInteger());
    }
    fx.store.subscribe(
        e -> {
          if (e instanceof StoreEvent.LeaseAcquired a) {
            granted
                .computeIfAbsent(a.lease().leaseId(), k -> new AtomicInteger())
                .incrementAndGet();
          } else if (e instanceof StoreEvent.LeaseEnded x) {
            ended.computeIfAbsent(x.lease().leaseId(), k -> new AtomicInteger()).incrementAndGet();
          }
        });
  }

  @AfterEach
  void tearDown() throws Exception {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    fx.close();
  }

  /** Marks a worker in use while a lease is held; notes if more than its cap are in use at once. */
  private void use(WorkerLease l) {
    int n = inUse.get(l.worker().id()).incrementAndGet();
    if (n > CAP) {
      overCap.set(true);
    }
    Thread.onSpinWait();
    inUse.get(l.worker().id()).decrementAndGet();
    l.close();
  }

  private void runAll(List<Runnable> tasks) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (Runnable t : tasks) {
      done.add(
          pool.submit(
              () -> {
                start.await();
                t.run();
                return null;
              }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get(90, TimeUnit.SECONDS);
    }
  }

  private void assertEveryLeaseGrantedAndEndedOnce(int expected) {
    assertThat(fx.store.leases()).isEmpty();
    assertThat(granted).hasSize(expected);
    assertThat(ended.keySet()).isEqualTo(granted.keySet());
    assertThat(granted.values()).allMatch(n -> n.get() == 1);
    assertThat(ended.values()).allMatch(n -> n.get() == 1);
    assertThat(overCap).as("a worker held more leases than its cap").isFalse();
  }

  @Test
  void manyThreadsOnTwoNodesNeverLoseDoubleOrOverLease() throws Exception {
    WorkerResolver[] nodes = {fx.resolver("a"), fx.resolver("b")};
    int perThread = 1500;
    AtomicInteger leased = new AtomicInteger();
    List<Runnable> tasks = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      WorkerResolver r = nodes[t % 2];
      tasks.add(
          () -> {
            int got = 0;
            while (got < perThread) {
              try {
                use(r.acquire(req, "s"));
                got++;
                leased.incrementAndGet();
              } catch (NoEligibleWorkerException busy) {
                Thread.yield();
              }
            }
          });
    }
    runAll(tasks);
    assertThat(leased.get()).isEqualTo(THREADS * perThread);
    assertEveryLeaseGrantedAndEndedOnce(THREADS * perThread);
    for (WorkerResolver r : nodes) {
      for (int i = 0; i < WORKERS; i++) {
        assertThat(r.activeLeases(WorkerId.of("w" + i))).isZero();
      }
      assertThat(r.heldLeases()).isEmpty();
    }
  }

  @Test
  void waitingAcquirersAreAllServedAndNeverOverLease() throws Exception {
    WorkerResolver r = fx.resolver("a");
    int perThread = 300;
    List<Runnable> tasks = new ArrayList<>();
    for (int t = 0; t < THREADS * 2; t++) {
      tasks.add(
          () -> {
            for (int i = 0; i < perThread; i++) {
              use(r.acquire(req, "s", Duration.ofSeconds(60)).join());
            }
          });
    }
    // Twice as many threads as slots: most acquisitions wait, and are woken by releases.
    runAll(tasks.subList(0, THREADS));
    runAll(tasks.subList(THREADS, tasks.size()));
    assertEveryLeaseGrantedAndEndedOnce(THREADS * 2 * perThread);
    assertThat(r.waiting()).isZero();
  }

  @Test
  void storeChangesDuringResolutionNeverDeadlockOrBreakTheIndex() throws Exception {
    WorkerResolver r = fx.resolver("a");
    AtomicBoolean stop = new AtomicBoolean();
    int perThread = 1000;
    List<Runnable> tasks = new ArrayList<>();
    for (int t = 0; t < THREADS - 2; t++) {
      tasks.add(
          () -> {
            int got = 0;
            while (got < perThread) {
              try {
                use(r.acquire(req, "s"));
                got++;
              } catch (NoEligibleWorkerException busy) {
                Thread.yield();
              }
            }
          });
    }
    List<Runnable> churn =
        List.of(
            () -> {
              ThreadLocalRandom rnd = ThreadLocalRandom.current();
              while (!stop.get()) {
                String w = "w" + rnd.nextInt(1, WORKERS);
                fx.health(w, rnd.nextBoolean() ? HealthStatus.HEALTHY : HealthStatus.UNAVAILABLE);
              }
            },
            () -> {
              ThreadLocalRandom rnd = ThreadLocalRandom.current();
              while (!stop.get()) {
                fx.store.setDraining(WorkerId.of("w" + rnd.nextInt(1, WORKERS)), rnd.nextBoolean());
              }
            });
    List<Future<?>> churning = new ArrayList<>();
    for (Runnable c : churn) {
      churning.add(pool.submit(c));
    }
    try {
      runAll(tasks);
    } finally {
      stop.set(true);
    }
    for (Future<?> f : churning) {
      f.get(30, TimeUnit.SECONDS);
    }
    for (int i = 1; i < WORKERS; i++) {
      fx.store.setDraining(WorkerId.of("w" + i), false);
      fx.health("w" + i, HealthStatus.HEALTHY);
    }
    assertEveryLeaseGrantedAndEndedOnce(granted.size());
    // The index is intact: with everything idle and healthy, round robin reaches every worker.
    java.util.Set<WorkerId> seen = new java.util.HashSet<>();
    for (int i = 0; i < WORKERS; i++) {
      try (WorkerLease l = r.acquire(req, "after")) {
        seen.add(l.worker().id());
      }
    }
    assertThat(seen).hasSize(WORKERS);
  }

  @Test
  void waitersThatTimeOutOrAreCancelledWhileBeingServedLeakNoLease() throws Exception {
    WorkerResolver r = fx.resolver("a");
    int perThread = 400;
    AtomicInteger served = new AtomicInteger();
    AtomicInteger gaveUp = new AtomicInteger();
    List<Runnable> tasks = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      tasks.add(
          () -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            for (int i = 0; i < perThread; i++) {
              CompletableFuture<WorkerLease> f =
                  r.acquire(req, "s", Duration.ofNanos(rnd.nextInt(1, 200_000)));
              if (rnd.nextInt(3) == 0) {
                f.cancel(false);
              }
              try {
                use(f.join());
                served.incrementAndGet();
              } catch (CancellationException | CompletionException e) {
                gaveUp.incrementAndGet();
              }
            }
          });
    }
    runAll(tasks);
    assertThat(served.get() + gaveUp.get()).isEqualTo(THREADS * perThread);
    assertThat(served.get()).isPositive();
    Fixture.awaitUntil("waiters to drain", () -> r.waiting() == 0);
    // Any lease granted to a waiter that had already given up was released by the resolver.
    Fixture.awaitUntil("no leases left", () -> fx.store.leases().isEmpty());
    assertEveryLeaseGrantedAndEndedOnce(granted.size());
    assertThat(r.heldLeases()).isEmpty();
  }
}
