package io.workerpools.resolve;

import io.workerpools.model.StepRequirements;

/** How a step's pool was chosen ({@link Rules#poolOf}): the first of these that applies. */
public enum PoolChoice {
  /** The step names its pool (directly, or through a variable the host resolved). */
  NAMED_BY_STEP("named by the step"),
  /** The step names none, and the target it runs for has its own default pool. */
  TARGET_DEFAULT_POOL("the default pool of the step's target"),
  /** Neither: the infrastructure's default pool. */
  DEFAULT_POOL("the default pool, as the step names none");

  private final String description;

  PoolChoice(String description) {
    this.description = description;
  }

  /** How {@link Rules#poolOf} chooses for this step. */
  public static PoolChoice of(StepRequirements step) {
    if (step.pool().isPresent()) {
      return NAMED_BY_STEP;
    }
    return step.targetDefaultPool().isPresent() ? TARGET_DEFAULT_POOL : DEFAULT_POOL;
  }

  /** In words, for explanations ("named by the step"). */
  public String description() {
    return description;
  }
}
