package io.workerpools.resolve;

import io.workerpools.container.ContainerEngine;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;

/**
 * What the library decides, as pure functions: read this first. Everything else in {@code resolve}
 * is how it decides it fast (an index kept current by store events) and safely (leases granted
 * atomically by the store); all of it derives from here, and the property tests check it against a
 * scan that uses nothing but these functions.
 *
 * <ol>
 *   <li><b>Pool choice</b> ({@link #poolOf}): the pool the step names; else the default pool of the
 *       target the step runs for; else the default pool.
 *   <li><b>Rule 1</b> ({@link #rule1}): a step whose pool is the default pool, while that pool
 *       holds no worker at all (enabled or not), runs on the built-in worker, unless the built-in
 *       worker is switched off. Only the default pool falls back: another empty pool has nowhere to
 *       run.
 *   <li><b>Rule 2</b> ({@link #passOver}): otherwise the step runs on a worker of its pool that is
 *       passed over for none of these reasons, checked in this order (the first that applies is the
 *       reason given, like Jenkins' {@code Node.canTake} returning a {@code CauseOfBlockage}):
 *       disabled, draining, cannot run the step's syntax, not {@code HEALTHY}/{@code HAS_WARNINGS},
 *       no container engine (for a step that runs in an execution container), at its concurrency
 *       cap.
 * </ol>
 *
 * Which eligible worker is chosen is the {@link SelectionStrategy}'s business (by default {@link
 * SelectionStrategy#FEWEST_LEASES}); an affinity key keeps a step on the worker its key last ran on
 * while that worker stays eligible and under the step's affinity lease cap.
 *
 * <p>No state, no locks, no allocation on the paths the resolver takes per call.
 */
public final class Rules {
  private Rules() {}

  // ---- pool choice ----

  /** The pool a step resolves to: its own, else its target's default pool, else the default. */
  public static PoolId poolOf(StepRequirements step, PoolId defaultPool) {
    if (step.pool().isPresent()) {
      return step.pool().get();
    }
    if (step.targetDefaultPool().isPresent()) {
      return step.targetDefaultPool().get();
    }
    return defaultPool;
  }

  /** How {@link #poolOf} chose, in words for explanations; see {@link PoolChoice}. */
  public static String poolChoice(StepRequirements step) {
    return PoolChoice.of(step).description();
  }

  // ---- rule 1 ----

  /** What the chosen pool itself says, before any worker is looked at. */
  public enum PoolVerdict {
    /** The pool holds workers: rule 2 chooses among them. */
    CHOOSE_A_WORKER(null),
    /** Rule 1: the step runs on the built-in worker. */
    BUILT_IN_WORKER(null),
    /** Rule 1 applies, but the built-in worker is switched off. */
    BUILT_IN_WORKER_DISABLED(Resolution.Kind.BUILT_IN_WORKER_DISABLED),
    /** An empty pool that is not the default: nowhere to run. */
    EMPTY_POOL(Resolution.Kind.EMPTY_POOL),
    /** The pool does not exist. */
    UNKNOWN_POOL(Resolution.Kind.UNKNOWN_POOL);

    private final Resolution.Kind blocked;

    PoolVerdict(Resolution.Kind blocked) {
      this.blocked = blocked;
    }

    /** The kind of blockage this verdict is, or null when the step may run. */
    public Resolution.Kind blockedKind() {
      return blocked;
    }
  }

  /**
   * Rule 1.
   *
   * @param poolExists whether the chosen pool exists
   * @param isDefaultPool whether it is the default pool
   * @param hasWorkers whether any worker (enabled or not, eligible or not) is in it
   * @param builtInEnabled whether the built-in worker is switched on
   */
  public static PoolVerdict rule1(
      boolean poolExists, boolean isDefaultPool, boolean hasWorkers, boolean builtInEnabled) {
    if (!poolExists) {
      return PoolVerdict.UNKNOWN_POOL;
    }
    if (hasWorkers) {
      return PoolVerdict.CHOOSE_A_WORKER;
    }
    if (!isDefaultPool) {
      return PoolVerdict.EMPTY_POOL;
    }
    return builtInEnabled ? PoolVerdict.BUILT_IN_WORKER : PoolVerdict.BUILT_IN_WORKER_DISABLED;
  }

  // ---- rule 2 ----

