package io.workerpools.health;

import static io.workerpools.health.ScriptedTransport.Outcome.HANGS;
import static io.workerpools.health.ScriptedTransport.Outcome.HAS_WARNINGS;
import static io.workerpools.health.ScriptedTransport.Outcome.HEALTHY;
import static io.workerpools.health.ScriptedTransport.Outcome.THROWS;
import static io.workerpools.health.ScriptedTransport.Outcome.UNAVAILABLE;
import static io.workerpools.health.ScriptedTransport.Outcome.UNHEALTHY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.NoEligibleWorkerException;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.ManualScheduler;
import io.workerpools.time.ManualTimeSource;
import io.workerpools.transport.ScriptRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The monitor on a manual clock with a scripted transport: every step is deterministic. */
class HealthMonitorTest {
  private final ManualTimeSource clock = new ManualTimeSource();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
  private final ScriptedTransport transport = new ScriptedTransport(clock);
  private final RecordingListener events = new RecordingListener();
  private HealthMonitor monitor;

  private static final Duration INTERVAL = Duration.ofSeconds(60);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private HealthPolicy.Builder policy() {
    return HealthPolicy.builder().interval(INTERVAL).timeout(TIMEOUT).jitter(0);
  }

  private HealthMonitor start(HealthPolicy policy) {
    return start(HealthMonitor.builder(store, List.of(transport)).policy(policy));
  }

  private HealthMonitor start(HealthMonitor.Builder b) {
    monitor = b.timeSource(clock).scheduler(scheduler).random(new SplittableRandom(42)).build();
    monitor.addListener(events);
    monitor.start();
    scheduler.runDue();
    return monitor;
  }

  @AfterEach
  void close() {
    if (monitor != null) {
      monitor.close();
    }
  }

  private Worker worker(String id, String pool) {
    if (store.infrastructure().pool(PoolId.of(pool)).isEmpty()) {
      store.putPool(WorkerPool.of(pool, "Pool " + pool));
    }
    Worker w = Worker.builder(id).endpoint(ScriptedTransport.endpoint(id)).pool(pool).build();
    store.putWorker(w);
    return w;
  }

  private HealthStatus stored(Worker w) {
    HealthReport r = store.health().get(w.id());
    return r == null ? null : r.status();
  }

  private HealthStatus status(Worker w) {
    return monitor.status(w.id()).orElseThrow().status();
  }

  /** Runs the next scheduled check of every worker (jitter is 0 in these tests unless set). */
  private void nextRound() {
    scheduler.advance(INTERVAL);
  }

  // ------------------------------------------------------------------ new workers

