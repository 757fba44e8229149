package io.workerpools.testing;

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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;

/**
 * The behaviour every {@link InfrastructureStore} must have. A store implementation's test extends
 * this class and implements {@link #newStore(Infrastructure)}; every test here then runs against
 * it.
 *
 * <p>Events may be delivered on another thread (shared stores); the tests wait for them with a
 * bounded poll ({@link #EVENT_WAIT}), never with a sleep. Stores are closed after each test.
 *
 * <p>The cases are grouped by concern (pools and workers, leases, rule 1 at grant time, events) in
 * interfaces of this package that this class implements; JUnit runs their {@code @Test} methods in
 * every subclass, so extending this class is all a store's test needs.
 */
public abstract class InfrastructureStoreContract
    implements StoreConfigurationCases, StoreLeaseCases, StoreRuleOneCases, StoreEventCases {

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

  /** The fixtures above, for the groups of cases; not for subclasses. */
  @Override
  public final InfrastructureStoreContract storeContract() {
    return this;
  }
}