  /**
   * Why a worker of the chosen pool is passed over, or null if it may take the step. The reasons
   * are checked in this order, and the first that applies is returned: disabled, draining, wrong
   * syntax, unhealthy, at cap.
   *
   * @param enabled the worker's enabled flag
   * @param draining whether it is draining
   * @param runsSyntax whether it runs the step's script syntax
   * @param health its latest health status, null if never checked (counts as {@code UNKNOWN})
   * @param leases the active leases it holds (all nodes)
   * @param cap its concurrency cap ({@link Worker#capOrMax()})
   */
  public static PassedOver.Reason passOver(
      boolean enabled,
      boolean draining,
      boolean runsSyntax,
      HealthStatus health,
      int leases,
      int cap) {
    return passOver(enabled, draining, runsSyntax, health, true, leases, cap);
  }

  /**
   * {@link #passOver(boolean, boolean, boolean, HealthStatus, int, int)} for a step that may run in
   * an execution container.
   *
   * @param runsContainers false only when the step runs in a container and the worker's health
   *     details report no reachable engine ({@link ContainerEngine#canRunContainers(HealthReport)})
   */
  public static PassedOver.Reason passOver(
      boolean enabled,
      boolean draining,
      boolean runsSyntax,
      HealthStatus health,
      boolean runsContainers,
      int leases,
      int cap) {
    if (!enabled) {
      return PassedOver.Reason.DISABLED;
    }
    if (draining) {
      return PassedOver.Reason.DRAINING;
    }
    if (!runsSyntax) {
      return PassedOver.Reason.WRONG_SYNTAX;
    }
    if (health == null || !health.isEligible()) {
      return PassedOver.Reason.UNHEALTHY;
    }
    if (!runsContainers) {
      return PassedOver.Reason.NO_CONTAINER_ENGINE;
    }
    if (leases >= cap) {
      return PassedOver.Reason.AT_CAP;
    }
    return null;
  }

  /**
   * The part of {@link #passOver} a store checks atomically when it grants a lease (health and
   * syntax the claimant checked against its own view): the same reasons in the same order, without
   * syntax and health. Null if the lease may be granted.
   */
  public static PassedOver.Reason refuseGrant(
      boolean enabled, boolean draining, int leases, int cap) {
    return passOver(enabled, draining, true, HealthStatus.HEALTHY, leases, cap);
  }

  /**
   * Whether a store may grant the built-in worker for a claim on {@code claimPool} now: rule 1 at
   * the moment of the grant, so that a resolver whose view has not yet seen a worker join the
   * default pool never runs a step on the host.
   */
  public static boolean builtInGrantable(
      PoolId claimPool, PoolId defaultPool, boolean poolHasWorkers, boolean builtInEnabled) {
    return rule1(true, claimPool.equals(defaultPool), poolHasWorkers, builtInEnabled)
        == PoolVerdict.BUILT_IN_WORKER;
  }

  /** Whether a worker with this health may take the step as far as containers go. */
  public static boolean runsContainers(StepRequirements step, HealthReport health) {
    return !step.container() || ContainerEngine.canRunContainers(health);
  }

  /** {@link #passOver} with its particulars, for explanations (the slow path: it allocates). */
  public static PassedOver explain(
      Worker w, boolean draining, HealthReport health, int leases, StepRequirements step) {
    HealthStatus status = health == null ? null : health.status();
    PassedOver.Reason r =
        passOver(
            w.enabled(),
            draining,
            w.canRun(step.syntax()),
            status,
            runsContainers(step, health),
            leases,
            w.capOrMax());
    if (r == null) {
      return null;
    }
    String detail =
        switch (r) {
          case DISABLED -> "disabled";
          case DRAINING -> "draining: takes no new steps";
          case WRONG_SYNTAX -> "runs " + w.syntaxes() + ", the step needs " + step.syntax();
          case UNHEALTHY ->
              health == null
                  ? "UNKNOWN: not health-checked yet"
                  : status
                      + " since "
                      + health.checkedAt()
                      + (health.message().isEmpty() ? "" : ": " + health.message());
          case NO_CONTAINER_ENGINE ->
              "the step runs in a container, and " + ContainerEngine.whyNot(health);
          case AT_CAP -> leases + " of " + w.capOrMax() + " leases held";
        };
    return new PassedOver(w.id(), w.name(), r, detail);
  }
}
