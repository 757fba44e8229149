package io.workerpools.store;

import io.workerpools.WorkerPoolsException;

/** The store's backend (a database) could not be reached; the operation was not applied. */
public class StoreUnavailableException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
