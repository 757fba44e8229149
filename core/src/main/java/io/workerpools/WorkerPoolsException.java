package io.workerpools;

/**
 * The root of every exception WorkerPools throws. All are unchecked; subtypes carry the context
 * (pool, worker, field) that the message names, so that a host can act on them without parsing
 * text.
 */
public class WorkerPoolsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WorkerPoolsException(String message) {
    super(message);
  }

  public WorkerPoolsException(String message, Throwable cause) {
    super(message, cause);
  }
}
