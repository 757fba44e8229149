package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class WaitingStepsTest {

  @Test
  void aSnapshotSaysWhereEachStepWaitsWhyAndWhatWouldUnblockIt() {
    try (Fixture f = new Fixture()) {
      f.pool("linux");
      f.worker(
          Worker.builder("busy").endpoint(Endpoint.of("test", "busy")).maxConcurrentSteps(1),
          "linux");
      f.worker("down", "linux");
      f.health("down", HealthStatus.UNAVAILABLE);
      f.worker(
          Worker.builder("py").endpoint(Endpoint.of("test", "py")).syntaxes(ScriptSyntax.PYTHON),
          "linux");
      WorkerResolver r = f.resolver("n1");
      WorkerLease held = r.acquire(StepRequirements.inPool("linux"), "first");
      assertThat(held.worker().id().value()).isEqualTo("busy");

      CompletableFuture<WorkerLease> a =
          r.acquire(StepRequirements.inPool("linux"), "a", Duration.ofHours(1));
      f.time.advance(Duration.ofSeconds(30));
      CompletableFuture<WorkerLease> b =
          r.acquire(
              StepRequirements.builder().targetDefaultPool(PoolId.of("linux")).build(),
              "b",
              Duration.ofHours(1));
      f.time.advance(Duration.ofSeconds(5));

      WaitingSteps snap = r.waitingSteps(WaitingSteps.Query.DEFAULT);
      assertThat(snap.total()).isEqualTo(2);
      assertThat(snap.omitted()).isZero();
      assertThat(snap.groups()).hasSize(1);
      WaitingSteps.Group g = snap.groups().get(0);
      assertThat(g.pool()).isEqualTo(PoolId.of("linux"));
      assertThat(g.waiting()).isEqualTo(2);
      assertThat(g.blocked()).contains(Resolution.Kind.NO_ELIGIBLE_WORKER);
      assertThat(g.members()).isEqualTo(3);
      assertThat(g.eligible()).isZero();
      assertThat(g.passedOverByReason())
          .isEqualTo(
              Map.of(
                  PassedOver.Reason.AT_CAP, 1,
                  PassedOver.Reason.UNHEALTHY, 1,
                  PassedOver.Reason.WRONG_SYNTAX, 1));
      assertThat(g.passedOver())
          .extracting(p -> p.worker().value() + ":" + p.reason())
          .containsExactly("busy:AT_CAP", "down:UNHEALTHY", "py:WRONG_SYNTAX");
      assertThat(g.unblockedBy())
          .extracting(WaitingSteps.Unblock::kind)
          .containsExactly(
              WaitingSteps.Unblock.Kind.LEASE_RELEASED,
              WaitingSteps.Unblock.Kind.WORKER_HEALTHY,
              WaitingSteps.Unblock.Kind.WORKER_ADDED);
      assertThat(g.unblockedBy().get(0).description())
          .isEqualTo("a lease is released on the worker at its cap of pool 'linux'");

      WaitingSteps.Step first = snap.steps().get(0);
      WaitingSteps.Step second = snap.steps().get(1);
      assertThat(List.of(first.stepId(), second.stepId())).containsExactly("a", "b");
      assertThat(first.position()).isEqualTo(1);
      assertThat(second.positionInGroup()).isEqualTo(2);
      assertThat(first.poolChoice()).isEqualTo(PoolChoice.NAMED_BY_STEP);
      assertThat(second.poolChoice()).isEqualTo(PoolChoice.TARGET_DEFAULT_POOL);
      assertThat(first.waited()).isEqualTo(Duration.ofSeconds(35));
      assertThat(second.waited()).isEqualTo(Duration.ofSeconds(5));
      assertThat(first.group()).isSameAs(second.group());

      // The lease ends: the first waiter is served and leaves the snapshot.
      held.close();
      Fixture.awaitUntil("a served", a::isDone);
      WaitingSteps after = r.waitingSteps(WaitingSteps.Query.DEFAULT);
      assertThat(after.steps()).extracting(WaitingSteps.Step::stepId).containsExactly("b");
      assertThat(after.steps().get(0).position()).isEqualTo(1);
      a.join().close();
      Fixture.awaitUntil("b served", b::isDone);
      assertThat(r.waitingSteps(WaitingSteps.Query.DEFAULT).total()).isZero();
      b.join().close();
    }
  }

  @Test
  void theQueryBoundsTheListsButNotTheCountsAndFiltersByPool() {
    try (Fixture f = new Fixture()) {
      f.pool("linux").pool("windows");
      for (int i = 0; i < 5; i++) {
        f.worker("l" + i, "linux");
        f.health("l" + i, HealthStatus.UNHEALTHY);
      }
      f.worker("w0", "windows");
      f.health("w0", HealthStatus.UNKNOWN);
      WorkerResolver r = f.resolver("n1");
      for (int i = 0; i < 4; i++) {
        r.acquire(
            StepRequirements.inPool(i % 2 == 0 ? "linux" : "windows"),
            "s" + i,
            Duration.ofHours(1));
      }
      WaitingSteps.Query q =
          WaitingSteps.Query.builder()
              .maxSteps(1)
              .maxPassedOver(2)
              .pool(PoolId.of("windows"))
              .build();
      WaitingSteps snap = r.waitingSteps(q);
      assertThat(snap.total()).isEqualTo(4);
      assertThat(snap.matched()).isEqualTo(2);
      assertThat(snap.omitted()).isEqualTo(1);
      assertThat(snap.steps()).extracting(WaitingSteps.Step::stepId).containsExactly("s1");
      assertThat(snap.steps().get(0).position()).isEqualTo(2);
      assertThat(snap.groups())
          .extracting(WaitingSteps.Group::pool)
          .containsExactly(PoolId.of("windows"));

      WaitingSteps linux =
          r.waitingSteps(
              WaitingSteps.Query.builder().maxPassedOver(2).pool(PoolId.of("linux")).build());
      WaitingSteps.Group g = linux.groups().get(0);
      assertThat(g.passedOver()).hasSize(2);
      assertThat(g.passedOverTotal()).isEqualTo(5);
      assertThat(g.passedOverByReason()).isEqualTo(Map.of(PassedOver.Reason.UNHEALTHY, 5));
      assertThat(g.unblockedBy().get(0).workers()).isEqualTo(5);
      assertThat(g.unblockedBy().get(0).description())
          .isEqualTo("one of the 5 workers not healthy of pool 'linux' passes a health check");
      assertThat(linux.steps())
          .extracting(WaitingSteps.Step::positionInGroup)
          .containsExactly(1, 2);
      assertThat(linux.steps()).extracting(WaitingSteps.Step::position).containsExactly(1, 3);
      assertThat(q.pool()).isEqualTo(Optional.of(PoolId.of("windows")));
    }
  }

  @Test
  void aQueryOutsideItsLimitsIsRefusedWithWhatWasGiven() {
    assertThatThrownBy(() -> WaitingSteps.Query.builder().maxSteps(-1))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxSteps")
        .hasMessageContaining("between 0 and 100000 but was -1");
    assertThatThrownBy(() -> WaitingSteps.Query.builder().maxPassedOver(100_001))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxPassedOver");
  }
}
