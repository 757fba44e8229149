package io.workerpools.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.health.ScriptedTransport.Outcome;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.ManualScheduler;
import io.workerpools.time.ManualTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * For any sequence of check outcomes, under any policy, the monitor's status is what a tiny
 * reference state machine says, and it publishes exactly one event per change.
 */
class HealthTransitionProperties {

  /** The rules of {@link HealthPolicy}, written out independently of the monitor. */
  private static final class Reference {
    HealthStatus status = HealthStatus.UNKNOWN;
    int failures;
    final List<HealthStatus[]> transitions = new ArrayList<>();

    void apply(Outcome o, int threshold) {
      HealthStatus next;
      switch (o) {
        case HEALTHY -> {
          next = HealthStatus.HEALTHY;
          failures = 0;
        }
        case HAS_WARNINGS -> {
          next = HealthStatus.HAS_WARNINGS;
          failures = 0;
        }
        case UNHEALTHY -> {
          next = HealthStatus.UNHEALTHY;
          failures = 0;
        }
        default -> {
          failures++;
          boolean eligible = status == HealthStatus.HEALTHY || status == HealthStatus.HAS_WARNINGS;
          next = !eligible || failures >= threshold ? HealthStatus.UNAVAILABLE : status;
        }
      }
      if (next != status) {
        transitions.add(new HealthStatus[] {status, next});
      }
      status = next;
    }
  }

  @Property(tries = 150)
  void statusFollowsThePolicyAndEachChangeIsPublishedOnce(
      @ForAll @Size(max = 14) List<Outcome> outcomes,
      @ForAll @IntRange(min = 1, max = 4) int failuresBeforeUnavailable,
      @ForAll boolean mayBeOffline,
      @ForAll @Size(max = 14) List<Boolean> onDemand) {
    ManualTimeSource clock = new ManualTimeSource();
    ManualScheduler scheduler = new ManualScheduler(clock);
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    ScriptedTransport transport = new ScriptedTransport(clock);
    Duration interval = Duration.ofSeconds(30);
    Duration timeout = Duration.ofSeconds(3);
    HealthPolicy policy =
        HealthPolicy.builder()
            .interval(interval)
            .timeout(timeout)
            .jitter(0.2)
            .failuresBeforeUnavailable(failuresBeforeUnavailable)
            .mayBeOffline(mayBeOffline)
            .build();
    RecordingListener events = new RecordingListener();
    Worker w =
        Worker.builder("w").endpoint(ScriptedTransport.endpoint("w")).pool("default").build();
    try (HealthMonitor monitor =
        HealthMonitor.builder(store, List.of(transport))
            .policy(policy)
            .timeSource(clock)
            .scheduler(scheduler)
            .random(new SplittableRandom(outcomes.hashCode()))
            .build()) {
      monitor.addListener(events);
      monitor.start();
      Reference ref = new Reference();
      // The first check happens at once when the worker is added.
      List<Outcome> all = new ArrayList<>(outcomes);
      if (all.isEmpty()) {
        all.add(Outcome.HEALTHY);
      }
      transport.script(w.id(), all.get(0));
      store.putWorker(w);
      scheduler.runDue();
      advancePastHang(scheduler, all.get(0), timeout);
      ref.apply(all.get(0), failuresBeforeUnavailable);
      assertThat(monitor.status(w.id()).orElseThrow().status()).isEqualTo(ref.status);
      for (int i = 1; i < all.size(); i++) {
        Outcome o = all.get(i);
        transport.script(w.id(), o);
        boolean now = i < onDemand.size() && onDemand.get(i);
        if (now) {
          monitor.check(w.id());
          scheduler.runDue();
        } else {
          // Move time on until the next scheduled check starts: within interval * (1 + jitter).
          long before = transport.callsFor(w.id());
          for (int s = 0; s <= 40 && transport.callsFor(w.id()) == before; s++) {
            scheduler.advance(Duration.ofSeconds(1));
          }
        }
        advancePastHang(scheduler, o, timeout);
        ref.apply(o, failuresBeforeUnavailable);
        assertThat(transport.callsFor(w.id())).isEqualTo(i + 1);
        assertThat(monitor.status(w.id()).orElseThrow().status())
            .as("after %s", all.subList(0, i + 1))
            .isEqualTo(ref.status);
        assertThat(store.health().get(w.id()).status()).isEqualTo(ref.status);
      }
      assertThat(events.changes).hasSize(ref.transitions.size());
      for (int i = 0; i < ref.transitions.size(); i++) {
        HealthStatusChange c = events.changes.get(i);
        assertThat(c.previous()).isEqualTo(ref.transitions.get(i)[0]);
        assertThat(c.current()).isEqualTo(ref.transitions.get(i)[1]);
        assertThat(c.offlineAllowed())
            .isEqualTo(mayBeOffline && c.current() == HealthStatus.UNAVAILABLE);
      }
      assertThat(events.checks).hasSize(all.size());
    }
  }

  private static void advancePastHang(ManualScheduler scheduler, Outcome o, Duration timeout) {
    if (o == Outcome.HANGS) {
      scheduler.advance(timeout);
    }
  }
}
