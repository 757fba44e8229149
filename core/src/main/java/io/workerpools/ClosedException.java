package io.workerpools;

import java.util.Objects;

/**
 * A component was used after it was closed (a resolver, a health monitor, a store), or a wait it
 * was serving ended because it closed. {@link #component()} names it, for example {@code
 * "WorkerResolver node-1"}. Closing is final: the host must build a new component.
 */
public class ClosedException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;
  private final String component;

  /**
   * @param component what was closed, for example {@code "WorkerResolver node-1"}
   * @param message what could not be done, for example "cannot acquire a lease"
   */
  public ClosedException(String component, String message) {
    super(Objects.requireNonNull(component, "component") + " is closed: " + message);
    this.component = component;
  }

  /** What was closed. */
  public String component() {
    return component;
  }
}
