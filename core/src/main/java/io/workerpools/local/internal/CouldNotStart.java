package io.workerpools.local.internal;

/** A reason a script cannot start, in words for the user (no stack trace). */
public final class CouldNotStart extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CouldNotStart(String message) {
    super(message, null, false, false);
  }
}
