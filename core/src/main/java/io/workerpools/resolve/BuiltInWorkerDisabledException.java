package io.workerpools.resolve;

/**
 * Rule 1 sent the step to the built-in worker, and the built-in worker is switched off. Fix: add a
 * worker to the default pool, or enable the built-in worker.
 */
public class BuiltInWorkerDisabledException extends NoEligibleWorkerException {
  private static final long serialVersionUID = 1L;

  public BuiltInWorkerDisabledException(Resolution.Blocked blocked) {
    super(blocked, blocked.explain());
  }
}
