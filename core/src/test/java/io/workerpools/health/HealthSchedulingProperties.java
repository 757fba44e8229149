package io.workerpools.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.health.ScriptedTransport.Outcome;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.ManualScheduler;
import io.workerpools.time.ManualTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Invariants of the monitor's scheduling, on a manual clock with a scripted transport. */
class HealthSchedulingProperties {

  @Provide
  Arbitrary<List<Outcome>> outcomes() {
    return Arbitraries.of(Outcome.class).list().ofMinSize(1).ofMaxSize(40);
  }

  @Property(tries = 60)
  void checksInFlightNeverExceedTheLimitEveryWorkerIsCheckedAndRemovedWorkersLeaveNoTrace(
      @ForAll @IntRange(min = 1, max = 40) int workers,
      @ForAll @IntRange(min = 1, max = 6) int limit,
      @ForAll("outcomes") List<Outcome> outcomes,
      @ForAll @Size(max = 10) List<@IntRange(min = 0, max = 39) Integer> removals) {
    ManualTimeSource clock = new ManualTimeSource();
    ManualScheduler scheduler = new ManualScheduler(clock);
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    ScriptedTransport transport = new ScriptedTransport(clock);
    Duration timeout = Duration.ofSeconds(2);
    RecordingListener events = new RecordingListener();
    try (HealthMonitor monitor =
        HealthMonitor.builder(store, List.of(transport))
            .maxInFlight(limit)
            .policy(
                HealthPolicy.builder()
                    .interval(Duration.ofMinutes(10))
                    .timeout(timeout)
                    .jitter(0.1)
                    .build())
            .timeSource(clock)
            .scheduler(scheduler)
            .random(new SplittableRandom(workers * 31L + limit))
            .build()) {
      monitor.addListener(events);
      monitor.start();
      List<WorkerId> ids = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        Worker w =
            Worker.builder("w" + i)
                .endpoint(ScriptedTransport.endpoint("w" + i))
                .pool("default")
                .build();
        transport.script(w.id(), outcomes.get(i % outcomes.size()));
        store.putWorker(w);
        ids.add(w.id());
      }
      Set<WorkerId> removed = new HashSet<>();
      int step = 0;
      // Let time pass in steps shorter than a timeout, removing workers along the way (some of them
      // mid-check), until every check has finished.
      for (int round = 0; round < workers * 5 + 10; round++) {
        scheduler.advance(Duration.ofMillis(500));
        assertThat(monitor.stats().inFlight()).isLessThanOrEqualTo(limit);
        if (step < removals.size() && removals.get(step) < workers) {
          WorkerId gone = ids.get(removals.get(step));
          if (removed.add(gone)) {
            store.removeWorker(gone);
          }
        }
        step++;
      }
      assertThat(monitor.stats().maxInFlight()).isLessThanOrEqualTo(limit);
      assertThat(monitor.stats().inFlight()).isZero();
      for (WorkerId id : ids) {
        if (removed.contains(id)) {
          assertThat(store.health()).doesNotContainKey(id);
          assertThat(monitor.status(id)).isEmpty();
        } else {
          assertThat(store.health()).as("%s was checked", id).containsKey(id);
          assertThat(transport.callsFor(id)).isGreaterThanOrEqualTo(1);
        }
      }
    }
  }

  @Property(tries = 40)
  void gapsBetweenScheduledChecksStayWithinTheJitterBand(
      @ForAll @IntRange(min = 5, max = 120) int intervalSeconds,
      @ForAll @DoubleRange(min = 0, max = 0.5) double jitter,
      @ForAll long seed) {
    ManualTimeSource clock = new ManualTimeSource();
    ManualScheduler scheduler = new ManualScheduler(clock);
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    ScriptedTransport transport = new ScriptedTransport(clock);
    Duration interval = Duration.ofSeconds(intervalSeconds);
    try (HealthMonitor monitor =
        HealthMonitor.builder(store, List.of(transport))
            .policy(
                HealthPolicy.builder()
                    .interval(interval)
                    .timeout(Duration.ofSeconds(1))
                    .jitter(jitter)
                    .build())
            .timeSource(clock)
            .scheduler(scheduler)
            .random(new SplittableRandom(seed))
            .build()) {
      monitor.start();
      for (int i = 0; i < 5; i++) {
        store.putWorker(
            Worker.builder("w" + i)
                .endpoint(ScriptedTransport.endpoint("w" + i))
                .pool("default")
                .build());
      }
      scheduler.advance(interval.multipliedBy(10));
      for (int i = 0; i < 5; i++) {
        WorkerId id = WorkerId.of("w" + i);
        List<Long> at =
            transport.calls().stream()
                .filter(c -> c.worker().equals(id))
                .map(c -> c.atNanos())
                .toList();
        assertThat(at.size()).isGreaterThanOrEqualTo(7);
        // The gap after the first check is a random phase in (0, interval]; later gaps are
        // jittered.
        assertThat(at.get(1) - at.get(0)).isBetween(1L, interval.toNanos());
        for (int k = 2; k < at.size(); k++) {
          long gap = at.get(k) - at.get(k - 1);
          assertThat(gap)
              .isBetween(
                  (long) (interval.toNanos() * (1 - jitter)) - 1,
                  (long) (interval.toNanos() * (1 + jitter)) + 1);
        }
      }
    }
  }
}
