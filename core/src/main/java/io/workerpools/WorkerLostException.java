package io.workerpools;

import io.workerpools.model.WorkerId;

/** The connection to a worker was lost while a step ran on it: the step's outcome is unknown. */
public class WorkerLostException extends TransportException {
  private static final long serialVersionUID = 1L;

  public WorkerLostException(WorkerId worker, String message, Throwable cause) {
    super(worker, message, false, cause);
  }
}
