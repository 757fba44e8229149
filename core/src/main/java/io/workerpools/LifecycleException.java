package io.workerpools;

import java.util.Objects;

/**
 * A component was used in the wrong phase of its life: before it was started, or started a second
 * time. {@link #component()} names it. (Use after close is a {@link ClosedException}.)
 */
public class LifecycleException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;
  private final String component;

  /**
   * @param component the component, for example {@code "the health monitor"}
   * @param message what is wrong and what to do, for example "is not started; call start()"
   */
  public LifecycleException(String component, String message) {
    super(Objects.requireNonNull(component, "component") + " " + message);
    this.component = component;
  }

  /** The component used in the wrong phase. */
  public String component() {
    return component;
  }
}