  @Test
  void aNewWorkerIsCheckedAtOnceAndBecomesEligible() {
    start(policy().build());
    Worker w = worker("w1", "default");
    assertThat(stored(w)).as("nothing recorded before the scheduler runs").isNull();
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).isEqualTo(1);
    assertThat(stored(w)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(events.changesFor(w.id()))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.previous()).isEqualTo(HealthStatus.UNKNOWN);
              assertThat(c.current()).isEqualTo(HealthStatus.HEALTHY);
            });
  }

  @Test
  void workersAlreadyInTheStoreWithoutHealthAreCheckedAtStart() {
    Worker a = worker("a", "default");
    Worker b = worker("b", "default");
    start(policy().build());
    assertThat(stored(a)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(stored(b)).isEqualTo(HealthStatus.HEALTHY);
  }

  // ------------------------------------------------------------------ transitions

  @Test
  void aHealthyWorkerFlipsToUnavailableOnlyAfterTheConfiguredFailuresInARow() {
    start(policy().failuresBeforeUnavailable(3).build());
    Worker w = worker("w1", "default");
    transport.script(w.id(), UNAVAILABLE, THROWS, HEALTHY, UNAVAILABLE, THROWS, UNAVAILABLE);
    scheduler.runDue(); // UNAVAILABLE: a never-checked worker is not eligible, so it flips at once
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    nextRound(); // THROWS: stays UNAVAILABLE
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    nextRound(); // HEALTHY
    assertThat(status(w)).isEqualTo(HealthStatus.HEALTHY);
    nextRound(); // 1st failure: still HEALTHY
    assertThat(status(w)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(stored(w)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(store.health().get(w.id()).message()).contains("1 of 3");
    nextRound(); // 2nd failure: still HEALTHY
    assertThat(status(w)).isEqualTo(HealthStatus.HEALTHY);
    assertThat(monitor.status(w.id()).orElseThrow().consecutiveFailures()).isEqualTo(2);
    nextRound(); // 3rd failure: UNAVAILABLE
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(stored(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(events.changesFor(w.id()))
        .extracting(HealthStatusChange::previous, HealthStatusChange::current)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(HealthStatus.UNKNOWN, HealthStatus.UNAVAILABLE),
            org.assertj.core.groups.Tuple.tuple(HealthStatus.UNAVAILABLE, HealthStatus.HEALTHY),
            org.assertj.core.groups.Tuple.tuple(HealthStatus.HEALTHY, HealthStatus.UNAVAILABLE));
    assertThat(events.changesFor(w.id()).get(2).reason()).contains("refused");
  }

  @Test
  void oneFailureBeforeUnavailableFlipsOnTheFirstFailure() {
    start(policy().failuresBeforeUnavailable(1).build());
    Worker w = worker("w1", "default");
    scheduler.runDue();
    assertThat(status(w)).isEqualTo(HealthStatus.HEALTHY);
    transport.script(w.id(), THROWS);
    nextRound();
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(events.changesFor(w.id()).get(1).reason()).contains("connection reset");
  }

  @Test
  void healthScriptWarningsAndFailuresAreAppliedAtOnceWhateverTheThreshold() {
    ScriptRequest script = ScriptRequest.bash("df -h . ; exit 0");
    start(policy().failuresBeforeUnavailable(5).healthScript(script).build());
    Worker w = worker("w1", "default");
    transport.script(w.id(), HEALTHY, HAS_WARNINGS, UNHEALTHY, HEALTHY);
    scheduler.runDue();
    assertThat(status(w)).isEqualTo(HealthStatus.HEALTHY);
    nextRound();
    assertThat(status(w)).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(store.health().get(w.id()).message()).isEqualTo("disk 91% full");
    nextRound();
    assertThat(status(w)).isEqualTo(HealthStatus.UNHEALTHY);
    nextRound();
    assertThat(status(w)).isEqualTo(HealthStatus.HEALTHY);
    List<ScriptedTransport.Call> calls = transport.calls();
    assertThat(calls).hasSize(4);
    assertThat(calls)
        .allSatisfy(c -> assertThat(c.request().healthScript()).isPresent())
        .allSatisfy(
            c -> assertThat(c.request().healthScript().get().body()).isEqualTo(script.body()))
        .allSatisfy(c -> assertThat(c.request().timeout()).isEqualTo(TIMEOUT));
    assertThat(calls.stream().map(c -> c.request().healthScript().get().executionId()).distinct())
        .as("each check runs the script under a fresh execution id")
        .hasSize(4);
    assertThat(events.changesFor(w.id())).hasSize(4);
  }

  @Test
  void connectivityOnlyChecksCarryNoScript() {
    start(policy().connectivityOnly().build());
    worker("w1", "default");
    scheduler.runDue();
    assertThat(transport.calls())
        .singleElement()
        .satisfies(c -> assertThat(c.request().healthScript()).isEmpty());
  }

  @Test
  void aWorkerThatMayBeOfflineIsUnavailableWithoutAlarm() {
    start(policy().failuresBeforeUnavailable(1).mayBeOffline(true).build());
    Worker w = worker("laptop", "default");
    Worker other = worker("server", "default");
    transport.script(w.id(), HEALTHY, UNAVAILABLE);
    scheduler.runDue();
    nextRound();
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    HealthStatusChange down = events.changesFor(w.id()).get(1);
    assertThat(down.current()).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(down.offlineAllowed()).isTrue();
    assertThat(events.changesFor(w.id()).get(0).offlineAllowed()).isFalse();
    HealthSummary.PoolHealth pool = monitor.summary().pool(PoolId.of("default"));
    assertThat(pool.offlineAllowed()).isEqualTo(1);
    assertThat(pool.count(HealthStatus.UNAVAILABLE)).isEqualTo(1);
    // Offline is allowed, but an absent worker still gets no work.
    try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("t").build()) {
      for (int i = 0; i < 5; i++) {
        try (WorkerLease lease = resolver.acquire(StepRequirements.anyPool(), "s" + i)) {
          assertThat(lease.worker().id()).isEqualTo(other.id());
        }
      }
    }
  }

  // ------------------------------------------------------------------ timeouts

  @Test
  void aHangingCheckTimesOutCountsAsAFailureAndFreesItsSlot() {
    start(
        HealthMonitor.builder(store, List.of(transport))
            .maxInFlight(1)
            .policy(policy().failuresBeforeUnavailable(1).build()));
    Worker slow = worker("slow", "default");
    scheduler.runDue();
    assertThat(status(slow)).isEqualTo(HealthStatus.HEALTHY);
    transport.script(slow.id(), HANGS);
    Worker next = worker("next", "default");
    // Until slow's next check starts and hangs ("next" was checked at once when added).
    for (int i = 0; i <= 60 && transport.hungCount() == 0; i++) {
      scheduler.advance(Duration.ofSeconds(1));
    }
    assertThat(transport.hungCount()).isEqualTo(1);
    assertThat(monitor.stats().inFlight()).isEqualTo(1);
    CompletableFuture<HealthReport> onDemand = monitor.check(next.id()).toCompletableFuture();
    scheduler.runDue();
    assertThat(onDemand).as("the only slot is held by the hung check").isNotDone();
    scheduler.advance(TIMEOUT);
    assertThat(status(slow)).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(events.changesFor(slow.id()).get(1).reason()).contains("no answer within PT5S");
    assertThat(monitor.stats().timedOut()).isEqualTo(1);
    assertThat(onDemand).as("the slot was freed by the timeout").isCompleted();
    assertThat(onDemand.join().status()).isEqualTo(HealthStatus.HEALTHY);
    // The late answer of the timed-out check changes nothing.
    int changes = events.changes.size();
    transport.release(slow.id(), HealthStatus.HEALTHY);
    scheduler.runDue();
    assertThat(status(slow)).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(events.changes).hasSize(changes);
    assertThat(monitor.stats().inFlight()).isZero();
    assertThat(monitor.stats().maxInFlight()).isEqualTo(1);
  }

  // ------------------------------------------------------------------ removal

  @Test
  void aWorkerRemovedMidCheckIsNotResurrected() {
    start(policy().build());
    transport.otherwise(HANGS);
    Worker w = worker("w1", "default");
    scheduler.runDue();
    assertThat(transport.hungCount()).isEqualTo(1);
    CompletableFuture<HealthReport> onDemand = monitor.check(w.id()).toCompletableFuture();
    store.removeWorker(w.id());
    transport.release(w.id(), HealthStatus.HEALTHY);
    scheduler.advance(INTERVAL.multipliedBy(3));
    assertThat(store.health()).doesNotContainKey(w.id());
    assertThat(monitor.status(w.id())).isEmpty();
    assertThat(events.changes).isEmpty();
    assertThat(events.checks).isEmpty();
    assertThat(transport.callsFor(w.id())).as("no check after removal").isEqualTo(1);
    assertThat(onDemand).isCompletedExceptionally();
    assertThat(monitor.summary().pool(PoolId.of("default")).total()).isZero();
    assertThat(monitor.stats().inFlight()).isZero();
  }

  @Test
  void aWorkerRemovedAndAddedAgainStartsFromUnknown() {
    start(policy().build());
    Worker w = worker("w1", "default");
    scheduler.runDue();
    store.removeWorker(w.id());
    transport.script(w.id(), UNAVAILABLE);
    store.putWorker(w);
    scheduler.runDue();
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(events.changesFor(w.id()).get(1).previous()).isEqualTo(HealthStatus.UNKNOWN);
  }

  // ------------------------------------------------------------------ concurrency bound

  @Test
  void checksInFlightNeverExceedTheLimit() {
    transport.otherwise(HANGS);
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      workers.add(worker("w" + i, "default"));
    }
    start(
        HealthMonitor.builder(store, List.of(transport)).maxInFlight(16).policy(policy().build()));
    assertThat(transport.calls()).hasSize(16);
    assertThat(monitor.stats().inFlight()).isEqualTo(16);
    assertThat(monitor.stats().queued()).isEqualTo(84);
    int released = 0;
    while (transport.hungCount() > 0) {
      WorkerId next = transport.calls().get(released).worker();
      transport.release(next, HealthStatus.HEALTHY);
      released++;
      scheduler.runDue();
      assertThat(monitor.stats().inFlight()).isLessThanOrEqualTo(16);
    }
    assertThat(released).isEqualTo(100);
    assertThat(monitor.stats().maxInFlight()).isEqualTo(16);
    assertThat(workers).allSatisfy(w -> assertThat(stored(w)).isEqualTo(HealthStatus.HEALTHY));
  }

  // ------------------------------------------------------------------ jitter

  @Test
  void workersCheckedTogetherAtStartAreSpreadOverTheNextInterval() {
    for (int i = 0; i < 200; i++) {
      worker("w" + i, "default");
    }
    start(policy().jitter(0).build());
    assertThat(transport.calls()).as("never-checked workers are checked at once").hasSize(200);
    long from = clock.nanoTime();
    scheduler.advance(INTERVAL);
    List<ScriptedTransport.Call> second = transport.calls().subList(200, transport.calls().size());
    assertThat(second).hasSize(200);
    int[] perTenth = new int[10];
    for (ScriptedTransport.Call c : second) {
      perTenth[(int) Math.min(9, (c.atNanos() - from - 1) * 10 / INTERVAL.toNanos())]++;
    }
    for (int n : perTenth) {
      assertThat(n).as("checks in each tenth of the interval").isBetween(5, 40);
    }
  }

  @Test
  void jitterMovesEachLaterCheckWithinItsBand() {
    for (int i = 0; i < 200; i++) {
      worker("w" + i, "default");
    }
    start(policy().jitter(0.1).build());
    scheduler.advance(INTERVAL.multipliedBy(4));
    Map<WorkerId, List<Long>> times = new HashMap<>();
    for (ScriptedTransport.Call c : transport.calls()) {
      times.computeIfAbsent(c.worker(), k -> new ArrayList<>()).add(c.atNanos());
    }
    List<Long> gaps = new ArrayList<>();
    for (List<Long> t : times.values()) {
      for (int k = 2; k < t.size(); k++) {
        gaps.add(t.get(k) - t.get(k - 1));
      }
    }
    assertThat(gaps).hasSizeGreaterThan(400);
    assertThat(gaps)
        .allSatisfy(
            g ->
                assertThat(g)
                    .isBetween(INTERVAL.toNanos() * 9 / 10 - 1, INTERVAL.toNanos() * 11 / 10 + 1));
    long shortGaps = gaps.stream().filter(g -> g < INTERVAL.toNanos() * 97 / 100).count();
    long longGaps = gaps.stream().filter(g -> g > INTERVAL.toNanos() * 103 / 100).count();
    assertThat(shortGaps).as("some checks moved earlier").isGreaterThan(50);
    assertThat(longGaps).as("some checks moved later").isGreaterThan(50);
  }

  @Test
  void workersAlreadyHealthyAtStartAreSpreadOverTheFirstInterval() {
    for (int i = 0; i < 200; i++) {
      Worker w = worker("w" + i, "default");
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, clock.now(), Duration.ZERO, ""));
    }
    start(policy().jitter(0).build());
    assertThat(transport.calls()).as("no burst at start").isEmpty();
    int[] perTenth = new int[10];
    long from = clock.nanoTime();
    scheduler.advance(INTERVAL.minusNanos(1));
    for (ScriptedTransport.Call c : transport.calls()) {
      perTenth[(int) ((c.atNanos() - from) * 10 / INTERVAL.toNanos())]++;
    }
    assertThat(transport.calls()).hasSize(200);
    for (int n : perTenth) {
      assertThat(n).isBetween(5, 40);
    }
  }

  // ------------------------------------------------------------------ on demand, worker lost

  @Test
  void workerLostTriggersAnImmediateRecheck() {
    start(policy().failuresBeforeUnavailable(1).build());
    Worker w = worker("w1", "default");
    scheduler.runDue();
    transport.script(w.id(), UNAVAILABLE);
    monitor.workerLost(w.id());
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).isEqualTo(2);
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
    monitor.workerLost(WorkerId.of("nobody")); // unknown: ignored
  }

  @Test
  void aStepThatLosesItsWorkerTriggersARecheckThroughTheDispatchListener() {
    start(policy().failuresBeforeUnavailable(1).build());
    Worker w = worker("w1", "default");
    scheduler.runDue();
    transport.script(w.id(), UNAVAILABLE);
    var step =
        io.workerpools.dispatch.Step.builder(
                "s1", io.workerpools.transport.ScriptRequest.bash("true"))
            .build();
    var lost =
        new io.workerpools.dispatch.StepResult(
            "s1",
            io.workerpools.dispatch.StepResult.Status.WORKER_LOST,
            java.util.OptionalInt.empty(),
            java.util.Optional.of(w.id()),
            java.util.Optional.empty(),
            java.time.Duration.ZERO,
            "connection reset",
            java.util.Optional.empty());
    io.workerpools.dispatch.DispatchListener.recheckLostWorkers(monitor)
        .onWorkerLost(step, w, lost);
    io.workerpools.dispatch.DispatchListener.recheckLostWorkers(monitor)
        .onWorkerLost(step, Worker.BUILT_IN, lost); // not in the store
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).isEqualTo(2);
    assertThat(status(w)).isEqualTo(HealthStatus.UNAVAILABLE);
  }

  @Test
  void workerLostDuringACheckChecksAgainRightAfterIt() {
    start(policy().build());
    transport.otherwise(HANGS);
    Worker w = worker("w1", "default");
    scheduler.runDue();
    monitor.workerLost(w.id());
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).as("one check per worker at a time").isEqualTo(1);
    transport.release(w.id(), HealthStatus.HEALTHY);
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).isEqualTo(2);
  }

  @Test
  void onDemandChecksReturnTheRecordedReport() throws Exception {
    start(policy().build());
    Worker a = worker("a", "pool-a");
    Worker b = worker("b", "pool-a");
    Worker off = worker("off", "pool-a");
    Worker c = worker("c", "pool-c");
    store.putWorker(off.toBuilder().enabled(false).build());
    scheduler.runDue();
    long before = transport.calls().size();
    transport.script(a.id(), HAS_WARNINGS);
    var pool = monitor.checkPool(PoolId.of("pool-a")).toCompletableFuture();
    scheduler.runDue();
    assertThat(pool.get(1, TimeUnit.SECONDS)).containsOnlyKeys(a.id(), b.id());
    assertThat(pool.get().get(a.id()).status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(transport.calls()).hasSize((int) before + 2);
    var one = monitor.check(c.id()).toCompletableFuture();
    scheduler.runDue();
    assertThat(one.get(1, TimeUnit.SECONDS)).isEqualTo(store.health().get(c.id()));
    var all = monitor.checkAll().toCompletableFuture();
    scheduler.runDue();
    assertThat(all.get(1, TimeUnit.SECONDS)).containsOnlyKeys(a.id(), b.id(), c.id());
    var disabled = monitor.check(off.id()).toCompletableFuture();
    scheduler.runDue();
    assertThat(disabled.get(1, TimeUnit.SECONDS).status())
        .as("asked by name, a disabled worker is checked too")
        .isEqualTo(HealthStatus.HEALTHY);
    assertThatThrownBy(() -> monitor.check(WorkerId.of("nobody")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nobody");
    assertThatThrownBy(() -> monitor.checkPool(PoolId.of("nowhere")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nowhere")
        .hasMessageContaining("pool-a");
  }

  // ------------------------------------------------------------------ enabling, endpoints

  @Test
  void disabledWorkersAreNotCheckedOnScheduleAndAreCheckedAtOnceWhenEnabled() {
    start(policy().build());
    Worker w = worker("w1", "default");
    scheduler.runDue();
    store.putWorker(w.toBuilder().enabled(false).build());
    scheduler.advance(INTERVAL.multipliedBy(5));
    assertThat(transport.callsFor(w.id())).isEqualTo(1);
    store.putWorker(w);
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).isEqualTo(2);
    store.putWorker(w.toBuilder().endpoint(Endpoint.of(ScriptedTransport.KIND, "moved")).build());
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).as("a new endpoint is checked at once").isEqualTo(3);
    store.putWorker(
        w.toBuilder()
            .endpoint(Endpoint.of(ScriptedTransport.KIND, "moved"))
            .label("k", "v")
            .build());
    scheduler.runDue();
    assertThat(transport.callsFor(w.id())).as("a label change is not").isEqualTo(3);
  }

  @Test
  void aWorkerNoTransportSupportsIsUnavailableWithAnExplanation() {
    start(policy().build());
    Worker w =
        Worker.builder("odd")
            .endpoint(Endpoint.of("carrier-pigeon", "loft"))
            .pool("default")
            .build();
    store.putWorker(w);
    scheduler.runDue();
    assertThat(store.health().get(w.id()).status()).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(store.health().get(w.id()).message()).contains("carrier-pigeon");
  }

  @Test
  void aTransportThatThrowsInSupportsDoesNotLeakASlot() {
    io.workerpools.transport.WorkerTransport broken =
        new io.workerpools.transport.WorkerTransport() {
          @Override
          public boolean supports(Endpoint endpoint) {
            throw new IllegalStateException("bug in supports");
          }

          @Override
          public java.util.concurrent.CompletionStage<HealthReport> checkHealth(
              Worker worker, io.workerpools.transport.HealthCheckRequest request) {
            throw new AssertionError("never reached");
          }

          @Override
          public io.workerpools.transport.ScriptExecution start(
              Worker worker, ScriptRequest request, io.workerpools.transport.LogSink sink) {
            throw new AssertionError("never reached");
          }
        };
    start(HealthMonitor.builder(store, List.of(broken)).maxInFlight(1).policy(policy().build()));
    Worker a = worker("a", "default");
    Worker b = worker("b", "default");
    scheduler.runDue();
    assertThat(stored(a)).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(store.health().get(a.id()).message()).contains("bug in supports");
    assertThat(stored(b))
        .as("the one slot was freed for the next check")
        .isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(monitor.stats().inFlight()).isZero();
  }

  // ------------------------------------------------------------------ policies per pool

  @Test
  void policiesPerPoolAndPerWorkerSetTheirOwnIntervals() {
    HealthPolicy fast =
        policy().interval(Duration.ofSeconds(10)).timeout(Duration.ofSeconds(1)).build();
    HealthPolicy slow = policy().interval(Duration.ofSeconds(60)).build();
    HealthPolicy special = policy().interval(Duration.ofSeconds(20)).build();
    Worker a = worker("a", "fast");
    Worker b = worker("b", "slow");
    Worker c = worker("c", "fast");
    start(
        HealthMonitor.builder(store, List.of(transport))
            .policies(
                HealthPolicyResolver.perPoolAndWorker(
                    Map.of(PoolId.of("fast"), fast), Map.of(c.id(), special), slow)));
    scheduler.advance(Duration.ofSeconds(300));
    assertThat(gapsAfterTheSecondCheck(a.id())).containsOnly(Duration.ofSeconds(10).toNanos());
    assertThat(gapsAfterTheSecondCheck(b.id())).containsOnly(Duration.ofSeconds(60).toNanos());
    assertThat(gapsAfterTheSecondCheck(c.id())).containsOnly(Duration.ofSeconds(20).toNanos());
  }

  private List<Long> gapsAfterTheSecondCheck(WorkerId id) {
    List<Long> t =
        transport.calls().stream()
            .filter(c -> c.worker().equals(id))
            .map(c -> c.atNanos())
            .toList();
    List<Long> gaps = new ArrayList<>();
    for (int k = 2; k < t.size(); k++) {
      gaps.add(t.get(k) - t.get(k - 1));
    }
    assertThat(gaps).isNotEmpty();
    return gaps;
  }

  @Test
  void aWorkerInSeveralPoolsGetsThePolicyOfTheSmallestPoolId() {
    HealthPolicy p1 = policy().interval(Duration.ofSeconds(11)).build();
    HealthPolicy p2 = policy().interval(Duration.ofSeconds(22)).build();
    HealthPolicyResolver r =
        HealthPolicyResolver.perPoolAndWorker(
            Map.of(PoolId.of("b"), p2, PoolId.of("a"), p1), Map.of(), HealthPolicy.defaults());
    Worker w = Worker.builder("w").endpoint(Endpoint.local()).pool("b").pool("a").build();
    assertThat(r.policyFor(w)).isEqualTo(p1);
  }

  // ------------------------------------------------------------------ summary

  @Test
  void theSummaryCountsWorkersPerPoolAndStatusWithSince() {
    start(policy().failuresBeforeUnavailable(1).build());
    Instant t0 = clock.now();
    worker("a", "pool-a");
    worker("b", "pool-a");
    Worker c = worker("c", "pool-a");
    worker("d", "pool-d");
    store.putPool(WorkerPool.of("empty", "Empty pool"));
    transport.script(c.id(), UNAVAILABLE);
    scheduler.runDue();
    scheduler.advance(Duration.ofSeconds(7));
    Worker e = worker("e", "pool-a");
    store.putWorker(e.toBuilder().enabled(false).build());
    HealthSummary s = monitor.summary();
    HealthSummary.PoolHealth a = s.pool(PoolId.of("pool-a"));
    assertThat(a.count(HealthStatus.HEALTHY)).isEqualTo(2);
    assertThat(a.count(HealthStatus.UNAVAILABLE)).isEqualTo(1);
    assertThat(a.count(HealthStatus.UNKNOWN)).as("the disabled worker, never checked").isEqualTo(1);
    assertThat(a.disabled()).isEqualTo(1);
    assertThat(a.total()).isEqualTo(4);
    assertThat(a.eligible()).isEqualTo(2);
    assertThat(a.since().get(HealthStatus.HEALTHY)).isEqualTo(t0);
    assertThat(a.since().get(HealthStatus.UNKNOWN)).isEqualTo(t0.plusSeconds(7));
    assertThat(s.pool(PoolId.of("pool-d")).count(HealthStatus.HEALTHY)).isEqualTo(1);
    assertThat(s.pools()).containsKey(PoolId.of("empty"));
    assertThat(s.pool(PoolId.of("empty")).total()).isZero();
    assertThat(s.at()).isEqualTo(clock.now());
  }

  // ------------------------------------------------------------------ the resolver

  @Test
  void aWorkerSeenDeadIsNeverChosenUntilSeenHealthyAgain() {
    start(policy().failuresBeforeUnavailable(2).build());
    Worker good = worker("good", "default");
    Worker flaky = worker("flaky", "default");
    scheduler.runDue();
    try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("t").build()) {
      transport.script(flaky.id(), UNAVAILABLE, UNAVAILABLE, HEALTHY);
      nextRound();
      nextRound();
      assertThat(status(flaky)).isEqualTo(HealthStatus.UNAVAILABLE);
      for (int i = 0; i < 10; i++) {
        try (WorkerLease lease = resolver.acquire(StepRequirements.anyPool(), "s" + i)) {
          assertThat(lease.worker().id()).isEqualTo(good.id());
        }
      }
      store.putWorker(good.toBuilder().enabled(false).build());
      assertThatThrownBy(() -> resolver.acquire(StepRequirements.anyPool(), "none"))
          .isInstanceOf(NoEligibleWorkerException.class)
          .hasMessageContaining("flaky");
      nextRound();
      try (WorkerLease lease = resolver.acquire(StepRequirements.anyPool(), "back")) {
        assertThat(lease.worker().id()).isEqualTo(flaky.id());
      }
    }
  }

  // ------------------------------------------------------------------ lifecycle and validation

  @Test
  void afterCloseNothingIsCheckedAndPendingChecksFail() {
    start(policy().build());
    transport.otherwise(HANGS);
    Worker w = worker("w1", "default");
    scheduler.runDue();
    CompletableFuture<HealthReport> pending = monitor.check(w.id()).toCompletableFuture();
    monitor.close();
    assertThat(pending).isCompletedExceptionally();
    transport.release(w.id(), HealthStatus.HEALTHY);
    worker("w2", "default");
    scheduler.advance(INTERVAL.multipliedBy(3));
    assertThat(transport.calls()).hasSize(1);
    assertThat(store.health()).isEmpty();
    assertThatThrownBy(() -> monitor.check(w.id()))
        .isInstanceOf(io.workerpools.ClosedException.class);
    monitor.close(); // idempotent
  }

  @Test
  void aListenerThatThrowsDoesNotStopOthersOrTheMonitor() {
    start(policy().build());
    monitor.addListener(
        new HealthListener() {
          @Override
          public void onStatusChanged(HealthStatusChange change) {
            throw new IllegalStateException("boom");
          }
        });
    RecordingListener second = new RecordingListener();
    monitor.addListener(second);
    Worker w = worker("w1", "default");
    scheduler.runDue();
    assertThat(second.changesFor(w.id())).hasSize(1);
    assertThat(stored(w)).isEqualTo(HealthStatus.HEALTHY);
  }

  @Test
  void badPolicyValuesAreRejectedWithSpecificMessages() {
    assertThatThrownBy(() -> HealthPolicy.builder().interval(Duration.ZERO).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("healthPolicy.interval")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> HealthPolicy.builder().timeout(Duration.ofSeconds(-1)).build())
        .hasMessageContaining("healthPolicy.timeout");
    assertThatThrownBy(
            () ->
                HealthPolicy.builder()
                    .interval(Duration.ofSeconds(5))
                    .timeout(Duration.ofSeconds(10))
                    .build())
        .hasMessageContaining("must not be longer than the interval");
    assertThatThrownBy(() -> HealthPolicy.builder().failuresBeforeUnavailable(0).build())
        .hasMessageContaining("failuresBeforeUnavailable")
        .hasMessageContaining("but was 0");
    assertThatThrownBy(() -> HealthPolicy.builder().jitter(0.7).build())
        .hasMessageContaining("jitter")
        .hasMessageContaining("0.7");
    assertThatThrownBy(() -> HealthMonitor.builder(store, List.of()).maxInFlight(0))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxInFlight");
    assertThat(HealthPolicy.defaults().toBuilder().build()).isEqualTo(HealthPolicy.defaults());
  }
}
