package io.workerpools.resolve;

import io.workerpools.WorkerPoolsException;

/**
 * A step has nowhere to run: no eligible worker in its pool (each worker's reason is in {@link
 * #blocked()}), or its pool does not exist or is empty.
 */
public class NoEligibleWorkerException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;
  private final transient Resolution.Blocked blocked;

  public NoEligibleWorkerException(Resolution.Blocked blocked) {
    this(blocked, blocked.explain());
  }

  protected NoEligibleWorkerException(Resolution.Blocked blocked, String message) {
    super(message);
    this.blocked = blocked;
  }

  /** The resolution that failed, with a reason per worker. */
  public Resolution.Blocked blocked() {
    return blocked;
  }

  /** The right exception for a blocked resolution. */
  public static NoEligibleWorkerException of(Resolution.Blocked blocked) {
    return blocked.kind() == Resolution.Kind.BUILT_IN_WORKER_DISABLED
        ? new BuiltInWorkerDisabledException(blocked)
        : new NoEligibleWorkerException(blocked);
  }
}
