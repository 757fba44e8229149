package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/** The rules as stated in {@link Rules}: each property is one sentence of its Javadoc. */
class RulesProperties {

  @Property
  void aWorkerIsPassedOverForTheFirstReasonOfTheChainThatApplies(
      @ForAll boolean enabled,
      @ForAll boolean draining,
      @ForAll boolean runsSyntax,
      @ForAll HealthStatus health,
      @ForAll boolean neverChecked,
      @ForAll boolean runsContainers,
      @ForAll @IntRange(min = 0, max = 4) int leases,
      @ForAll @IntRange(min = 1, max = 4) int cap) {
    HealthStatus status = neverChecked ? null : health;
    List<PassedOver.Reason> apply = new ArrayList<>();
    if (!enabled) {
      apply.add(PassedOver.Reason.DISABLED);
    }
    if (draining) {
      apply.add(PassedOver.Reason.DRAINING);
    }
    if (!runsSyntax) {
      apply.add(PassedOver.Reason.WRONG_SYNTAX);
    }
    if (status != HealthStatus.HEALTHY && status != HealthStatus.HAS_WARNINGS) {
      apply.add(PassedOver.Reason.UNHEALTHY);
    }
    if (!runsContainers) {
      apply.add(PassedOver.Reason.NO_CONTAINER_ENGINE);
    }
    if (leases >= cap) {
      apply.add(PassedOver.Reason.AT_CAP);
    }
    PassedOver.Reason got =
        Rules.passOver(enabled, draining, runsSyntax, status, runsContainers, leases, cap);
    if (runsContainers) {
      // The chain without the container reason is the same chain for a step that needs none.
      assertThat(Rules.passOver(enabled, draining, runsSyntax, status, leases, cap)).isEqualTo(got);
    }
    Statistics.label("reason").collect(got == null ? "eligible" : got.name());
    Statistics.label("reason")
        .coverage(
            c -> {
              c.check("eligible").count(n -> n > 0);
              for (PassedOver.Reason r : PassedOver.Reason.values()) {
                c.check(r.name()).count(n -> n > 0);
              }
            });
    assertThat(got).isEqualTo(apply.isEmpty() ? null : apply.get(0));
  }

  @Property
  void theStoresGrantCheckIsTheChainWithoutSyntaxAndHealth(
      @ForAll boolean enabled,
      @ForAll boolean draining,
      @ForAll @IntRange(min = 0, max = 4) int leases,
      @ForAll @IntRange(min = 1, max = 4) int cap,
      @ForAll HealthStatus health,
      @ForAll boolean runsSyntax) {
    PassedOver.Reason grant = Rules.refuseGrant(enabled, draining, leases, cap);
    assertThat(grant)
        .isEqualTo(Rules.passOver(enabled, draining, true, HealthStatus.HEALTHY, leases, cap));
    PassedOver.Reason full = Rules.passOver(enabled, draining, runsSyntax, health, leases, cap);
    if (full == null) {
      assertThat(grant).as("the store refuses what the resolver may choose").isNull();
    }
    Statistics.label("grant").collect(grant == null ? "granted" : grant.name());
    Statistics.label("grant")
        .coverage(
            c -> {
              c.check("granted").count(n -> n > 0);
              c.check("AT_CAP").count(n -> n > 0);
            });
  }

  @Property
  void onlyAnEmptyDefaultPoolFallsBackToTheBuiltInWorker(
      @ForAll boolean exists,
      @ForAll boolean isDefault,
      @ForAll boolean hasWorkers,
      @ForAll boolean builtInEnabled) {
    Rules.PoolVerdict v = Rules.rule1(exists, isDefault, hasWorkers, builtInEnabled);
    Statistics.label("verdict").collect(v);
    Statistics.label("verdict")
        .coverage(
            c -> {
              for (Rules.PoolVerdict each : Rules.PoolVerdict.values()) {
                c.check(each).count(n -> n > 0);
              }
            });
    assertThat(v == Rules.PoolVerdict.BUILT_IN_WORKER)
        .isEqualTo(exists && isDefault && !hasWorkers && builtInEnabled);
    if (exists && hasWorkers) {
      assertThat(v)
          .as("one worker is enough to keep steps off the host")
          .isEqualTo(Rules.PoolVerdict.CHOOSE_A_WORKER);
    }
    assertThat(v.blockedKind() == null)
        .isEqualTo(
            v == Rules.PoolVerdict.CHOOSE_A_WORKER || v == Rules.PoolVerdict.BUILT_IN_WORKER);
    PoolId claim = PoolId.of("p");
    assertThat(
            Rules.builtInGrantable(
                claim, isDefault ? claim : PoolId.of("q"), hasWorkers, builtInEnabled))
        .isEqualTo(isDefault && !hasWorkers && builtInEnabled);
  }

  @Property
  void thePoolIsTheStepsElseItsTargetsDefaultElseTheDefault(
      @ForAll boolean named, @ForAll boolean targetHasDefault) {
    StepRequirements.Builder b = StepRequirements.builder();
    if (named) {
      b.pool("step");
    }
    if (targetHasDefault) {
      b.targetDefaultPool(PoolId.of("target"));
    }
    PoolId got = Rules.poolOf(b.build(), PoolId.of("default"));
    assertThat(got.value()).isEqualTo(named ? "step" : targetHasDefault ? "target" : "default");
  }
}
