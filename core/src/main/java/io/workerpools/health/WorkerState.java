package io.workerpools.health;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** What the monitor knows of one worker. Guarded by the {@link Roster}'s lock. */
final class WorkerState {
  final WorkerId id;
  Worker worker;
  HealthStatus status = HealthStatus.UNKNOWN;
  Instant since;
  int failures;
  boolean offlineAllowed;
  HealthReport last;

  /**
   * Bumped whenever the worker's place in the {@link DueQueue} changes: older entries are stale.
   */
  long dueGen;

  /** In the ready queue. */
  boolean queued;

  /** Check again right after the running check. */
  boolean recheck;

  /** Its checks have left the lockstep of a cold start (see {@link Phasing}). */
  boolean phased;

  CheckAttempt attempt;

  /** The result of the next check, for callers who asked for one on demand. */
  CompletableFuture<HealthReport> next;

  WorkerState(Worker worker, Instant seen) {
    this.id = worker.id();
    this.worker = worker;
    this.since = seen;
  }

  WorkerHealth snapshot() {
    return new WorkerHealth(
        id,
        status,
        since,
        failures,
        last == null ? Optional.empty() : Optional.of(last.checkedAt()),
        last == null ? "" : last.message());
  }

  /** The future of the worker's next check. */
  CompletableFuture<HealthReport> resultOfNextCheck() {
    if (next == null) {
      next = new CompletableFuture<>();
    }
    return next;
  }

  void collectPending(List<CompletableFuture<HealthReport>> out) {
    if (next != null) {
      out.add(next);
      next = null;
    }
    if (attempt != null) {
      out.add(attempt.result);
    }
  }
}
