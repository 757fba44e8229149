package io.workerpools.dispatch;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Worker;
import io.workerpools.resolve.NoEligibleWorkerException;
import io.workerpools.transport.ScriptResult;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CancellationException;

/**
 * How a step's end is told to the host: a transport's {@link ScriptResult} or a failure to lease
 * becomes a {@link StepResult} that tells a failed script from a lost worker, nowhere to run, a
 * cancellation and a timeout. Pure: no state, no locks.
 */
final class Outcomes {
  private Outcomes() {}

  /** The script ran (or tried to) on the leased worker and the transport reported this. */
  static StepResult ofScript(String stepId, WorkerLease lease, ScriptResult r, Duration elapsed) {
    StepResult.Status status;
    String message = r.message();
    switch (r.outcome()) {
      case EXITED ->
          status =
              r.exitCode().getAsInt() == 0
                  ? StepResult.Status.SUCCEEDED
                  : StepResult.Status.SCRIPT_FAILED;
      case CANCELLED -> status = StepResult.Status.CANCELLED;
      case TIMED_OUT -> status = StepResult.Status.TIMED_OUT;
      case WORKER_LOST, UNKNOWN_RESULT -> status = StepResult.Status.WORKER_LOST;
      case MUTEX_TIMEOUT -> {
        status = StepResult.Status.COULD_NOT_START;
        message = message.isEmpty() ? "timed out waiting for the isolation mutex" : message;
      }
      default -> status = StepResult.Status.COULD_NOT_START;
    }
    boolean exited = r.outcome() == ScriptResult.Outcome.EXITED;
    return new StepResult(
        stepId,
        status,
        exited ? r.exitCode() : OptionalInt.empty(),
        Optional.of(lease.worker().id()),
        Optional.of(lease.pool()),
        elapsed,
        exited && r.exitCode().getAsInt() != 0 && message.isEmpty()
            ? "the script exited with code " + r.exitCode().getAsInt()
            : message,
        Optional.empty());
  }

  /** The step could not get a lease. */
  static StepResult ofLeaseFailure(String stepId, Throwable e, Duration elapsed) {
    if (e instanceof NoEligibleWorkerException n) {
      return new StepResult(
          stepId,
          StepResult.Status.NOWHERE_TO_RUN,
          OptionalInt.empty(),
          Optional.empty(),
          Optional.of(n.blocked().pool()),
          elapsed,
          n.getMessage(),
          Optional.of(n.blocked()));
    }
    if (e instanceof CancellationException) {
      return ending(
          stepId,
          null,
          StepResult.Status.CANCELLED,
          "cancelled while waiting for a worker",
          elapsed);
    }
    return ending(
        stepId,
        null,
        StepResult.Status.NOWHERE_TO_RUN,
        "could not lease a worker: " + e.getMessage(),
        elapsed);
  }

  /** No transport reaches the leased worker's endpoint. */
  static String noTransport(Worker worker) {
    return "no transport is registered for endpoint kind '"
        + worker.endpoint().kind()
        + "' of worker '"
        + worker.name()
        + "' ("
        + worker.id()
        + "); register one with StepDispatcher.builder(...).transport(...)";
  }

  /** The first line a step's sink gets. */
  static String runningOn(Worker worker, io.workerpools.model.PoolId pool) {
    return "running on worker '" + worker.name() + "' (" + worker.id() + ") of pool '" + pool + "'";
  }

  /** The transport threw instead of starting the script. */
  static String refused(Worker worker, RuntimeException e) {
    return "the transport refused to start the script on worker '"
        + worker.name()
        + "': "
        + e.getMessage();
  }

  /** A step that ended without a script result (cancelled, could not start, ...). */
  static StepResult ending(
      String stepId, WorkerLease lease, StepResult.Status status, String message, Duration took) {
    return new StepResult(
        stepId,
        status,
        OptionalInt.empty(),
        lease == null ? Optional.empty() : Optional.of(lease.worker().id()),
        lease == null ? Optional.empty() : Optional.of(lease.pool()),
        took,
        message,
        Optional.empty());
  }
}
