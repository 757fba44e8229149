package io.workerpools;

import io.workerpools.model.WorkerId;
import java.util.Optional;

/**
 * A transport could not reach or talk to a worker. Transports wrap {@code IOException}s in this
 * type and keep the cause. {@link #retryable()} says whether the same idempotent call may be tried
 * again (a network error); authentication failures are never retryable.
 */
public class TransportException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;
  private final transient WorkerId worker;
  private final boolean retryable;

  public TransportException(WorkerId worker, String message, boolean retryable, Throwable cause) {
    super(worker == null ? message : "worker " + worker.value() + ": " + message, cause);
    this.worker = worker;
    this.retryable = retryable;
  }

  public TransportException(WorkerId worker, String message, Throwable cause) {
    this(worker, message, true, cause);
  }

  /** The worker involved, when known. */
  public Optional<WorkerId> worker() {
    return Optional.ofNullable(worker);
  }

  /** Whether an idempotent call that failed with this exception may be retried. */
  public boolean retryable() {
    return retryable;
  }
}
