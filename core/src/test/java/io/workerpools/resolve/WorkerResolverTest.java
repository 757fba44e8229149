package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.LeaseRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Selection, affinity, leases (TTL, renewal, expiry), draining and waiting, by example. */
class WorkerResolverTest {
  private final Fixture fx = new Fixture().pool("linux");
  private final StepRequirements linux = StepRequirements.inPool("linux");

  @AfterEach
  void close() {
    fx.close();
  }

  private static WorkerId id(String s) {
    return WorkerId.of(s);
  }

  // ---- selection ----

  @Test
  void tiesAreBrokenRoundRobinSoEveryWorkerGetsAnEqualShare() {
    for (String w : List.of("a", "b", "c", "d")) {
      fx.worker(w, "linux");
    }
    WorkerResolver r = fx.resolver("n1");
    Map<WorkerId, Integer> picks = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      try (WorkerLease l = r.acquire(linux, "s" + i)) {
        picks.merge(l.worker().id(), 1, Integer::sum);
      }
    }
    assertThat(picks).containsOnlyKeys(id("a"), id("b"), id("c"), id("d"));
    assertThat(picks.values()).containsOnly(100);
  }

  @Test
  void theWorkerWithTheFewestLeasesIsChosen() {
    fx.worker("a", "linux");
    fx.worker("b", "linux");
    fx.worker("c", "linux");
    WorkerResolver r = fx.resolver("n1");
    List<WorkerLease> held = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      held.add(r.acquire(linux, "s" + i));
    }
    // 7 leases over 3 workers: 3, 2, 2 in some order; release two from one worker.
    Map<WorkerId, Integer> counts = new HashMap<>();
    held.forEach(l -> counts.merge(l.worker().id(), 1, Integer::sum));
    assertThat(counts.values()).containsExactlyInAnyOrder(3, 2, 2);
    WorkerId emptied = held.get(0).worker().id();
    held.stream().filter(l -> l.worker().id().equals(emptied)).limit(2).forEach(WorkerLease::close);
    try (WorkerLease next = r.acquire(linux, "next")) {
      int chosenBefore = r.activeLeases(next.worker().id()) - 1;
      for (WorkerId w : List.of(id("a"), id("b"), id("c"))) {
        if (!w.equals(next.worker().id())) {
          assertThat(r.activeLeases(w)).isGreaterThanOrEqualTo(chosenBefore);
        }
      }
    }
    held.forEach(WorkerLease::close);
  }

  @Test
  void onlyWorkersThatRunTheStepsSyntaxAreChosen() {
    fx.worker("bash-only", "linux");
    fx.worker(
        Worker.builder("pwsh")
            .endpoint(io.workerpools.model.Endpoint.of("test", "p"))
            .syntaxes(ScriptSyntax.POWERSHELL),
        "linux");
    WorkerResolver r = fx.resolver("n1");
    StepRequirements ps =
        StepRequirements.builder().pool("linux").syntax(ScriptSyntax.POWERSHELL).build();
    for (int i = 0; i < 5; i++) {
      try (WorkerLease l = r.acquire(ps, "s" + i)) {
        assertThat(l.worker().id()).isEqualTo(id("pwsh"));
      }
    }
    StepRequirements py =
        StepRequirements.builder().pool("linux").syntax(ScriptSyntax.PYTHON).build();
    assertThatThrownBy(() -> r.acquire(py, "py"))
        .isInstanceOf(NoEligibleWorkerException.class)
        .hasMessageContaining("WRONG_SYNTAX")
        .hasMessageContaining("PYTHON");
  }

  @Test
  void aBlockedResolutionNamesThePoolAndEveryWorkersReason() {
    fx.worker(
        Worker.builder("off").endpoint(io.workerpools.model.Endpoint.of("t", "x")).enabled(false),
        "linux");
    fx.worker("sick", "linux");
    fx.health("sick", HealthStatus.UNAVAILABLE);
    fx.worker("drained", "linux");
    fx.store.setDraining(id("drained"), true);
    fx.worker(
        Worker.builder("full")
            .endpoint(io.workerpools.model.Endpoint.of("t", "f"))
            .maxConcurrentSteps(1),
        "linux");
    fx.worker(
        Worker.builder("py")
            .endpoint(io.workerpools.model.Endpoint.of("t", "p"))
            .syntaxes(ScriptSyntax.PYTHON),
        "linux");
    WorkerResolver r = fx.resolver("n1");
    WorkerLease full = r.acquire(linux, "fills-full");
    assertThat(full.worker().id()).isEqualTo(id("full"));
    Resolution res = r.resolve(linux);
    assertThat(res).isInstanceOf(Resolution.Blocked.class);
    Resolution.Blocked b = (Resolution.Blocked) res;
    assertThat(b.pool()).isEqualTo(PoolId.of("linux"));
    assertThat(b.kind()).isEqualTo(Resolution.Kind.NO_ELIGIBLE_WORKER);
    assertThat(b.waitingCouldHelp()).isTrue();
    Map<WorkerId, PassedOver.Reason> reasons = new HashMap<>();
    b.passedOver().forEach(p -> reasons.put(p.worker(), p.reason()));
    assertThat(reasons)
        .containsEntry(id("off"), PassedOver.Reason.DISABLED)
        .containsEntry(id("sick"), PassedOver.Reason.UNHEALTHY)
        .containsEntry(id("drained"), PassedOver.Reason.DRAINING)
        .containsEntry(id("full"), PassedOver.Reason.AT_CAP)
        .containsEntry(id("py"), PassedOver.Reason.WRONG_SYNTAX);
    assertThat(b.explain())
        .contains("'linux'", "named by the step", "UNAVAILABLE since", "1 of 1 leases held");
    full.close();
  }

  @Test
  void aCustomStrategyChoosesAmongTheEligibleWorkers() {
    fx.worker("a", "linux");
    fx.worker("b", "linux");
    fx.worker("c", "linux");
    fx.health("c", HealthStatus.UNHEALTHY);
    SelectionStrategy highestId =
        eligible ->
            eligible.stream()
                .map(SelectionStrategy.Candidate::worker)
                .max(Comparator.comparing(Worker::id))
                .orElseThrow();
    WorkerResolver r = fx.resolver("n1", highestId);
    for (int i = 0; i < 3; i++) {
      try (WorkerLease l = r.acquire(linux, "s" + i)) {
        assertThat(l.worker().id()).isEqualTo(id("b"));
      }
    }
  }

  @Test
  void aCustomStrategyThatPicksAnIneligibleWorkerIsReported() {
    Worker a = fx.worker("a", "linux");
    fx.worker("b", "linux");
    fx.health("b", HealthStatus.UNHEALTHY);
    Worker b = fx.store.infrastructure().workers().get(id("b"));
    WorkerResolver r = fx.resolver("n1", eligible -> b);
    assertThatThrownBy(() -> r.acquire(linux, "s"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("selectionStrategy")
        .hasMessageContaining("'b'")
        .hasMessageContaining("not one of the eligible workers");
    assertThat(fx.store.leases()).isEmpty();
    assertThat(a.id()).isEqualTo(id("a"));
  }

  // ---- affinity ----

  @Test
  void anAffinityKeyKeepsStepsOnOneWorkerWhileItStaysEligible() {
    fx.worker("a", "linux");
    fx.worker("b", "linux");
    fx.worker("c", "linux");
    WorkerResolver r = fx.resolver("n1");
    StepRequirements affine =
        StepRequirements.builder().pool("linux").affinityKey("deploy-7").build();
    List<WorkerLease> held = new ArrayList<>();
    WorkerLease first = r.acquire(affine, "s0");
    held.add(first);
    for (int i = 1; i < 5; i++) {
      WorkerLease l = r.acquire(affine, "s" + i);
      held.add(l);
      assertThat(l.worker().id()).isEqualTo(first.worker().id());
    }
    // Without the key, the least loaded worker is chosen.
    try (WorkerLease other = r.acquire(linux, "other")) {
      assertThat(other.worker().id()).isNotEqualTo(first.worker().id());
    }
    // The affine worker becomes unhealthy: the key moves, and stays on its new worker.
    fx.health(first.worker().id().value(), HealthStatus.UNAVAILABLE);
    WorkerLease moved = r.acquire(affine, "moved");
    assertThat(moved.worker().id()).isNotEqualTo(first.worker().id());
    fx.health(first.worker().id().value(), HealthStatus.HEALTHY);
    try (WorkerLease again = r.acquire(affine, "again")) {
      assertThat(again.worker().id()).isEqualTo(moved.worker().id());
    }
    moved.close();
    held.forEach(WorkerLease::close);
  }

  @Test
  void anAffinityLeaseCapMovesTheKeyToALessLoadedWorker() {
    fx.worker("a", "linux");
    fx.worker("b", "linux");
    WorkerResolver r = fx.resolver("n1");
    StepRequirements capped =
        StepRequirements.builder().pool("linux").affinityKey("pkg").affinityLeaseCap(2).build();
    WorkerLease l1 = r.acquire(capped, "1");
    WorkerLease l2 = r.acquire(capped, "2");
    assertThat(l2.worker()).isEqualTo(l1.worker());
    WorkerLease l3 = r.acquire(capped, "3");
    assertThat(l3.worker()).isNotEqualTo(l1.worker());
    assertThat(r.activeLeases(l1.worker().id())).isEqualTo(2);
    WorkerLease l4 = r.acquire(capped, "4");
    assertThat(l4.worker()).as("the key now lives on the new worker").isEqualTo(l3.worker());
    List.of(l1, l2, l3, l4).forEach(WorkerLease::close);
  }

  // ---- leases ----

  @Test
  void aLeaseIsReleasedExactlyOnceAndIsVisibleWhileHeld() {
    fx.worker("a", "linux");
    WorkerResolver r = fx.resolver("n1");
    WorkerLease l = r.acquire(linux, "step-42");
    assertThat(r.leases()).hasSize(1);
    LeaseRecord rec = r.leases(id("a")).get(0);
    assertThat(rec.holder()).isEqualTo("n1");
    assertThat(rec.stepId()).isEqualTo("step-42");
    assertThat(rec.acquiredAt()).isEqualTo(fx.time.now());
    assertThat(rec.expiresAt()).isEqualTo(fx.time.now().plusSeconds(10));
    assertThat(r.heldLeases()).containsExactly(l);
    l.close();
    l.close();
    assertThat(l.isReleased()).isTrue();
    assertThat(r.leases()).isEmpty();
    assertThat(r.heldLeases()).isEmpty();
    assertThat(r.activeLeases(id("a"))).isZero();
  }

  @Test
  void aLiveHoldersLeasesAreRenewedAndNeverExpire() {
    fx.worker(
        Worker.builder("a")
            .endpoint(io.workerpools.model.Endpoint.of("t", "a"))
            .maxConcurrentSteps(1),
        "linux");
    WorkerResolver r = fx.resolver("n1");
    WorkerLease l = r.acquire(linux, "long-step");
    for (int i = 0; i < 10; i++) {
      fx.time.advance(Duration.ofSeconds(4));
      r.maintainNow();
    }
    assertThat(l.isReleased()).isFalse();
    assertThat(fx.store.leases()).hasSize(1);
    assertThat(fx.store.leases().get(0).expiresAt()).isEqualTo(fx.time.now().plusSeconds(10));
    l.close();
    assertThat(fx.store.leases()).isEmpty();
  }

  @Test
  void aDeadHoldersLeasesExpireAfterTheTtlAndTheWorkersCapacityComesBack() {
    fx.worker(
        Worker.builder("a")
            .endpoint(io.workerpools.model.Endpoint.of("t", "a"))
            .maxConcurrentSteps(1),
        "linux");
    WorkerResolver dead = fx.resolver("dead");
    WorkerResolver alive = fx.resolver("alive");
    WorkerLease orphan = dead.acquire(linux, "orphan");
    assertThat(alive.activeLeases(id("a"))).as("the other node sees the lease").isEqualTo(1);
    assertThatThrownBy(() -> alive.acquire(linux, "blocked"))
        .isInstanceOf(NoEligibleWorkerException.class)
        .hasMessageContaining("AT_CAP");
    // "dead" stops renewing (it runs no maintenance); "alive" keeps running its own.
    fx.time.advance(Duration.ofSeconds(6));
    alive.maintainNow();
    assertThat(fx.store.leases()).hasSize(1);
    fx.time.advance(Duration.ofSeconds(5));
    alive.maintainNow();
    assertThat(fx.store.leases()).isEmpty();
    assertThat(orphan.isReleased()).as("its holder noticed the expiry").isTrue();
    assertThat(dead.heldLeases()).isEmpty();
    try (WorkerLease l = alive.acquire(linux, "now-free")) {
      assertThat(l.worker().id()).isEqualTo(id("a"));
      orphan.close(); // late close of an expired lease: harmless, releases nothing else
      assertThat(fx.store.leases()).extracting(LeaseRecord::leaseId).containsExactly(l.id());
    }
  }

  // ---- draining ----

  @Test
  void aDrainedWorkerTakesNoNewLeasesAndIsReportedIdleWhenItsStepsEnd() throws Exception {
    fx.worker("a", "linux");
    fx.worker("b", "linux");
    WorkerResolver r = fx.resolver("n1");
    List<WorkerLease> onA = new ArrayList<>();
    while (onA.size() < 2) {
      WorkerLease l = r.acquire(linux, "s");
      if (l.worker().id().equals(id("a"))) {
        onA.add(l);
      }
    }
    CompletableFuture<Void> idle = r.drain(id("a"));
    for (int i = 0; i < 5; i++) {
      assertThat(r.acquire(linux, "after-drain").worker().id()).isEqualTo(id("b"));
    }
    assertThat(idle).isNotDone();
    onA.get(0).close();
    assertThat(idle).isNotDone();
    onA.get(1).close();
    idle.get(10, TimeUnit.SECONDS);
    assertThat(r.activeLeases(id("a"))).isZero();
    fx.store.removeWorker(id("a"));
    assertThat(r.resolve(linux)).isInstanceOf(Resolution.Resolved.class);
  }

  @Test
  void anIdleWorkerIsReportedIdleAtOnceAndUndrainingRestoresIt() throws Exception {
    fx.worker("a", "linux");
    WorkerResolver r = fx.resolver("n1");
    assertThat(r.drain(id("a"))).isCompleted();
    assertThatThrownBy(() -> r.acquire(linux, "s"))
        .isInstanceOf(NoEligibleWorkerException.class)
        .hasMessageContaining("DRAINING");
    r.undrain(id("a"));
    try (WorkerLease l = r.acquire(linux, "s")) {
      assertThat(l.worker().id()).isEqualTo(id("a"));
    }
  }

  @Test
  void drainingAlsoWaitsForLeasesThatExpire() throws Exception {
    fx.worker("a", "linux");
    WorkerResolver dead = fx.resolver("dead");
    WorkerResolver host = fx.resolver("host");
    dead.acquire(linux, "never-closed");
    CompletableFuture<Void> idle = host.drain(id("a"));
    assertThat(idle).isNotDone();
    fx.time.advance(Duration.ofSeconds(11));
    host.maintainNow();
    idle.get(10, TimeUnit.SECONDS);
  }

  // ---- waiting ----

  @Test
  void waitersAreWokenByAReleaseAndServedFirstComeFirstServed() throws Exception {
    fx.worker(
        Worker.builder("a")
            .endpoint(io.workerpools.model.Endpoint.of("t", "a"))
            .maxConcurrentSteps(1),
        "linux");
    WorkerResolver r = fx.resolver("n1");
    WorkerLease first = r.acquire(linux, "first");
    CompletableFuture<WorkerLease> w1 = r.acquire(linux, "w1", Duration.ofMinutes(1));
    CompletableFuture<WorkerLease> w2 = r.acquire(linux, "w2", Duration.ofMinutes(1));
    CompletableFuture<WorkerLease> w3 = r.acquire(linux, "w3", Duration.ofMinutes(1));
    assertThat(r.waiting()).isEqualTo(3);
    first.close();
    WorkerLease l1 = w1.get(10, TimeUnit.SECONDS);
    assertThat(l1.stepId()).isEqualTo("w1");
    assertThat(w2).isNotDone();
    l1.close();
    // A newcomer arriving right after the release cannot jump the queue: whether or not the
    // waiters'
    // pump has run yet, w2 is served first.
    assertThatThrownBy(() -> r.acquire(linux, "jumper"))
        .isInstanceOf(NoEligibleWorkerException.class);
    WorkerLease l2 = w2.get(10, TimeUnit.SECONDS);
    assertThat(l2.stepId()).isEqualTo("w2");
    l2.close();
    w3.get(10, TimeUnit.SECONDS).close();
    assertThat(fx.store.leases()).isEmpty();
  }

  @Test
  void aWaiterIsWokenByAHealthCheckPassing() throws Exception {
    fx.worker("a", "linux");
    fx.health("a", HealthStatus.UNAVAILABLE);
    WorkerResolver r = fx.resolver("n1");
    CompletableFuture<WorkerLease> w = r.acquire(linux, "w", Duration.ofMinutes(1));
    assertThat(w).isNotDone();
    fx.health("a", HealthStatus.HAS_WARNINGS);
    try (WorkerLease l = w.get(10, TimeUnit.SECONDS)) {
      assertThat(l.worker().id()).isEqualTo(id("a"));
    }
  }

  @Test
  void aWaiterFailsAfterItsDeadlineWithTheReasons() {
    fx.worker("a", "linux");
    fx.health("a", HealthStatus.UNAVAILABLE);
    WorkerResolver r = fx.resolver("n1");
    CompletableFuture<WorkerLease> w = r.acquire(linux, "w", Duration.ofMillis(30));
    assertThatThrownBy(() -> w.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(NoEligibleWorkerException.class)
        .hasMessageContaining("UNAVAILABLE");
    assertThat(r.waiting()).isZero();
  }

  @Test
  void waitingIsRefusedAtOnceWhenNothingCanChangeByItself() {
    fx.worker(
        Worker.builder("a").endpoint(io.workerpools.model.Endpoint.of("t", "a")).enabled(false),
        "linux");
    WorkerResolver r = fx.resolver("n1");
    assertThat(r.acquire(linux, "w", Duration.ofMinutes(1))).isCompletedExceptionally();
    assertThat(r.acquire(StepRequirements.inPool("nope"), "w", Duration.ofMinutes(1)))
        .isCompletedExceptionally();
    assertThat(r.waiting()).isZero();
  }

  @Test
  void aCancelledWaiterIsWithdrawnAndNeverHoldsALease() throws Exception {
    fx.worker(
        Worker.builder("a")
            .endpoint(io.workerpools.model.Endpoint.of("t", "a"))
            .maxConcurrentSteps(1),
        "linux");
    WorkerResolver r = fx.resolver("n1");
    WorkerLease busy = r.acquire(linux, "busy");
    CompletableFuture<WorkerLease> cancelled = r.acquire(linux, "cancelled", Duration.ofMinutes(1));
    CompletableFuture<WorkerLease> next = r.acquire(linux, "next", Duration.ofMinutes(1));
    cancelled.cancel(false);
    assertThat(r.waiting()).isEqualTo(1);
    busy.close();
    try (WorkerLease l = next.get(10, TimeUnit.SECONDS)) {
      assertThat(l.stepId()).isEqualTo("next");
      assertThat(fx.store.leases()).extracting(LeaseRecord::stepId).containsExactly("next");
    }
  }

  @Test
  void theBuiltInWorkerIsLeasedByRuleOneAndCountsItsLeases() {
    WorkerResolver r = fx.resolver("n1");
    List<WorkerLease> ls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ls.add(r.acquire(StepRequirements.anyPool(), "s" + i));
    }
    assertThat(ls).allMatch(WorkerLease::isBuiltIn);
    assertThat(r.activeLeases(Worker.BUILT_IN_ID)).isEqualTo(20);
    ls.forEach(WorkerLease::close);
    assertThat(r.activeLeases(Worker.BUILT_IN_ID)).isZero();
  }

  @Test
  void aStepForATargetsOwnEmptyDefaultPoolNeverFallsBackToTheBuiltInWorker() {
    fx.pool("region-eu");
    WorkerResolver r = fx.resolver("n1");
    StepRequirements eu =
        StepRequirements.builder().targetDefaultPool(PoolId.of("region-eu")).build();
    assertThatThrownBy(() -> r.acquire(eu, "s"))
        .isInstanceOf(NoEligibleWorkerException.class)
        .isNotInstanceOf(BuiltInWorkerDisabledException.class)
        .hasMessageContaining("region-eu")
        .hasMessageContaining("the default pool of the step's target");
  }
}
