package io.workerpools.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.store.StoreListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link InfrastructureStore} must have. A store implementation's test extends
 * this class and implements {@link #newStore(Infrastructure)}; every test here then runs against
 * it.
 *
 * <p>Events may be delivered on another thread (shared stores); the tests wait for them with a
 * bounded poll ({@link #EVENT_WAIT}), never with a sleep. Stores are closed after each test.
 */
public abstract class InfrastructureStoreContract {

  /** How long a test waits for an event to arrive before failing. */
  protected static final Duration EVENT_WAIT = Duration.ofSeconds(10);

  /** A fixed wall-clock instant the lease tests start from. */
  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final List<InfrastructureStore> opened = new ArrayList<>();

  /**
   * A new, empty store (no leases, no health, nothing draining) holding {@code initial}. Called
   * once or more per test; each call must give an independent store (for a database: a clean
   * schema).
   */
  protected abstract InfrastructureStore newStore(Infrastructure initial);

  /** The store under test, tracked so that it is closed after the test. */
  protected final InfrastructureStore open(Infrastructure initial) {
    InfrastructureStore s = newStore(initial);
    opened.add(s);
    return s;
  }

  @AfterEach
  void closeStoresOpenedByTheContract() throws Exception {
    for (InfrastructureStore s : opened) {
      s.close();
    }
    opened.clear();
  }

  // ---- helpers ----

  /** A worker in the given pools reached through a test endpoint, enabled, bash, no cap. */
  protected static Worker worker(String id, String... pools) {
    Worker.Builder b = Worker.builder(id).endpoint(Endpoint.of("test", id + ":22"));
    for (String p : pools) {
      b.pool(p);
    }
    return b.build();
  }

  /** Two pools ({@code default}, {@code linux}), workers {@code a} (cap 2) and {@code b}. */
  protected static Infrastructure twoPools() {
    return Infrastructure.of(
        List.of(
            new WorkerPool(PoolId.of("default"), "Default Worker Pool", ""),
            WorkerPool.of("linux", "Linux")),
        List.of(
            worker("a", "linux").toBuilder().maxConcurrentSteps(2).build(), worker("b", "linux")),
        PoolId.of("default"),
        true);
  }

  protected static LeaseRecord claim(String leaseId, String worker, String holder) {
    return new LeaseRecord(
        leaseId,
        WorkerId.of(worker),
        PoolId.of("linux"),
        holder,
        "step-" + leaseId,
        T0,
        T0.plusSeconds(60));
  }

  protected static HealthReport healthy() {
    return HealthReport.of(HealthStatus.HEALTHY, T0, Duration.ofMillis(3), "");
  }

  /** Waits (bounded poll, no sleep-based assertion) until {@code condition} holds. */
  protected static void awaitUntil(String what, BooleanSupplier condition) {
    Await.until(what, EVENT_WAIT, condition);
  }

  /** Records every event a store delivers. */
  protected static final class Recorder implements StoreListener {
    final List<StoreEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void onEvent(StoreEvent event) {
      events.add(event);
    }

    <E extends StoreEvent> E await(Class<E> type, Predicate<E> match) {
      awaitUntil(
          "a " + type.getSimpleName() + " event",
          () -> events.stream().anyMatch(e -> type.isInstance(e) && match.test(type.cast(e))));
      return events.stream()
          .filter(type::isInstance)
          .map(type::cast)
          .filter(match)
          .findFirst()
          .orElseThrow();
    }
  }

  // ---- configuration ----

  @Test
  void returnsTheInfrastructureItWasCreatedWith() {
    InfrastructureStore s = open(twoPools());
    Infrastructure i = s.infrastructure();
    assertThat(i.pools().keySet())
        .containsExactlyInAnyOrder(PoolId.of("default"), PoolId.of("linux"));
    assertThat(i.workers().keySet()).containsExactlyInAnyOrder(WorkerId.of("a"), WorkerId.of("b"));
    assertThat(i.defaultPool()).isEqualTo(PoolId.of("default"));
    assertThat(i.builtInWorkerEnabled()).isTrue();
    assertThat(i.workers().get(WorkerId.of("a")).capOrMax()).isEqualTo(2);
    assertThat(s.leases()).isEmpty();
    assertThat(s.health()).isEmpty();
    assertThat(s.draining()).isEmpty();
  }

  @Test
  void putPoolAddsThePoolAndAnnouncesIt() throws Exception {
    InfrastructureStore s = open(Infrastructure.initial());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.putPool(WorkerPool.of("win", "Windows"));
      assertThat(s.infrastructure().pool(PoolId.of("win"))).isPresent();
      r.await(StoreEvent.PoolPut.class, e -> e.pool().id().equals(PoolId.of("win")));
    }
  }

  @Test
  void aPoolNameUsedTwiceIsRejectedNamingTheField() {
    InfrastructureStore s = open(twoPools());
    assertThatThrownBy(() -> s.putPool(WorkerPool.of("other", "Linux")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("Linux")
        .hasMessageContaining("unique");
    assertThat(s.infrastructure().pool(PoolId.of("other"))).isEmpty();
  }

  @Test
  void theDefaultPoolCannotBeRemoved() {
    InfrastructureStore s = open(twoPools());
    assertThatThrownBy(() -> s.removePool(PoolId.of("default")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("default pool");
    assertThat(s.infrastructure().pool(PoolId.of("default"))).isPresent();
  }

  @Test
  void aPoolThatHoldsWorkersCannotBeRemoved() {
    InfrastructureStore s = open(twoPools());
    assertThatThrownBy(() -> s.removePool(PoolId.of("linux")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("still holds");
    assertThat(s.infrastructure().pool(PoolId.of("linux"))).isPresent();
  }

  @Test
  void removingAnUnknownPoolIsRejected() {
    InfrastructureStore s = open(twoPools());
    assertThatThrownBy(() -> s.removePool(PoolId.of("nope")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope");
  }

  @Test
  void anEmptyPoolIsRemovedAndTheRemovalAnnounced() throws Exception {
    InfrastructureStore s = open(twoPools());
    s.putPool(WorkerPool.of("empty", "Empty"));
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.removePool(PoolId.of("empty"));
      assertThat(s.infrastructure().pool(PoolId.of("empty"))).isEmpty();
      r.await(StoreEvent.PoolRemoved.class, e -> e.pool().equals(PoolId.of("empty")));
    }
  }

  @Test
  void theDefaultPoolMovesAndTheMoveIsAnnounced() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.setDefaultPool(PoolId.of("linux"));
      assertThat(s.infrastructure().defaultPool()).isEqualTo(PoolId.of("linux"));
      StoreEvent.DefaultPoolMoved e = r.await(StoreEvent.DefaultPoolMoved.class, x -> true);
      assertThat(e.previous()).isEqualTo(PoolId.of("default"));
      assertThat(e.current()).isEqualTo(PoolId.of("linux"));
    }
    // The old default can now be removed, being empty and no longer the default.
    s.removePool(PoolId.of("default"));
    assertThat(s.infrastructure().pools()).containsOnlyKeys(PoolId.of("linux"));
  }

  @Test
  void theDefaultPoolCannotMoveToAPoolThatDoesNotExist() {
    InfrastructureStore s = open(twoPools());
    assertThatThrownBy(() -> s.setDefaultPool(PoolId.of("nope")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope");
    assertThat(s.infrastructure().defaultPool()).isEqualTo(PoolId.of("default"));
  }

  @Test
  void theBuiltInWorkerSwitchIsStoredAndAnnounced() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.setBuiltInWorkerEnabled(false);
      assertThat(s.infrastructure().builtInWorkerEnabled()).isFalse();
      r.await(StoreEvent.BuiltInWorkerSwitched.class, e -> !e.enabled());
      s.setBuiltInWorkerEnabled(true);
      assertThat(s.infrastructure().builtInWorkerEnabled()).isTrue();
      r.await(StoreEvent.BuiltInWorkerSwitched.class, StoreEvent.BuiltInWorkerSwitched::enabled);
    }
  }

  @Test
  void aWorkerInAnUnknownPoolIsRejectedNamingThePool() {
    InfrastructureStore s = open(twoPools());
    assertThatThrownBy(() -> s.putWorker(worker("c", "nope")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope")
        .hasMessageContaining("known pools");
    assertThat(s.infrastructure().worker(WorkerId.of("c"))).isEmpty();
  }

  @Test
  void aWorkerNameUsedTwiceIsRejected() {
    InfrastructureStore s = open(twoPools());
    Worker dup = worker("c", "linux").toBuilder().name("a").build();
    assertThatThrownBy(() -> s.putWorker(dup))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("unique");
  }

  @Test
  void replacingAWorkerKeepsItsHealthDrainingAndLeases() throws Exception {
    InfrastructureStore s = open(twoPools());
    s.recordHealth(WorkerId.of("a"), healthy());
    s.setDraining(WorkerId.of("a"), true);
    s.setDraining(WorkerId.of("a"), false);
    assertThat(s.tryAcquireLease(claim("l1", "a", "n1"))).isPresent();
    s.setDraining(WorkerId.of("a"), true);
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      Worker bigger =
          s.infrastructure().workers().get(WorkerId.of("a")).toBuilder()
              .maxConcurrentSteps(5)
              .build();
      s.putWorker(bigger);
      StoreEvent.WorkerPut e = r.await(StoreEvent.WorkerPut.class, x -> x.worker().equals(bigger));
      assertThat(e.previous()).isNotNull();
      assertThat(e.previous().capOrMax()).isEqualTo(2);
    }
    assertThat(s.health()).containsKey(WorkerId.of("a"));
    assertThat(s.draining()).contains(WorkerId.of("a"));
    assertThat(s.leases()).extracting(LeaseRecord::leaseId).containsExactly("l1");
  }

  @Test
  void removingAWorkerForgetsItsHealthAndAnnouncesIt() throws Exception {
    InfrastructureStore s = open(twoPools());
    s.recordHealth(WorkerId.of("b"), healthy());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.removeWorker(WorkerId.of("b"));
      r.await(StoreEvent.WorkerRemoved.class, e -> e.worker().id().equals(WorkerId.of("b")));
    }
    assertThat(s.infrastructure().worker(WorkerId.of("b"))).isEmpty();
    assertThat(s.health()).doesNotContainKey(WorkerId.of("b"));
  }

  @Test
  void replaceInfrastructureSwapsTheConfigurationAndKeepsRuntimeStateOfWorkersThatStay() {
    InfrastructureStore s = open(twoPools());
    s.recordHealth(WorkerId.of("a"), healthy());
    s.recordHealth(WorkerId.of("b"), healthy());
    Infrastructure next = s.infrastructure().withoutWorker(WorkerId.of("b"));
    next = next.withPool(WorkerPool.of("win", "Windows")).withDefaultPool(PoolId.of("win"));
    s.replaceInfrastructure(next);
    Infrastructure now = s.infrastructure();
    assertThat(now.workers()).containsOnlyKeys(WorkerId.of("a"));
    assertThat(now.defaultPool()).isEqualTo(PoolId.of("win"));
    assertThat(s.health()).containsOnlyKeys(WorkerId.of("a"));
  }

  // ---- runtime state ----

  @Test
  void healthIsRecordedAndAnnouncedWithThePreviousReport() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder r = new Recorder();
    HealthReport bad =
        HealthReport.of(HealthStatus.UNAVAILABLE, T0.plusSeconds(5), null, "refused");
    try (AutoCloseable sub = s.subscribe(r)) {
      s.recordHealth(WorkerId.of("a"), healthy());
      s.recordHealth(WorkerId.of("a"), bad);
      StoreEvent.HealthRecorded e =
          r.await(StoreEvent.HealthRecorded.class, x -> x.current().equals(bad));
      assertThat(e.previous()).isEqualTo(healthy());
    }
    assertThat(s.health().get(WorkerId.of("a"))).isEqualTo(bad);
  }

  @Test
  void healthOfAWorkerThatDoesNotExistIsIgnored() {
    InfrastructureStore s = open(twoPools());
    s.recordHealth(WorkerId.of("ghost"), healthy());
    assertThat(s.health()).doesNotContainKey(WorkerId.of("ghost"));
  }

  @Test
  void drainingIsStoredAndAnnounced() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.setDraining(WorkerId.of("a"), true);
      assertThat(s.draining()).containsExactly(WorkerId.of("a"));
      r.await(StoreEvent.DrainingChanged.class, StoreEvent.DrainingChanged::draining);
      s.setDraining(WorkerId.of("a"), false);
      assertThat(s.draining()).isEmpty();
      r.await(StoreEvent.DrainingChanged.class, e -> !e.draining());
    }
  }

  @Test
  void drainingAnUnknownWorkerIsRejected() {
    InfrastructureStore s = open(twoPools());
    assertThatThrownBy(() -> s.setDraining(WorkerId.of("ghost"), true))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("ghost");
  }

  // ---- leases ----

  @Test
  void aLeaseIsGrantedAsClaimedAndAnnounced() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      Optional<LeaseRecord> l = s.tryAcquireLease(claim("l1", "a", "n1"));
      assertThat(l).contains(claim("l1", "a", "n1"));
      r.await(StoreEvent.LeaseAcquired.class, e -> e.lease().leaseId().equals("l1"));
    }
    assertThat(s.leases()).containsExactly(claim("l1", "a", "n1"));
  }

  @Test
  void noLeaseBeyondAWorkersCap() {
    InfrastructureStore s = open(twoPools());
    assertThat(s.tryAcquireLease(claim("l1", "a", "n1"))).isPresent();
    assertThat(s.tryAcquireLease(claim("l2", "a", "n2"))).isPresent();
    assertThat(s.tryAcquireLease(claim("l3", "a", "n1"))).isEmpty();
    assertThat(s.leases()).hasSize(2);
    assertThat(s.releaseLease("l1")).isTrue();
    assertThat(s.tryAcquireLease(claim("l3", "a", "n1"))).isPresent();
  }

  @Test
  void noLeaseOnADisabledDrainingOrUnknownWorker() {
    InfrastructureStore s = open(twoPools());
    Worker b = s.infrastructure().workers().get(WorkerId.of("b"));
    s.putWorker(b.toBuilder().enabled(false).build());
    assertThat(s.tryAcquireLease(claim("l1", "b", "n1"))).isEmpty();
    s.setDraining(WorkerId.of("a"), true);
    assertThat(s.tryAcquireLease(claim("l2", "a", "n1"))).isEmpty();
    assertThat(s.tryAcquireLease(claim("l3", "ghost", "n1"))).isEmpty();
    assertThat(s.leases()).isEmpty();
  }

  @Test
  void theBuiltInWorkerIsAlwaysLeasableAndHasNoCap() {
    InfrastructureStore s = open(Infrastructure.initial());
    for (int i = 0; i < 50; i++) {
      LeaseRecord c =
          new LeaseRecord(
              "b" + i,
              Worker.BUILT_IN_ID,
              Infrastructure.DEFAULT_POOL_ID,
              "n1",
              "s",
              T0,
              T0.plusSeconds(9));
      assertThat(s.tryAcquireLease(c)).isPresent();
    }
    assertThat(s.leases()).hasSize(50);
  }

  @Test
  void theBuiltInWorkerIsGrantedOnlyWhileRuleOneHoldsAtThatMoment() {
    // A resolver chooses from its own view, which may lag: the store has the last word on rule 1.
    InfrastructureStore s = open(twoPools()); // default pool empty, workers a and b in linux
    PoolId linux = PoolId.of("linux");
    int[] n = {0};
    java.util.function.Function<PoolId, Optional<LeaseRecord>> builtIn =
        pool ->
            s.tryAcquireLease(
                new LeaseRecord(
                    "bi" + n[0]++, Worker.BUILT_IN_ID, pool, "n1", "s", T0, T0.plusSeconds(9)));

    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("empty default pool").isPresent();
    assertThat(builtIn.apply(linux)).as("not the default pool").isEmpty();

    s.setBuiltInWorkerEnabled(false);
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("switched off").isEmpty();
    s.setBuiltInWorkerEnabled(true);
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("switched on again").isPresent();

    s.putWorker(worker("c", "default").toBuilder().enabled(false).build());
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID))
        .as("the default pool holds a worker, even a disabled one")
        .isEmpty();
    s.removeWorker(WorkerId.of("c"));
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("worker removed").isPresent();

    s.setDefaultPool(linux);
    assertThat(builtIn.apply(linux)).as("the new default pool holds workers").isEmpty();
    assertThat(builtIn.apply(Infrastructure.DEFAULT_POOL_ID)).as("no longer the default").isEmpty();
    assertThat(s.leases()).hasSize(3);
  }

  @Test
  void aLeaseIdIsNeverGrantedTwice() {
    InfrastructureStore s = open(twoPools());
    assertThat(s.tryAcquireLease(claim("l1", "b", "n1"))).isPresent();
    Optional<LeaseRecord> again;
    try {
      again = s.tryAcquireLease(claim("l1", "b", "n2"));
    } catch (RuntimeException rejected) {
      again = Optional.empty();
    }
    assertThat(again).isEmpty();
    assertThat(s.leases()).extracting(LeaseRecord::holder).containsExactly("n1");
  }

  @Test
  void releaseIsTrueExactlyOnceAndAnnouncedAsNotExpired() throws Exception {
    InfrastructureStore s = open(twoPools());
    s.tryAcquireLease(claim("l1", "a", "n1"));
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      assertThat(s.releaseLease("l1")).isTrue();
      assertThat(s.releaseLease("l1")).isFalse();
      assertThat(s.releaseLease("never-granted")).isFalse();
      StoreEvent.LeaseEnded e = r.await(StoreEvent.LeaseEnded.class, x -> true);
      assertThat(e.expired()).isFalse();
      assertThat(e.lease().leaseId()).isEqualTo("l1");
    }
    assertThat(s.leases()).isEmpty();
  }

  @Test
  void renewalMovesTheExpiryOfTheHoldersLeasesOnly() {
    InfrastructureStore s = open(twoPools());
    s.tryAcquireLease(claim("l1", "a", "n1"));
    s.tryAcquireLease(claim("l2", "b", "n1"));
    s.tryAcquireLease(claim("l3", "b", "n2"));
    Instant later = T0.plusSeconds(600);
    assertThat(s.renewLeases("n1", later)).isEqualTo(2);
    Map<String, Instant> expiry = new java.util.HashMap<>();
    s.leases().forEach(l -> expiry.put(l.leaseId(), l.expiresAt()));
    assertThat(expiry)
        .containsEntry("l1", later)
        .containsEntry("l2", later)
        .containsEntry("l3", T0.plusSeconds(60));
    assertThat(s.renewLeases("nobody", later)).isZero();
  }

  @Test
  void expiryEndsOnlyLeasesPastTheirExpiryAndFreesCapacity() throws Exception {
    InfrastructureStore s = open(twoPools());
    s.tryAcquireLease(claim("l1", "a", "dead"));
    s.tryAcquireLease(claim("l2", "a", "alive"));
    s.renewLeases("alive", T0.plusSeconds(600));
    assertThat(s.expireLeases(T0.plusSeconds(30))).isEmpty();
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      List<LeaseRecord> expired = s.expireLeases(T0.plusSeconds(61));
      assertThat(expired).extracting(LeaseRecord::leaseId).containsExactly("l1");
      StoreEvent.LeaseEnded e = r.await(StoreEvent.LeaseEnded.class, x -> true);
      assertThat(e.expired()).isTrue();
      assertThat(e.lease().leaseId()).isEqualTo("l1");
    }
    assertThat(s.leases()).extracting(LeaseRecord::leaseId).containsExactly("l2");
    assertThat(s.releaseLease("l1")).as("an expired lease is not released again").isFalse();
    assertThat(s.tryAcquireLease(claim("l3", "a", "alive"))).isPresent();
  }

  @Test
  void concurrentClaimsNeverOverLeaseAWorker() throws Exception {
    InfrastructureStore s = open(twoPools());
    int threads = 8;
    int perThread = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      AtomicInteger granted = new AtomicInteger();
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    if (s.tryAcquireLease(claim("t" + tt + "-" + i, "a", "n" + tt)).isPresent()) {
                      granted.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertThat(granted.get()).isEqualTo(2);
      assertThat(s.leases()).hasSize(2);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void concurrentReleasesOfOneLeaseSucceedExactlyOnce() throws Exception {
    InfrastructureStore s = open(twoPools());
    int leases = 40;
    for (int i = 0; i < leases; i++) {
      assertThat(s.tryAcquireLease(claim("l" + i, "b", "n1"))).isPresent();
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      AtomicInteger released = new AtomicInteger();
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < leases; i++) {
                    if (s.releaseLease("l" + i)) {
                      released.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertThat(released.get()).isEqualTo(leases);
      assertThat(s.leases()).isEmpty();
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- events ----

  @Test
  void eventsArriveInTheOrderTheChangesWereMade() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable sub = s.subscribe(r)) {
      s.recordHealth(WorkerId.of("b"), healthy());
      s.setDraining(WorkerId.of("b"), true);
      s.setDraining(WorkerId.of("b"), false);
      s.tryAcquireLease(claim("l1", "b", "n1"));
      s.releaseLease("l1");
      r.await(StoreEvent.LeaseEnded.class, x -> true);
      List<Class<?>> kinds = new ArrayList<>();
      for (StoreEvent e : r.events) {
        if (!(e instanceof StoreEvent.Resync)) {
          kinds.add(e.getClass());
        }
      }
      assertThat(kinds)
          .containsSubsequence(
              StoreEvent.HealthRecorded.class,
              StoreEvent.DrainingChanged.class,
              StoreEvent.DrainingChanged.class,
              StoreEvent.LeaseAcquired.class,
              StoreEvent.LeaseEnded.class);
    }
  }

  @Test
  void closingASubscriptionStopsItsEvents() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder gone = new Recorder();
    Recorder stays = new Recorder();
    AutoCloseable sub = s.subscribe(gone);
    try (AutoCloseable sub2 = s.subscribe(stays)) {
      sub.close();
      s.putPool(WorkerPool.of("win", "Windows"));
      stays.await(StoreEvent.PoolPut.class, x -> true);
      // Whatever the first listener was delivered, it was not this change.
      assertThat(gone.events).noneMatch(e -> e instanceof StoreEvent.PoolPut);
    }
  }

  @Test
  void aFailingListenerDoesNotStopOthersOrTheChange() throws Exception {
    InfrastructureStore s = open(twoPools());
    Recorder r = new Recorder();
    try (AutoCloseable bad =
            s.subscribe(
                e -> {
                  throw new IllegalStateException("listener bug");
                });
        AutoCloseable good = s.subscribe(r)) {
      s.putPool(WorkerPool.of("win", "Windows"));
      r.await(StoreEvent.PoolPut.class, x -> true);
    }
    assertThat(s.infrastructure().pool(PoolId.of("win"))).isPresent();
  }
}
