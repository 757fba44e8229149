package io.workerpools.dispatch;

import io.workerpools.health.HealthMonitor;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Worker;

/**
 * Hears what happens to dispatched steps. Every method has a no-op default; implement what you
 * need. {@link #recheckLostWorkers} uses {@link #onWorkerLost} to re-check a worker at once.
 *
 * <p>Threading: called on whichever thread moved the step on (the caller of {@link
 * StepDispatcher#dispatch}, a transport thread, the resolver's timer, the dispatcher's executor),
 * never concurrently for one step. Must be quick and must not block; exceptions are logged and
 * ignored.
 */
public interface DispatchListener {
  /** The step waits for its action's max parallelism to let it in. */
  default void onQueued(Step step) {}

  /**
   * The step holds a lease, {@code waited} after it was dispatched (its wait for its action's max
   * parallelism and for a free eligible worker included; measured on the dispatcher's clock).
   * Called once per leased step, before {@link #onStarted}; a step cancelled or left without a
   * transport after leasing gets this call and then {@link #onFinished}, without {@link
   * #onStarted}.
   */
  default void onLeased(Step step, WorkerLease lease, java.time.Duration waited) {}

  /** The step has a worker and its script is about to start there. */
  default void onStarted(Step step, WorkerLease lease) {}

  /**
   * The worker was lost while the step ran on it (a transport failure, not the script's): it may be
   * down, and deserves an immediate health check. Called before {@link #onFinished}.
   */
  default void onWorkerLost(Step step, Worker worker, StepResult result) {}

  /** The step ended; called exactly once per step, before its result completes. */
  default void onFinished(Step step, StepResult result) {}

  /** A listener that does nothing. */
  static DispatchListener none() {
    return new DispatchListener() {};
  }

  /**
   * A listener that calls {@link HealthMonitor#workerLost} whenever a step loses its worker, so a
   * worker seen failing is re-checked at once instead of at its next scheduled check. The built-in
   * worker is not in the store and is skipped. (It lives here, not in the health package, so that
   * health knows nothing of dispatch.)
   */
  static DispatchListener recheckLostWorkers(HealthMonitor monitor) {
    java.util.Objects.requireNonNull(monitor, "monitor");
    return new DispatchListener() {
      @Override
      public void onWorkerLost(Step step, Worker worker, StepResult result) {
        if (!worker.isBuiltIn()) {
          monitor.workerLost(worker.id());
        }
      }
    };
  }
}
