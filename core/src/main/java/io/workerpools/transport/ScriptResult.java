package io.workerpools.transport;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * How a script ended.
 *
 * @param outcome what happened
 * @param exitCode the process' exit code, when it {@link Outcome#EXITED}
 * @param duration from start to end as the transport saw it
 * @param message what went wrong, in words (empty when the script exited)
 */
public record ScriptResult(
    Outcome outcome, OptionalInt exitCode, Duration duration, String message) {

  /** How a script ended. Only {@link #EXITED} carries an exit code. */
  public enum Outcome {
    /** The script ran to its end and exited with {@link #exitCode()} (zero or not). */
    EXITED,
    /** Cancelled on request; the process tree was killed. */
    CANCELLED,
    /** Ran longer than the request's timeout; the process tree was killed. */
    TIMED_OUT,
    /** The connection to the worker was lost while the script ran: its outcome is unknown. */
    WORKER_LOST,
    /** The script never started (interpreter missing, worker unreachable, upload failed). */
    COULD_NOT_START,
    /** The worker restarted while the script ran; the log so far survives, the outcome does not. */
    UNKNOWN_RESULT,
    /** Waiting for the isolation mutex took longer than the request allowed. */
    MUTEX_TIMEOUT
  }

  public ScriptResult {
    Objects.requireNonNull(outcome, "outcome");
    exitCode = exitCode == null ? OptionalInt.empty() : exitCode;
    if (outcome == Outcome.EXITED && exitCode.isEmpty()) {
      throw new IllegalArgumentException("an EXITED result needs an exit code");
    }
    duration = duration == null ? Duration.ZERO : duration;
    message = message == null ? "" : message;
  }

  public static ScriptResult exited(int code, Duration duration) {
    return new ScriptResult(Outcome.EXITED, OptionalInt.of(code), duration, "");
  }

  public static ScriptResult of(Outcome outcome, Duration duration, String message) {
    return new ScriptResult(outcome, OptionalInt.empty(), duration, message);
  }

  /** Whether the script exited with code zero. */
  public boolean succeeded() {
    return outcome == Outcome.EXITED && exitCode.getAsInt() == 0;
  }
}
