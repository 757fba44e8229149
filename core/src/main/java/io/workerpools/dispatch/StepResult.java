package io.workerpools.dispatch;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import io.workerpools.resolve.Resolution;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a step ended.
 *
 * @param stepId the step
 * @param status which kind of ending
 * @param exitCode the script's exit code, for {@link Status#SUCCEEDED} and {@link
 *     Status#SCRIPT_FAILED}
 * @param worker the worker it ran (or was to run) on, if one was leased
 * @param pool the pool it resolved to, if it was leased
 * @param duration from dispatch to end, including any wait for a worker
 * @param message what happened, in words (for {@link Status#NOWHERE_TO_RUN}: the resolver's
 *     explanation, listing each worker and why it was passed over)
 * @param blocked for {@link Status#NOWHERE_TO_RUN}: the resolver's blocked resolution, if known
 */
public record StepResult(
    String stepId,
    Status status,
    OptionalInt exitCode,
    Optional<WorkerId> worker,
    Optional<PoolId> pool,
    Duration duration,
    String message,
    Optional<Resolution.Blocked> blocked) {

  /** The kinds of ending. Only the first two carry an exit code. */
  public enum Status {
    /** The script exited with code 0. */
    SUCCEEDED,
    /** The script ran and exited with a non-zero code: the step's own failure. */
    SCRIPT_FAILED,
    /**
     * The script never started on the worker it was given: interpreter missing, no transport for
     * the worker's endpoint, the isolation mutex not obtained in time.
     */
    COULD_NOT_START,
    /** The worker was lost while the script ran (connection dropped, agent restarted). */
    WORKER_LOST,
    /** No worker could take the step (see {@link #message()} for why). */
    NOWHERE_TO_RUN,
    /** Cancelled on request, before or while running. */
    CANCELLED,
    /** Ran longer than the script's timeout and was killed. */
    TIMED_OUT
  }

  public StepResult {
    Objects.requireNonNull(stepId, "stepId");
    Objects.requireNonNull(status, "status");
    exitCode = exitCode == null ? OptionalInt.empty() : exitCode;
    worker = worker == null ? Optional.empty() : worker;
    pool = pool == null ? Optional.empty() : pool;
    duration = duration == null ? Duration.ZERO : duration;
    message = message == null ? "" : message;
    blocked = blocked == null ? Optional.empty() : blocked;
    boolean exited = status == Status.SUCCEEDED || status == Status.SCRIPT_FAILED;
    if (exited != exitCode.isPresent()) {
      throw new IllegalArgumentException(
          status + (exited ? " needs an exit code" : " must not carry an exit code"));
    }
  }

  /** Whether the step succeeded (exit code 0). */
  public boolean succeeded() {
    return status == Status.SUCCEEDED;
  }

  @Override
  public String toString() {
    return "StepResult["
        + stepId
        + " "
        + status
        + exitCode.stream().mapToObj(c -> " exit " + c).findFirst().orElse("")
        + worker.map(w -> " on " + w).orElse("")
        + (message.isEmpty() ? "" : ": " + message)
        + "]";
  }
}
