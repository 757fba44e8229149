package io.workerpools.health.internal;

import io.workerpools.model.HealthStatus;

/**
 * The health state machine, as a pure function: what one check's outcome does to a worker's status.
 * Kept apart from the monitor's scheduling so that it can be read, and tested, on its own.
 */
public final class Transitions {
  private Transitions() {}

  /**
   * A worker's status and how many checks in a row have failed.
   *
   * @param status the status
   * @param consecutiveFailures failed checks since the last answer
   */
  public record State(HealthStatus status, int consecutiveFailures) {}

  /** The state of a worker never checked. */
  public static final State INITIAL = new State(HealthStatus.UNKNOWN, 0);

  /**
   * Whether a transport's report is an answer from the worker ({@code HEALTHY}, {@code
   * HAS_WARNINGS}, {@code UNHEALTHY}) rather than a failure to get one.
   */
  public static boolean isAnswer(HealthStatus reported) {
    return reported == HealthStatus.HEALTHY
        || reported == HealthStatus.HAS_WARNINGS
        || reported == HealthStatus.UNHEALTHY;
  }

  /**
   * The next state.
   *
   * @param state the state before the check
   * @param answer the worker's answer, or null if the check failed (no answer, {@code UNAVAILABLE},
   *     timed out)
   * @param failuresBeforeUnavailable the policy's threshold, at least 1
   */
  public static State next(State state, HealthStatus answer, int failuresBeforeUnavailable) {
    if (answer != null) {
      if (!isAnswer(answer)) {
        throw new IllegalArgumentException("not an answer: " + answer);
      }
      return new State(answer, 0);
    }
    int failures = state.consecutiveFailures() + 1;
    if (!state.status().isEligible() || failures >= failuresBeforeUnavailable) {
      return new State(HealthStatus.UNAVAILABLE, failures);
    }
    return new State(state.status(), failures);
  }
}
