package io.workerpools.tentacle.internal;

/**
 * How a run on the agent ended. On the wire the name travels as {@code outcome} and, for all but
 * {@link #EXITED}, the special exit code Tentacle uses travels as {@code exitCode}.
 */
public enum AgentOutcome {
  /** The script exited by itself; its exit code is its own. */
  EXITED(0),
  CANCELLED(-43),
  TIMED_OUT(-44),
  UNKNOWN_TICKET(-45),
  /** The agent restarted while the script ran. */
  UNKNOWN_RESULT(-46),
  COULD_NOT_START(-47),
  MUTEX_TIMEOUT(-48);

  private final int code;

  AgentOutcome(int code) {
    this.code = code;
  }

  /** The special exit code reported with this outcome (0 for {@link #EXITED}: see the run's). */
  public int code() {
    return code;
  }

  /** The end of a run: an outcome, the exit code to report, and why (may be empty). */
  public record End(AgentOutcome outcome, int exitCode, String message) {
    /** The script exited with {@code code}. */
    public static End exited(int code) {
      return new End(EXITED, code, "");
    }

    /** Any other end, with its special code. */
    public static End of(AgentOutcome outcome, String message) {
      return new End(outcome, outcome.code(), message);
    }
  }
}
